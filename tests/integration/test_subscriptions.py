"""Subscriptions over graphql-transport-ws, fed by LISTEN/NOTIFY across app instances."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import text

from api.services.auth import Scope
from api.settings import Settings
from tests.integration.conftest import Api, running_api
from tests.integration.ws import GraphQLWs, Rejected, served

EVENTS = "subscription($after: Int!) { events(after: $after) { position stream type hash } }"
CHANGED = ("subscription { timelineChanged(slug: \"khasham\") { slug version "
           "events { type } facts { attribute value { ... on Count { best } } low high "
           "disputed } } }")


@pytest.fixture
async def other(api: Api) -> AsyncIterator[Api]:
    """A second app instance on the same database: its appends reach the first one's
    subscribers only through PostgreSQL."""
    settings = replace(api.services.settings)
    async with running_api(settings) as second:
        yield second


@pytest.fixture
async def url(api: Api) -> AsyncIterator[str]:
    async with served(api.app) as ws_url:
        await api.services.feed.listening()
        yield ws_url


def killed(i: int) -> dict[str, Any]:
    return {"timeline": "khasham", "entry": "tank", "attribute": "killed",
            "value": {"count": {"best": i}}, "source": "pentagon", "stance": "CLAIMED",
            "reportedAt": "2018-02-08T12:00:00Z", "idempotencyKey": f"k-{i}"}


async def positions(client: GraphQLWs, id: str, until: int) -> list[int]:
    seen: list[int] = []
    while not seen or seen[-1] < until:
        seen.append((await client.next_data(id))["events"]["position"])
    return seen


async def test_events_gives_the_backlog_then_live_events_with_no_gap_and_no_duplicate(
        seeded: Api, other: Api, url: str) -> None:
    async with GraphQLWs(url) as client:
        await client.subscribe("log", EVENTS, {"after": 1})
        for i in range(5):
            await other.ok("reportFact", killed(i))
        head = await seeded.event_count()
        assert await positions(client, "log", head) == list(range(2, head + 1))


async def test_no_event_is_lost_or_repeated_while_appends_race_the_subscription(
        seeded: Api, other: Api, url: str) -> None:
    async def append(n: int) -> None:
        for i in range(n):
            await other.ok("reportFact", killed(100 + i))

    writer = asyncio.create_task(append(30))
    async with GraphQLWs(url) as client:
        await asyncio.sleep(0.05)
        await client.subscribe("log", EVENTS, {"after": 0})
        await writer
        head = await seeded.event_count()
        assert await positions(client, "log", head) == list(range(1, head + 1))


async def test_events_can_be_narrowed_by_a_filter(seeded: Api, other: Api, url: str) -> None:
    async with GraphQLWs(url) as client:
        await client.subscribe("reports", "subscription { events(after: 0, filter: "
                               "{types: [\"FactReported\"]}) { type position } }")
        await other.ok("reportFact", killed(1))
        event = (await client.next_data("reports"))["events"]
        assert event == {"type": "FactReported", "position": await seeded.event_count()}


async def test_timeline_changed_sends_the_facts_a_commit_changed(
        seeded: Api, other: Api, url: str) -> None:
    async with GraphQLWs(url) as client:
        await client.subscribe("tl", CHANGED)
        await asyncio.sleep(0.2)  # the watcher starts from the moment of subscribing
        await other.ok("reportFact", killed(5))
        change = (await client.next_data("tl"))["timelineChanged"]
        assert change["slug"] == "khasham"
        assert [e["type"] for e in change["events"]] == ["FactReported"]
        assert change["facts"] == [{"attribute": "killed", "value": {"best": 5}, "low": 5,
                                    "high": 5, "disputed": False}]
        version = change["version"]

        await other.ok("reportFact", {**killed(200), "source": "business-insider",
                                      "idempotencyKey": "k-bi"})
        change = (await client.next_data("tl"))["timelineChanged"]
        assert change["version"] > version
        assert [f["attribute"] for f in change["facts"]] == ["killed"]
        assert change["facts"][0]["high"] == 200


async def test_timeline_changed_on_an_unknown_timeline_is_not_found(api: Api, url: str) -> None:
    async with GraphQLWs(url) as client:
        await client.subscribe("x", "subscription { timelineChanged(slug: \"nope\") { slug } }")
        message = await client.receive("x")
        assert message["type"] in {"next", "error"}
        errors = message["payload"]["errors"] if message["type"] == "next" \
            else message["payload"]
        assert errors[0]["extensions"]["code"] == "NOT_FOUND"


async def test_a_filter_no_event_could_match_is_refused_as_the_query_refuses_it(
        api: Api, url: str) -> None:
    query = ("subscription($f: EventFilter) { events(after: 0, filter: $f) "
             "{ position } }")
    async with GraphQLWs(url) as client:
        for id, filter in [("stream", {"stream": "timeline:a\u0000"}),
                           ("types", {"types": ["\ud800"]})]:
            await client.subscribe(id, query, {"f": filter})
            message = await client.receive(id)
            assert message["type"] == "next", message
            [error] = message["payload"]["errors"]
            assert error["extensions"] == {"code": "BAD_INPUT", "field": id}, error


async def test_a_lost_listening_connection_reconnects_and_catches_up(
        seeded: Api, other: Api, url: str) -> None:
    feed = seeded.services.feed
    async with GraphQLWs(url) as client:
        start = await seeded.event_count()
        await client.subscribe("log", EVENTS, {"after": start})
        listener = feed.listener_pid
        async with seeded.engine.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"),
                                     {"pid": listener})
        for i in range(3):  # appended while nobody in this instance listens
            await other.ok("reportFact", killed(i))
        head = await seeded.event_count()
        assert await positions(client, "log", head) == list(range(start + 1, head + 1))
        assert feed.listener_pid not in (None, listener)


async def test_a_token_in_connection_params_is_checked(api: Api, url: str) -> None:
    with pytest.raises(Rejected) as refused:
        async with GraphQLWs(url, {"authorization": "Bearer not-a-token"}):
            pass
    assert refused.value.code == 4403
    async with GraphQLWs(url, {"authorization": f"Bearer {api.token}"}) as client:
        await client.subscribe("log", EVENTS, {"after": 0})


async def test_a_deployment_that_requires_read_tokens_refuses_anonymous_sockets(
        database_url: str) -> None:
    settings = Settings(database_url=database_url, migrate_on_start=False,
                        require_read_token=True)
    async with running_api(settings) as locked, served(locked.app) as ws_url:
        with pytest.raises(Rejected) as refused:
            async with GraphQLWs(ws_url):
                pass
        assert refused.value.code == 4403
        reader = await locked.services.tokens.create("reader", Scope.READ)
        async with GraphQLWs(ws_url, {"authorization": f"Bearer {reader}"}) as client:
            await client.subscribe("log", EVENTS, {"after": 0})
            await locked.ok("createTimeline", {"slug": "t", "title": "T"})
            assert (await client.next_data("log"))["events"]["position"] == 1


async def test_browser_apps_on_the_cors_origins_may_subscribe_others_may_not(
        api: Api, url: str, database_url: str) -> None:
    async with GraphQLWs(url, origin="https://any.example"):  # the default: "*"
        pass
    settings = Settings(database_url=database_url, migrate_on_start=False,
                        cors_origins=("https://news.example",))
    async with running_api(settings) as listed, served(listed.app) as ws_url:
        async with GraphQLWs(ws_url, origin="https://news.example") as client:
            await client.subscribe("log", EVENTS, {"after": 0})
        with pytest.raises(Rejected) as refused:
            async with GraphQLWs(ws_url, origin="https://elsewhere.example"):
                pass
        assert refused.value.code == 403


async def test_subscriptions_per_connection_are_capped(database_url: str) -> None:
    settings = Settings(database_url=database_url, migrate_on_start=False,
                        max_subscriptions_per_connection=2)
    async with running_api(settings) as capped, served(capped.app) as ws_url, \
            GraphQLWs(ws_url) as client:
        for id in ("a", "b", "c"):
            await client.subscribe(id, EVENTS, {"after": 0})
        refused = await client.receive("c")
        assert refused["type"] == "error"
        assert "limit" in refused["payload"][0]["message"]


async def test_scopes_hold_over_websocket_too(api: Api, url: str) -> None:
    reader = await api.services.tokens.create("reader", Scope.READ)
    create = ('mutation { createTimeline(input: {slug: "ws", title: "WS"}) '
              "{ event { position } } }")
    async with GraphQLWs(url, {"authorization": f"Bearer {reader}"}) as client:
        await client.subscribe("w", create)
        message = await client.receive("w")
        errors = message["payload"]["errors"] if message["type"] == "next" \
            else message["payload"]
        assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    async with GraphQLWs(url) as anonymous:
        await anonymous.subscribe("w", create)
        message = await anonymous.receive("w")
        errors = message["payload"]["errors"] if message["type"] == "next" \
            else message["payload"]
        assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await api.event_count() == 0
