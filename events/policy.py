"""The best-known policy (DESIGN.md §1): from one fact's reports, the value, how sure, and why.

Pure and deterministic. Weights are kept in integer millionths so sums and thresholds are
exact; every weight and threshold is a named constant here, and ``POLICY_VERSION`` changes
whenever one of them, or a rule, does (the projection is rebuilt then).

Version 2: a count report with a ``low`` and neither ``best`` nor ``high`` ("more than 200")
is open above (it supports any best at or above its low, and makes the fact's ``high_open``);
a relayed report weighs with the lower reliability of its source and its origin.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from events.reducer import ReportState, ReportStatus
from events.value_groups import agrees, group_key, group_reports, matches, own_reports, span
from events.values import Count, Flag, Place, TimeSpan, Value
from events.vocabulary import Rank, Reliability, Stance

POLICY_VERSION = 2

SCALE = 1000  # both factors are in thousandths, so a weight is in millionths
RELIABILITY_WEIGHT = {Reliability.A: 1000, Reliability.B: 800, Reliability.C: 600,
                      Reliability.D: 400, Reliability.E: 200, Reliability.F: 500}
UNGRADED = Reliability.F
STANCE_WEIGHT = {Stance.CONFIRMED: 1000, Stance.CLAIMED: 700, Stance.UNCONFIRMED: 400}
DENIAL_WEIGHT = 700  # a denial takes reliability × 0.7 from the value it denies
RANGE_MIN_WEIGHT = 200 * SCALE  # reports below 0.2 do not widen low/high
DISPUTE_FRACTION = (1, 4)  # a rival at a quarter of the winner's weight makes a dispute
CONFIRMING_GRADES = frozenset({Reliability.A, Reliability.B})
CORROBORATING_ORIGINS = 2


class FactStatus(Enum):
    PREFERRED = "PREFERRED"
    CONFIRMED = "CONFIRMED"
    CORROBORATED = "CORROBORATED"
    SINGLE_SOURCE = "SINGLE_SOURCE"
    CONTESTED = "CONTESTED"


class ReportRole(Enum):
    SUPPORTS = "SUPPORTS"
    CONTRADICTS = "CONTRADICTS"
    SUPERSEDED = "SUPERSEDED"
    RETRACTED = "RETRACTED"
    DEPRECATED = "DEPRECATED"


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What the policy needs of a source: its grade, and its name for the explanation."""

    id: str
    name: str
    reliability: Reliability | None = None


@dataclass(frozen=True, slots=True)
class JudgedReport:
    report: str
    weight: int  # millionths
    role: ReportRole


@dataclass(frozen=True, slots=True)
class Alternative:
    value: Value
    weight: int  # millionths, after origin de-duplication and denials
    reports: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Fact:
    entry: str
    attribute: str
    value: Value
    low: int | None
    high: int | None
    high_open: bool  # counts: a report of weight ≥ 0.2 is open above ("5–200+")
    disputed: bool
    status: FactStatus
    alternatives: tuple[Alternative, ...]
    reports: tuple[JudgedReport, ...]
    explanation: str


def fact_document(fact: Fact) -> dict[str, object]:
    """The JSON form the read model stores and every read (present or as-of) serves."""
    return {
        "entry": fact.entry, "attribute": fact.attribute, "value": fact.value.to_data(),
        "low": fact.low, "high": fact.high, "highOpen": fact.high_open,
        "disputed": fact.disputed,
        "status": fact.status.value, "explanation": fact.explanation,
        "alternatives": [{"value": a.value.to_data(), "weight": as_float(a.weight),
                          "reports": list(a.reports)} for a in fact.alternatives],
        "reports": [{"report": j.report, "weight": as_float(j.weight), "role": j.role.value}
                    for j in fact.reports],
    }


def occurred_start(fact: Fact | None) -> datetime | None:
    """Where an entry sorts: the start of its best-known ``occurred`` span."""
    if fact is None or not isinstance(fact.value, TimeSpan):
        return None
    return span(fact.value)[0]


def as_float(weight: int) -> float:
    return round(weight / (SCALE * SCALE), 6)


def resolve(entry: str, attribute: str, reports: Sequence[ReportState],
            sources: Mapping[str, SourceInfo]) -> Fact | None:
    """The fact one attribute of one entry amounts to; None when no live report remains."""
    judge = _Judge(sorted(reports, key=lambda r: r.reported.position), sources)
    if not judge.live:
        return None
    if isinstance(judge.live[0].value, Count):
        return judge.counts(entry, attribute)
    return judge.groups(entry, attribute)


class _Judge:
    def __init__(self, reports: list[ReportState], sources: Mapping[str, SourceInfo]) -> None:
        self.reports = reports
        self.sources = sources
        self.roles: dict[str, ReportRole] = {}
        self.weights = {r.id: 0 for r in reports}
        newest_by_source: dict[str, ReportState] = {}
        for report in reports:
            if report.status is ReportStatus.RETRACTED:
                self.roles[report.id] = ReportRole.RETRACTED
                continue
            current = newest_by_source.get(report.source)
            if current is None or _newer(report, current):
                if current is not None:
                    self.roles[current.id] = ReportRole.SUPERSEDED
                newest_by_source[report.source] = report
            else:
                self.roles[report.id] = ReportRole.SUPERSEDED
        for report in newest_by_source.values():
            if report.rank is Rank.DEPRECATED:
                self.roles[report.id] = ReportRole.DEPRECATED
        self.live = [r for r in reports if r.id not in self.roles]
        for report in self.live:
            self.weights[report.id] = self.weight(report)
        self.supporting = [r for r in self.live if r.stance is not Stance.DENIED]
        self.denials = [r for r in self.live if r.stance is Stance.DENIED]
        preferred = [r for r in self.live if r.rank is Rank.PREFERRED]
        self.preferred = max(preferred, key=lambda r: r.ranked_at or 0) if preferred else None

    def grade(self, source_id: str) -> Reliability:
        source = self.sources.get(source_id)
        return (source.reliability if source else None) or UNGRADED

    def reliability(self, report: ReportState) -> Reliability:
        """The source's grade, or its origin's when that weighs less: a relay is no more
        reliable than what it relays, nor than itself."""
        own = self.grade(report.source)
        if report.via is None or report.via == report.source:
            return own
        origin = self.grade(report.via)
        return origin if RELIABILITY_WEIGHT[origin] < RELIABILITY_WEIGHT[own] else own

    def graded_by_origin(self, report: ReportState) -> bool:
        """Does the report weigh with its origin's grade rather than its source's own?"""
        return self.reliability(report) is not self.grade(report.source)

    def weight(self, report: ReportState) -> int:
        """A report's own weight: reliability × stance (a denial's is reliability × 0.7)."""
        stance = DENIAL_WEIGHT if report.stance is Stance.DENIED else STANCE_WEIGHT[
            report.stance]
        return RELIABILITY_WEIGHT[self.reliability(report)] * stance

    def independent(self, reports: Iterable[ReportState]) -> int:
        """Summed weight counting each origin once, by its heaviest report."""
        heaviest: dict[str, int] = {}
        for report in reports:
            origin = _origin(report)
            heaviest[origin] = max(heaviest.get(origin, 0), self.weights[report.id])
        return sum(heaviest.values())

    def net(self, supporters: Iterable[ReportState], deniers: Iterable[ReportState]) -> int:
        return max(0, self.independent(supporters) - self.independent(deniers))

    def finish(self, entry: str, attribute: str, value: Value, winners: list[ReportState],
               rivals: list[tuple[Value, int, list[ReportState]]], winner_weight: int,
               low: int | None, high: int | None, disputed: bool,
               open_top: ReportState | None = None) -> Fact:
        winner_ids = {r.id for r in winners}
        for report in self.live:
            self.roles[report.id] = (ReportRole.SUPPORTS if report.id in winner_ids
                                     and report.stance is not Stance.DENIED
                                     else ReportRole.CONTRADICTS)
        status = self.status(winners, disputed)
        alternatives = tuple(Alternative(v, w, tuple(r.id for r in rs))
                             for v, w, rs in sorted(rivals, key=lambda a: (-a[1], _first(a[2]))))
        judged = tuple(JudgedReport(r.id, self.weights[r.id], self.roles[r.id])
                       for r in self.reports)
        return Fact(entry=entry, attribute=attribute, value=value, low=low, high=high,
                    high_open=open_top is not None, disputed=disputed, status=status,
                    alternatives=alternatives, reports=judged,
                    explanation=self.explain(value, winners, alternatives, disputed,
                                             open_top))

    def status(self, winners: list[ReportState], disputed: bool) -> FactStatus:
        if self.preferred is not None:
            return FactStatus.PREFERRED
        if disputed:
            return FactStatus.CONTESTED
        supporters = [r for r in winners if r.stance is not Stance.DENIED]
        if any(r.stance is Stance.CONFIRMED and self.reliability(r) in CONFIRMING_GRADES
               for r in supporters):
            return FactStatus.CONFIRMED
        if len({_origin(r) for r in supporters}) >= CORROBORATING_ORIGINS:
            return FactStatus.CORROBORATED
        return FactStatus.SINGLE_SOURCE

    def is_disputed(self, winner_weight: int, rival_weight: int) -> bool:
        numerator, denominator = DISPUTE_FRACTION
        return bool(self.denials) or (
            rival_weight > 0 and rival_weight * denominator >= winner_weight * numerator)

    # -- counts ---------------------------------------------------------------------------

    def counts(self, entry: str, attribute: str) -> Fact:
        pool = self.supporting or self.denials
        by_point: dict[int, list[ReportState]] = {}
        for report in pool:
            by_point.setdefault(_point(report), []).append(report)
        if self.preferred is not None:
            best = _point(self.preferred)
        else:
            weights = {p: self.net(rs, [d for d in self.denials if _point(d) == p])
                       for p, rs in by_point.items()} if self.supporting else {
                p: 0 for p in by_point}
            total = sum(weights.values())
            cumulative = 0
            best = min(by_point)
            for point in sorted(weights):
                cumulative += weights[point]
                if 2 * cumulative >= total:
                    best = point
                    break
        low = high = best
        weighty = [r for r in self.supporting if self.weights[r.id] >= RANGE_MIN_WEIGHT]
        for report in weighty:
            report_low, report_high = _range(report)
            low, high = min(low, report_low), max(high, report_high)
        # The open report that leaves the top open: the highest "more than", then the
        # heaviest, then the earliest.
        open_top = min((r for r in weighty if _open_above(r)), default=None,
                       key=lambda r: (-_point(r), -self.weights[r.id], r.reported.position))
        winners = [r for r in self.supporting if _contains(r, best)]
        excluded = [r for r in self.supporting if r not in winners]
        winner_weight = self.net(winners, [d for d in self.denials if _point(d) == best])
        rivals: list[tuple[Value, int, list[ReportState]]] = []
        for point, group in sorted(by_point.items()):
            outside = [r for r in group if r in excluded]
            if outside:
                rivals.append((Count(best=point), self.net(
                    outside, [d for d in self.denials if _point(d) == point]), outside))
        disputed = self.is_disputed(winner_weight, self.independent(excluded))
        return self.finish(entry, attribute, Count(best=best, low=low, high=high), winners,
                           rivals, winner_weight, low, high, disputed, open_top)

    # -- text, time, place, flag ----------------------------------------------------------

    def groups(self, entry: str, attribute: str) -> Fact:
        pool = self.supporting or self.denials
        groups = group_reports(pool)
        weighed = [(key, members, self.net(members, [d for d in self.denials
                                                     if matches(d, key)]))
                   for key, members in groups]
        if self.preferred is not None:
            key = group_key(self.preferred)
            winners = [r for r in self.supporting if agrees(r, key)]
            winner_key: object = key
            winner_weight = self.net(winners, [d for d in self.denials if matches(d, key)])
            value: Value = self.preferred.value
        else:
            winner_key, winners, winner_weight = max(
                weighed, key=lambda g: (g[2], _latest(own_reports(g[1], g[0])),
                                        -_first(own_reports(g[1], g[0]))))
            value = own_reports(winners, winner_key)[0].value
        winner_ids = {r.id for r in winners}
        rivals = [(own_reports(members, key)[0].value, weight, own_reports(members, key))
                  for key, members, weight in weighed
                  if key != winner_key and not all(r.id in winner_ids
                                                   for r in own_reports(members, key))]
        rival_weight = max((w for _, w, _ in rivals), default=0)
        disputed = self.is_disputed(winner_weight, rival_weight)
        return self.finish(entry, attribute, value, winners, rivals, winner_weight, None, None,
                           disputed)

    # -- the sentence ---------------------------------------------------------------------

    def explain(self, value: Value, winners: list[ReportState],
                alternatives: Sequence[Alternative], disputed: bool,
                open_top: ReportState | None) -> str:
        supporters = [r for r in winners if r.stance is not Stance.DENIED] or self.live
        # For counts, a report that said the best value itself leads before a wider one
        # that only contains it ("more than 2,300" never "says" 11,300).
        best = value.best if isinstance(value, Count) else None
        lead = self.preferred or max(supporters, key=lambda r: (
            best is not None and _point(r) == best, self.weights[r.id], -r.reported.position))
        said_open: set[str] = set()  # the open reports whose "more than" is already said
        if not isinstance(value, Count):
            shown = describe(value)
        elif lead is open_top and _point(lead) == value.best:
            shown = describe(lead.value)  # "more than 200": the lead's own words
            said_open.add(lead.id)
        else:
            shown = str(value.best)
        grade = ("origin's grade" if self.graded_by_origin(lead) else "grade") + \
            f" {self.reliability(lead).value}"
        who = f"{shown} ({self.name(lead)}, {lead.stance.value.lower()}, {grade})"
        if self.preferred is not None:
            reason = (self.preferred.rank_reason or "").rstrip(". ")
            said = f"{who} was preferred by an editor: {reason}"
        elif alternatives:
            rival_reports = [r for r in self.reports if r.id in alternatives[0].reports]
            rival = max(rival_reports, key=lambda r: (self.weights[r.id], -r.reported.position))
            said_open.add(rival.id)
            said = (f"{who} outweighs {describe(rival.value)} ({self.name(rival)}, "
                    f"{rival.stance.value.lower()})")
        elif self.denials:
            denier = max(self.denials, key=lambda r: self.weights[r.id])
            said = f"{who} stands, though {self.name(denier)} denies {describe(denier.value)}"
        elif len(origins := {_origin(r) for r in supporters}) > 1:
            said = f"{who} is reported by {len(origins)} independent origins and " \
                   f"contradicted by none"
        else:
            said = f"{who} is the only account"
        if open_top is not None and open_top.id not in said_open:
            said += f"; {describe(open_top.value)} ({self.name(open_top)}) leaves it open above"
        return said + ("; disputed" if disputed else "")

    def name(self, report: ReportState) -> str:
        source = self.sources.get(report.source)
        name = source.name if source else report.source
        if report.via is not None and report.via != report.source:
            origin = self.sources.get(report.via)
            name += f" citing {origin.name if origin else report.via}"
        return name


def describe(value: Value) -> str:
    """A value as an editor would say it: "more than 200", "2018-02-10", "jet"."""
    if isinstance(value, Count):
        if value.best is not None:
            if value.low is None and value.high is None:
                return str(value.best)
            return f"{value.best} ({value.low if value.low is not None else value.best}–" \
                   f"{value.high if value.high is not None else value.best})"
        if value.low is not None and value.high is not None:
            return f"{value.low}–{value.high}"
        if value.low is not None:
            return f"more than {value.low}"
        return f"at most {value.high}"
    if isinstance(value, TimeSpan):
        return value.start if value.end is None else f"{value.start}–{value.end}"
    if isinstance(value, Place):
        return value.name
    if isinstance(value, Flag):
        return "yes" if value.value else "no"
    return value.value


def _newer(a: ReportState, b: ReportState) -> bool:
    return (a.reported_at, a.reported.position) > (b.reported_at, b.reported.position)


def _origin(report: ReportState) -> str:
    return report.via or report.source


def _first(reports: Sequence[ReportState]) -> int:
    return min(r.reported.position for r in reports)


def _latest(reports: Sequence[ReportState]) -> datetime:
    return max(r.reported_at for r in reports)


def _point(report: ReportState) -> int:
    value = report.value
    assert isinstance(value, Count)
    point = value.best if value.best is not None else (
        value.low if value.low is not None else value.high)
    assert point is not None
    return point


def _open_above(report: ReportState) -> bool:
    """"More than 200": a low and neither best nor high, so every value ≥ low fits it."""
    value = report.value
    assert isinstance(value, Count)
    return value.low is not None and value.best is None and value.high is None


def _range(report: ReportState) -> tuple[int, int]:
    """The report's low and its largest finite bound (an open report's is its low)."""
    value = report.value
    assert isinstance(value, Count)
    point = _point(report)
    return (value.low if value.low is not None else point,
            value.high if value.high is not None else point)


def _contains(report: ReportState, best: int) -> bool:
    """Does the report's range hold ``best``? An open report's range has no top."""
    low, high = _range(report)
    return low <= best and (best <= high or _open_above(report))
