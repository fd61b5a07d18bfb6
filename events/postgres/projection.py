"""Write the read model in the same transaction as the append (read-your-writes).

Each applied event becomes one or more row changes; runs of the same statement are sent as
one ``executemany`` so a group-committed batch costs a handful of round trips.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from events.policy import POLICY_VERSION
from events.ports import Applied, StreamStates
from events.postgres.facts import FactWriter
from events.postgres.store import COPY_FROM, copy_rows
from events.values import Value
from events.vocabulary import (
    EntriesMerged,
    EntryOpened,
    FactReported,
    ReportCorrected,
    ReportRanked,
    ReportRetracted,
    SourceGraded,
    SourceRegistered,
    TimelineCreated,
)

# The policy's version is part of the projection's: facts projected under another policy
# version are stale, and a rebuild writes a checkpoint under the new name. So is the read
# model's own: a read model missing what a newer one keeps (track records since 1) is
# rebuilt the same way.
READ_MODEL_VERSION = 1
PROJECTION_NAME = f"read_model.policy-{POLICY_VERSION}.records-{READ_MODEL_VERSION}"


def _value(value: Value | None) -> str | None:
    return None if value is None else json.dumps(value.to_data())


def _slug(stream: str) -> str:
    return stream.split(":", 1)[1]


_INSERT_TIMELINE = (
    "INSERT INTO timelines (slug, title, description, version, created_position, created_at) "
    "VALUES (:slug, :title, :description, :position, :position, :recorded_at)")
_INSERT_SOURCE = ("INSERT INTO sources (id, name, kind, url, version) "
                  "VALUES (:id, :name, :kind, :url, :version)")
_GRADE_SOURCE = ("UPDATE sources SET reliability = :reliability, grade_note = :note, "
                 "version = :version WHERE id = :id")
_INSERT_ENTRY = ("INSERT INTO entries (timeline, id, title, position, version) "
                 "VALUES (:timeline, :id, :title, :position, :position)")
_INSERT_REPORT = (
    "INSERT INTO reports (timeline, id, entry, attribute, value, source, via, stance, "
    "reported_at, recorded_at, quote, url, status, rank, position) VALUES (:timeline, :id, "
    ":entry, :attribute, CAST(:value AS jsonb), :source, :via, :stance, :reported_at, "
    ":recorded_at, :quote, :url, 'ACTIVE', 'NORMAL', :position)")
_REPORT_COLUMNS = ("timeline", "id", "entry", "attribute", "value", "source", "via", "stance",
                   "reported_at", "recorded_at", "quote", "url", "status", "rank", "position")


def _report_record(params: dict[str, Any]) -> tuple[Any, ...]:
    """A report insert's parameters as a COPY record (new reports are ACTIVE, NORMAL)."""
    given = (params.get(column) for column in _REPORT_COLUMNS[:12])
    return (*given, "ACTIVE", "NORMAL", params["position"])


_CORRECT_REPORT = (
    "UPDATE reports SET value = coalesce(CAST(:value AS jsonb), value), "
    "stance = coalesce(:stance, stance), via = coalesce(:via, via), status = 'CORRECTED', "
    "changed_at = :changed_at "
    "WHERE timeline = :timeline AND id = :id")
_RETRACT_REPORT = ("UPDATE reports SET status = 'RETRACTED', retraction_reason = :reason, "
                   "changed_at = :changed_at "
                   "WHERE timeline = :timeline AND id = :id")
_RANK_REPORT = ("UPDATE reports SET rank = :rank, rank_reason = :reason "
                "WHERE timeline = :timeline AND id = :id")
# Flattened: entries merged into the duplicate earlier now point at the survivor too.
_MERGE_ENTRIES = ("UPDATE entries SET merged_into = :survivor WHERE timeline = :timeline "
                  "AND (id = :duplicate OR merged_into = :duplicate)")
_INSERTS = frozenset({_INSERT_TIMELINE, _INSERT_SOURCE, _INSERT_ENTRY, _INSERT_REPORT})
# The batch's versions (each timeline's last position, each changed entry's: the position
# of the last event that changed what it shows, migration 0007) and the checkpoint, in one
# statement: one round trip where each had its own. ``greatest``: a regrade may have moved
# a timeline further already (events/postgres/facts.py).
_VERSIONS_AND_CHECKPOINT = (
    "WITH timelines_moved AS (UPDATE timelines t SET version = greatest(t.version, v.position) "
    "FROM unnest(CAST(:slugs AS text[]), CAST(:slug_positions AS bigint[])) "
    "AS v(slug, position) WHERE t.slug = v.slug), "
    "entries_moved AS (UPDATE entries e SET version = greatest(e.version, v.position) "
    "FROM unnest(CAST(:timelines AS text[]), CAST(:entries AS text[]), "
    "CAST(:entry_positions AS bigint[])) AS v(timeline, id, position) "
    "WHERE e.timeline = v.timeline AND e.id = v.id) "
    "INSERT INTO checkpoints (projection, position) VALUES (:name, :position) "
    "ON CONFLICT (projection) DO UPDATE SET position = excluded.position")


def row_changes(applied: Applied) -> tuple[str, dict[str, Any]]:
    """The statement and parameters one event makes to the read model."""
    env, event = applied.envelope, applied.event
    if isinstance(event, TimelineCreated):
        return _INSERT_TIMELINE, {"slug": event.slug, "title": event.title,
                                  "description": event.description,
                                  "position": env.position, "recorded_at": env.recorded_at}
    if isinstance(event, SourceRegistered):
        return _INSERT_SOURCE, {"id": event.source, "name": event.name,
                                "kind": event.kind.value, "url": event.url,
                                "version": env.version}
    if isinstance(event, SourceGraded):
        return _GRADE_SOURCE, {"id": event.source, "reliability": event.reliability.value,
                               "note": event.note, "version": env.version}
    timeline = _slug(env.stream)
    if isinstance(event, EntryOpened):
        return _INSERT_ENTRY, {"timeline": timeline, "id": event.entry, "title": event.title,
                               "position": env.position}
    if isinstance(event, FactReported):
        return _INSERT_REPORT, {
            "timeline": timeline, "id": event.report, "entry": event.entry,
            "attribute": event.attribute, "value": _value(event.value), "source": event.source,
            "via": event.via, "stance": event.stance.value, "reported_at": event.reported_at,
            "recorded_at": env.recorded_at, "quote": event.quote, "url": event.url,
            "position": env.position}
    if isinstance(event, ReportCorrected):
        return _CORRECT_REPORT, {"timeline": timeline, "id": event.report,
                                 "value": _value(event.value),
                                 "stance": event.stance.value if event.stance else None,
                                 "via": event.via, "changed_at": event.reported_at}
    if isinstance(event, ReportRetracted):
        return _RETRACT_REPORT, {"timeline": timeline, "id": event.report,
                                 "reason": event.reason, "changed_at": event.reported_at}
    if isinstance(event, ReportRanked):
        return _RANK_REPORT, {"timeline": timeline, "id": event.report,
                              "rank": event.rank.value, "reason": event.reason}
    assert isinstance(event, EntriesMerged)
    return _MERGE_ENTRIES, {"timeline": timeline, "duplicate": event.duplicate,
                            "survivor": event.survivor}


class PostgresProjection:
    """The read model tables: timelines, sources, entries, reports, facts, and the
    checkpoint. Facts are recomputed one by one, only those the batch touched."""

    async def apply(self, connection: AsyncConnection, batch: Sequence[Applied],
                    states: StreamStates, facts: bool = True) -> None:
        if not batch:
            return
        # New rows first, one run per table (no change to a row can precede its insert),
        # then the changes in log order: a big batch costs a few statements, not one per
        # interleaving of inserts and updates.
        inserts: dict[str, list[dict[str, Any]]] = {}
        runs: list[tuple[str, list[dict[str, Any]]]] = []
        timeline_versions: dict[str, int] = {}
        for applied in batch:
            statement, params = row_changes(applied)
            if statement in _INSERTS:
                inserts.setdefault(statement, []).append(params)
            elif runs and runs[-1][0] == statement:
                runs[-1][1].append(params)
            else:
                runs.append((statement, [params]))
            if applied.envelope.stream.startswith("timeline:"):
                timeline_versions[_slug(applied.envelope.stream)] = applied.envelope.position
        for statement, params_list in [*inserts.items(), *runs]:
            if statement == _INSERT_REPORT and len(params_list) >= COPY_FROM:
                await copy_rows(connection, "reports", _REPORT_COLUMNS,
                                [_report_record(p) for p in params_list])
            else:
                await connection.execute(text(statement), params_list)
        entry_versions = sorted(
            (await FactWriter(connection, states).write(batch, recompute=facts)).items())
        await connection.execute(text(_VERSIONS_AND_CHECKPOINT), {
            "slugs": list(timeline_versions), "slug_positions": list(timeline_versions.values()),
            "timelines": [slug for (slug, _), _ in entry_versions],
            "entries": [entry for (_, entry), _ in entry_versions],
            "entry_positions": [position for _, position in entry_versions],
            "name": PROJECTION_NAME, "position": batch[-1].envelope.position})
