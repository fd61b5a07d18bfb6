"""The REPORTED clock of a timeline's kept history (events/history_index.py).

On this clock a fact at instant T is the policy applied to its reports as reported by T
(their corrections and retractions by T), judged with every editorial event as it stands
today: today's ranks, grades and merges. A fact may change only at its moments, the
``reported_at`` of its reports and of their corrections; what it was at one of them is
resolved when a read lands there, then kept. An event keeps what it cannot change: a report,
correction, retraction or rank changes the fact only from the instant it applies at (a
replay would apply it from there), so the versions before stay; a merge changes the
survivor's facts throughout, and a source's grade or name every fact. Pure: no I/O, no clock.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from events.history_reports import ReportTrails
from events.history_versions import UNKNOWN, Documents, FactVersions, Kept
from events.policy import SourceInfo, fact_document, resolve
from events.reducer import ReportState, SourceState, TimelineState
from events.rows import FactRow
from events.timeline_facts import source_info
from events.track_records import Records
from events.vocabulary import FactReported, ReportCorrected, ReportRanked, ReportRetracted

FactKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class ReportedIndex:
    """The REPORTED clock's timeline-wide keys, as of one log position."""

    position: int
    thresholds: list[int]  # µs: the earliest reported time each event applies at, sorted
    versions: list[int]  # the running max position per threshold
    moments: list[int]  # µs: every instant where some answer may change


@dataclass(slots=True)
class _Context:
    """What one fact's REPORTED versions are resolved from, as today's state has it."""

    reports: list[ReportState]
    sources: dict[str, SourceInfo]


class ReportedClock:
    def __init__(self, state: Callable[[], TimelineState], sources: dict[str, SourceState],
                 trails: ReportTrails, documents: Documents) -> None:
        self._state = state
        self.sources = sources
        self.trails = trails
        self.documents = documents
        self.thresholds: list[tuple[int, int]] = []  # (µs, position) per timeline event
        self.regrades: list[tuple[int, str]] = []
        self.moments: set[int] | None = set()  # µs of every report event (None: not built)
        self.rows: dict[FactKey, dict[int, Kept]] = {}  # each fact's versions kept, by µs
        # What each kept version adds to track records (events/history_records.py), kept and
        # dropped with the rows.
        self.records: dict[FactKey, dict[int, Records]] = {}
        self.fact_moments: dict[FactKey, list[int]] = {}  # µs where each fact may change
        self.kept_index: ReportedIndex | None = None
        self._contexts: dict[FactKey, _Context] = {}
        self._today: dict[str, SourceInfo] | None = None  # every source as it stands now

    @property
    def state(self) -> TimelineState:
        return self._state()

    # -- folding ----------------------------------------------------------------------------

    def timeline_event(self, event: object, position: int, touched: Iterable[FactKey]) -> None:
        """After ``event`` (at ``position``) was applied: ``touched`` are the facts it may
        change, from the instant it applies at on."""
        threshold = self._threshold(event)
        self.thresholds.append((threshold, position))
        if self.moments is not None and isinstance(
                event, FactReported | ReportCorrected | ReportRetracted):
            self.moments.add(micros(event.reported_at))
        for key in touched:
            self.fact_moments.pop(key, None)
            self._contexts.pop(key, None)
            rows = self.rows.get(key)
            if rows:
                self.rows[key] = {at: row for at, row in rows.items() if at < threshold}
            records = self.records.get(key)
            if records:
                self.records[key] = {at: r for at, r in records.items() if at < threshold}

    def source_event(self, position: int, source_id: str, graded: bool) -> None:
        """Today's grades and names weigh in every version."""
        if graded:
            self.regrades.append((position, source_id))
        self.rows.clear()
        self.records.clear()
        self._contexts.clear()
        self._today = None

    def _threshold(self, event: object) -> int:
        """The earliest REPORTED time (µs) at which a replay would apply this event."""
        if isinstance(event, FactReported):
            return micros(event.reported_at)
        if isinstance(event, ReportCorrected | ReportRetracted):
            return micros(max(event.reported_at, self.state.reports[event.report].reported_at))
        if isinstance(event, ReportRanked):
            return micros(self.state.reports[event.report].reported_at)
        return NEVER

    # -- reading ----------------------------------------------------------------------------

    def index(self, position: int) -> ReportedIndex:
        if self.kept_index is not None and self.kept_index.position == position:
            return self.kept_index
        latest, times, versions = 0, [], []
        for threshold, at in sorted([*self.thresholds, *self._regrade_thresholds()]):
            latest = max(latest, at)
            times.append(threshold)
            versions.append(latest)
        if self.moments is None:
            self.moments = {micros(r.reported_at) for r in self.state.reports.values()}
            self.moments.update(micros(e.reported_at) for _, e in self.trails.events
                                if not isinstance(e, ReportRanked))
        self.kept_index = ReportedIndex(position, times, versions,
                                        sorted(self.moments.union(times)))
        return self.kept_index

    def _regrade_thresholds(self) -> list[tuple[int, int]]:
        """A regrade applies from the first report citing the source (from it or via it)
        among those made before it."""
        first = next(iter(self.state.reports.values()), None)
        regrades: dict[str, list[int]] = {}
        for position, source_id in self.regrades:
            if first is not None and position > first.reported.position:
                regrades.setdefault(source_id, []).append(position)
        earliest: dict[int, datetime] = {}
        for report in self.state.reports.values() if regrades else ():
            cites = {report.source} if report.via is None else {report.source, report.via}
            for source_id in cites & regrades.keys():
                for position in regrades[source_id]:
                    if report.reported.position < position and (
                            position not in earliest
                            or report.reported_at < earliest[position]):
                        earliest[position] = report.reported_at
        return [(micros(moment), position) for position, moment in earliest.items()]

    def row_at(self, key: FactKey, at: int) -> FactRow | None:
        """The fact as reported by the instant ``at`` (µs)."""
        moments = self.fact_moments.get(key)
        if moments is None:
            moments = self._moments(key)
        index = bisect_right(moments, at) - 1
        if index < 0:
            return None
        rows = self.rows.get(key)
        kept = UNKNOWN if rows is None else rows.get(moments[index], UNKNOWN)
        if kept is None or isinstance(kept, FactRow):  # kept and decoded: most reads
            return kept
        return self.row(key, moments[index])

    def moment_at(self, key: FactKey, at: int) -> int | None:
        """The fact's last moment at or before ``at`` (µs), None before its first."""
        moments = self.fact_moments.get(key)
        if moments is None:
            moments = self._moments(key)
        index = bisect_right(moments, at) - 1
        return moments[index] if index >= 0 else None

    def reports_at(self, key: FactKey, at: int) -> list[ReportState]:
        """The fact's reports as reported by ``at`` (µs), ranked as today."""
        moment = instant(at)
        return [past for r in self._context(key).reports
                if (past := self.trails.as_reported(r, moment)) is not None]

    def versions(self, key: FactKey) -> FactVersions | None:
        entry, attribute = key
        if entry not in self.state.entries or self.state.entries[entry].merged_into \
                or not self.state.fact_reports(entry, attribute):
            return None
        return FactVersions(self._moments(key), lambda at: self.row(key, at))

    def keys(self) -> list[FactKey]:
        return [(e.id, a) for e in self.state.live_entries() for a in self.state.attributes(e.id)]

    def row(self, key: FactKey, at: int) -> FactRow | None:
        """The fact as reported by ``at``, one of its moments."""
        rows = self.rows.setdefault(key, {})
        kept = rows.get(at, UNKNOWN)
        if kept is UNKNOWN:
            found = resolve(key[0], key[1], self.reports_at(key, at),
                            self._context(key).sources)
            rows[at] = kept = (None if found is None
                               else FactRow(self.documents.slug, key[0], key[1],
                                            fact_document(found)))
            self.documents.decoded += 1
        return self.documents.row(key, kept, rows, at)

    def prepare(self, attributes: dict[str, list[str]], budget: int | None = None) -> int:
        """Resolve the versions of live facts not kept yet, while the reports they weigh
        add up to no more than ``budget`` (all of them when None); how many were."""
        resolved = spent = 0
        for entry in self.state.live_entries():
            for attribute in attributes.get(entry.id, ()):
                key = (entry.id, attribute)
                for at in self._moments(key):
                    if at in self.rows.get(key, {}):
                        continue
                    spent += len(self._context(key).reports)
                    if budget is not None and spent > budget:
                        return resolved
                    self.row(key, at)
                    resolved += 1
        return resolved

    def _moments(self, key: FactKey) -> list[int]:
        moments = self.fact_moments.get(key)
        if moments is None:
            reports = self._context(key).reports
            found = {micros(r.reported_at) for r in reports}
            for r in reports:
                found.update(micros(e.reported_at) for _, e in self.trails.changes.get(r.id, ())
                             if not isinstance(e, ReportRanked))
            moments = self.fact_moments[key] = sorted(found)
        return moments

    def _context(self, key: FactKey) -> _Context:
        context = self._contexts.get(key)
        if context is None:
            entry, attribute = key
            reports = (self.state.fact_reports(entry, attribute)
                       if entry in self.state.entries else [])
            cited = {r.source for r in reports}  # and every origin cited along the way
            for r in reports:
                cited.update(self.trails.vias(r))
            if self._today is None:
                self._today = source_info(self.sources)
            sources = {k: v for k, v in self._today.items() if k in cited}
            context = self._contexts[key] = _Context(reports, sources)
        return context


def micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


def instant(at: int) -> datetime:
    return _EPOCH + at * _MICROSECOND


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
NEVER = micros(datetime.min.replace(tzinfo=UTC))
