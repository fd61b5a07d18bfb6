"""Exports for the tools newsrooms already use: TimelineJS's JSON and a spreadsheet.

- ``/export/{slug}/timelinejs.json``: Knight Lab's TimelineJS format, one slide per dated
  entry (TimelineJS needs a start date; undated entries are left out), dates as precise as
  they are known, the facts and corrections as the slide's text.
- ``/export/{slug}.csv``: the timeline's whole story in the order of the log, one row for
  each thing that happened to it, the ``row`` column saying which (docs/csv.md). One
  ``report`` row per report keeps the columns journalists read (its value now, its status,
  its role and its fact's best value); the timeline, its sources and entries, and each
  correction, retraction, rank and merge have rows of their own, so that ``chronicle import
  --csv`` gives back the same facts, now and as of any REPORTED time.

Both honour ``?asOf=&axis=`` like the embed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from api.embed.presenter import EntryCard, TimelinePage, present, words
from api.embed.reading import read_source_of, view_or_refusal
from events.as_of import Axis, Folded, Moment, replay
from events.chain import Envelope
from events.policy import Fact
from events.reducer import ReportState, SourceState
from events.timeline_facts import fact_of, source_info
from events.value_text import value_cell
from events.values import Precision, time_bounds
from events.vocabulary import (
    DomainEvent,
    EntriesMerged,
    EntryOpened,
    FactReported,
    ReportCorrected,
    ReportRanked,
    ReportRetracted,
    decode,
    timeline_stream,
)

# Today's columns, after a `row` column saying what the row is; then what a round trip needs.
CSV_COLUMNS = (
    "row", "timeline", "entry", "entry_title", "report", "attribute", "kind", "value",
    "source", "source_name", "source_grade", "via", "via_name", "via_grade", "stance",
    "reported_at", "quote", "url", "status", "changed_at", "retraction_reason", "rank",
    "role", "best", "original_value", "original_stance", "original_via", "rank_reason",
    "merged_into", "source_kind", "source_url", "grade_note", "timeline_title",
    "timeline_description")
# What the `row` column holds.
ROW_KINDS = ("timeline", "source", "entry", "report", "correction", "retraction", "rank",
             "merge")

Row = dict[str, str]  # a row's cells by column; those it lacks are empty

# Finer precisions add these parts of the date, in this order.
_DATE_PARTS = (("year", Precision.YEAR), ("month", Precision.MONTH), ("day", Precision.DAY),
               ("hour", Precision.HOUR), ("minute", Precision.MINUTE))
_FINENESS = [Precision.YEAR, Precision.MONTH, Precision.DAY, Precision.HOUR,
             Precision.MINUTE, Precision.EXACT]


async def _page(request: Request) -> TimelinePage | Response:
    slug = request.path_params["slug"]
    view = await view_or_refusal(request, slug)
    if isinstance(view, Response):
        return view
    page = await present(view)
    if page is None:
        return PlainTextResponse(f"no timeline {slug!r}", status_code=404)
    return page


async def timelinejs_export(request: Request) -> Response:
    page = await _page(request)
    if isinstance(page, Response):
        return page
    return JSONResponse(timelinejs(page), headers={"cache-control": "no-cache"})


async def csv_export(request: Request) -> Response:
    slug = request.path_params["slug"]
    view = await view_or_refusal(request, slug)
    if isinstance(view, Response):
        return view
    moment = view.moment
    envelopes = await read_source_of(request).store.read_timeline_world(
        slug, recorded_until=moment.as_of if moment.axis is Axis.RECORDED else None)
    rows = csv_rows(envelopes, slug, moment)
    if rows is None:
        return PlainTextResponse(f"no timeline {slug!r}", status_code=404)
    return Response(csv_text(rows), media_type="text/csv; charset=utf-8", headers={
        "content-disposition": f'attachment; filename="{slug}.csv"',
        "cache-control": "no-cache"})


def timelinejs(page: TimelinePage) -> dict[str, Any]:
    events = [_slide(entry) for entry in page.entries if entry.occurred is not None]
    title_text = escape(page.description or "")
    return {"title": {"text": {"headline": escape(page.title), "text": title_text}},
            "events": events}


def _slide(entry: EntryCard) -> dict[str, Any]:
    span = entry.occurred
    assert span is not None
    slide: dict[str, Any] = {
        "unique_id": entry.id, "start_date": _date(span.start, span.precision),
        "text": {"headline": escape(entry.title), "text": _slide_text(entry)}}
    if span.end is not None and span.end != span.start:
        slide["end_date"] = _date(span.end, span.precision)
    return slide


def _date(value: str, precision: Precision) -> dict[str, str]:
    """TimelineJS's date object, no more precise than the time is known."""
    start = time_bounds(value, precision)[0]
    fineness = _FINENESS.index(precision)
    return {part: str(getattr(start, part)) for part, needed in _DATE_PARTS
            if _FINENESS.index(needed) <= fineness}


def _slide_text(entry: EntryCard) -> str:
    facts = "".join(
        f"<li>{'<strong>Disputed:</strong> ' if f.disputed else ''}{escape(f.summary)}"
        + ("" if not f.disputed else " (" + escape("; ".join(
            f"{side.value}: {', '.join(side.sources) or 'no standing report'}"
            for side in f.sides)) + ")")
        + "</li>" for f in entry.facts)
    notes = "".join(f"<p><em>{escape(note)}</em></p>" for note in entry.corrections)
    return (f"<ul>{facts}</ul>" if facts else "") + notes


def csv_text(rows: Iterable[Row]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, restval="", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def csv_rows(envelopes: Iterable[Envelope], slug: str,
             moment: Moment | None = None) -> list[Row] | None:
    """The rows of a timeline's CSV as it stood at ``moment`` (now when None), from its
    stream and every source stream in position order; None when it did not exist then.
    Pure: the same fold as every as-of read."""
    moment = moment or Moment()
    stream = timeline_stream(slug)
    folded: Folded | None = None
    events: list[DomainEvent] = []
    for envelope, state in replay(envelopes, slug, moment.axis, moment.as_of):
        folded = state
        if envelope.stream == stream:
            events.append(decode(envelope))
    if folded is None or not folded.timeline.exists:
        return None
    return _Story(folded, events).rows()


class _Story:
    """One timeline's rows: the timeline, the sources it cites, then one row per event of
    its stream in log order (its creation aside), each report's row telling its state now."""

    def __init__(self, folded: Folded, events: list[DomainEvent]) -> None:
        self.timeline = folded.timeline
        self.slug = folded.timeline.slug
        self.sources = folded.sources
        self.info = source_info(folded.sources)
        self.events = events
        self.corrected = {e.report for e in events if isinstance(e, ReportCorrected)}
        self.facts: dict[tuple[str, str], Fact | None] = {}

    def rows(self) -> list[Row]:
        timeline = self.timeline
        rows = [{"row": "timeline", "timeline": self.slug, "timeline_title": timeline.title,
                 "timeline_description": timeline.description or ""}]
        rows += [self._source_row(source) for source in self._cited()]
        for event in self.events:
            if isinstance(event, EntryOpened):
                rows.append({"row": "entry", "timeline": self.slug, "entry": event.entry,
                             "entry_title": event.title})
            elif isinstance(event, FactReported):
                rows.append(self._report_row(event))
            elif isinstance(event, ReportCorrected):
                rows.append(self._correction_row(event))
            elif isinstance(event, ReportRetracted):
                rows.append(self._about("retraction", event.report) | {
                    "reported_at": event.reported_at.isoformat(),
                    "retraction_reason": event.reason})
            elif isinstance(event, ReportRanked):
                rows.append(self._about("rank", event.report) | {
                    "rank": event.rank.value, "rank_reason": event.reason})
            elif isinstance(event, EntriesMerged):
                rows.append({"row": "merge", "timeline": self.slug, "entry": event.duplicate,
                             "entry_title": timeline.entries[event.duplicate].title,
                             "merged_into": event.survivor})
        return rows

    def _cited(self) -> list[SourceState]:
        """Every source a report or a correction cites, by its first citation."""
        cited: dict[str, None] = {}
        for event in self.events:
            if isinstance(event, FactReported):
                cited[event.source] = None
            if isinstance(event, FactReported | ReportCorrected) and event.via is not None:
                cited[event.via] = None
        return [self.sources[s] for s in cited if s in self.sources and self.sources[s].exists]

    def _source_row(self, source: SourceState) -> Row:
        return {"row": "source", "timeline": self.slug, "source": source.id,
                "source_name": source.name, "source_kind": source.kind.value,
                "source_url": source.url or "",
                "source_grade": source.reliability.value if source.reliability else "",
                "grade_note": source.grade_note or ""}

    def _about(self, row: str, report_id: str) -> Row:
        """The cells that say which report a row is about."""
        report = self.timeline.reports[report_id]
        return {"row": row, "timeline": self.slug, "entry": report.entry, "report": report.id,
                "attribute": report.attribute, "source": report.source,
                "source_name": self._name(report.source)}

    def _report_row(self, event: FactReported) -> Row:
        report = self.timeline.reports[event.report]
        kind, value = value_cell(report.value)
        fact = self._fact(report)
        row = self._about("report", report.id) | {
            "entry_title": self.timeline.entries[report.entry].title, "kind": kind,
            "value": value, "source_grade": self._grade(report.source),
            "via": report.via or "", "via_name": self._name(report.via),
            "via_grade": self._grade(report.via), "stance": report.stance.value,
            "reported_at": report.reported_at.isoformat(), "quote": report.quote or "",
            "url": report.url or "", "status": report.status.value,
            "changed_at": report.changed_at.isoformat() if report.changed_at else "",
            "retraction_reason": report.retraction_reason or "", "rank": report.rank.value,
            "rank_reason": report.rank_reason or "",
            "role": next((j.role.value for j in fact.reports if j.report == report.id), "")
            if fact else "",
            "best": words(fact.value) if fact else ""}
        if report.id in self.corrected:
            row |= {"original_value": value_cell(event.value)[1],
                    "original_stance": event.stance.value, "original_via": event.via or ""}
        return row

    def _correction_row(self, event: ReportCorrected) -> Row:
        """What the correction changed, and nothing it left as it was."""
        report = self.timeline.reports[event.report]
        return self._about("correction", report.id) | {
            "kind": report.value.kind,
            "value": value_cell(event.value)[1] if event.value is not None else "",
            "stance": event.stance.value if event.stance is not None else "",
            "via": event.via or "", "via_name": self._name(event.via),
            "via_grade": self._grade(event.via),
            "reported_at": event.reported_at.isoformat()}

    def _fact(self, report: ReportState) -> Fact | None:
        key = (self.timeline.survivor_of(report.entry), report.attribute)
        if key not in self.facts:
            self.facts[key] = fact_of(self.timeline, key[0], key[1], self.info)
        return self.facts[key]

    def _name(self, source_id: str | None) -> str:
        source = self.sources.get(source_id) if source_id else None
        return source.name if source else ""

    def _grade(self, source_id: str | None) -> str:
        source = self.sources.get(source_id) if source_id else None
        return source.reliability.value if source and source.reliability else ""
