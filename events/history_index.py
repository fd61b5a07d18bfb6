"""Each fact's and each report's history on both clocks, so an as-of read needs no replay.

``TimelineHistory.extend`` consumes a timeline's events (and every source's) in position
order, once, and keeps for every fact and report the versions it went through: on the
RECORDED clock keyed by position, on the REPORTED clock keyed by ``reported_at`` (computed
when first asked, from today's editorial state, since back-dated reports rewrite that past).
``at_recorded`` and ``at_reported`` then answer what a replay of the log up to T would give
(the integration tests compare the two on random T). Pure: no I/O, no clock.
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_right, insort
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from events.chain import Envelope
from events.policy import fact_document, resolve
from events.reducer import ReportState, ReportStatus, SourceState, Stamp, TimelineState
from events.rows import (
    EntryRow,
    FactRow,
    ReportRow,
    SourceRow,
    TimelineRow,
    report_row,
    source_row,
)
from events.timeline_facts import (
    cited_sources,
    fact_of,
    facts_citing,
    facts_touched,
    source_info,
)
from events.values import TimeSpan, stored_value
from events.versions import Versions
from events.vocabulary import (
    EntriesMerged,
    FactReported,
    Rank,
    ReportCorrected,
    ReportRanked,
    ReportRetracted,
    SourceGraded,
    decode,
)

ReportLogEvent = FactReported | ReportCorrected | ReportRetracted
ReportEvent = ReportCorrected | ReportRetracted | ReportRanked
Document = dict[str, Any]
FactKey = tuple[str, str]
_NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass(slots=True)
class Snapshot:
    """A timeline as it stood at one moment on one clock: rows ready to serve."""

    timeline: TimelineRow | None
    entries: list[EntryRow]
    facts: dict[str, list[FactRow]]
    reports: Callable[[str], list[ReportRow]]  # an entry's reports, built when asked for
    sources: dict[str, SourceRow]
    survivors: dict[str, str] = field(default_factory=dict)  # merged entry → where it lives


@dataclass(slots=True)
class _ReportedAxis:
    """What the REPORTED clock needs, rebuilt lazily after new events arrive."""

    # Keyed by microseconds since the epoch: bisecting ints is far cheaper than datetimes.
    facts: dict[FactKey, Versions[int, FactRow]] = field(default_factory=dict)
    thresholds: list[datetime] = field(default_factory=list)
    versions: list[int] = field(default_factory=list)  # running max position per threshold
    moments: list[int] = field(default_factory=list)  # where any answer can change (µs)
    ranks: dict[str, tuple[Rank, str | None, int | None]] = field(default_factory=dict)


class TimelineHistory:
    def __init__(self, slug: str) -> None:
        self.slug = slug
        self.state = TimelineState(slug)
        self.sources: dict[str, SourceState] = {}
        self.position = 0  # the last envelope consumed
        self._recorded: list[tuple[datetime, int]] = []
        self._facts: dict[FactKey, Versions[int, FactRow]] = {}
        self._attributes: dict[str, list[str]] = {}  # sorted
        self._starts: dict[int, tuple[FactRow, datetime | None]] = {}  # by id(occurred row)
        self._reports: dict[str, Versions[int, ReportRow]] = {}
        self._reports_of: dict[str, list[str]] = {}  # entry as reported → report ids
        self._report_log: dict[str, list[tuple[int, ReportLogEvent]]] = {}
        # Every correction, retraction and rank in position order, for report changes
        # (events/report_changes.py): the window of a RECORDED read is a slice of it.
        self._report_events: list[tuple[int, ReportEvent]] = []
        self._sources: dict[str, Versions[int, SourceRow]] = {}
        self._version: Versions[int, int] = Versions()
        self._merges: list[tuple[int, str, str]] = []
        self._thresholds: list[tuple[datetime, int]] = []  # (reported-clock threshold, pos)
        self._regrades: list[tuple[int, str]] = []
        self._reported: _ReportedAxis | None = None

    # -- what events.report_changes reads (read-only views of the kept history) ----------

    @property
    def report_events(self) -> Sequence[tuple[int, ReportEvent]]:
        """Every correction, retraction and rank, with its position, in position order."""
        return self._report_events

    @property
    def recorded_clock(self) -> Sequence[tuple[datetime, int]]:
        """(recorded_at, position) of every event folded, in position order."""
        return self._recorded

    @property
    def fact_versions(self) -> Mapping[FactKey, Versions[int, FactRow]]:
        return self._facts

    @property
    def report_logs(self) -> Mapping[str, Sequence[tuple[int, ReportLogEvent]]]:
        return self._report_log

    @property
    def has_merges(self) -> bool:
        return bool(self._merges)

    def report_versions(self, report_id: str) -> Versions[int, ReportRow]:
        return self._reports[report_id]

    def survivors_at(self, position: int) -> dict[str, str]:
        return self._survivors(position)

    def reported_fact_versions(self) -> Mapping[FactKey, Versions[int, FactRow]]:
        """Every fact's versions on the REPORTED clock, keyed by micros since the epoch."""
        return self._reported_axis().facts

    def report_as_reported(self, report: ReportState, moment: datetime) -> ReportState | None:
        return self._report_at(report, moment)

    # -- consuming the log ----------------------------------------------------------------

    def extend(self, envelopes: Iterable[Envelope]) -> None:
        stream = f"timeline:{self.slug}"
        for envelope in envelopes:
            if envelope.position <= self.position:
                continue
            self.position = envelope.position
            self._recorded.append((envelope.recorded_at, envelope.position))
            self._reported = None
            if envelope.stream.startswith("source:"):
                self._source_event(envelope)
            elif envelope.stream == stream:
                self._timeline_event(envelope)

    def _source_event(self, envelope: Envelope) -> None:
        source_id = envelope.stream.split(":", 1)[1]
        event = decode(envelope)
        state = self.sources.setdefault(source_id, SourceState(source_id))
        state.apply(event, Stamp(envelope.position, envelope.recorded_at))
        self._sources.setdefault(source_id, Versions()).set(envelope.position, source_row(state))
        if isinstance(event, SourceGraded):
            self._regrades.append((envelope.position, source_id))
            touched = facts_citing(self.state, source_id)
            if touched:
                self._version.set(envelope.position, envelope.position)
            self._recompute(envelope.position, touched)

    def _timeline_event(self, envelope: Envelope) -> None:
        event = decode(envelope)
        position = envelope.position
        self.state.apply(event, Stamp(position, envelope.recorded_at))
        self._version.set(position, position)
        self._thresholds.append((self._threshold(event), position))
        if isinstance(event, FactReported):
            self._report_log[event.report] = [(position, event)]
            self._reports_of.setdefault(event.entry, []).append(event.report)
        elif isinstance(event, ReportCorrected | ReportRetracted):
            self._report_log[event.report].append((position, event))
        if isinstance(event, ReportCorrected | ReportRetracted | ReportRanked):
            self._report_events.append((position, event))
        if isinstance(event, FactReported | ReportCorrected | ReportRetracted | ReportRanked):
            report = self.state.reports[event.report]
            self._reports.setdefault(report.id, Versions()).set(
                position, report_row(self.slug, report))
        if isinstance(event, EntriesMerged):
            self._merges.append((position, event.duplicate, event.survivor))
            for attribute in self._attributes.get(event.duplicate, ()):
                self._facts[(event.duplicate, attribute)].set(position, None)
        self._recompute(position, facts_touched(self.state, event))

    def _threshold(self, event: object) -> datetime:
        """The earliest REPORTED time at which a replay would apply this event."""
        if isinstance(event, FactReported):
            return event.reported_at
        if isinstance(event, ReportCorrected | ReportRetracted):
            return max(event.reported_at, self.state.reports[event.report].reported_at)
        if isinstance(event, ReportRanked):
            return self.state.reports[event.report].reported_at
        return _NEVER

    def _recompute(self, position: int, keys: set[FactKey]) -> None:
        info = source_info(self.sources)
        for entry, attribute in keys:
            fact = fact_of(self.state, entry, attribute, info)
            attributes = self._attributes.setdefault(entry, [])
            if attribute not in attributes:
                insort(attributes, attribute)
            self._facts.setdefault((entry, attribute), Versions()).set(
                position, None if fact is None
                else FactRow(self.slug, entry, attribute, fact_document(fact)))

    # -- the RECORDED clock ---------------------------------------------------------------

    def position_at(self, moment: datetime) -> int:
        """The last position of this timeline's world committed by ``moment``."""
        index = bisect_right(self._recorded, (moment, self.position + 1)) - 1
        return self._recorded[index][1] if index >= 0 else 0

    def at_recorded(self, moment: datetime) -> Snapshot:
        position = self.position_at(moment)
        created = self.state.created
        if created is None or created.position > position:
            return Snapshot(None, [], {}, _no_reports, {})
        survivors = self._survivors(position)
        entries = [e for e in self.state.entries.values()
                   if e.opened.position <= position and e.id not in survivors]
        facts = {e.id: self._rows(e.id, lambda k: self._facts[k].at(position))
                 for e in entries}

        def reports(entry: str) -> list[ReportRow]:
            members = [entry, *(d for d, s in survivors.items() if s == entry)]
            rows = [row for member in members for r in self._reports_of.get(member, [])
                    if (row := self._reports[r].at(position)) is not None]
            return sorted(rows, key=lambda row: row.position)

        sources = {s: source for s, v in self._sources.items()
                   if (source := v.at(position)) is not None}
        return Snapshot(self._timeline_row(self._version.at(position) or 0),
                        self._entry_rows(entries, facts), facts, reports, sources, survivors)

    def _survivors(self, position: int) -> dict[str, str]:
        merged = {d: s for p, d, s in self._merges if p <= position}
        return {d: self._survivor(d, merged) for d in merged}

    @staticmethod
    def _survivor(entry: str, merged: dict[str, str]) -> str:
        seen = {entry}
        while entry in merged and merged[entry] not in seen:
            entry = merged[entry]
            seen.add(entry)
        return entry

    # -- the REPORTED clock ---------------------------------------------------------------

    def at_reported(self, moment: datetime) -> Snapshot:
        if self.state.created is None:
            return Snapshot(None, [], {}, _no_reports, {})
        axis = self._reported_axis()
        entries = self.state.live_entries()
        micros = _micros(moment)
        facts = {e.id: self._rows(e.id, lambda k: _at(axis.facts.get(k), micros))
                 for e in entries}

        survivors = {e: self.state.survivor_of(e) for e in self.state.merged}
        # Reports are built when asked for, maybe after more events were folded: keep what
        # they depend on as it is now (the log read so far, today's ranks).
        known, ranks = self.position, axis.ranks

        def reports(entry: str) -> list[ReportRow]:
            members = [entry, *(d for d, s in survivors.items() if s == entry)]
            pasts = [past for member in members for r in self._reports_of.get(member, [])
                     if r in ranks and (past := self._report_at(
                         self.state.reports[r], moment, known, ranks[r])) is not None]
            return [report_row(self.slug, p)
                    for p in sorted(pasts, key=lambda p: p.reported.position)]

        index = bisect_right(axis.thresholds, moment) - 1
        version = axis.versions[index] if index >= 0 else 0
        sources = {s.id: source_row(s) for s in self.sources.values() if s.exists}
        return Snapshot(self._timeline_row(version), self._entry_rows(entries, facts), facts,
                        reports, sources, survivors)

    def _reported_axis(self) -> _ReportedAxis:
        if self._reported is not None:
            return self._reported
        axis = _ReportedAxis()
        self._starts.clear()  # the old axis's rows go with it, or they would pile up here
        for entry in self.state.live_entries():
            for attribute in self.state.attributes(entry.id):
                axis.facts[(entry.id, attribute)] = self._reported_versions(entry.id, attribute)
        thresholds = list(self._thresholds)
        for position, source_id in self._regrades:
            citing = [r.reported_at for r in self.state.reports.values()
                      if source_id in (r.source, r.via) and r.reported.position < position]
            if citing:
                thresholds.append((min(citing), position))
        latest = 0
        for threshold, position in sorted(thresholds):
            latest = max(latest, position)
            axis.thresholds.append(threshold)
            axis.versions.append(latest)
        moments = {_micros(m) for m in axis.thresholds}
        for versions in axis.facts.values():
            moments.update(versions.keys)
        axis.moments = sorted(moments)
        axis.ranks = {r.id: (r.rank, r.rank_reason, r.ranked_at)
                      for r in self.state.reports.values()}
        self._reported = axis
        return axis

    def reported_epoch(self, moment: datetime) -> tuple[int, int]:
        """Equal for two moments exactly when the REPORTED answers at them are equal: the
        log read so far, and how many of the moments where an answer changes have passed."""
        return self.position, bisect_right(self._reported_axis().moments, _micros(moment))

    def _reported_versions(self, entry: str, attribute: str) -> Versions[int, FactRow]:
        reports = self.state.fact_reports(entry, attribute)
        # Every origin a report cited along the way: a correction may have changed it.
        cited = cited_sources(self.state, entry, attribute) | {
            e.via for r in reports for _, e in self._report_log[r.id]
            if isinstance(e, FactReported | ReportCorrected) and e.via is not None}
        info = {k: v for k, v in source_info(self.sources).items() if k in cited}
        moments = sorted({e.reported_at for r in reports for _, e in self._report_log[r.id]})
        versions: Versions[int, FactRow] = Versions()
        for moment in moments:
            past = [p for r in reports if (p := self._report_at(r, moment)) is not None]
            fact = resolve_fact(entry, attribute, past, info)
            versions.set(_micros(moment),
                         None if fact is None else FactRow(self.slug, entry, attribute, fact))
        return versions

    def _report_at(self, report: ReportState, moment: datetime, known: int | None = None,
                   rank: tuple[Rank, str | None, int | None] | None = None,
                   ) -> ReportState | None:
        """A report as it stood at ``moment`` on the REPORTED clock, ranked as today (or as
        ``rank`` says), from the log up to position ``known`` (all of it when None)."""
        log = [(p, e) for p, e in self._report_log[report.id] if known is None or p <= known]
        first = log[0][1]
        assert isinstance(first, FactReported)
        if first.reported_at > moment:
            return None
        past = dataclasses.replace(report, value=first.value, stance=first.stance,
                                   via=first.via, status=ReportStatus.ACTIVE,
                                   retraction_reason=None, changed_at=None)
        if rank is not None:
            past.rank, past.rank_reason, past.ranked_at = rank
        for _, event in log[1:]:
            if event.reported_at > moment:
                continue
            if isinstance(event, ReportCorrected):
                past.value = event.value if event.value is not None else past.value
                past.stance = event.stance if event.stance is not None else past.stance
                past.via = event.via if event.via is not None else past.via
                past.status, past.changed_at = ReportStatus.CORRECTED, event.reported_at
            elif isinstance(event, ReportRetracted):
                past.status, past.changed_at = ReportStatus.RETRACTED, event.reported_at
                past.retraction_reason = event.reason
        return past

    # -- rows -----------------------------------------------------------------------------

    def _rows(self, entry: str, row_at: Callable[[FactKey], FactRow | None]) -> list[FactRow]:
        return [row for attribute in self._attributes.get(entry, ())
                if (row := row_at((entry, attribute))) is not None]

    def _timeline_row(self, version: int) -> TimelineRow:
        created = self.state.created
        assert created is not None
        return TimelineRow(slug=self.slug, title=self.state.title,
                           description=self.state.description, version=version,
                           created_at=created.recorded_at)

    def _entry_rows(self, entries: Iterable[Any],
                    facts: dict[str, list[FactRow]]) -> list[EntryRow]:
        rows = []
        for entry in entries:
            occurred = next((f for f in facts[entry.id] if f.attribute == "occurred"), None)
            rows.append(EntryRow(timeline=self.slug, id=entry.id, title=entry.title,
                                 merged_into=None, position=entry.opened.position,
                                 occurred_start=self._start(occurred)))
        return rows

    def _start(self, occurred: FactRow | None) -> datetime | None:
        """Where the best-known ``occurred`` starts; each fact version is parsed once (the
        row is kept with its start, so its id cannot be reused while remembered)."""
        if occurred is None:
            return None
        known = self._starts.get(id(occurred))
        if known is not None and known[0] is occurred:
            return known[1]
        span = stored_value(occurred.document["value"])
        start = span.bounds()[0] if isinstance(span, TimeSpan) else None
        self._starts[id(occurred)] = (occurred, start)
        return start


def _no_reports(entry: str) -> list[ReportRow]:
    return []


def changed_facts(before: Snapshot, after: Snapshot) -> list[
        tuple[str, str, FactRow | None, FactRow | None]]:
    """Facts whose value, range, dispute or status differ between two snapshots, with both
    versions, in (entry, attribute) order."""
    old = {(f.entry, f.attribute): f for rows in before.facts.values() for f in rows}
    new = {(f.entry, f.attribute): f for rows in after.facts.values() for f in rows}
    found = []
    for key in sorted(old.keys() | new.keys()):
        was, now = old.get(key), new.get(key)
        if _shown(was) != _shown(now):
            found.append((key[0], key[1], was, now))
    return found


def _shown(row: FactRow | None) -> object:
    """What a reader sees change (not the explanation's wording)."""
    if row is None:
        return None
    document = row.document
    return (document["value"], document["low"], document["high"],
            document.get("highOpen", False), document["disputed"], document["status"])


def resolve_fact(entry: str, attribute: str, reports: list[ReportState],
                 info: dict[str, Any]) -> Document | None:
    fact = resolve(entry, attribute, reports, info)
    return None if fact is None else fact_document(fact)


def _at(versions: Versions[int, FactRow] | None, micros: int) -> FactRow | None:
    return None if versions is None else versions.at(micros)


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)



