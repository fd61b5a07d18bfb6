from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.errors import BadInput
from events.values import (
    MAX_COUNT,
    STORED_MAX_COUNT,
    Count,
    Flag,
    Place,
    Precision,
    Text,
    TimeSpan,
    parse_instant,
    parse_value,
    stored_value,
    time_bounds,
)


def test_more_than_200_is_a_low_bound() -> None:
    assert parse_value({"count": {"low": 200}}) == Count(low=200)


def test_each_kind_round_trips_through_its_canonical_form() -> None:
    for value in (Count(best=5, low=5, high=200), Text("jet"),
                  TimeSpan("2018-02-10", Precision.DAY),
                  TimeSpan("2018-02-07", Precision.DAY, end="2018-02-08"),
                  Place("Khasham", 35.3, 40.3), Place("eastern Syria"), Flag(True)):
        assert parse_value(value.to_data()) == value


@pytest.mark.parametrize(("raw", "field"), [
    ({"count": {"low": 300, "high": 200}}, "value.count.low"),
    ({"count": {"best": 10, "high": 5}}, "value.count.best"),
    ({"count": {"best": 1, "low": 5}}, "value.count.best"),
    ({"count": {}}, "value.count"),
    ({"count": {"best": -1}}, "value.count.best"),
    ({"count": {"best": 2.5}}, "value.count.best"),
    ({"count": {"best": True}}, "value.count.best"),
    ({"count": {"median": 3}}, "value.count.median"),
    ({"time": {"start": "2018-02-10", "precision": "FORTNIGHT"}}, "value.time.precision"),
    ({"time": {"start": "2018-02", "precision": "DAY"}}, "value.time.start"),
    ({"time": {"start": "2018-02-30", "precision": "DAY"}}, "value.time.start"),
    ({"time": {"start": "yesterday", "precision": "DAY"}}, "value.time.start"),
    ({"time": {"start": "2018-02-10", "end": "2018-02-09", "precision": "DAY"}},
     "value.time.end"),
    ({"place": {"name": "Khasham", "lat": 95, "lon": 40}}, "value.place.lat"),
    ({"place": {"name": "Khasham", "lat": 35}}, "value.place.lat"),
    ({"place": {"name": "  "}}, "value.place.name"),
    ({"text": ""}, "value.text"),
    ({"text": "a\x00b"}, "value.text"),
    ({"flag": "yes"}, "value.flag"),
    ({"text": "jet", "flag": True}, "value"),
    ({}, "value"),
    ({"colour": "red"}, "value.colour"),
    ("jet", "value"),
])
def test_bad_values_name_the_field(raw: object, field: str) -> None:
    with pytest.raises(BadInput) as caught:
        parse_value(raw)
    assert caught.value.field == field
    assert field.split(".")[-1] in caught.value.message


@pytest.mark.parametrize(("text", "precision", "start", "end"), [
    ("2018", Precision.YEAR, datetime(2018, 1, 1, tzinfo=UTC), datetime(2019, 1, 1, tzinfo=UTC)),
    ("2018-12", Precision.MONTH, datetime(2018, 12, 1, tzinfo=UTC),
     datetime(2019, 1, 1, tzinfo=UTC)),
    ("2018-02-10", Precision.DAY, datetime(2018, 2, 10, tzinfo=UTC),
     datetime(2018, 2, 11, tzinfo=UTC)),
    ("2018-02-10T14Z", Precision.HOUR, datetime(2018, 2, 10, 14, tzinfo=UTC),
     datetime(2018, 2, 10, 15, tzinfo=UTC)),
    ("2018-02-10T14:05Z", Precision.MINUTE, datetime(2018, 2, 10, 14, 5, tzinfo=UTC),
     datetime(2018, 2, 10, 14, 6, tzinfo=UTC)),
])
def test_time_bounds_cover_the_whole_precision(text: str, precision: Precision,
                                               start: datetime, end: datetime) -> None:
    assert time_bounds(text, precision) == (start, end)


def test_instants_need_a_time_zone_and_are_normalised_to_utc() -> None:
    assert parse_instant("2018-02-13T17:00:00+02:00", "reportedAt") == datetime(
        2018, 2, 13, 15, tzinfo=UTC)
    with pytest.raises(BadInput, match="time zone"):
        parse_instant("2018-02-13T15:00:00", "reportedAt")
    with pytest.raises(BadInput, match="reportedAt"):
        parse_instant("13/02/2018", "reportedAt")


counts = st.integers(min_value=0, max_value=10**6)


@given(best=st.none() | counts, low=st.none() | counts, high=st.none() | counts)
def test_a_parsed_count_always_keeps_low_le_best_le_high(
        best: int | None, low: int | None, high: int | None) -> None:
    raw = {k: v for k, v in (("best", best), ("low", low), ("high", high)) if v is not None}
    try:
        count = parse_value({"count": raw})
    except BadInput:
        return
    assert isinstance(count, Count)
    present = [v for v in (count.low, count.best, count.high) if v is not None]
    assert present == sorted(present)
    assert parse_value(count.to_data()) == count


@given(st.dates(min_value=datetime(1000, 1, 1).date(), max_value=datetime(2999, 12, 31).date()))
def test_every_real_day_parses_and_spans_one_day(day: object) -> None:
    text = str(day)
    span = parse_value({"time": {"start": text, "precision": "DAY"}})
    assert isinstance(span, TimeSpan)
    start, end = time_bounds(span.start, span.precision)
    assert (end - start).days == 1


def test_a_month_contains_and_overlaps_its_days_but_not_the_next_month() -> None:
    february = TimeSpan("2018-02", Precision.MONTH)
    saturday = TimeSpan("2018-02-10", Precision.DAY)
    sunday = TimeSpan("2018-02-11", Precision.DAY)
    assert february.contains(saturday) and february.contains(sunday)
    assert february.overlaps(saturday) and saturday.overlaps(february)
    assert not saturday.overlaps(sunday) and not saturday.contains(february)
    assert not february.overlaps(TimeSpan("2018-03-01", Precision.DAY))
    weekend = TimeSpan("2018-02-10", Precision.DAY, end="2018-02-11")
    assert weekend.contains(sunday) and not weekend.contains(february)


@pytest.mark.parametrize(("stored", "read"), [
    ({"best": 3_000_000_000}, Count(low=MAX_COUNT)),
    ({"low": 3_000_000_000, "high": 10**12}, Count(low=MAX_COUNT)),
    ({"low": 10, "best": 3_000_000_000, "high": 10**12}, Count(low=10)),
    ({"best": 20, "high": 3_000_000_000}, Count(best=20)),
    ({"high": 3_000_000_000}, Count(low=0)),
    ({"best": MAX_COUNT}, Count(best=MAX_COUNT)),
])
def test_a_count_the_first_version_stored_past_the_cap_reads_as_what_still_holds(
        stored: dict[str, int], read: Count) -> None:
    assert stored_value({"count": stored}) == read


@given(st.lists(st.integers(0, STORED_MAX_COUNT), min_size=1, max_size=3))
def test_every_stored_count_reads_within_the_cap(numbers: list[int]) -> None:
    bounds = dict(zip(("low", "best", "high"), sorted(numbers), strict=False))
    count = stored_value({"count": bounds})
    assert isinstance(count, Count)
    assert all(n is None or 0 <= n <= MAX_COUNT for n in (count.low, count.best, count.high))
    if max(numbers) <= MAX_COUNT:
        assert count == parse_value({"count": bounds})  # what every intake accepts today
    else:
        with pytest.raises(BadInput, match="between 0 and 2,147,483,647"):
            parse_value({"count": bounds})
