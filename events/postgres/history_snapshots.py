"""Each timeline's as-of history, written down (events/history_codec.py): one row per
timeline in ``history_snapshots``, so a process starts from it instead of folding the log.

Derived from the log and disposable, like the read model. A row is used only for the log it
was folded from: it names the position it was folded up to and the log's hash there, and the
hash chain makes that hash stand for every event up to it, so after a restore of another log
(or anything else that changed what the log holds) the row no longer matches and is ignored.
A row of another codec format or policy version is ignored too, and overwritten by the next
one written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from events.chain import Envelope
from events.errors import refuse_bad_text
from events.history_codec import FORMAT
from events.policy import POLICY_VERSION

_LOAD = text(
    "SELECT s.position, s.history FROM history_snapshots s "
    "JOIN events e ON e.position = s.position AND e.hash = s.hash "
    "WHERE s.timeline = :timeline AND s.format = :format AND s.policy_version = :policy")
# The hash is the log's own at that position; a row never goes back to an older position of
# the same format and policy (two writers may race: the furthest one stays).
_SAVE = text(
    "INSERT INTO history_snapshots (timeline, position, hash, format, policy_version, history) "
    "SELECT :timeline, e.position, e.hash, :format, :policy, :history FROM events e "
    "WHERE e.position = :position "
    "ON CONFLICT (timeline) DO UPDATE SET position = EXCLUDED.position, hash = EXCLUDED.hash, "
    "format = EXCLUDED.format, policy_version = EXCLUDED.policy_version, "
    "history = EXCLUDED.history, written_at = now() "
    "WHERE history_snapshots.position <= EXCLUDED.position "
    "OR history_snapshots.format <> EXCLUDED.format "
    "OR history_snapshots.policy_version <> EXCLUDED.policy_version")
# Each timeline with events after :after, and how many events of its world came after the
# history written for it (all of them when there is none).
_TOUCHED = text(
    "SELECT t.slug, (SELECT count(*) FROM events e WHERE e.position > coalesce(s.position, 0) "
    "AND (e.stream = 'timeline:' || t.slug OR e.stream LIKE 'source:%')) AS behind "
    "FROM (SELECT DISTINCT substr(stream, 10) AS slug FROM events "
    "      WHERE position > :after AND stream LIKE 'timeline:%') t "
    "LEFT JOIN history_snapshots s ON s.timeline = t.slug AND s.format = :format "
    "AND s.policy_version = :policy ORDER BY t.slug")

# The timeline's world (as PostgresEventStore.read_timeline_world reads it) between two
# positions: what an import's history needs of the log before the events it hands over.
_WORLD_BETWEEN = text(
    "SELECT position, stream, version, type, schema_version, data, recorded_at, actor, "
    "idempotency_key, prev_hash, hash FROM events "
    "WHERE (stream = :stream OR stream LIKE 'source:%') "
    "AND position > :after AND position <= :until ORDER BY position")
_HASH_AT = text("SELECT hash FROM events WHERE position = :position")


@dataclass(frozen=True, slots=True)
class StoredHistory:
    position: int  # the last position of the timeline's world it was folded from
    history: bytes  # what events.history_codec.encode wrote


class HistorySnapshots:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def load(self, slug: str) -> StoredHistory | None:
        """The timeline's written history, if there is one this code can use for this log."""
        refuse_bad_text(slug=slug)
        async with self.engine.connect() as connection:
            row = (await connection.execute(_LOAD, {
                "timeline": slug, "format": FORMAT, "policy": POLICY_VERSION})).first()
        return None if row is None else StoredHistory(row.position, bytes(row.history))

    async def save(self, slug: str, position: int, history: bytes) -> None:
        """Keep ``history``, folded up to ``position`` (an event of the log)."""
        async with self.engine.begin() as connection:
            await connection.execute(_SAVE, {
                "timeline": slug, "position": position, "format": FORMAT,
                "policy": POLICY_VERSION, "history": history})

    async def touched(self, after: int) -> dict[str, int]:
        """The timelines with events after position ``after``, each with the number of
        events of its world after the history written for it."""
        async with self.engine.connect() as connection:
            result = await connection.execute(_TOUCHED, {
                "after": after, "format": FORMAT, "policy": POLICY_VERSION})
            return {row.slug: row.behind for row in result}

    async def world_between(self, slug: str, after: int, until: int) -> list[Envelope]:
        """The timeline's stream and every source stream, after ``after`` up to ``until``,
        in position order."""
        refuse_bad_text(slug=slug)
        if until <= after:
            return []
        async with self.engine.connect() as connection:
            result = await connection.execute(_WORLD_BETWEEN, {
                "stream": f"timeline:{slug}", "after": after, "until": until})
            return [Envelope(position=row.position, stream=row.stream, version=row.version,
                             type=row.type, schema_version=row.schema_version,
                             data=row.data if isinstance(row.data, dict)
                             else json.loads(row.data),
                             recorded_at=row.recorded_at, actor=row.actor,
                             idempotency_key=row.idempotency_key,
                             prev_hash=row.prev_hash.strip(), hash=row.hash.strip())
                    for row in result]

    async def hash_at(self, position: int) -> str | None:
        """The log's hash at ``position`` (None: no such event)."""
        async with self.engine.connect() as connection:
            found = (await connection.execute(_HASH_AT, {"position": position})).scalar()
        return None if found is None else str(found).strip()
