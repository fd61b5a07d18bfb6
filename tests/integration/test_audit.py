"""Auditors' tools: the raw log, verification, export and restore."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from api.services.archive import export_log, restore_log, verify_log
from api.services.demo import DEMO_ACTOR, demo_path
from api.services.ndjson_import import import_file
from api.settings import Settings
from events.archive import ArchiveError
from events.errors import Conflict
from tests.databases import Databases
from tests.integration.conftest import Api, running_api
from tests.integration.demo_queries import READS

EVENTS = """query($filter: EventFilter, $first: Int = 100, $after: String) {
  events(filter: $filter, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { position stream version type actor prevHash hash recordedAt } } }"""


async def demo(api: Api) -> None:
    await import_file(api.services.intake, demo_path(), actor=DEMO_ACTOR)


async def test_the_raw_log_pages_by_position_with_filters(api: Api) -> None:
    await demo(api)
    first = await api.post(EVENTS, {"first": 10})
    page = first["data"]["events"]
    assert [n["position"] for n in page["nodes"]] == list(range(1, 11))
    assert page["pageInfo"]["hasNextPage"] is True
    assert page["nodes"][1]["prevHash"] == page["nodes"][0]["hash"]
    second = await api.post(EVENTS, {"first": 10, "after": page["pageInfo"]["endCursor"]})
    assert second["data"]["events"]["nodes"][0]["position"] == 11
    graded = await api.post(EVENTS, {"filter": {"types": ["SourceGraded"]}, "first": 500})
    nodes = graded["data"]["events"]["nodes"]
    assert nodes and {n["type"] for n in nodes} == {"SourceGraded"}
    stream = await api.post(EVENTS, {"filter": {"stream": "source:pentagon", "after": 1}})
    assert [n["version"] for n in stream["data"]["events"]["nodes"]] == [1, 2]
    bad = await api.post(EVENTS, {"after": "bm90IGEgY3Vyc29y"})
    assert bad["errors"][0]["extensions"]["code"] == "BAD_INPUT"


async def tamper(api: Api, sql: str) -> None:
    """What a superuser can do behind the application's back: disable the guard, change."""
    async with api.engine.begin() as connection:
        await connection.execute(text("ALTER TABLE events DISABLE TRIGGER events_append_only"))
        await connection.execute(text(sql))
        await connection.execute(text("ALTER TABLE events ENABLE TRIGGER events_append_only"))


async def test_tampering_is_caught_at_the_exact_position(api: Api) -> None:
    await demo(api)
    body = await api.post("{ verifyLog { ok checked firstBadPosition } }")
    assert body["data"]["verifyLog"] == {"ok": True, "checked": 100, "firstBadPosition": None}
    anonymous = await api.post("{ verifyLog { ok } }", token="")
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    await tamper(api, "UPDATE events SET data = jsonb_set(data, '{value,count,best}', '50') "
                      "WHERE position = 69")  # the Foreign Ministry's count of five
    body = await api.post("{ verifyLog { ok checked firstBadPosition } }")
    assert body["data"]["verifyLog"] == {"ok": False, "checked": 69, "firstBadPosition": 69}


async def test_a_deleted_event_is_caught_where_the_gap_opens(api: Api) -> None:
    await demo(api)
    await tamper(api, "DELETE FROM events WHERE position = 40")
    check = await verify_log(api.services.store)
    assert (check.ok, check.first_bad_position) == (False, 40)


async def read_all(api: Api) -> list[dict[str, Any]]:
    answers = []
    for variables in ({}, {"asOf": "2018-02-14T00:00:00Z", "axis": "REPORTED"},
                      {"asOf": "2100-01-01T00:00:00Z"}):
        body = await api.post(READS, variables)
        assert "errors" not in body, body
        answers.append(body["data"])
    events = await api.post(EVENTS, {"first": 500})
    answers.append(events["data"])
    return answers


async def test_export_then_restore_reproduces_the_log_and_every_read(
        api: Api, databases: Databases, tmp_path: Path) -> None:
    await demo(api)
    await api.ok("reportFact", {"timeline": "khasham-2018", "entry": "tank-strike",
                                "attribute": "weapon", "value": {"text": "drone"},
                                "source": "kremlin", "stance": "CLAIMED",
                                "reportedAt": "2018-02-16T00:00:00Z",
                                "idempotencyKey": "kremlin-drone"})
    original = await read_all(api)
    archive = tmp_path / "log.ndjson"
    assert await export_log(api.services.store, archive) == 101
    other = await databases.fresh()
    async with running_api(Settings(database_url=other, migrate_on_start=False)) as restored:
        assert await restore_log(restored.services.store, archive) == 101
        again = await read_all(restored)
        # recordedAt and hashes included: the restored log is the same log, byte for byte.
        assert again == original
        retry = await restored.mutate(
            "reportFact", {"timeline": "khasham-2018", "entry": "tank-strike",
                           "attribute": "weapon", "value": {"text": "drone"},
                           "source": "kremlin", "stance": "CLAIMED",
                           "reportedAt": "2018-02-16T00:00:00Z",
                           "idempotencyKey": "kremlin-drone"}, token=api.token)
        assert retry["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"  # tokens stay
        assert await restored.event_count() == 101
        with pytest.raises(Conflict, match="empty database"):
            await restore_log(restored.services.store, archive)


@pytest.mark.parametrize(("damage", "line", "message"), [
    ("truncate-at-line", 50, "truncated"),
    ("truncate-mid-line", 50, "not a JSON line"),
    ("edit", 30, "hash chain breaks at position 29"),
    ("drop", 30, "hash chain breaks at position 29"),
])
async def test_a_damaged_export_is_refused_with_its_line_number(
        api: Api, databases: Databases, tmp_path: Path, damage: str, line: int,
        message: str) -> None:
    await demo(api)
    archive = tmp_path / "log.ndjson"
    await export_log(api.services.store, archive)
    lines = archive.read_text().splitlines(keepends=True)
    if damage == "truncate-at-line":
        lines = lines[:line]
    elif damage == "truncate-mid-line":
        lines = [*lines[:line - 1], lines[line - 1][:40]]
    elif damage == "edit":
        body = json.loads(lines[line - 1])
        body["actor"] = "mallory"
        lines[line - 1] = json.dumps(body) + "\n"
    else:
        del lines[line - 1]
    archive.write_text("".join(lines))
    other = await databases.fresh()
    async with running_api(Settings(database_url=other, migrate_on_start=False)) as restored:
        with pytest.raises(ArchiveError) as caught:
            await restore_log(restored.services.store, archive)
        assert caught.value.line == line and message in caught.value.message
        assert await restored.event_count() == 0
