"""Rebuilding the read model while the API keeps serving and writing."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from sqlalchemy import text

from api.services.demo import DEMO_ACTOR, demo_path
from api.services.ndjson_import import import_file
from events.postgres import rebuild
from events.postgres.projection import PROJECTION_NAME
from events.postgres.rebuild import replay_read_model
from tests.integration.conftest import Api, running_api
from tests.integration.demo_queries import READS

NEW_REPORT = {"timeline": "khasham-2018", "entry": "khasham-strike", "attribute": "killed",
              "source": "kremlin", "stance": "CLAIMED", "reportedAt": "2018-02-20T00:00:00Z"}


async def present_and_replayed(api: Api) -> tuple[object, object]:
    present = await api.post(READS)
    replayed = await api.post(READS, {"asOf": "2100-01-01T00:00:00Z"})
    assert "errors" not in present and "errors" not in replayed
    return present["data"], replayed["data"]


async def test_replay_while_writes_continue_loses_nothing_and_ends_equal(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # Small chunks, so most of the rebuild runs unlocked while the writes below land.
    monkeypatch.setattr(rebuild, "CHUNK", 7)
    monkeypatch.setattr(rebuild, "CATCH_UP_GAP", 5)
    chunks = []
    await import_file(api.services.intake, demo_path(), actor=DEMO_ACTOR)
    acknowledged = []

    async def keep_writing() -> None:
        for i in range(40):
            result = await api.ok("reportFact", {**NEW_REPORT, "value": {"count": {"best": i}},
                                                 "idempotencyKey": f"during-replay-{i}"})
            acknowledged.append(result["event"]["position"])
            await asyncio.sleep(0)

    reads = []

    async def keep_reading() -> None:
        for _ in range(10):
            body = await api.post("{ timeline(slug: \"khasham-2018\") { version } }")
            assert "errors" not in body, body
            reads.append(body["data"]["timeline"]["version"])
            await asyncio.sleep(0)

    replayed_to, _, _ = await asyncio.gather(
        replay_read_model(api.services.store, on_progress=chunks.append), keep_writing(),
        keep_reading())
    assert len(chunks) > 10
    assert len(acknowledged) == 40 and replayed_to >= 98
    assert reads == sorted(reads)  # the API kept answering, and never went backwards
    assert await api.scalar("SELECT count(*) FROM reports") == 61 + 40
    present, replayed = await present_and_replayed(api)
    assert present == replayed
    assert await api.scalar("SELECT count(*) FROM information_schema.schemata "
                            "WHERE schema_name = 'chronicle_rebuild'") == 0


async def test_a_new_policy_version_rebuilds_the_read_model_at_startup(api: Api) -> None:
    await import_file(api.services.intake, demo_path(), actor=DEMO_ACTOR)
    async with api.engine.begin() as connection:
        # As if the facts on disk had been judged by an older policy, and were wrong.
        await connection.execute(text("UPDATE checkpoints SET projection = 'read_model.policy-0'"))
        await connection.execute(text("DELETE FROM facts"))
    settings = dataclasses.replace(api.services.settings)
    async with running_api(settings) as restarted:
        for _ in range(100):
            if await restarted.scalar(
                    f"SELECT count(*) FROM checkpoints WHERE projection = '{PROJECTION_NAME}'"):
                break
            await asyncio.sleep(0.05)
        present, replayed = await present_and_replayed(restarted)
        assert present == replayed
        assert await restarted.scalar("SELECT count(*) FROM facts") > 0
