"""Hypothesis strategies shared by the unit and integration tests.

What a client may send to the one gate (``parse_submission("reportFact", ...)``): hostile
reports, covering every input a client can send, and well-formed ones, every field of the
right shape and its content as extreme as the shape allows. And scripts of editorial work
on one timeline, for the decision and log-consistency properties.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TypeVar

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from events.commands import MAX_IDEMPOTENCY_KEY
from events.values import MAX_COUNT

T = TypeVar("T")


def examples(strategy: st.SearchStrategy[T], count: int, *,
             from_seed: int | None = None) -> list[T]:
    """``count`` examples of ``strategy``, drawn up front (the app under test is async;
    hypothesis drives a sync function), from ``from_seed`` when given."""
    made: list[T] = []

    @settings(max_examples=count, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def draw(example: T) -> None:
        made.append(example)

    if from_seed is not None:
        draw = seed(from_seed)(draw)
    draw()
    return made


# --- reports at the gate ---------------------------------------------------------------------


def precision_of(start: str) -> str:
    """The precision a time written as ``start`` has, by its length."""
    return {4: "YEAR", 7: "MONTH", 10: "DAY", 17: "MINUTE"}.get(len(start), "EXACT")


any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=30)
garbage = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), any_text,
                    st.lists(st.integers(), max_size=2), st.just({}))
offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
instants = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59),
                 timezones=offsets).map(datetime.isoformat),
    any_text, garbage)
years = st.integers(0, 10_000).map(lambda y: f"{y:04d}")
time_starts = st.one_of(
    years,
    st.tuples(years, st.integers(0, 13)).map(lambda t: f"{t[0]}-{t[1]:02d}"),
    st.datetimes(min_value=datetime(1, 1, 1)).map(lambda d: d.strftime("%4Y-%m-%d")),
    st.datetimes(min_value=datetime(1, 1, 1)).map(lambda d: d.strftime("%4Y-%m-%dT%H:%MZ")),
    st.datetimes(min_value=datetime(1, 1, 1)).map(
        lambda d: d.strftime("%4Y-%m-%dT%H:%M:%S.%fZ")),
    any_text)
numbers = st.one_of(st.integers(-10, 2**40), st.sampled_from([0, MAX_COUNT, MAX_COUNT + 1]))
coordinates = st.one_of(st.floats(), st.integers(-200, 200), st.just(-0.0))
values = st.one_of(
    st.fixed_dictionaries({}, optional={"best": numbers, "low": numbers, "high": numbers})
    .map(lambda c: {"count": c}),
    any_text.map(lambda t: {"text": t}),
    st.fixed_dictionaries({"start": time_starts, "precision": st.sampled_from(
        ["YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "EXACT", "WEEK"])},
        optional={"end": time_starts}).map(lambda t: {"time": t}),
    st.fixed_dictionaries({"name": any_text}, optional={"lat": coordinates,
                                                        "lon": coordinates})
    .map(lambda p: {"place": p}),
    st.booleans().map(lambda f: {"flag": f}),
    garbage)
maybe = st.one_of(st.none(), any_text)
hostile_reports = st.fixed_dictionaries(
    {"timeline": st.sampled_from(["t", "t\n", "T"]), "entry": st.sampled_from(["e", "e\n"]),
     "attribute": st.sampled_from(["killed", "said", "where", "occurred"]), "value": values,
     "source": st.sampled_from(["s", "s\n", "nobody"]),
     "stance": st.sampled_from(["CONFIRMED", "CLAIMED", "DENIED", "maybe"]),
     "reported_at": instants},
    optional={"via": st.sampled_from(["s", None]), "quote": maybe, "url": st.one_of(
        maybe, any_text.map(lambda t: f"https://example.org/{t}")),
        "idempotency_key": st.one_of(any_text, st.integers(0, 2 * MAX_IDEMPOTENCY_KEY).map(
            lambda n: "k" * n)),
        "expected_version": st.one_of(st.integers(-2, 10), garbage)})
# Mostly well-formed, so that the accepted side of the gate is explored too: every field
# is of the right shape, its content as extreme as the shape allows.
printable = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1,
                    max_size=30).filter(str.strip)
well_formed_values = st.one_of(
    st.fixed_dictionaries({}, optional={"best": st.integers(0, MAX_COUNT),
                                        "low": st.integers(0, MAX_COUNT)})
    .map(lambda c: {"count": c or {"high": MAX_COUNT}}),
    printable.map(lambda t: {"text": t}),
    time_starts.map(lambda t: {"time": {"start": t, "precision": precision_of(t)}}),
    st.tuples(printable, st.floats(-90, 90), st.floats(-180, 180))
    .map(lambda p: {"place": {"name": p[0], "lat": p[1], "lon": p[2]}}),
    st.booleans().map(lambda f: {"flag": f}))
well_formed_reports = st.fixed_dictionaries(
    {"timeline": st.just("t"), "entry": st.just("e"), "value": well_formed_values,
     "attribute": st.just("said"), "source": st.just("s"),
     "stance": st.sampled_from(["CONFIRMED", "CLAIMED", "UNCONFIRMED", "DENIED"]),
     "reported_at": st.datetimes(min_value=datetime(1, 1, 2),
                                 max_value=datetime(2026, 11, 30), timezones=offsets)
     .map(datetime.isoformat)},
    optional={"via": st.just("s"), "quote": printable,
              "url": printable.map(lambda t: f"https://example.org/{t.strip()}"),
              "idempotency_key": printable, "expected_version": st.integers(0, 10)})
reports = st.one_of(well_formed_reports, hostile_reports)


# --- editorial work --------------------------------------------------------------------------

# Commands on the timeline "t", citing the sources "s1" and "s2" (and one never registered),
# on the entries and report ids below: a script of them is decided against a world holding
# the timeline and the two sources, and many of them are refused.
EDITED_ENTRIES = ["a", "b", "c"]
EDITED_REPORTS = [f"r{i}" for i in range(1, 9)]

editorial_commands = st.one_of(
    st.builds(lambda e: ("openEntry", {"timeline": "t", "id": e, "title": e.upper()}),
              st.sampled_from(EDITED_ENTRIES)),
    st.builds(lambda e, n, src, stance, day: ("reportFact", {
        "timeline": "t", "entry": e, "attribute": "killed", "value": {"count": {"best": n}},
        "source": src, "stance": stance, "reported_at": f"2018-02-{day:02d}T12:00:00Z"}),
        st.sampled_from(EDITED_ENTRIES), st.integers(0, 300),
        st.sampled_from(["s1", "s2", "nobody"]),
        st.sampled_from(["CONFIRMED", "CLAIMED", "UNCONFIRMED", "DENIED"]), st.integers(8, 20)),
    st.builds(lambda r: ("retractReport", {"timeline": "t", "report": r, "reason": "wrong",
                                           "reported_at": "2018-02-21T00:00:00Z"}),
              st.sampled_from(EDITED_REPORTS)),
    st.builds(lambda r, n: ("correctReport", {"timeline": "t", "report": r,
                                              "value": {"count": {"best": n}},
                                              "reported_at": "2018-02-22T00:00:00Z"}),
              st.sampled_from(EDITED_REPORTS), st.integers(0, 300)),
    st.builds(lambda r, rank: ("rankReport", {"timeline": "t", "report": r, "rank": rank,
                                              "reason": "editor"}),
              st.sampled_from(EDITED_REPORTS),
              st.sampled_from(["PREFERRED", "NORMAL", "DEPRECATED"])),
    st.builds(lambda d, s: ("mergeEntries", {"timeline": "t", "duplicate": d, "survivor": s}),
              st.sampled_from(EDITED_ENTRIES), st.sampled_from(EDITED_ENTRIES)),
)
