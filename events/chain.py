"""The hash chain: every event's hash covers its envelope and the hash before it.

The canonical form is JSON with sorted keys, no spaces, UTF-8, instants as
``YYYY-MM-DDTHH:MM:SS.ffffffZ``. Changing it changes every hash: treat it as frozen.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from events.values import format_instant

GENESIS_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class Envelope:
    """One stored event exactly as the log holds it."""

    position: int
    stream: str
    version: int
    type: str
    schema_version: int
    data: Mapping[str, Any]
    recorded_at: datetime
    actor: str
    idempotency_key: str | None
    prev_hash: str
    hash: str


def canonical_bytes(*, position: int, stream: str, version: int, type: str,
                    schema_version: int, data: Mapping[str, Any], recorded_at: datetime,
                    actor: str, idempotency_key: str | None, prev_hash: str) -> bytes:
    body = {
        "position": position, "stream": stream, "version": version, "type": type,
        "schema_version": schema_version, "data": data,
        "recorded_at": format_instant(recorded_at), "actor": actor,
        "idempotency_key": idempotency_key, "prev_hash": prev_hash,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode()


def event_hash(**fields: Any) -> str:
    """SHA-256 (hex) of the canonical form; ``fields`` are those of ``canonical_bytes``."""
    return hashlib.sha256(canonical_bytes(**fields)).hexdigest()


def envelope_hash(envelope: Envelope) -> str:
    return event_hash(position=envelope.position, stream=envelope.stream,
                      version=envelope.version, type=envelope.type,
                      schema_version=envelope.schema_version, data=envelope.data,
                      recorded_at=envelope.recorded_at, actor=envelope.actor,
                      idempotency_key=envelope.idempotency_key, prev_hash=envelope.prev_hash)


@dataclass(frozen=True, slots=True)
class ChainCheck:
    ok: bool
    checked: int
    first_bad_position: int | None


class ChainVerifier:
    """Feed envelopes in position order; stops trusting at the first break.

    >>> v = ChainVerifier(); v.result().ok
    True
    """

    def __init__(self, prev_hash: str = GENESIS_HASH, next_position: int = 1) -> None:
        self._prev_hash = prev_hash
        self._next_position = next_position
        self._checked = 0
        self._first_bad: int | None = None

    def feed(self, envelope: Envelope) -> bool:
        """Check one envelope; False once the chain is broken."""
        if self._first_bad is not None:
            return False
        self._checked += 1
        if (envelope.position != self._next_position or envelope.prev_hash != self._prev_hash
                or envelope_hash(envelope) != envelope.hash):
            # A gap or a reordering breaks the chain where the expected event is missing.
            self._first_bad = self._next_position
            return False
        self._prev_hash = envelope.hash
        self._next_position += 1
        return True

    def result(self) -> ChainCheck:
        return ChainCheck(self._first_bad is None, self._checked, self._first_bad)


def verify_chain(envelopes: Iterable[Envelope]) -> ChainCheck:
    verifier = ChainVerifier()
    for envelope in envelopes:
        if not verifier.feed(envelope):
            break
    return verifier.result()
