"""A timeline as a reader of a news page sees it: entries in time order, each fact in words
with its best value first ("3,958 killed · reports from 2,300 to 20,000 · disputed"), the
disagreement spelled out with who says what (each report with its quote), an editor's
choice shown with its reason, corrections noted, sources graded and their track records
counted ("12 reports · 1 retracted · 2 outweighed"). The wording itself is
``api.embed.wording``'s.

Everything here is read through a ``TimelineView``, so the embed, its ``asOf`` form and the
exports show exactly what the GraphQL API shows.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from api.embed import wording
from api.embed.wording import Headline
from api.services.reading import TimelineView, settled
from api.services.replicas import ReadSource
from api.services.track_records import NO_RECORD, SourceRecord, track_records
from api.services.wiring import Services
from events.as_of import Moment
from events.policy import describe
from events.rows import EntryRow, FactRow, ReportRow, SourceRow
from events.values import Count, Precision, TimeSpan, Value, stored_value, time_bounds

PAGE = 500
# Every source's track record at a moment (api.services.track_records, bound to the
# services): asked only when the timeline exists at that moment.
RecordsAt = Callable[[Moment], Awaitable[dict[str, SourceRecord]]]


@dataclass(frozen=True, slots=True)
class ReportLine:
    """One report under a fact, as the report list shows it: who, how, when, in its own
    words (when they are not those of the value it is listed under) and its quote."""

    id: str
    source: str  # "Business Insider citing US Department of Defense (the Pentagon)"
    stance: str  # "confirmed", "claimed", "unconfirmed", "denied"
    said: str  # its value in words: "more than 20,000"
    own_words: bool  # True when ``said`` differs from its side's value, so is shown
    reported_on: str  # "13 Feb 2018"
    reported_iso: str
    quote: str | None
    preferred: bool  # an editor's choice
    note: str | None  # "set aside by an editor: …", for a deprecated report


@dataclass(frozen=True, slots=True)
class Side:
    """One value a fact's reports hold, and who holds it."""

    value: str
    sources: list[str]
    best: bool
    reports: list[ReportLine] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Choice:
    """An editor's choice: the report an editor preferred for a fact, and why."""

    source: str | None  # None when the preferred report is not at hand
    reason: str | None


@dataclass(frozen=True, slots=True)
class FactLine:
    attribute: str
    label: str  # "killed", "tank model", "date"
    value: str  # the best-known value in plain words, as the CSV export carries it
    summary: str  # "3,958 killed · reports from 2,300 to 20,000+ · disputed"
    disputed: bool
    status: str
    explanation: str
    sides: list[Side]  # the best value's first, then each other value reported
    roles: dict[str, str]  # report id → its role in the fact
    headline: Headline
    choice: Choice | None  # when the status is PREFERRED
    other_reports: list[ReportLine] = field(default_factory=list)  # denials, set aside


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
    def when_line(self) -> FactLine | None:
        """The fact behind ``when``: its headline names the other times reported."""
        return self.lines.get("occurred")

    @property
    def facts(self) -> list[FactLine]:
        """The facts shown under the entry. Its time is written above it (once, with the
        other times reported); it is listed here too when there is more to say about it:
        a dispute, or an editor's choice."""
        return [line for attribute, line in self.lines.items()
                if attribute != "occurred" or line.disputed or line.choice is not None]


@dataclass(frozen=True, slots=True)
class SourceCard:
    id: str
    name: str
    kind: str
    grade: str | None
    note: str | None
    url: str | None
    record: str | None = None  # "12 reports · 1 retracted · 2 outweighed", on every timeline


@dataclass(frozen=True, slots=True)
class TimelinePage:
    slug: str
    title: str
    description: str | None
    version: int
    entries: list[EntryCard]
    sources: list[SourceCard]
    source_rows: dict[str, SourceRow] = field(repr=False)
    record_note: str | None = None  # what the sources' record lines count, and when


async def present(view: TimelineView, records_at: RecordsAt | None = None
                  ) -> TimelinePage | None:
    """The timeline behind ``view``, or None when it does not exist (at that moment); its
    sources with their track records at the view's moment when ``records_at`` is given."""
    row = await view.row()
    if row is None:
        return None
    sources = await view.sources()
    entries = [await _card(view, entry, sources) for entry in await all_entries(view)]
    listed = cited((r for e in entries for r in e.reports), sources)
    records = None if records_at is None else await records_at(view.moment)
    return TimelinePage(row.slug, row.title, row.description, row.version, entries,
                        [_source_card(s, records) for s in listed], sources,
                        None if records is None else wording.track_record_note(view.moment))


def records_of(services: Services, source: ReadSource) -> RecordsAt:
    """The track records at a moment, as ``present`` asks for them: now from the database
    the page reads (``source``), as of a moment from the histories."""
    async def at(moment: Moment) -> dict[str, SourceRecord]:
        return await track_records(source.read_model, services.histories.get, moment)
    return at


def cited(reports: Iterable[ReportRow], sources: Mapping[str, SourceRow]) -> list[SourceRow]:
    """The sources the reports name, as their source or as their origin (``via``), by name
    then id."""
    named: set[str] = set()
    for report in reports:
        named.add(report.source)
        if report.via:
            named.add(report.via)
    return sorted((sources[s] for s in named if s in sources),
                  key=lambda s: (s.name.lower(), s.id))


def _source_card(source: SourceRow,
                 records: Mapping[str, SourceRecord] | None) -> SourceCard:
    record = None if records is None else \
        wording.track_record(records.get(source.id, NO_RECORD).total)
    return SourceCard(source.id, source.name, source.kind, source.reliability,
                      source.grade_note, source.url, record)


async def all_entries(view: TimelineView) -> list[EntryRow]:
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
        id=entry.id, title=entry.title, when=wording.when(span) if span else None,
        when_iso=span.bounds()[0].isoformat() if span else None, occurred=span,
        lines={f.attribute: _line(f, by_id, sources) for f in facts},
        corrections=[note for r in reports if (note := correction(r, sources))],
        reports=reports)


def _line(fact: FactRow, reports: dict[str, ReportRow],
          sources: dict[str, SourceRow]) -> FactLine:
    document = fact.document
    best = stored_value(document["value"])
    roles = {j["report"]: j["role"] for j in document["reports"]}
    supporting = [j["report"] for j in document["reports"] if j["role"] == "SUPPORTS"]
    others = [stored_value(a["value"]) for a in document["alternatives"]]
    disputed = bool(document["disputed"])
    head = wording.headline(fact.attribute, best, low=document.get("low"),
                            high=document.get("high"),
                            high_open=bool(document.get("highOpen", False)),
                            others=others, disputed=disputed)
    placed: set[str] = set()
    best_words = wording.number(best.best) if isinstance(best, Count) \
        and best.best is not None else wording.words(best)
    sides = [_side(best_words, supporting, reports, sources, placed, best=True)]
    for alternative, value in zip(document["alternatives"], others, strict=True):
        held = [r for r in alternative["reports"] if r not in placed]
        if held:
            sides.append(_side(_said(held, reports, value), held, reports, sources, placed,
                               best=False))
    rest = [r.id for r in sorted(reports.values(), key=lambda r: r.position)
            if r.attribute == fact.attribute and r.id not in placed
            and roles.get(r.id) in ("SUPPORTS", "CONTRADICTS", "DEPRECATED")]
    other_reports = [_report_line(reports[r], sources, None) for r in rest]
    explanation = _reworded(str(document["explanation"]), [best] + [
        stored_value(r.value) for r in reports.values() if r.id in roles])
    status = str(document["status"])
    return FactLine(fact.attribute, wording.label(fact.attribute), words(best), head.text,
                    disputed, status, explanation, sides, roles, head,
                    _choice(status, supporting, reports, sources, explanation),
                    other_reports)


def _side(value: str, report_ids: list[str], reports: dict[str, ReportRow],
          sources: dict[str, SourceRow], placed: set[str], *, best: bool) -> Side:
    """The reports holding one value, in the order they were made."""
    held = sorted((reports[r] for r in report_ids if r in reports and r not in placed),
                  key=lambda r: r.position)
    placed.update(r.id for r in held)
    return Side(value, _who([r.id for r in held], reports, sources), best,
                [_report_line(r, sources, value) for r in held])


def _report_line(report: ReportRow, sources: dict[str, SourceRow],
                 side: str | None) -> ReportLine:
    said = wording.words(stored_value(report.value))
    note = None
    if report.rank == "DEPRECATED":
        note = "set aside by an editor" + (f": {report.rank_reason}" if report.rank_reason
                                           else "")
    return ReportLine(
        id=report.id, source=source_name(report, sources), stance=report.stance.lower(),
        said=said, own_words=said != side, reported_on=_day(report.reported_at),
        reported_iso=report.reported_at.isoformat(), quote=report.quote,
        preferred=report.rank == "PREFERRED" and report.status != "RETRACTED", note=note)


def _choice(status: str, supporting: list[str], reports: dict[str, ReportRow],
            sources: dict[str, SourceRow], explanation: str) -> Choice | None:
    """The editor's choice behind a PREFERRED fact: the preferred report among those that
    support the value (the one whose reason the explanation gives, when several are)."""
    if status != "PREFERRED":
        return None
    chosen = [reports[r] for r in supporting if r in reports
              and reports[r].rank == "PREFERRED"]
    if not chosen:
        return Choice(source=None, reason=None)
    named = [r for r in chosen if r.rank_reason and r.rank_reason.rstrip(". ") in explanation]
    report = (named or sorted(chosen, key=lambda r: r.position))[-1]
    return Choice(source_name(report, sources), report.rank_reason or None)


def _reworded(text: str, values: list[Value]) -> str:
    """The policy's sentence with the counts and times it names in the page's words:
    "3958 (Libyan Red Crescent, …) outweighs 20000" → "3,958 (…) outweighs 20,000",
    "2018-02-10 (…) was preferred" → "10 February 2018 (…) was preferred"."""
    said: dict[str, str] = {}
    for value in values:
        if isinstance(value, Count | TimeSpan):
            said[describe(value)] = wording.words(value)
        if isinstance(value, Count) and value.best is not None:
            said[str(value.best)] = wording.number(value.best)
    for plain, page in sorted(said.items(), key=lambda item: -len(item[0])):
        if plain != page:
            text = re.sub(rf"(?<![\w.,:–-]){re.escape(plain)}(?![\w.,:–-])", page, text)
    return text


def words(value: Value) -> str:
    """A value in plain words, as the CSV export's ``best`` column carries it ("500", "5
    (5–200)", dates in words); the page itself words values with ``api.embed.wording``."""
    if isinstance(value, Count) and value.best is not None and \
            value.low in (None, value.best) and value.high in (None, value.best):
        return str(value.best)
    if isinstance(value, TimeSpan):
        return _plain_when(value)
    return describe(value)


def _said(report_ids: list[str], reports: dict[str, ReportRow], grouped: Value) -> str:
    """One side of a dispute in its sources' own words ("more than 200"), or the value
    it was grouped under when none of its reports is at hand."""
    texts: list[str] = []
    for report_id in report_ids:
        if (report := reports.get(report_id)) is not None:
            text = wording.words(stored_value(report.value))
            if text not in texts:
                texts.append(text)
    return " / ".join(texts) if texts else wording.words(grouped)


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


def _day(moment: datetime) -> str:
    return wording.day_month_year(moment)


def correction(report: ReportRow, sources: dict[str, SourceRow]) -> str | None:
    """"updated 21 Feb 2018: 'more than 20,000' (killed) retracted by Several news
    outlets"."""
    if report.changed_at is None or report.status not in ("CORRECTED", "RETRACTED"):
        return None
    day = _day(report.changed_at)
    value = wording.words(stored_value(report.value))
    who = source_name(report, sources)
    what = wording.label(report.attribute)
    if report.status == "RETRACTED":
        return f"updated {day}: '{value}' ({what}) retracted by {who}"
    return f"updated {day}: {who} corrected its report on {what} to '{value}'"


def _plain_when(span: TimeSpan) -> str:
    """A time in plain words, as the CSV export has always carried it: "February 2018",
    "7 February 2018, 20:15 UTC"; a range joins two of them."""
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
