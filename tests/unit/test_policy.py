"""Every rule of the best-known policy (DESIGN.md §1), each with a worked example."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from events.policy import (
    Fact,
    FactStatus,
    ReportRole,
    as_float,
    describe,
    resolve,
)
from events.reducer import ReportState, ReportStatus, Stamp
from events.values import Count, Precision, Text, TimeSpan, Value
from events.vocabulary import Rank, Stance
from tests.unit.policy_sources import SOURCES

DAY0 = datetime(2018, 2, 10, tzinfo=UTC)


class Reports:
    def __init__(self) -> None:
        self.items: list[ReportState] = []

    def add(self, source: str, value: Value, stance: Stance = Stance.CLAIMED, *,
            day: int = 3, via: str | None = None, status: ReportStatus = ReportStatus.ACTIVE,
            rank: Rank = Rank.NORMAL, ranked_at: int | None = None,
            reason: str | None = None) -> ReportState:
        position = len(self.items) + 1
        report = ReportState(id=f"r{position}", entry="e", attribute="a", value=value,
                             source=source, stance=stance,
                             reported_at=DAY0 + timedelta(days=day),
                             reported=Stamp(position, DAY0 + timedelta(days=day)), via=via,
                             status=status, rank=rank, rank_reason=reason,
                             ranked_at=ranked_at)
        self.items.append(report)
        return report

    def fact(self) -> Fact:
        fact = resolve("e", "a", self.items, SOURCES)
        assert fact is not None
        return fact


def roles(fact: Fact) -> dict[str, ReportRole]:
    return {j.report: j.role for j in fact.reports}


def weights(fact: Fact) -> dict[str, float]:
    return {j.report: as_float(j.weight) for j in fact.reports}


def day(d: str, precision: Precision = Precision.DAY) -> TimeSpan:
    return TimeSpan(d, precision)


# -- the headline example --------------------------------------------------------------------

def test_five_dead_outweighs_more_than_two_hundred_and_is_disputed() -> None:
    r = Reports()
    r.add("mfa", Count(best=5), Stance.CONFIRMED)
    r.add("outlets", Count(low=200), Stance.CLAIMED)
    fact = r.fact()
    # weights: C confirmed 0.6 × 1.0 = 0.6; F claimed 0.5 × 0.7 = 0.35. Total 0.95, half 0.475:
    # the point values sorted are 5 (0.6) then 200 (0.35); 5 already reaches half.
    assert weights(fact) == {"r1": 0.6, "r2": 0.35}
    assert fact.value == Count(best=5, low=5, high=200)
    # "more than 200" is open above: its low is a bound for high, and it opens the top.
    assert (fact.low, fact.high, fact.high_open) == (5, 200, True)
    # winner 0.6 (the range 5..5 contains 5); "more than 200" (200 and up) excludes 5 and
    # weighs 0.35, which is at least a quarter of 0.6: disputed.
    assert fact.disputed and fact.status is FactStatus.CONTESTED
    assert roles(fact) == {"r1": ReportRole.SUPPORTS, "r2": ReportRole.CONTRADICTS}
    assert fact.explanation == ("5 (Russian Foreign Ministry, confirmed, grade C) outweighs "
                                "more than 200 (several news outlets, claimed); disputed")
    assert [(a.value, as_float(a.weight)) for a in fact.alternatives] == [
        (Count(best=200), 0.35)]


# -- step 1: retraction, correction, supersession ---------------------------------------------

def test_a_retracted_report_is_dropped_and_never_supports() -> None:
    r = Reports()
    r.add("mfa", Count(best=5), Stance.CONFIRMED)
    r.add("outlets", Count(low=200), status=ReportStatus.RETRACTED)
    fact = r.fact()
    assert roles(fact)["r2"] is ReportRole.RETRACTED and weights(fact)["r2"] == 0
    assert fact.value == Count(best=5, low=5, high=5) and not fact.disputed
    assert not fact.high_open  # a retracted "more than" opens nothing


def test_a_fact_with_only_retracted_reports_does_not_exist() -> None:
    r = Reports()
    r.add("mfa", Count(best=5), status=ReportStatus.RETRACTED)
    assert resolve("e", "a", r.items, SOURCES) is None


def test_a_correction_counts_with_its_new_value_and_stance() -> None:
    r = Reports()
    corrected = r.add("outlets", Count(low=200))
    corrected.value, corrected.stance = Count(best=215), Stance.CONFIRMED
    corrected.status = ReportStatus.CORRECTED
    fact = r.fact()
    assert fact.value == Count(best=215, low=215, high=215)
    assert weights(fact)["r1"] == 0.5  # F confirmed


def test_a_sources_newer_report_supersedes_its_older_one() -> None:
    r = Reports()
    r.add("mfa", Count(best=5), Stance.CONFIRMED, day=5)
    r.add("mfa", Count(best=9), Stance.CONFIRMED, day=8)
    r.add("outlets", Count(best=5), day=6)
    fact = r.fact()
    assert roles(fact) == {"r1": ReportRole.SUPERSEDED, "r2": ReportRole.SUPPORTS,
                           "r3": ReportRole.CONTRADICTS}
    assert fact.value.best == 9  # type: ignore[union-attr]


def test_newer_means_later_reported_at_even_when_recorded_earlier() -> None:
    r = Reports()
    r.add("mfa", Count(best=9), day=8)  # recorded first, reported later
    r.add("mfa", Count(best=5), day=5)  # back-dated: recorded later, reported earlier
    assert roles(r.fact()) == {"r1": ReportRole.SUPPORTS, "r2": ReportRole.SUPERSEDED}


# -- step 2: ranks -----------------------------------------------------------------------------

def test_a_preferred_report_wins_outright_and_the_dispute_stays_visible() -> None:
    r = Reports()
    r.add("wire", Count(best=200), Stance.CONFIRMED)
    r.add("social", Count(best=2), Stance.UNCONFIRMED, rank=Rank.PREFERRED, ranked_at=9,
          reason="named casualties")
    fact = r.fact()
    assert fact.value.best == 2  # type: ignore[union-attr]
    assert fact.status is FactStatus.PREFERRED and fact.disputed
    assert roles(fact) == {"r1": ReportRole.CONTRADICTS, "r2": ReportRole.SUPPORTS}
    assert fact.explanation.startswith("2 (Russian social media, unconfirmed, grade E) was "
                                       "preferred by an editor: named casualties")


def test_the_most_recently_ranked_preferred_report_wins() -> None:
    r = Reports()
    r.add("wire", Text("jet"), rank=Rank.PREFERRED, ranked_at=20, reason="later")
    r.add("cnn", Text("drone"), rank=Rank.PREFERRED, ranked_at=10, reason="earlier")
    assert r.fact().value == Text("jet")


def test_a_deprecated_report_is_ignored() -> None:
    r = Reports()
    r.add("wire", Text("jet"), rank=Rank.DEPRECATED)
    r.add("social", Text("drone"))
    fact = r.fact()
    assert fact.value == Text("drone") and not fact.disputed
    assert roles(fact)["r1"] is ReportRole.DEPRECATED and weights(fact)["r1"] == 0


# -- step 3: weights, denials, independence ----------------------------------------------------

def test_weights_are_reliability_times_stance_and_ungraded_counts_as_f() -> None:
    r = Reports()
    r.add("wire", Text("a"), Stance.CONFIRMED)
    r.add("pentagon", Text("a"), Stance.CLAIMED)
    r.add("social", Text("a"), Stance.UNCONFIRMED)
    r.add("ungraded", Text("a"), Stance.CONFIRMED)
    assert weights(r.fact()) == {"r1": 1.0, "r2": 0.56, "r3": 0.08, "r4": 0.5}


def test_a_denial_weighs_against_the_value_it_denies_and_disputes_the_fact() -> None:
    r = Reports()
    r.add("cnn", Text("jet"), Stance.CLAIMED)  # 0.56
    r.add("bi", Text("jet"), Stance.CLAIMED)  # 0.56 → group "jet" 1.12
    r.add("social", Text("drone"), Stance.CONFIRMED)  # 0.2
    r.add("wire", Text("jet"), Stance.DENIED)  # takes 1.0 × 0.7 from "jet": 1.12 − 0.7 = 0.42
    fact = r.fact()
    assert fact.value == Text("jet")
    assert fact.disputed and fact.status is FactStatus.CONTESTED
    assert roles(fact)["r4"] is ReportRole.CONTRADICTS and weights(fact)["r4"] == 0.7
    r.add("pentagon", Text("jet"), Stance.DENIED)  # 0.56 more: "jet" floors at 0
    assert r.fact().value == Text("drone")


def test_reports_citing_one_origin_count_once() -> None:
    r = Reports()
    r.add("bi", Text("jet"), Stance.CONFIRMED, via="pentagon", day=3)  # 0.8, origin pentagon
    r.add("cnn", Text("jet"), Stance.CONFIRMED, via="pentagon", day=4)  # 0.8, same origin
    r.add("wire", Text("drone"), Stance.CONFIRMED, day=1)  # 1.0
    fact = r.fact()
    # "jet" counts once at 0.8 (not 1.6), so "drone" at 1.0 wins.
    assert fact.value == Text("drone")
    assert fact.explanation == ("drone (A wire service, confirmed, grade A) outweighs jet "
                                "(Business Insider citing Pentagon, confirmed); disputed")


# -- step 4: counts ----------------------------------------------------------------------------

def test_the_weighted_median_takes_the_lower_value_on_a_tie() -> None:
    r = Reports()
    r.add("cnn", Count(best=10), Stance.CONFIRMED)  # 0.8
    r.add("bi", Count(best=20), Stance.CONFIRMED)  # 0.8
    # cumulative 0.8 of 1.6 reaches exactly half at 10: the conservative, lower value.
    assert r.fact().value.best == 10  # type: ignore[union-attr]


def test_low_and_high_come_from_reports_of_weight_at_least_a_fifth() -> None:
    r = Reports()
    r.add("wire", Count(best=5, low=4, high=8), Stance.CONFIRMED)  # 1.0
    r.add("social", Count(low=100, high=300), Stance.UNCONFIRMED)  # 0.08: too light
    r.add("kremlin", Count(best=3, high=6), Stance.CLAIMED)  # 0.42
    fact = r.fact()
    assert fact.value == Count(best=5, low=3, high=8)
    assert roles(fact)["r2"] is ReportRole.CONTRADICTS
    assert not fact.disputed  # 0.08 < 1.42 / 4


def test_a_count_point_is_best_else_low_else_high() -> None:
    r = Reports()
    r.add("wire", Count(high=40), Stance.CONFIRMED)
    fact = r.fact()
    assert fact.value == Count(best=40, low=40, high=40)
    assert not fact.high_open  # "at most 40" is closed above


# -- step 4 (v2): "more than" is open above -----------------------------------------------------

def test_more_than_two_hundred_alone_is_two_hundred_open_above() -> None:
    r = Reports()
    r.add("outlets", Count(low=200))  # F claimed: 0.35
    fact = r.fact()
    assert fact.value == Count(best=200, low=200, high=200)
    assert (fact.low, fact.high, fact.high_open) == (200, 200, True)
    assert roles(fact) == {"r1": ReportRole.SUPPORTS}
    assert fact.status is FactStatus.SINGLE_SOURCE and not fact.disputed
    assert fact.explanation == ("more than 200 (several news outlets, claimed, grade F) is "
                                "the only account")


def test_derna_more_than_supports_the_confirmed_toll_above_it() -> None:
    r = Reports()
    r.add("lrc", Count(low=2300), day=2)  # "more than 2,300": C claimed 0.42
    r.add("ocha", Count(best=3958), Stance.CONFIRMED, day=10)  # A confirmed 1.0
    # The mayor's "18,000 to 20,000", relayed: the lower of C and D, D, × claimed = 0.28.
    r.add("aljazeera", Count(low=18000, high=20000), via="mayor", day=4)
    fact = r.fact()
    assert weights(fact) == {"r1": 0.42, "r2": 1.0, "r3": 0.28}
    # Points 2300 (0.42), 3958 (1.0), 18000 (0.28); total 1.7, half 0.85: best 3958.
    # low: the smallest low, 2300; high: the largest finite bound, the mayor's 20000; and
    # "more than 2,300" leaves it open above.
    assert fact.value == Count(best=3958, low=2300, high=20000)
    assert (fact.low, fact.high, fact.high_open) == (2300, 20000, True)
    # 3958 is more than 2,300: the Red Crescent supports it (in v1 it contradicted it).
    assert roles(fact) == {"r1": ReportRole.SUPPORTS, "r2": ReportRole.SUPPORTS,
                           "r3": ReportRole.CONTRADICTS}
    # Winners 0.42 + 1.0 = 1.42; the mayor's 0.28 is less than a quarter of it.
    assert not fact.disputed and fact.status is FactStatus.CONFIRMED
    assert [(a.value, as_float(a.weight)) for a in fact.alternatives] == [
        (Count(best=18000), 0.28)]
    assert fact.explanation == (
        "3958 (UN OCHA, confirmed, grade A) outweighs 18000–20000 (Al Jazeera citing the "
        "mayor of Derna, claimed); more than 2300 (Libyan Red Crescent) leaves it open above")


def test_derna_more_than_nine_thousand_missing_keeps_the_top_open() -> None:
    r = Reports()
    r.add("ocha", Count(low=9000), Stance.CONFIRMED)  # "more than 9,000 missing": 1.0
    r.add("lrc", Count(best=10100), day=4)  # 0.42
    fact = r.fact()
    # Points 9000 (1.0), 10100 (0.42): best 9000. 10100 is above it, but a point, not a
    # range: it contradicts 9000 and, at 0.42 ≥ 1.0 / 4, disputes it. high is the largest
    # finite bound, 10100; the top stays open.
    assert fact.value == Count(best=9000, low=9000, high=10100)
    assert fact.high_open and fact.disputed
    assert roles(fact) == {"r1": ReportRole.SUPPORTS, "r2": ReportRole.CONTRADICTS}
    assert fact.explanation == ("more than 9000 (UN OCHA, confirmed, grade A) outweighs "
                                "10100 (Libyan Red Crescent, claimed); disputed")


def test_an_open_report_contradicts_a_best_below_its_low_only() -> None:
    r = Reports()
    r.add("wire", Count(best=150, low=120, high=180), Stance.CONFIRMED)  # 1.0
    r.add("kremlin", Count(low=150), day=4)  # 0.42: 150 and up holds 150
    r.add("mfa", Count(low=151), day=5)  # 0.42: 151 and up does not
    fact = r.fact()
    assert fact.value == Count(best=150, low=120, high=180)
    assert roles(fact) == {"r1": ReportRole.SUPPORTS, "r2": ReportRole.SUPPORTS,
                           "r3": ReportRole.CONTRADICTS}
    assert fact.high_open and fact.disputed  # 0.42 ≥ 1.42 / 4
    # The highest "more than" is the one already named as the rival: said once.
    assert fact.explanation == ("150 (A wire service, confirmed, grade A) outweighs more "
                                "than 151 (Russian Foreign Ministry, claimed); disputed")


def test_a_light_open_report_neither_widens_nor_opens_the_range() -> None:
    r = Reports()
    r.add("wire", Count(best=5), Stance.CONFIRMED)  # 1.0
    r.add("social", Count(low=10), Stance.UNCONFIRMED)  # 0.2 × 0.4 = 0.08 < 0.2
    fact = r.fact()
    assert (fact.low, fact.high, fact.high_open) == (5, 5, False)
    assert roles(fact)["r2"] is ReportRole.CONTRADICTS and not fact.disputed


def test_an_open_point_stays_its_low_in_the_median() -> None:
    r = Reports()
    r.add("cnn", Count(low=10), Stance.CONFIRMED)  # 0.8 at 10
    r.add("bi", Count(best=20), Stance.CONFIRMED)  # 0.8 at 20
    fact = r.fact()
    # The median is of points: 10 reaches exactly half, so best is 10, the lower (though
    # "more than 10" would hold 20 too). The point 20 excludes 10: it contradicts.
    assert fact.value == Count(best=10, low=10, high=20) and fact.high_open
    assert roles(fact) == {"r1": ReportRole.SUPPORTS, "r2": ReportRole.CONTRADICTS}


# -- step 3 (v2): a relay weighs with the lower reliability of its source and origin ---------

def test_a_mayor_graded_d_relayed_by_an_outlet_graded_c_weighs_d() -> None:
    r = Reports()
    r.add("aljazeera", Text("two dams burst"), Stance.CONFIRMED, via="mayor")
    fact = r.fact()
    assert weights(fact) == {"r1": 0.4}  # D 0.4 × confirmed 1.0, not C 0.6
    assert fact.explanation == ("two dams burst (Al Jazeera citing the mayor of Derna, "
                                "confirmed, origin's grade D) is the only account")
    r = Reports()
    r.add("aljazeera", Text("two dams burst"), Stance.CLAIMED, via="mayor")
    assert weights(r.fact()) == {"r1": 0.28}  # D 0.4 × claimed 0.7


def test_an_ungraded_origin_relayed_by_an_a_source_weighs_f() -> None:
    r = Reports()
    r.add("wire", Text("jet"), Stance.CONFIRMED, via="ungraded")
    fact = r.fact()
    assert weights(fact) == {"r1": 0.5}  # F 0.5, not A 1.0
    # Weighed as F, the confirmation is not an A or B source's.
    assert fact.status is FactStatus.SINGLE_SOURCE
    assert fact.explanation == ("jet (A wire service citing An unknown blog, confirmed, "
                                "origin's grade F) is the only account")


def test_a_relay_is_no_more_reliable_than_itself() -> None:
    r = Reports()
    r.add("mayor", Text("jet"), Stance.CONFIRMED, via="wire")  # D relaying A: D
    r.add("outlets", Text("jet"), Stance.CONFIRMED, via="mayor", day=4)  # F relaying D: D
    r.add("ungraded", Text("jet"), Stance.CONFIRMED, via="social", day=5)  # F relaying E: E
    r.add("cnn", Text("jet"), Stance.CONFIRMED, via="unknown", day=6)  # B relaying no record
    fact = r.fact()
    assert weights(fact) == {"r1": 0.4, "r2": 0.4, "r3": 0.2, "r4": 0.5}
    # The heaviest leads the sentence, which says its weight is its origin's grade.
    assert fact.explanation.startswith("jet (CNN citing unknown, confirmed, origin's grade F)")


def test_a_relayed_denial_takes_away_the_lower_reliability() -> None:
    r = Reports()
    r.add("cnn", Text("jet"), Stance.CLAIMED)  # 0.56
    r.add("wire", Text("jet"), Stance.DENIED, via="mayor")  # D 0.4 × 0.7 = 0.28, not 0.7
    fact = r.fact()
    assert weights(fact) == {"r1": 0.56, "r2": 0.28}
    assert fact.value == Text("jet") and fact.disputed


# -- grouping and ties ------------------------------------------------------------------------

def test_a_month_agrees_with_saturday_and_sunday_and_moves_neither() -> None:
    r = Reports()
    r.add("bi", day("2018-02-10"), Stance.CONFIRMED, via="pentagon", day=3)  # Saturday 0.8
    r.add("cnn", day("2018-02-11"), Stance.CONFIRMED, day=2)  # Sunday 0.8
    r.add("outlets", day("2018-02", Precision.MONTH), day=5)  # February 0.35, in both
    fact = r.fact()
    # Saturday and Sunday weigh 1.15 each; the tie goes to the most recent report: Saturday.
    assert fact.value == day("2018-02-10")
    assert fact.disputed
    assert roles(fact) == {"r1": ReportRole.SUPPORTS, "r2": ReportRole.CONTRADICTS,
                           "r3": ReportRole.SUPPORTS}
    assert [a.value for a in fact.alternatives] == [day("2018-02-11")]


def test_a_coarser_report_alone_forms_its_own_group() -> None:
    r = Reports()
    r.add("outlets", day("2018-02", Precision.MONTH))
    r.add("social", day("2018-03", Precision.MONTH))
    assert r.fact().value == day("2018-02", Precision.MONTH)


def test_ties_go_to_the_most_recent_report_then_the_lowest_position() -> None:
    r = Reports()
    r.add("cnn", Text("jet"), day=3)
    r.add("bi", Text("drone"), day=4)
    assert r.fact().value == Text("drone")
    r = Reports()
    r.add("cnn", Text("jet"), day=4)
    r.add("bi", Text("drone"), day=4)
    assert r.fact().value == Text("jet")


def test_equal_texts_ignore_case_and_spacing() -> None:
    r = Reports()
    r.add("cnn", Text("F-15  jet"))
    r.add("bi", Text("f-15 jet"))
    assert r.fact().status is FactStatus.CORROBORATED


# -- step 5: dispute threshold and status ------------------------------------------------------

def test_a_rival_below_a_quarter_does_not_dispute() -> None:
    r = Reports()
    r.add("wire", Text("jet"), Stance.CONFIRMED)  # 1.0
    r.add("social", Text("drone"), Stance.CONFIRMED)  # 0.2 < 0.25
    fact = r.fact()
    assert not fact.disputed and fact.status is FactStatus.CONFIRMED
    r.add("kremlin", Text("drone"), Stance.UNCONFIRMED)  # +0.24 → 0.44 ≥ 0.25
    assert r.fact().disputed


def test_status_confirmed_needs_an_a_or_b_source_confirming() -> None:
    r = Reports()
    r.add("kremlin", Text("jet"), Stance.CONFIRMED)
    assert r.fact().status is FactStatus.SINGLE_SOURCE
    r.add("mfa", Text("jet"), Stance.CLAIMED)
    assert r.fact().status is FactStatus.CORROBORATED
    r.add("pentagon", Text("jet"), Stance.CONFIRMED)
    assert r.fact().status is FactStatus.CONFIRMED


def test_two_outlets_citing_one_origin_are_a_single_source() -> None:
    r = Reports()
    r.add("bi", Text("jet"), via="pentagon")
    r.add("cnn", Text("jet"), via="pentagon")
    fact = r.fact()
    assert fact.status is FactStatus.SINGLE_SOURCE
    # Equal weights: the lowest position leads the sentence.
    assert fact.explanation == ("jet (Business Insider citing Pentagon, claimed, grade B) is "
                                "the only account")


def test_describe_says_values_as_an_editor_would() -> None:
    assert describe(Count(low=200)) == "more than 200"
    assert describe(Count(high=9)) == "at most 9"
    assert describe(Count(low=5, high=200)) == "5–200"
    assert describe(Count(best=5, low=5, high=200)) == "5 (5–200)"
    assert describe(TimeSpan("2018-02-07", Precision.DAY, "2018-02-08")) == \
        "2018-02-07–2018-02-08"
