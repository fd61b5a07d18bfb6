"""Report changes: the reports corrected, retracted, ranked or superseded between two
knowledge times, each as it stood just before and just after, with its role in its fact.

``Query.changes`` lists a fact when its value, range, dispute or status moved
(``history_index.changed_facts``) *or* when one of its reports changed, so an auditor sees a
source revising its figure even when the best value does not move.

Read off the versions ``TimelineHistory`` (events/history_index.py) keeps for as-of reads:
report rows and fact documents per position (RECORDED) and fact documents per ``reportedAt``
(REPORTED). Nothing is folded again and no fact is re-resolved here, so each side of a change
is what ``timeline(asOf: …)`` shows just before and just after it. Pure: no I/O, no clock.
It reads them through the history's read-only views (``report_events``, ``fact_versions``,
``report_versions``, …), kept apart so the module that folds stays about folding.

Between ``since`` (excluded) and ``until`` (included), on the chosen clock:

- ``RECORDED``: every ``ReportCorrected``, ``ReportRetracted`` and ``ReportRanked`` recorded
  in the window, one change each, dated by its ``recorded_at``; every report that became
  ``SUPERSEDED`` (the same source's newer report arrived, or a merge brought them onto one
  fact) and every one ``REINSTATED`` (the newer report that superseded it was retracted),
  dated by the event that did it. Before and after are the log just before and just after
  that event.
- ``REPORTED``: every correction and retraction that takes effect in the window (at its
  ``reportedAt``, or at the report's own when that is later), one change per report and
  instant (a retraction and a correction dated the same instant make one ``RETRACTED``
  change); every report superseded by a newer one reported in the window, or reinstated by a
  retraction in it. Ranks are not changes on this clock: like every editorial event they are
  applied as they stand today at every instant (DESIGN.md §1, two time axes), so a rank never
  differs between two REPORTED moments; ask on ``RECORDED`` for when an editor ranked a
  report. Before and after are the report just before (one microsecond) and at that instant.

A report made inside the window is not itself a change (its fact's change shows it), nor is
one that arrives already superseded; its later corrections, retractions and ranks are.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import overload

from events.as_of import Axis
from events.history_index import FactKey, ReportLogEvent, Snapshot, TimelineHistory, changed_facts
from events.policy import ReportRole
from events.reducer import ReportState, TimelineState
from events.rows import FactRow, ReportRow, report_row
from events.vocabulary import ReportRanked, ReportRetracted


class ReportChangeKind(Enum):
    CORRECTED = "CORRECTED"
    RETRACTED = "RETRACTED"
    RANKED = "RANKED"
    SUPERSEDED = "SUPERSEDED"
    REINSTATED = "REINSTATED"  # no longer superseded: the newer report was retracted


@dataclass(frozen=True, slots=True)
class ReportSide:
    """A report as it stood on one side of a change, and how its fact judged it then.
    ``role`` and ``weight`` are None when no live report remained on the fact (the policy
    then judges none, and the fact itself reads as null)."""

    row: ReportRow
    role: ReportRole | None
    weight: float | None


@dataclass(frozen=True, slots=True)
class ReportChange:
    report: str
    entry: str  # the entry it was reported on (a merged entry's reports keep theirs)
    attribute: str
    source: str
    kind: ReportChangeKind
    at: datetime  # recorded_at (RECORDED) or the instant it took effect (REPORTED)
    position: int  # the event that made it (REPORTED: the last taking effect at ``at``)
    before: ReportSide | None  # None: not reported yet at that instant (REPORTED only)
    after: ReportSide
    superseded_by: str | None = None


@dataclass(frozen=True, slots=True)
class FactDiff:
    """A fact in the answer of ``changes``: ``moved`` when its value, range, dispute or status
    differ; listed also, with ``moved`` False, when only its reports changed."""

    entry: str
    attribute: str
    before: FactRow | None
    after: FactRow | None
    moved: bool
    reports: tuple[ReportChange, ...] = ()


def report_changes(history: TimelineHistory, since: datetime, until: datetime,
                   axis: Axis) -> list[ReportChange]:
    """Every report change in (since, until] on ``axis``, by time, then log position."""
    if until <= since:
        return []
    found = (_recorded(history, since, until) if axis is Axis.RECORDED
             else _reported(history, since, until))
    return sorted(found, key=lambda c: (c.at, c.position, c.report))


def fact_changes(before: Snapshot, after: Snapshot,
                 reports: Iterable[ReportChange]) -> list[FactDiff]:
    """The facts that moved between two snapshots and those whose reports changed, in
    (entry, attribute) order, each with its report changes. A report counts for the fact its
    entry lives on in ``after`` (a merged entry's reports count for the survivor)."""
    by_fact: dict[FactKey, list[ReportChange]] = {}
    for change in reports:
        key = (after.survivors.get(change.entry, change.entry), change.attribute)
        by_fact.setdefault(key, []).append(change)
    moved = {(entry, attribute): (was, now)
             for entry, attribute, was, now in changed_facts(before, after)}
    unmoved = bool(by_fact.keys() - moved.keys())  # those need both snapshots' rows
    old, new = (_facts(before), _facts(after)) if unmoved else ({}, {})
    return [FactDiff(key[0], key[1], *moved.get(key, (old.get(key), new.get(key))),
                     moved=key in moved, reports=tuple(by_fact.get(key, ())))
            for key in sorted(moved.keys() | by_fact.keys())]


# -- the RECORDED clock -----------------------------------------------------------------------

def _recorded(history: TimelineHistory, since: datetime, until: datetime) -> list[ReportChange]:
    low, high = history.position_at(since), history.position_at(until)
    if high <= low:
        return []
    look = _RecordedLook(history)
    found = []
    events = history.report_events
    for position, event in events[bisect_right(events, low, key=lambda e: e[0]):]:
        if position > high:
            break
        rows = history.report_versions(event.report)
        after = rows.at(position)
        assert after is not None  # a report exists from its FactReported on
        kind = (ReportChangeKind.RANKED if isinstance(event, ReportRanked)
                else ReportChangeKind.RETRACTED if isinstance(event, ReportRetracted)
                else ReportChangeKind.CORRECTED)
        found.append(ReportChange(
            report=after.id, entry=after.entry, attribute=after.attribute, source=after.source,
            kind=kind, at=look.recorded_at(position), position=position,
            before=look.side(rows.at(position - 1), position - 1),
            after=look.side(after, position)))
    for versions in history.fact_versions.values():
        for index in range(bisect_right(versions.keys, low), len(versions.keys)):
            position = versions.keys[index]
            if position > high:
                break
            roles = look.judged.of(versions.values[index])
            prior = look.judged.of(versions.values[index - 1]) if index else {}
            for report_id, (role, _) in roles.items():
                turn = _turn(prior[report_id][0] if report_id in prior
                             else look.role(report_id, position - 1), role)  # merged, or new
                if turn is None:
                    continue
                rows = history.report_versions(report_id)
                row = rows.at(position)
                assert row is not None
                found.append(ReportChange(
                    report=report_id, entry=row.entry, attribute=row.attribute,
                    source=row.source, kind=turn, at=look.recorded_at(position),
                    position=position, before=look.side(rows.at(position - 1), position - 1),
                    after=look.side(row, position),
                    superseded_by=_superseder(turn, roles, row.source, history.state)))
    return found


class _RecordedLook:
    """A report and its fact at a position, from the versions the history keeps."""

    def __init__(self, history: TimelineHistory) -> None:
        self.history = history
        self.judged = _Judgements()
        self._survivors: dict[int, dict[str, str]] = {}

    def recorded_at(self, position: int) -> datetime:
        recorded = self.history.recorded_clock  # (recorded_at, position), in position order
        return recorded[bisect_left(recorded, position, key=lambda r: r[1])][0]

    def fact(self, entry: str, attribute: str, position: int) -> FactRow | None:
        if self.history.has_merges:
            if position not in self._survivors:
                self._survivors[position] = self.history.survivors_at(position)
            entry = self._survivors[position].get(entry, entry)
        versions = self.history.fact_versions.get((entry, attribute))
        return None if versions is None else versions.at(position)

    def role(self, report_id: str, position: int) -> str | None:
        report = self.history.state.reports[report_id]
        fact = self.fact(report.entry, report.attribute, position)
        judged = self.judged.of(fact).get(report_id)
        return None if judged is None else judged[0]

    @overload
    def side(self, row: ReportRow, position: int) -> ReportSide: ...
    @overload
    def side(self, row: ReportRow | None, position: int) -> ReportSide | None: ...

    def side(self, row: ReportRow | None, position: int) -> ReportSide | None:
        if row is None:
            return None
        return _side(row, self.judged.of(self.fact(row.entry, row.attribute, position)))


# -- the REPORTED clock -----------------------------------------------------------------------

def _reported(history: TimelineHistory, since: datetime, until: datetime) -> list[ReportChange]:
    look = _ReportedLook(history)
    state = history.state
    at_instant: dict[tuple[str, datetime], list[tuple[int, ReportLogEvent]]] = {}
    for report_id, log in history.report_logs.items():
        reported_at = state.reports[report_id].reported_at
        for position, event in log[1:]:
            moment = max(event.reported_at, reported_at)  # as the as-of read applies it
            if since < moment <= until:
                at_instant.setdefault((report_id, moment), []).append((position, event))
    found = []
    for (report_id, moment), events in at_instant.items():
        report = state.reports[report_id]
        after = look.side(report, moment)
        assert after is not None  # reported by ``moment``: the window starts no earlier
        retracted = any(isinstance(e, ReportRetracted) for _, e in events)
        found.append(ReportChange(
            report=report_id, entry=report.entry, attribute=report.attribute,
            source=report.source,
            kind=ReportChangeKind.RETRACTED if retracted else ReportChangeKind.CORRECTED,
            at=moment, position=max(p for p, _ in events),
            before=look.side(report, moment - _TICK), after=after))
    low, high = _micros(since), _micros(until)
    for versions in look.facts.values():
        for index in range(bisect_right(versions.keys, low), len(versions.keys)):
            if versions.keys[index] > high:
                break
            roles = look.judged.of(versions.values[index])
            prior = look.judged.of(versions.values[index - 1]) if index else {}
            for report_id, (role, _) in roles.items():
                kind = _turn(prior[report_id][0] if report_id in prior else None, role)
                if kind is None:
                    continue
                report = state.reports[report_id]
                moment = _instant(versions.keys[index])
                after = look.side(report, moment)
                assert after is not None
                found.append(ReportChange(
                    report=report_id, entry=report.entry, attribute=report.attribute,
                    source=report.source, kind=kind, at=moment,
                    position=look.caused_at(roles, report.source, moment),
                    before=look.side(report, moment - _TICK), after=after,
                    superseded_by=_superseder(kind, roles, report.source, state)))
    return found


class _ReportedLook:
    """A report and its fact at an instant on the REPORTED clock, ranked as today."""

    def __init__(self, history: TimelineHistory) -> None:
        self.history = history
        self.facts = history.reported_fact_versions()
        self.judged = _Judgements()

    def side(self, report: ReportState, moment: datetime) -> ReportSide | None:
        past = self.history.report_as_reported(report, moment)
        if past is None:
            return None
        versions = self.facts.get((self.history.state.survivor_of(report.entry),
                                   report.attribute))
        fact = None if versions is None else versions.at(_micros(moment))
        return _side(report_row(self.history.slug, past), self.judged.of(fact))

    def caused_at(self, roles: Judged, source: str, moment: datetime) -> int:
        """The position of the event that took ``source``'s reports on a fact to a new
        supersession at ``moment``: a newer report made, or one retracted, then."""
        state = self.history.state
        return max((position for report_id in roles
                    if (report := state.reports[report_id]).source == source
                    for position, event in self.history.report_logs[report_id]
                    if max(event.reported_at, report.reported_at) == moment), default=0)


# -- shared -----------------------------------------------------------------------------------

_SUPERSEDED = ReportRole.SUPERSEDED.value
_GONE = (ReportRole.SUPERSEDED.value, ReportRole.RETRACTED.value)
Judged = dict[str, tuple[str, float]]  # report → (role, weight) in one fact version


class _Judgements:
    """Each fact version's roles by report, read once per version."""

    def __init__(self) -> None:
        self._seen: dict[int, tuple[FactRow, Judged]] = {}  # keeps the row: ids stay unique

    def of(self, fact: FactRow | None) -> Judged:
        if fact is None:
            return {}
        known = self._seen.get(id(fact))
        if known is None:
            known = (fact, {j["report"]: (j["role"], j["weight"])
                            for j in fact.document["reports"]})
            self._seen[id(fact)] = known
        return known[1]


def _side(row: ReportRow, judged: Judged) -> ReportSide:
    role, weight = judged.get(row.id, (None, None))
    return ReportSide(row, None if role is None else ReportRole(role), weight)


def _turn(was: str | None, role: str) -> ReportChangeKind | None:
    """A report's supersession changing between two versions of its fact (None for a report
    that was not on it before: it is new, and a new report is no report change)."""
    if was is None or (was == _SUPERSEDED) == (role == _SUPERSEDED):
        return None
    return ReportChangeKind.SUPERSEDED if role == _SUPERSEDED else ReportChangeKind.REINSTATED


def _superseder(kind: ReportChangeKind, roles: Judged, source: str,
                state: TimelineState) -> str | None:
    """SUPERSEDED: the same source's report that now stands on the fact, its newest
    unretracted one."""
    if kind is not ReportChangeKind.SUPERSEDED:
        return None
    return next((r for r, (role, _) in roles.items()
                 if role not in _GONE and state.reports[r].source == source), None)


def _facts(snapshot: Snapshot) -> dict[FactKey, FactRow]:
    return {(f.entry, f.attribute): f for rows in snapshot.facts.values() for f in rows}


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TICK = timedelta(microseconds=1)  # the REPORTED clock's grain: "just before" an instant


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _TICK


def _instant(micros: int) -> datetime:
    return _EPOCH + micros * _TICK


__all__ = ["FactDiff", "ReportChange", "ReportChangeKind", "ReportSide", "fact_changes",
           "report_changes"]
