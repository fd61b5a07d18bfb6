"""The one gate: whatever it accepts, the log's text form reads back as the same event.

Inputs cover the whole space a client can send: any Unicode text (lone surrogates and NUL
included), numbers of any size and sign, instants of any year and offset, times at every
precision, and plain garbage in every field. The gate either refuses with ``BadInput`` or
accepts; an accepted command decides into an event whose canonical JSON (the hashed and
stored form) decodes to an equal event and encodes to the same bytes again.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.commands import MAX_IDEMPOTENCY_KEY, parse_submission, streams_read
from events.decisions import decide
from events.errors import BadInput, DomainError
from events.values import MAX_COUNT, format_instant, parse_stored_instant
from events.vocabulary import event_from_data, event_to_data
from tests.unit.test_decisions import World

pytestmark = pytest.mark.unit

RECORDED_AT = datetime(2026, 12, 2, tzinfo=UTC)

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
    time_starts.map(lambda t: {"time": {"start": t, "precision": _precision_of(t)}}),
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


def _precision_of(start: str) -> str:
    return {4: "YEAR", 7: "MONTH", 10: "DAY", 17: "MINUTE"}.get(len(start), "EXACT")


def canonical(data: dict[str, Any]) -> bytes:
    """The text form the chain hashes and the store keeps."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode()


@settings(max_examples=600, deadline=None)
@given(reports)
def test_what_the_gate_accepts_reads_back_as_the_same_event(fields: dict[str, Any]) -> None:
    try:
        submission = parse_submission("reportFact", fields)
    except BadInput:
        return
    world = World()
    world.run("createTimeline", slug="t", title="T")
    world.run("registerSource", id="s", name="S", kind="MEDIA")
    world.run("openEntry", timeline="t", id="e", title="E")
    # As the appender reads them: every stream the command names, known or not.
    states = {stream: world.state(stream) for stream in streams_read(submission.command)}
    try:
        event = decide(submission.command, states, RECORDED_AT).event
    except DomainError:
        return
    stored = canonical(event_to_data(event))
    read_back = event_from_data(event.type, 1, json.loads(stored))
    assert read_back == event
    assert canonical(event_to_data(read_back)) == stored


@given(st.datetimes(min_value=datetime(1, 1, 1), timezones=st.just(UTC)))
def test_every_instant_is_written_with_four_digit_years_and_reads_back(
        moment: datetime) -> None:
    text = format_instant(moment)
    assert len(text) == len("2018-02-10T14:05:09.000000Z")
    assert parse_stored_instant(text, "at") == moment


def test_the_earlier_unpadded_form_is_upcast_on_read() -> None:
    assert parse_stored_instant("1-01-01T00:00:00.000000Z", "at") == datetime(1, 1, 1,
                                                                              tzinfo=UTC)
    assert parse_stored_instant("999-12-31T23:59:59.000000Z", "at").year == 999


@pytest.mark.parametrize(("control", "message"), [
    ({"idempotency_key": "k" * (MAX_IDEMPOTENCY_KEY + 1)}, "idempotencyKey must be 1 to 200"),
    ({"idempotency_key": ""}, "idempotencyKey must be 1 to 200"),
    ({"idempotency_key": "key \ud800"}, "idempotencyKey must not contain lone UTF-16"),
    ({"expected_version": -1}, "expectedVersion must be a whole number, 0 or more"),
    ({"expected_version": True}, "expectedVersion must be a whole number, 0 or more"),
])
def test_control_fields_have_one_rule_for_every_intake(control: dict[str, Any],
                                                       message: str) -> None:
    fields = {"timeline": "t", "title": "T", **control}
    with pytest.raises(BadInput, match=message):
        parse_submission("openEntry", fields)
