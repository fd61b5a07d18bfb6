"""How the embed words facts (api/embed/wording.py): separators, ranges, open tops, times
with the other times reported, and a source's track record."""

from __future__ import annotations

import locale
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from api.embed.wording import (
    agrees_with,
    alternatives,
    count_range,
    count_words,
    day_month_year,
    headline,
    instant,
    label,
    number,
    report_count,
    time_alternatives,
    track_record,
    track_record_note,
    when,
    when_beside,
    words,
)
from events.as_of import Axis, Moment
from events.track_records import TrackRecord
from events.values import Count, Flag, Place, Precision, Text, TimeSpan

pytestmark = pytest.mark.unit


def day(text: str) -> TimeSpan:
    return TimeSpan(text, Precision.DAY)


def month(text: str) -> TimeSpan:
    return TimeSpan(text, Precision.MONTH)


# -- separators ---------------------------------------------------------------------------

@pytest.mark.parametrize(("n", "shown"), [(0, "0"), (5, "5"), (999, "999"), (1000, "1,000"),
                                         (3958, "3,958"), (20000, "20,000"),
                                         (2147483647, "2,147,483,647")])
def test_numbers_carry_english_thousands_separators(n: int, shown: str) -> None:
    assert number(n) == shown


@pytest.fixture
def other_locale() -> Iterator[str]:
    """A locale whose grouping is not the English comma (and whose months may not be
    English): German or French where installed, else C (no grouping at all)."""
    before = locale.setlocale(locale.LC_ALL)
    for name in ("de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "C.UTF-8", "C"):
        try:
            locale.setlocale(locale.LC_ALL, name)
        except locale.Error:
            continue
        break
    try:
        yield name
    finally:
        locale.setlocale(locale.LC_ALL, before)


def test_separators_ignore_the_servers_locale(other_locale: str) -> None:
    in_force = f"{3958:n}"  # what following the locale would give
    assert in_force != "3,958", other_locale
    assert number(3958) == "3,958"
    assert count_range(2300, 20000) == "reports from 2,300 to 20,000"


@pytest.mark.parametrize(("count", "shown"), [
    (Count(best=20000), "20,000"),
    (Count(low=200), "more than 200"),
    (Count(low=20000), "more than 20,000"),
    (Count(high=1500), "at most 1,500"),
    (Count(low=18000, high=20000), "18,000–20,000"),
    (Count(low=5000, high=5000), "5,000"),
    (Count(best=5, low=2, high=10), "5 (2–10)"),
    (Count(best=3958, low=2300), "3,958 (2,300–3,958)"),
    (Count(best=3958, low=3958, high=3958), "3,958"),
])
def test_a_reports_count_in_its_own_terms(count: Count, shown: str) -> None:
    assert count_words(count) == shown
    assert words(count) == shown


# -- ranges and open tops -----------------------------------------------------------------

def test_a_range_names_its_ends_with_separators() -> None:
    assert count_range(2300, 20000) == "reports from 2,300 to 20,000"
    assert count_range(5, 200) == "reports from 5 to 200"


def test_an_open_top_reads_with_a_plus() -> None:
    assert count_range(2300, 20000, high_open=True) == "reports from 2,300 to 20,000+"
    assert count_range(5, 200, high_open=True) == "reports from 5 to 200+"
    assert count_range(200, 200, high_open=True) == "reports of 200+"


def test_no_range_when_every_report_gives_the_one_value() -> None:
    assert count_range(500, 500) is None
    assert count_range(None, 500) is None


def test_a_count_leads_with_its_best_value_then_the_range_and_the_dispute() -> None:
    killed = headline("killed", Count(best=3958, low=2300, high=20000), low=2300,
                      high=20000, disputed=True)
    assert killed.text == "3,958 killed · reports from 2,300 to 20,000 · disputed"
    assert (killed.lead, killed.range, killed.also) == (
        "3,958 killed", "reports from 2,300 to 20,000", [])


def test_a_count_open_above() -> None:
    open_top = headline("killed", Count(best=5, low=5, high=200), low=5, high=200,
                        high_open=True, disputed=True)
    assert open_top.text == "5 killed · reports from 5 to 200+ · disputed"
    alone = headline("displaced", Count(best=30000, low=30000, high=30000), low=30000,
                     high=30000, high_open=True)
    assert alone.text == "30,000+ displaced"


def test_an_undisputed_count_is_its_value() -> None:
    assert headline("attackers", Count(best=500, low=500, high=500), low=500,
                    high=500).text == "500 attackers"
    assert headline("killed", Count(best=12, low=10, high=15), low=10,
                    high=15).text == "12 killed · reports from 10 to 15"
    # The range always holds the best value, even when the document leaves it out.
    assert headline("killed", Count(best=1200)).text == "1,200 killed"


def test_the_wording_is_consistent_between_ranges_open_or_not() -> None:
    closed = headline("killed", Count(best=7, low=5, high=9), low=5, high=9).text
    opened = headline("killed", Count(best=7, low=5, high=9), low=5, high=9,
                      high_open=True).text
    assert opened == closed + "+"


# -- other values -------------------------------------------------------------------------

def test_other_values_lead_with_the_attribute_and_name_the_other_values() -> None:
    weapon = headline("weapon", Text("jet"), others=[Text("drone")], disputed=True)
    assert weapon.text == "weapon: jet (also reported: drone) · disputed"
    assert weapon.also_text == "also reported: drone"
    several = headline("weapon", Text("jet"), others=[Text("drone"), Text("missile"),
                                                      Text("drone")])
    assert several.text == "weapon: jet (also reported: drone; missile)"
    assert headline("weapon", Text("jet")).text == "weapon: jet"


def test_values_in_words() -> None:
    assert words(Place("Derna, Libya", 32.76, 22.64)) == "Derna, Libya"
    assert words(Flag(True)) == "yes" and words(Flag(False)) == "no"
    assert words(Text("two dams burst")) == "two dams burst"
    assert alternatives(Flag(True), [Flag(False), Flag(True)]) == ["no"]


def test_labels_read_as_words() -> None:
    assert label("tank-model") == "tank model"
    assert label("russians_among_dead") == "russians among dead"
    assert label("occurred") == "date"
    assert label("killed") == "killed"


# -- times --------------------------------------------------------------------------------

@pytest.mark.parametrize(("span", "shown"), [
    (TimeSpan("2018", Precision.YEAR), "2018"),
    (month("2018-02"), "February 2018"),
    (day("2018-02-10"), "10 February 2018"),
    (TimeSpan("2018-02-10T14Z", Precision.HOUR), "10 February 2018, 14:00 UTC"),
    (TimeSpan("2018-02-10T14:05Z", Precision.MINUTE), "10 February 2018, 14:05 UTC"),
    (TimeSpan("2018-02-05", Precision.DAY, "2018-02-11"), "5–11 February 2018"),
    (TimeSpan("2018-01-28", Precision.DAY, "2018-02-03"), "28 January – 3 February 2018"),
    (TimeSpan("2017-12-28", Precision.DAY, "2018-01-02"),
     "28 December 2017 – 2 January 2018"),
    (TimeSpan("2018-01", Precision.MONTH, "2018-03"), "January–March 2018"),
    (TimeSpan("2017-12", Precision.MONTH, "2018-01"), "December 2017 – January 2018"),
    (TimeSpan("2017", Precision.YEAR, "2018"), "2017–2018"),
    (TimeSpan("2018-02-10T14Z", Precision.HOUR, "2018-02-10T16Z"),
     "10 February 2018, 14:00–16:00 UTC"),
    (TimeSpan("2018-02-10T22Z", Precision.HOUR, "2018-02-11T02Z"),
     "10 February 2018, 22:00 UTC – 11 February 2018, 02:00 UTC"),
])
def test_a_time_in_words_no_more_precise_than_known(span: TimeSpan, shown: str) -> None:
    assert when(span) == shown


def test_dates_are_in_english_whatever_the_locale(other_locale: str) -> None:
    assert when(day("2023-09-11")) == "11 September 2023"
    assert day_month_year(datetime(2023, 9, 14, 10, tzinfo=UTC)) == "14 Sep 2023"


def test_a_coarser_time_containing_the_best_agrees_with_it() -> None:
    best = day("2018-02-10")
    assert agrees_with(month("2018-02"), best)
    assert agrees_with(TimeSpan("2018", Precision.YEAR), best)
    assert not agrees_with(day("2018-02-11"), best)
    assert not agrees_with(month("2018-03"), best)
    # A finer time inside the best says more than it: it is named.
    assert not agrees_with(day("2018-02-10"), month("2018-02"))


def test_the_time_is_written_once_with_the_other_times_reported() -> None:
    best = day("2018-02-10")
    others = [month("2018-02"), day("2018-02-11")]
    assert time_alternatives(best, others) == ["11 February"]
    text = headline("occurred", best, others=others, disputed=True).text
    assert text == "date: 10 February 2018 (also reported: 11 February) · disputed"
    assert "February 2018 /" not in text and " or " not in text


@pytest.mark.parametrize(("other", "best", "shown"), [
    (day("2018-02-11"), day("2018-02-10"), "11 February"),
    (day("2017-02-11"), day("2018-02-10"), "11 February 2017"),
    (month("2018-03"), day("2018-02-10"), "March"),
    (day("2018-02-10"), month("2018-02"), "10 February"),
    (month("2018-03"), TimeSpan("2018", Precision.YEAR), "March 2018"),
    (TimeSpan("2019", Precision.YEAR), day("2018-02-10"), "2019"),
    (TimeSpan("2018-02-10T16Z", Precision.HOUR), TimeSpan("2018-02-10T14Z", Precision.HOUR),
     "16:00 UTC"),
    (TimeSpan("2018-02-11T16Z", Precision.HOUR), TimeSpan("2018-02-10T14Z", Precision.HOUR),
     "11 February, 16:00 UTC"),
    (TimeSpan("2018-02-05", Precision.DAY, "2018-02-07"), day("2018-02-10"), "5–7 February"),
    (TimeSpan("2017-12-28", Precision.DAY, "2018-01-02"), day("2018-02-10"),
     "28 December 2017 – 2 January 2018"),
    (day("2018-01-02"), TimeSpan("2017-12-28", Precision.DAY, "2018-01-01"),
     "2 January 2018"),
])
def test_another_time_is_named_without_what_it_shares_with_the_best(
        other: TimeSpan, best: TimeSpan, shown: str) -> None:
    assert when_beside(other, best) == shown


def test_each_other_time_is_named_once_in_order() -> None:
    best = day("2018-02-10")
    others = [day("2018-02-11"), month("2018-02"), day("2018-02-11"), day("2018-02-09"),
              TimeSpan("2018", Precision.YEAR)]
    assert time_alternatives(best, others) == ["11 February", "9 February"]
    assert time_alternatives(best, [best]) == []


# -- a source's track record --------------------------------------------------------------

@pytest.mark.parametrize(("n", "shown"), [(0, "0 reports"), (1, "1 report"),
                                         (2, "2 reports"), (1200, "1,200 reports")])
def test_a_report_count_is_singular_only_for_one(n: int, shown: str) -> None:
    assert report_count(n) == shown


@pytest.mark.parametrize(("record", "shown"), [
    (TrackRecord(), "0 reports"),
    (TrackRecord(reports=1), "1 report"),
    (TrackRecord(reports=12, retracted=1, outweighed=2), "12 reports · 1 retracted · 2 outweighed"),
    (TrackRecord(reports=3, retracted=1, corrected=2, outweighed=1, upheld=1, cited=1),
     "3 reports · 1 retracted · 2 corrected · 1 outweighed · 1 upheld · cited by 1 report"),
    (TrackRecord(cited=2), "0 reports · cited by 2 reports"),
    (TrackRecord(reports=2, upheld=2, cited=1500), "2 reports · 2 upheld · cited by 1,500 reports"),
])
def test_a_track_record_names_its_reports_then_only_what_happened(
        record: TrackRecord, shown: str) -> None:
    assert track_record(record) == shown


def test_an_instant_is_said_in_utc_to_the_minute_in_english(other_locale: str) -> None:
    assert instant(datetime(2018, 2, 14, 9, 30, 59, tzinfo=UTC)) == "14 February 2018, 09:30 UTC"
    plus_two = timezone(timedelta(hours=2))
    assert instant(datetime(2018, 3, 1, 1, 5, tzinfo=plus_two)) == "28 February 2018, 23:05 UTC"


def test_the_track_record_note_says_what_is_counted_and_when() -> None:
    now = track_record_note(Moment())
    assert now.startswith("How this source's reports have fared on every timeline, as of now:")
    assert all(word in now for word in ("retracted", "corrected", "outweighed", "upheld",
                                        "cite"))
    then = datetime(2018, 2, 14, tzinfo=UTC)
    recorded = track_record_note(Moment(then, Axis.RECORDED))
    reported = track_record_note(Moment(then, Axis.REPORTED))
    assert "as of 14 February 2018, 00:00 UTC (by when Chronicle recorded them)" in recorded
    assert "as of 14 February 2018, 00:00 UTC (by when reports were made)" in reported
