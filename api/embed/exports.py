"""Exports for the tools newsrooms already use: TimelineJS's JSON and a spreadsheet.

- ``/export/{slug}/timelinejs.json``: Knight Lab's TimelineJS format, one slide per dated
  entry (TimelineJS needs a start date; undated entries are left out), dates as precise as
  they are known, the facts and corrections as the slide's text.
- ``/export/{slug}.csv``: one row per report, with its fact's role and best value;
  ``chronicle import --csv`` takes the same columns back.

Both honour ``?asOf=&axis=`` like the embed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from api.embed.presenter import EntryCard, TimelinePage, present
from api.embed.reading import ReadRefused, read_view
from events.rows import ReportRow, SourceRow
from events.value_text import value_cell
from events.values import Precision, stored_value, time_bounds

CSV_COLUMNS = (
    "timeline", "entry", "entry_title", "report", "attribute", "kind", "value",
    "source", "source_name", "source_grade", "via", "via_name", "via_grade", "stance",
    "reported_at", "quote", "url", "status", "changed_at", "retraction_reason", "rank",
    "role", "best")

# Finer precisions add these parts of the date, in this order.
_DATE_PARTS = (("year", Precision.YEAR), ("month", Precision.MONTH), ("day", Precision.DAY),
               ("hour", Precision.HOUR), ("minute", Precision.MINUTE))
_FINENESS = [Precision.YEAR, Precision.MONTH, Precision.DAY, Precision.HOUR,
             Precision.MINUTE, Precision.EXACT]


async def _page(request: Request) -> TimelinePage | Response:
    slug = request.path_params["slug"]
    try:
        view = await read_view(request, slug)
    except ReadRefused as e:
        return PlainTextResponse(e.message, status_code=e.status)
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
    page = await _page(request)
    if isinstance(page, Response):
        return page
    return Response(csv_text(page), media_type="text/csv; charset=utf-8", headers={
        "content-disposition": f'attachment; filename="{page.slug}.csv"',
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


def csv_text(page: TimelinePage) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_rows(page))
    return out.getvalue()


def csv_rows(page: TimelinePage) -> Iterator[list[str]]:
    rows = [(report, entry) for entry in page.entries for report in entry.reports]
    for report, entry in sorted(rows, key=lambda pair: pair[0].position):
        yield _csv_row(page, entry, report)


def _csv_row(page: TimelinePage, entry: EntryCard, report: ReportRow) -> list[str]:
    kind, value = value_cell(stored_value(report.value))
    source = page.source_rows.get(report.source)
    via = page.source_rows.get(report.via) if report.via else None
    line = entry.lines.get(report.attribute)
    role, best = (line.roles.get(report.id, ""), line.value) if line else ("", "")
    return [page.slug, entry.id, entry.title, report.id, report.attribute, kind, value,
            report.source, _name(source), _grade(source), report.via or "", _name(via),
            _grade(via), report.stance, report.reported_at.isoformat(), report.quote or "",
            report.url or "", report.status,
            report.changed_at.isoformat() if report.changed_at else "",
            report.retraction_reason or "", report.rank, role, best]


def _name(source: SourceRow | None) -> str:
    return source.name if source else ""


def _grade(source: SourceRow | None) -> str:
    return source.reliability or "" if source else ""
