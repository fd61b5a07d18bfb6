"""The opaque cursors of the API's connections: ``<kind>:<payload>`` in URL-safe base64.

A cursor is only ever one the API gave out: anything else (another connection's cursor,
text that is not base64, a position no PostgreSQL ``bigint`` holds) is BAD_INPUT on
``after``, never a failed query.
"""

from __future__ import annotations

import base64
from datetime import datetime

from events.errors import BadInput

MAX_POSITION = 2**63 - 1  # PostgreSQL's bigint, which holds positions and ids


def encode(kind: str, payload: str) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{payload}".encode()).decode()


def payload(cursor: str, kind: str) -> str:
    """What a cursor of ``kind`` carries."""
    try:
        found, _, carried = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
    except ValueError:  # not base64, or not UTF-8
        raise not_given_out() from None
    if found != kind:
        raise not_given_out()
    return carried


def is_position(text: str) -> bool:
    """Whether ``text`` is a log position or a row id (both start at 1) as the API writes
    them."""
    return text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_POSITION


def position(text: str) -> int:
    """A log position or row id carried by a cursor."""
    if not is_position(text):
        raise not_given_out()
    return int(text)


def instant(text: str) -> datetime:
    """A moment carried by a cursor (with its offset, as the API writes them)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise not_given_out() from None
    if moment.tzinfo is None:
        raise not_given_out()
    return moment


def not_given_out() -> BadInput:
    return BadInput("after is not a cursor this API gave out", field="after")
