"""A value written to a CSV cell reads back as the same value."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.errors import BadInput
from events.value_text import value_cell, value_input
from events.values import Count, Flag, Place, Precision, Text, TimeSpan, Value, parse_value

small = st.integers(min_value=0, max_value=10**6)


@st.composite
def counts(draw: st.DrawFn) -> Count:
    low, high = draw(st.none() | small), draw(st.none() | small)
    if low is not None and high is not None and low > high:
        low, high = high, low
    lower, upper = low if low is not None else 0, high if high is not None else 10**6
    best = draw(st.none() | st.integers(min_value=lower, max_value=upper))
    if best is None and low is None and high is None:
        best = lower
    return Count(best=best, low=low, high=high)


days = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))
spans = st.builds(lambda d: TimeSpan(start=d.isoformat(), precision=Precision.DAY), days) | \
    st.builds(lambda d: TimeSpan(start=f"{d:%Y-%m}", precision=Precision.MONTH), days) | \
    st.builds(lambda d: TimeSpan(start=f"{d:%Y-%m-%d}T{d.day % 24:02d}Z",
                                 precision=Precision.HOUR), days)
names = st.text(st.characters(whitelist_categories=("L", "N", "Zs"), whitelist_characters="-,'"),
                min_size=1, max_size=30).map(str.strip).filter(bool)
places = st.builds(Place, name=names) | st.builds(
    Place, name=names, lat=st.floats(-90, 90).map(lambda f: f + 0.0),  # the gate's -0.0
    lon=st.floats(-180, 180).map(lambda f: f + 0.0))
texts = st.text(st.characters(blacklist_characters="\x00"), min_size=1, max_size=40)
values = counts() | spans | places | st.builds(Flag, st.booleans()) | st.builds(
    Text, texts.filter(lambda t: t.strip() == t and t))  # the domain refuses NUL


@given(values)
def test_every_value_reads_back_from_its_cell(value: Value) -> None:
    kind, text = value_cell(value)
    assert parse_value(value_input(kind, text)) == value


@pytest.mark.parametrize(("kind", "text"), [("count", "lots"), ("count", "7 (5..10"),
                                            ("time", "2018-02-07"), ("flag", "maybe"),
                                            ("colour", "red")])
def test_a_bad_cell_says_what_it_should_look_like(kind: str, text: str) -> None:
    with pytest.raises(BadInput):
        parse_value(value_input(kind, text))
