from __future__ import annotations

import dataclasses
import logging

import pytest

from api.services.auth import Scope
from api.settings import Settings
from tests.integration.conftest import Api, running_api

TIMELINE = {"slug": "khasham", "title": "Khasham"}


async def test_writes_need_a_write_token(api: Api) -> None:
    body = await api.mutate("createTimeline", TIMELINE, token="")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    body = await api.mutate("createTimeline", TIMELINE, token="chr_not-a-real-token")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    reader = await api.services.tokens.create("reader", Scope.READ)
    body = await api.mutate("createTimeline", TIMELINE, token=reader)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await api.event_count() == 0
    response = await api.client.post("/graphql", json={"query": "{ timelines { slug } }"},
                                     headers={"authorization": "Basic dXNlcjpwYXNz"})
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_the_actor_is_the_token_name(api: Api) -> None:
    admin = await api.services.tokens.create("night desk", Scope.ADMIN)
    body = await api.mutate("createTimeline", TIMELINE, "event { actor }", token=admin)
    assert body["data"]["createTimeline"]["event"]["actor"] == "night desk"


async def test_tokens_are_stored_only_as_digests(api: Api) -> None:
    stored = await api.scalar("SELECT string_agg(token_hash, ',') FROM tokens")
    assert api.token not in stored and len(stored.split(",")[0]) == 64


async def test_reads_are_public_unless_the_deployment_requires_a_token(api: Api) -> None:
    assert "errors" not in await api.post("{ timelines { slug } }", token="")
    settings = dataclasses.replace(api.services.settings, require_read_token=True)
    async with running_api(settings) as private:
        body = await private.post("{ timelines { slug } }", token="")
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        reader = await private.services.tokens.create("reader", Scope.READ)
        assert "errors" not in await private.post("{ timelines { slug } }", token=reader)


async def test_fields_that_ask_for_the_token_at_once_all_see_it(api: Api) -> None:
    # The token has not been seen by this process yet, so its lookup waits on the database
    # while the other root fields ask for it too.
    body = await api.post("{ timelines { slug } sources { id } verifyLog { ok } }")
    assert "errors" not in body, body["errors"]
    assert body["data"]["verifyLog"] == {"ok": True}


async def test_writes_over_a_tokens_rate_are_refused_and_not_stored(
        database_url: str) -> None:
    settings = Settings(database_url=database_url, migrate_on_start=False, write_rate=0.01,
                        write_burst=2)
    async with running_api(settings) as api:
        await api.ok("createTimeline", {"slug": "a", "title": "A"})
        await api.ok("createTimeline", {"slug": "b", "title": "B"})
        refused = await api.mutate("createTimeline", {"slug": "c", "title": "C"})
        assert refused["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert await api.event_count() == 2


async def test_tokens_never_reach_the_logs(database_url: str,
                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with running_api(Settings(database_url=database_url,
                                    migrate_on_start=False)) as api:
        await api.ok("createTimeline", {"slug": "s", "title": "S"})
        await api.post("{ verifyLog { ok } }")
        await api.post("{ nope }")
        bad = await api.post("{ timelines { slug } }", token=api.token + "x")
        assert bad["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    logged = "\n".join(r.getMessage() + str(r.args) for r in caplog.records)
    assert api.token not in logged and api.token[8:] not in logged
