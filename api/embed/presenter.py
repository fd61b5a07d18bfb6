"""A timeline as a reader of a news page sees it: entries in time order, each fact in words,
the disagreement spelled out with who says what, corrections noted, sources graded.

Everything here is read through a ``TimelineView``, so the embed, its ``asOf`` form and the
exports show exactly what the GraphQL API shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from api.services.reading import TimelineView, settled
from events.policy import describe
from events.rows import EntryRow, FactRow, ReportRow, SourceRow
from events.values import Count, Precision, TimeSpan, Value, stored_value, time_bounds

PAGE = 500


@dataclass(frozen=True, slots=True)
class Side:
    """One value a fact's reports hold, and who holds it."""

    value: str
    sources: list[str]
    best: bool


@dataclass(frozen=True, slots=True)
class FactLine:
    attribute: str
    label: str
    value: str  # the best-known value in words
    summary: str  # "5–200+ killed, disputed", or "killed: 5"
    disputed: bool
    status: str
    explanation: str
    sides: list[Side]
    roles: dict[str, str]  # report id → its role in the fact


@dataclass(frozen=True, slots=True)
class EntryCard:
    id: str
    title: str
    when: str | None  # "7 February 2018, 20:00 UTC", as precisely as known
    when_iso: str | None  # for <time datetime>
    occurred: TimeSpan | None
    lines: dict[str, FactLine]  # by attribute, `occurred` included
    corrections: list[str]
    reports: list[ReportRow] = field(repr=False)

    @property
    def facts(self) -> list[FactLine]:
        """The facts shown under the entry: its time is shown above it, and listed here
        too only when it is disputed."""
        return [line for attribute, line in self.lines.items()
                if attribute != "occurred" or line.disputed]


@dataclass(frozen=True, slots=True)
class SourceCard:
    id: str
    name: str
    kind: str
    grade: str | None
    note: str | None
    url: str | None


@dataclass(frozen=True, slots=True)
class TimelinePage:
    slug: str
    title: str
    description: str | None
    version: int
    entries: list[EntryCard]
    sources: list[SourceCard]
    source_rows: dict[str, SourceRow] = field(repr=False)


async def present(view: TimelineView) -> TimelinePage | None:
    """The timeline behind ``view``, or None when it does not exist (at that moment)."""
    row = await view.row()
    if row is None:
        return None
    sources = await view.sources()
    entries = [await _card(view, entry, sources) for entry in await _all_entries(view)]
    cited = {r.source for e in entries for r in e.reports} | {
        r.via for e in entries for r in e.reports if r.via}
    cards = [SourceCard(s.id, s.name, s.kind, s.reliability, s.grade_note, s.url)
             for s in sorted(sources.values(), key=lambda s: s.name.lower()) if s.id in cited]
    return TimelinePage(row.slug, row.title, row.description, row.version, entries, cards,
                        sources)


async def _all_entries(view: TimelineView) -> list[EntryRow]:
    rows: list[EntryRow] = []
    after = None
    while True:
        page = await view.entries(PAGE, after, None, None)
        rows += page.entries
        if not page.has_next or not page.entries:
            return rows
        last = page.entries[-1]
        after = (last.occurred_start, last.position)


async def _card(view: TimelineView, entry: EntryRow,
                sources: dict[str, SourceRow]) -> EntryCard:
    facts = await settled(view.facts(entry.id))
    reports = await view.reports(entry.id)
    by_id = {r.id: r for r in reports}
    occurred = next((stored_value(f.document["value"]) for f in facts
                     if f.attribute == "occurred"), None)
    span = occurred if isinstance(occurred, TimeSpan) else None
    return EntryCard(
        id=entry.id, title=entry.title, when=when(span) if span else None,
        when_iso=span.bounds()[0].isoformat() if span else None, occurred=span,
        lines={f.attribute: _line(f, by_id, sources) for f in facts},
        corrections=[note for r in reports if (note := correction(r, sources))],
        reports=reports)


def _line(fact: FactRow, reports: dict[str, ReportRow],
          sources: dict[str, SourceRow]) -> FactLine:
    document = fact.document
    best = stored_value(document["value"])
    label = fact.attribute.replace("_", " ")
    supporting = [j["report"] for j in document["reports"] if j["role"] == "SUPPORTS"]
    sides = [Side(_said(supporting, reports, best), _who(supporting, reports, sources),
                  best=True)]
    for alternative in document["alternatives"]:
        held = alternative["reports"]
        sides.append(Side(_said(held, reports, stored_value(alternative["value"])),
                          _who(held, reports, sources), best=False))
    disputed = bool(document["disputed"])
    said = [stored_value(reports[j["report"]].value) for j in document["reports"]
            if j["report"] in reports and j["role"] in ("SUPPORTS", "CONTRADICTS")]
    if not disputed:
        summary = f"{label}: {words(best)}"
    elif isinstance(best, Count) and (span := _range(document, said)):
        summary = f"{span} {label}, disputed"
    else:
        summary = f"{label}: {' or '.join(side.value for side in sides)}, disputed"
    return FactLine(fact.attribute, label, words(best), summary, disputed,
                    str(document["status"]), str(document["explanation"]), sides,
                    {j["report"]: j["role"] for j in document["reports"]})


def words(value: Value) -> str:
    """A value as a reader would say it ("500", not "500 (500–500)"; dates in words)."""
    if isinstance(value, Count) and value.best is not None and \
            value.low in (None, value.best) and value.high in (None, value.best):
        return str(value.best)
    if isinstance(value, TimeSpan):
        return when(value)
    return describe(value)


def _said(report_ids: list[str], reports: dict[str, ReportRow], grouped: Value) -> str:
    """One side of a dispute in its sources' own words ("more than 200"), or the value
    it was grouped under when none of its reports is at hand."""
    texts: list[str] = []
    for report_id in report_ids:
        if (report := reports.get(report_id)) is not None:
            text = words(stored_value(report.value))
            if text not in texts:
                texts.append(text)
    return " / ".join(texts) if texts else words(grouped)


def _range(document: dict[str, Any], said: list[Value]) -> str | None:
    """"5–200+": the fact's range, with "+" when a source put its top as "more than"."""
    low, high = document.get("low"), document.get("high")
    if low is None or high is None:
        return None
    open_top = any(isinstance(v, Count) and v.best is None and v.high is None and v.low == high
                   for v in said)
    return f"{low}–{high}{'+' if open_top else ''}" if low != high else f"{low}"


def _who(report_ids: list[str], reports: dict[str, ReportRow],
         sources: dict[str, SourceRow]) -> list[str]:
    names: list[str] = []
    for report_id in report_ids:
        report = reports.get(report_id)
        if report is None:
            continue
        name = source_name(report, sources)
        if name not in names:
            names.append(name)
    return names


def source_name(report: ReportRow, sources: dict[str, SourceRow]) -> str:
    def named(source_id: str) -> str:
        source = sources.get(source_id)
        return source.name if source else source_id

    name = named(report.source)
    if report.via and report.via != report.source:
        name += f" citing {named(report.via)}"
    return name


def correction(report: ReportRow, sources: dict[str, SourceRow]) -> str | None:
    """"updated 21 Feb 2018: 'more than 200' (killed) retracted by Several news outlets"."""
    if report.changed_at is None or report.status not in ("CORRECTED", "RETRACTED"):
        return None
    day = f"{report.changed_at.day} {report.changed_at:%b %Y}"
    value = words(stored_value(report.value))
    who = source_name(report, sources)
    if report.status == "RETRACTED":
        return f"updated {day}: '{value}' ({report.attribute.replace('_', ' ')}) " \
               f"retracted by {who}"
    return f"updated {day}: {who} corrected its report on " \
           f"{report.attribute.replace('_', ' ')} to '{value}'"


def when(span: TimeSpan) -> str:
    """A time in words, no more precise than it is known: "February 2018", "7 February
    2018", "7 February 2018, 20:15 UTC"; a range joins two of them."""
    text = _moment(span.start, span.precision)
    if span.end is not None and span.end != span.start:
        text += f" – {_moment(span.end, span.precision)}"
    return text


def _moment(value: str, precision: Precision) -> str:
    start: datetime = time_bounds(value, precision)[0]
    if precision is Precision.YEAR:
        return f"{start.year}"
    if precision is Precision.MONTH:
        return f"{start:%B %Y}"
    day = f"{start.day} {start:%B %Y}"
    if precision is Precision.DAY:
        return day
    if precision is Precision.HOUR:
        return f"{day}, {start:%H}:00 UTC"
    return f"{day}, {start:%H:%M} UTC"
