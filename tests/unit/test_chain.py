from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from events.chain import GENESIS_HASH, Envelope, event_hash, verify_chain


def chain(payloads: list[dict[str, object]]) -> list[Envelope]:
    envelopes: list[Envelope] = []
    prev = GENESIS_HASH
    for position, data in enumerate(payloads, start=1):
        fields = {"position": position, "stream": "timeline:t", "version": position,
                  "type": "EntryOpened", "schema_version": 1, "data": data,
                  "recorded_at": datetime(2018, 2, 15, tzinfo=UTC), "actor": "desk",
                  "idempotency_key": None, "prev_hash": prev}
        envelope = Envelope(**fields, hash=event_hash(**fields))  # type: ignore[arg-type]
        envelopes.append(envelope)
        prev = envelope.hash
    return envelopes


payloads = st.lists(st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=8),
                                    max_size=3), min_size=1, max_size=12)


@given(payloads)
def test_an_untouched_chain_verifies(data: list[dict[str, object]]) -> None:
    result = verify_chain(chain(data))
    assert result.ok and result.checked == len(data) and result.first_bad_position is None


@given(payloads, st.data())
def test_changing_any_event_is_caught_at_its_position(data: list[dict[str, object]],
                                                      draw: st.DataObject) -> None:
    envelopes = chain(data)
    victim = draw.draw(st.integers(min_value=0, max_value=len(envelopes) - 1))
    envelopes[victim] = replace(envelopes[victim], actor="someone else")
    result = verify_chain(envelopes)
    assert not result.ok
    assert result.first_bad_position == victim + 1


def test_a_missing_event_is_caught_where_the_gap_starts() -> None:
    envelopes = chain([{"n": i} for i in range(5)])
    del envelopes[2]
    assert verify_chain(envelopes).first_bad_position == 3


def test_the_hash_depends_on_key_order_never() -> None:
    a = chain([{"a": 1, "b": 2}])[0]
    b = chain([{"b": 2, "a": 1}])[0]
    assert a.hash == b.hash
