"""What operators watch: readiness that follows the database, and Prometheus metrics."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from api.http.observability import JsonLines, WithRequestId
from tests.databases import admin_connection
from tests.integration.conftest import Api


async def ready(api: Api) -> tuple[int, dict[str, object]]:
    response = await api.client.get("/readyz")
    body: dict[str, object] = response.json()
    return response.status_code, body


async def test_ready_when_the_database_answers_and_the_read_model_is_caught_up(
        seeded: Api) -> None:
    assert await ready(seeded) == (200, {"ready": True, "database": "ok",
                                         "migrations": "ok", "projection": "ok"})
    assert (await seeded.client.get("/healthz")).text == "ok"


async def test_not_ready_while_the_read_model_is_behind(seeded: Api) -> None:
    async with seeded.engine.begin() as connection:
        await connection.execute(text("UPDATE checkpoints SET position = position - 2"))
    status, body = await ready(seeded)
    assert status == 503 and body["projection"] == "2 events behind"


async def test_not_ready_while_the_database_is_gone_and_ready_again_after(
        seeded: Api, database_url: str) -> None:
    name = make_url(database_url).database
    admin = await admin_connection(database_url)
    try:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = $1 AND pid <> pg_backend_pid()", name)
        status, body = await ready(seeded)
        assert status == 503 and str(body["database"]).startswith("unreachable")
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        for _ in range(50):  # the pool reconnects by itself; no restart
            if (await ready(seeded))[0] == 200:
                break
            await asyncio.sleep(0.1)
        assert (await ready(seeded))[0] == 200
        body = await seeded.post("{ timelines { slug } }")
        assert body["data"]["timelines"] == [{"slug": "khasham"}]
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.close()


HELD = 3  # connections a test checks out of the pool and holds


def sample(metrics: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in metrics.splitlines():
        match = re.fullmatch(rf"{name}(?:\{{(.*)\}})? (\S+)", line)
        if match and ",".join(sorted((match[1] or "").split(","))) == wanted:
            return float(match[2])
    raise AssertionError(f"no {name}{{{wanted}}} in\n{metrics}")


async def test_metrics_count_operations_appends_and_the_pool(seeded: Api) -> None:
    await seeded.post("{ timelines { slug } }")
    await seeded.ok("reportFact", {
        "timeline": "khasham", "entry": "tank", "attribute": "killed",
        "value": {"count": {"best": 5}}, "source": "pentagon", "stance": "CLAIMED",
        "reportedAt": "2018-02-08T12:00:00Z"})
    await seeded.post("{ nope }")
    response = await seeded.client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert sample(text, "chronicle_graphql_operations_total", operation="timelines",
                  kind="query", outcome="ok") == 1
    assert sample(text, "chronicle_graphql_operations_total", operation="reportFact",
                  kind="mutation", outcome="ok") == 1
    assert sample(text, "chronicle_graphql_operations_total", operation="other",
                  kind="query", outcome="error") == 1
    assert sample(text, "chronicle_graphql_operation_seconds_count", operation="reportFact",
                  kind="mutation") == 1
    # the seeded story (4 commands) and the report, in however many group commits
    assert sample(text, "chronicle_appended_events_total") == 5
    assert sample(text, "chronicle_append_batch_commands_sum") == 5
    assert sample(text, "chronicle_projection_lag_events") == 0
    assert sample(text, "chronicle_subscriptions") == 0
    assert sample(text, "chronicle_db_pool_size") == seeded.services.settings.pool_size


async def test_the_pool_gauge_counts_the_connections_checked_out(seeded: Api) -> None:
    async def in_use() -> float:
        response = await seeded.client.get("/metrics")
        return sample(response.text, "chronicle_db_pool_in_use")

    before = await in_use()
    async with contextlib.AsyncExitStack() as held:
        for _ in range(HELD):
            connection = await held.enter_async_context(seeded.engine.connect())
            await connection.execute(text("SELECT 1"))
        holding = await in_use()
    after = await in_use()
    # The log feed reads the log on a pooled connection now and then: a scrape may count
    # that one too, so each comparison allows one connection more or less.
    assert holding >= HELD
    assert HELD - 1 <= holding - before <= HELD + 1, (before, holding)
    assert HELD - 1 <= holding - after <= HELD + 1, (holding, after)


async def test_every_response_carries_a_request_id(api: Api) -> None:
    given = await api.client.get("/healthz", headers={"x-request-id": "desk-42"})
    assert given.headers["x-request-id"] == "desk-42"
    made = await api.client.post("/graphql", json={"query": "{ __typename }"},
                                 headers={"x-request-id": "<script>"})
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])


async def test_a_masked_error_is_logged_once_with_its_request_id_and_error_id(
        seeded: Api, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    from api.services.reading import PresentView

    async def broken(self: PresentView) -> None:
        raise RuntimeError("the database said: password=hunter2")

    monkeypatch.setattr(PresentView, "row", broken)
    caplog.handler.addFilter(WithRequestId())
    response = await seeded.client.post(
        "/graphql", json={"query": '{ timeline(slug: "khasham") { slug } }'},
        headers={"x-request-id": "req-7"})
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "INTERNAL"
    assert "hunter2" not in response.text and "Traceback" not in response.text
    [record] = [r for r in caplog.records if r.name == "chronicle.errors"]
    assert record.request_id == "req-7"  # type: ignore[attr-defined]
    assert error["extensions"]["errorId"] in record.getMessage()
    line = json.loads(JsonLines().format(record))
    assert line["request_id"] == "req-7" and "RuntimeError" in line["exception"]
