"""Cursors: what the API gives out reads back; anything else is BAD_INPUT on ``after``."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.graphql import cursors
from api.graphql.log_queries import event_cursor, event_position
from api.graphql.transparency_queries import checkpoint_cursor, checkpoint_id
from api.graphql.types import decode_cursor, encode_cursor
from events.errors import BadInput
from events.rows import EntryRow

positions = st.integers(min_value=1, max_value=cursors.MAX_POSITION)
moments = st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5))]))


def raw(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@given(positions)
def test_event_and_checkpoint_cursors_read_back(position: int) -> None:
    assert event_position(event_cursor(position)) == position
    assert checkpoint_id(checkpoint_cursor(position)) == position


@given(st.one_of(st.none(), moments), positions)
def test_entry_cursors_read_back(start: datetime | None, position: int) -> None:
    row = EntryRow(timeline="t", id="e", title="E", merged_into=None, position=position,
                   occurred_start=start, version=position)
    assert decode_cursor(encode_cursor(row)) == (start, position)


@pytest.mark.parametrize("cursor", [
    "not a cursor", base64.urlsafe_b64encode(b"\xff\xfe").decode(), raw("event:1"),
    raw("entry:"), raw("entry:|0"), raw("entry:|-5"), raw(f"entry:|{2**63}"),
    raw(f"entry:2020-01-01T00:00:00+00:00|{2**70}"), raw("entry:2020-01-01T00:00:00|5"),
    raw("entry:yesterday|5"), raw("entry:|٣"), raw("entry:| 5"),
])
def test_an_entry_cursor_the_api_never_gave_out_is_bad_input(cursor: str) -> None:
    with pytest.raises(BadInput, match="after is not a cursor this API gave out") as refused:
        decode_cursor(cursor)
    assert refused.value.field == "after"


@pytest.mark.parametrize("cursor", [
    raw("entry:|1"), raw("event:0"), raw("event:-1"), raw(f"event:{2**63}"), raw("event:1.0"),
])
def test_an_event_cursor_the_api_never_gave_out_is_bad_input(cursor: str) -> None:
    with pytest.raises(BadInput, match="after is not a cursor this API gave out"):
        event_position(cursor)
