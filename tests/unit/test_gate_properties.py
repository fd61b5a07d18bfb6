"""The one gate: whatever it accepts, the log's text form reads back as the same event.

Inputs cover the whole space a client can send: any Unicode text (lone surrogates and NUL
included), numbers of any size and sign, instants of any year and offset, times at every
precision, and plain garbage in every field. The gate either refuses with ``BadInput`` or
accepts; an accepted command decides into an event whose canonical JSON (the hashed and
stored form) decodes to an equal event and encodes to the same bytes again.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

from events.commands import MAX_IDEMPOTENCY_KEY, parse_submission, streams_read
from events.decisions import decide
from events.errors import BadInput, DomainError
from events.values import format_instant, parse_stored_instant
from events.vocabulary import DomainEvent, event_from_data, event_to_data
from tests.strategies import reports
from tests.unit.worlds import World

pytestmark = pytest.mark.unit

RECORDED_AT = datetime(2026, 12, 2, tzinfo=UTC)
VALUE_KINDS = ("count", "text", "time", "place", "flag")


def canonical(data: dict[str, Any]) -> bytes:
    """The text form the chain hashes and the store keeps."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode()


def decided(fields: dict[str, Any]) -> DomainEvent | None:
    """The event the gate and the decisions make of ``fields``; None where either refuses."""
    try:
        submission = parse_submission("reportFact", fields)
    except BadInput:
        return None
    world = World()
    world.run("createTimeline", slug="t", title="T")
    world.run("registerSource", id="s", name="S", kind="MEDIA")
    world.run("openEntry", timeline="t", id="e", title="E")
    # As the appender reads them: every stream the command names, known or not.
    states = {stream: world.state(stream) for stream in streams_read(submission.command)}
    try:
        return decide(submission.command, states, RECORDED_AT).event
    except DomainError:
        return None


@settings(max_examples=600, deadline=None)
@given(reports)
def test_what_the_gate_accepts_reads_back_as_the_same_event(fields: dict[str, Any]) -> None:
    event = decided(fields)
    if event is None:
        return
    stored = canonical(event_to_data(event))
    read_back = event_from_data(event.type, 1, json.loads(stored))
    assert read_back == event
    assert canonical(event_to_data(read_back)) == stored


@pytest.mark.parametrize("kind", VALUE_KINDS)
def test_the_reports_drawn_reach_the_accepting_side_of_the_gate(kind: str) -> None:
    # The property above says nothing of what the gate refuses: without accepted reports of
    # each kind among those drawn, it would hold of nothing.
    accepted = find(reports, lambda fields: isinstance(fields["value"], dict)
                    and kind in fields["value"] and decided(fields) is not None,
                    settings=settings(database=None, max_examples=2000))
    assert kind in accepted["value"]


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
