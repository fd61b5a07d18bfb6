"""Properties of the policy over random reports (hypothesis)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from events.policy import ReportRole, resolve
from events.reducer import ReportState, ReportStatus, Stamp
from events.values import Count, Precision, Text, TimeSpan
from events.vocabulary import Rank, Stance
from tests.unit.policy_sources import SOURCES

DAY0 = datetime(2018, 2, 10, tzinfo=UTC)

counts = st.builds(
    lambda a, b, c, shape: Count(**dict(zip(shape, sorted((a, b, c))[:len(shape)],
                                            strict=False))),
    st.integers(0, 400), st.integers(0, 400), st.integers(0, 400),
    st.sampled_from([("best",), ("low",), ("high",), ("low", "high"), ("low", "best", "high")]))
texts = st.sampled_from(["jet", "drone", "Jet", "artillery"]).map(Text)
times = st.sampled_from([TimeSpan("2018-02-10", Precision.DAY),
                         TimeSpan("2018-02-11", Precision.DAY),
                         TimeSpan("2018-02", Precision.MONTH),
                         TimeSpan("2018", Precision.YEAR),
                         TimeSpan("2018-02-09", Precision.DAY, "2018-02-10")])


def reports_of(values: st.SearchStrategy[object]) -> st.SearchStrategy[list[ReportState]]:
    one = st.tuples(values, st.sampled_from(sorted(SOURCES)), st.sampled_from(list(Stance)),
                    st.integers(0, 5), st.sampled_from([None, "pentagon", "mfa"]),
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
