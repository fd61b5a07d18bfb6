"""Properties of the policy over random reports (hypothesis)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from events.policy import (
    DENIAL_WEIGHT,
    RANGE_MIN_WEIGHT,
    RELIABILITY_WEIGHT,
    STANCE_WEIGHT,
    UNGRADED,
    Fact,
    ReportRole,
    resolve,
)
from events.reducer import ReportState, ReportStatus, Stamp
from events.values import Count, Precision, Text, TimeSpan
from events.vocabulary import Rank, Reliability, Stance
from tests.unit.policy_sources import SOURCES

DAY0 = datetime(2018, 2, 10, tzinfo=UTC)

counts = st.builds(
    lambda a, b, c, shape: Count(**dict(zip(shape, sorted((a, b, c))[:len(shape)],
                                            strict=False))),
    st.integers(0, 400), st.integers(0, 400), st.integers(0, 400),
    st.sampled_from([("best",), ("low",), ("high",), ("low", "high"), ("low", "best"),
                     ("best", "high"), ("low", "best", "high")]))
texts = st.sampled_from(["jet", "drone", "Jet", "artillery"]).map(Text)
times = st.sampled_from([TimeSpan("2018-02-10", Precision.DAY),
                         TimeSpan("2018-02-11", Precision.DAY),
                         TimeSpan("2018-02", Precision.MONTH),
                         TimeSpan("2018", Precision.YEAR),
                         TimeSpan("2018-02-09", Precision.DAY, "2018-02-10")])


def reports_of(values: st.SearchStrategy[object]) -> st.SearchStrategy[list[ReportState]]:
    one = st.tuples(values, st.sampled_from(sorted(SOURCES)), st.sampled_from(list(Stance)),
                    st.integers(0, 5),
                    st.sampled_from([None, "pentagon", "mfa", "mayor", "ungraded", "unknown"]),
                    st.sampled_from(list(ReportStatus)), st.sampled_from(list(Rank)))

    def build(rows: list[tuple[object, ...]]) -> list[ReportState]:
        built = []
        for position, (value, source, stance, day, via, status, rank) in enumerate(rows, 1):
            built.append(ReportState(
                id=f"r{position}", entry="e", attribute="a", value=value,  # type: ignore[arg-type]
                source=source, stance=stance, reported_at=DAY0 + timedelta(days=day),  # type: ignore[arg-type]
                reported=Stamp(position, DAY0), via=via, status=status, rank=rank,  # type: ignore[arg-type]
                rank_reason="editor", ranked_at=position if rank is Rank.PREFERRED else None))
        return built

    return st.lists(one, min_size=1, max_size=8).map(build)


any_reports = st.one_of(reports_of(counts), reports_of(texts), reports_of(times))


@settings(max_examples=300, deadline=None)
@given(any_reports, st.randoms())
def test_the_result_does_not_depend_on_input_order(reports: list[ReportState],
                                                   shuffler: random.Random) -> None:
    first = resolve("e", "a", reports, SOURCES)
    shuffled = list(reports)
    shuffler.shuffle(shuffled)
    assert resolve("e", "a", shuffled, SOURCES) == first
    assert resolve("e", "a", reports, SOURCES) == first  # and is deterministic


@settings(max_examples=300, deadline=None)
@given(any_reports)
def test_a_retracted_report_never_supports(reports: list[ReportState]) -> None:
    fact = resolve("e", "a", reports, SOURCES)
    if fact is None:
        # No live report: each is retracted, deprecated or superseded by its source's newer.
        assert all(r.status is ReportStatus.RETRACTED or r.rank is Rank.DEPRECATED
                   or any(o.source == r.source and o is not r for o in reports)
                   for r in reports)
        return
    retracted = {r.id for r in reports if r.status is ReportStatus.RETRACTED}
    for judged in fact.reports:
        if judged.report in retracted:
            assert judged.role is ReportRole.RETRACTED and judged.weight == 0
    assert len(fact.reports) == len(reports)


@settings(max_examples=300, deadline=None)
@given(reports_of(counts))
def test_low_le_best_le_high(reports: list[ReportState]) -> None:
    fact = resolve("e", "a", reports, SOURCES)
    if fact is None:
        return
    value = fact.value
    assert isinstance(value, Count) and value.best is not None
    assert fact.low is not None and fact.high is not None
    assert fact.low <= value.best <= fact.high
    assert (value.low, value.high) == (fact.low, fact.high)


# -- v2: open above, and relays ----------------------------------------------------------------

def live_supporters(fact: Fact, reports: list[ReportState]) -> list[tuple[ReportState, int]]:
    """The live, non-denying reports with their own weights."""
    judged = {j.report: j for j in fact.reports}
    return [(r, judged[r.id].weight) for r in reports
            if judged[r.id].role in (ReportRole.SUPPORTS, ReportRole.CONTRADICTS)
            and r.stance is not Stance.DENIED]


def open_above(report: ReportState) -> bool:
    value = report.value
    return isinstance(value, Count) and value.low is not None and value.best is None \
        and value.high is None


@settings(max_examples=300, deadline=None)
@given(reports_of(counts))
def test_an_open_report_never_contradicts_a_best_at_or_above_its_low(
        reports: list[ReportState]) -> None:
    fact = resolve("e", "a", reports, SOURCES)
    if fact is None:
        return
    best = fact.value.best  # type: ignore[union-attr]
    roles = {j.report: j.role for j in fact.reports}
    for report, _ in live_supporters(fact, reports):
        if open_above(report):
            low = report.value.low  # type: ignore[union-attr]
            assert roles[report.id] is (ReportRole.SUPPORTS if best >= low
                                        else ReportRole.CONTRADICTS)


@settings(max_examples=300, deadline=None)
@given(reports_of(counts))
def test_high_open_iff_a_weighty_report_is_open_above(reports: list[ReportState]) -> None:
    fact = resolve("e", "a", reports, SOURCES)
    if fact is None:
        return
    weighty = [r for r, weight in live_supporters(fact, reports) if weight >= RANGE_MIN_WEIGHT]
    assert fact.high_open == any(open_above(r) for r in weighty)
    # high is the largest finite bound among them (an open report's low is one), or best.
    bounds = [b for r in weighty for b in (r.value.best, r.value.low, r.value.high)  # type: ignore[union-attr]
              if b is not None]
    assert fact.high == max([fact.value.best, *bounds])  # type: ignore[union-attr]


@settings(max_examples=300, deadline=None)
@given(any_reports)
def test_a_report_weighs_with_the_lower_reliability_of_its_source_and_origin(
        reports: list[ReportState]) -> None:
    fact = resolve("e", "a", reports, SOURCES)
    if fact is None:
        return

    def factor(source_id: str | None) -> int:
        source = SOURCES.get(source_id) if source_id is not None else None
        grade: Reliability = (source.reliability if source else None) or UNGRADED
        return RELIABILITY_WEIGHT[grade]

    judged = {j.report: j for j in fact.reports}
    for report in reports:
        if judged[report.id].role not in (ReportRole.SUPPORTS, ReportRole.CONTRADICTS):
            assert judged[report.id].weight == 0
            continue
        reliability = factor(report.source)
        if report.via is not None:
            reliability = min(reliability, factor(report.via))
        stance = DENIAL_WEIGHT if report.stance is Stance.DENIED else STANCE_WEIGHT[
            report.stance]
        assert judged[report.id].weight == reliability * stance
