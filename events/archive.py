"""The export format: the log verbatim as NDJSON, one envelope per line, with a trailer.

Line 1 is a header, then one envelope per line in position order (with the fingerprint of
the command when it carried an idempotency key), then a trailer naming the event count and
the head hash, so a truncated file is refused even when it was cut at a line boundary.
Reading checks each line's text, its event, the hash chain and that the event refers only to
what the log holds before it, and names the first bad line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from events.chain import ChainVerifier, Envelope
from events.consistency import LogConsistency
from events.errors import BadInput, DomainError, refuse_bad_text
from events.ports import IdempotencyRecord
from events.reducer import Stamp
from events.values import format_instant
from events.vocabulary import Unreadable, decode

FORMAT = "chronicle-log"
FORMAT_VERSION = 1


class ArchiveError(BadInput):
    """The file is not a whole, untouched export; ``line`` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


def header() -> str:
    return json.dumps({"format": FORMAT, "version": FORMAT_VERSION}) + "\n"


def envelope_line(envelope: Envelope, fingerprint: str | None = None) -> str:
    body: dict[str, Any] = {
        "position": envelope.position, "stream": envelope.stream, "version": envelope.version,
        "type": envelope.type, "schema_version": envelope.schema_version,
        "data": envelope.data, "recorded_at": format_instant(envelope.recorded_at),
        "actor": envelope.actor, "idempotency_key": envelope.idempotency_key,
        "prev_hash": envelope.prev_hash, "hash": envelope.hash}
    if fingerprint is not None:
        body["fingerprint"] = fingerprint
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")) + "\n"


def trailer(count: int, head: str) -> str:
    return json.dumps({"end": {"events": count, "head": head}}) + "\n"


@dataclass(frozen=True, slots=True)
class Restored:
    envelopes: list[Envelope]
    keys: list[IdempotencyRecord]


def read_archive(lines: Iterable[bytes]) -> Restored:
    """Parse and verify a whole export; raises ``ArchiveError`` at the first bad line."""
    envelopes: list[Envelope] = []
    keys: list[IdempotencyRecord] = []
    verifier = ChainVerifier()
    consistency = LogConsistency()
    ended = False
    number = 0
    for number, body in _records(lines):
        if number == 1:
            if body.get("format") != FORMAT or body.get("version") != FORMAT_VERSION:
                raise ArchiveError(1, f"not a {FORMAT} export (version {FORMAT_VERSION})")
            continue
        if ended:
            raise ArchiveError(number, "text after the trailer")
        if "end" in body:
            _check_trailer(number, body["end"], envelopes)
            ended = True
            continue
        envelope, fingerprint = _envelope(number, body)
        try:
            event = decode(envelope)  # what is restored must read back, on every path
        except Unreadable as e:
            raise ArchiveError(number, e.message) from e
        if not verifier.feed(envelope):
            raise ArchiveError(number, f"the hash chain breaks at position "
                                       f"{verifier.result().first_bad_position}: the file was "
                                       "changed or events are missing")
        try:
            consistency.admit(envelope.stream, event,
                              Stamp(envelope.position, envelope.recorded_at))
        except DomainError as e:
            raise ArchiveError(number, e.message) from e
        envelopes.append(envelope)
        if envelope.idempotency_key is not None and fingerprint is not None:
            keys.append(IdempotencyRecord(envelope.idempotency_key, fingerprint,
                                          envelope.position))
    if number == 0:
        raise ArchiveError(1, "the file is empty")
    if not ended:
        raise ArchiveError(number, "the file ends without its trailer: it was truncated")
    return Restored(envelopes, keys)


def _records(lines: Iterable[bytes]) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, raw in enumerate(lines, start=1):
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ArchiveError(number, f"not a JSON line ({e})") from e
        if not isinstance(body, dict):
            raise ArchiveError(number, "not a JSON object")
        try:
            refuse_bad_text(text=body)  # PostgreSQL could store neither, nor hash it as UTF-8
        except BadInput as e:
            raise ArchiveError(number, e.message) from e
        yield number, body


def _envelope(number: int, body: dict[str, Any]) -> tuple[Envelope, str | None]:
    try:
        envelope = Envelope(
            position=int(body["position"]), stream=str(body["stream"]),
            version=int(body["version"]), type=str(body["type"]),
            schema_version=int(body["schema_version"]), data=dict(body["data"]),
            recorded_at=datetime.strptime(body["recorded_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
            .replace(tzinfo=UTC),
            actor=str(body["actor"]), idempotency_key=body["idempotency_key"],
            prev_hash=str(body["prev_hash"]), hash=str(body["hash"]))
    except (KeyError, TypeError, ValueError) as e:
        raise ArchiveError(number, f"not an event envelope ({e!r})") from e
    fingerprint = body.get("fingerprint")
    return envelope, fingerprint if isinstance(fingerprint, str) else None


def _check_trailer(number: int, end: Any, envelopes: list[Envelope]) -> None:
    if not isinstance(end, dict):
        raise ArchiveError(number, "a malformed trailer")
    head = envelopes[-1].hash if envelopes else ""
    if end.get("events") != len(envelopes) or end.get("head") != head:
        raise ArchiveError(number, f"the trailer names {end.get('events')} events, the file "
                                   f"holds {len(envelopes)}: events are missing")
