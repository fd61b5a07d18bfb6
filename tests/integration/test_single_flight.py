"""Concurrent requests for the same uncached timeline read share one execution (single
flight, api/graphql/single_flight.py), and nothing else is shared. (And the other half of
the same work on concurrent reads: the app freezes what startup built out of the garbage
collector's reach, last test.)

Every test holds the reads' executions at a gate (the view's ``schema.execute``, wrapped),
so that requests pile up behind the first one deterministically, then lets them go.
"""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from graphql import GraphQLError
from strawberry.types import ExecutionResult

from api.graphql.view import ChronicleGraphQL
from api.services.demo import DEMO_ACTOR, demo_path
from api.services.ndjson_import import import_file
from api.settings import Settings
from tests.integration.conftest import Api, running_api
from tests.integration.demo_queries import READS

# A pure timeline read (the response cache's kind): the demo's reads less `sources`.
TIMELINE_READ = READS.replace("sources { id name reliability } }", "}")
FOLLOWERS = 11


def graphql_view(api: Api) -> ChronicleGraphQL:
    for route in api.app.routes:
        endpoint = getattr(route, "endpoint", None)
        if isinstance(endpoint, ChronicleGraphQL):
            return endpoint
    raise AssertionError("no GraphQL route")


class Gate:
    """The view's ``schema.execute``, wrapped: counts the executions of reads and holds
    them until ``release()``; the first one may be made to answer ``first`` instead (an
    ExecutionResult) or to raise it (an exception). Mutations pass straight through."""

    def __init__(self, view: ChronicleGraphQL, monkeypatch: pytest.MonkeyPatch,
                 first: ExecutionResult | Exception | None = None) -> None:
        self.real = view.schema.execute
        self.first = first
        self.executions = 0
        self.opened = asyncio.Event()
        monkeypatch.setattr(view.schema, "execute", self.execute)

    async def execute(self, query: str | None, *args: Any, **kwargs: Any) -> ExecutionResult:
        if query is not None and query.lstrip().startswith("mutation"):
            return await self.real(query, *args, **kwargs)
        self.executions += 1
        number = self.executions
        await self.opened.wait()
        first = self.first if number == 1 else None
        if isinstance(first, Exception):
            raise first
        if first is not None:
            return first
        result: ExecutionResult = await self.real(query, *args, **kwargs)
        return result

    def release(self) -> None:
        self.opened.set()


async def until(condition: Callable[[], bool]) -> None:
    """Wait for ``condition`` (bounded, so a broken flight fails instead of hanging)."""
    for _ in range(30_000):
        if condition():
            return
        await asyncio.sleep(0.002)
    raise AssertionError("the requests never got there")


def get(api: Api, **variables: Any) -> asyncio.Task[httpx.Response]:
    params = {"query": TIMELINE_READ}
    if variables:
        params["variables"] = json.dumps(variables)
    return asyncio.ensure_future(api.client.get("/graphql", params=params))


def post(api: Api, **variables: Any) -> asyncio.Task[httpx.Response]:
    return asyncio.ensure_future(api.client.post(
        "/graphql", json={"query": TIMELINE_READ, "variables": variables}))


def data(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]
    return result


@pytest.fixture
async def demo(api: Api) -> Api:
    await import_file(api.services.intake, demo_path(), actor=DEMO_ACTOR)
    return api


async def test_identical_concurrent_reads_execute_once(
        demo: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    view = graphql_view(demo)
    gate = Gate(view, monkeypatch)
    shared = view.flights.shared
    leader = get(demo)
    await until(lambda: gate.executions == 1)
    followers = [get(demo) for _ in range(FOLLOWERS)]
    await until(lambda: view.flights.waiting == FOLLOWERS)
    gate.release()
    responses = await asyncio.gather(leader, *followers)
    assert gate.executions == 1
    assert view.flights.shared == shared + FOLLOWERS
    assert len(view.flights) == 0 and view.flights.waiting == 0
    assert {r.status_code for r in responses} == {200}
    assert len({r.content for r in responses}) == 1
    assert len({r.headers["etag"] for r in responses}) == 1
    assert len({r.headers["cache-control"] for r in responses}) == 1
    # The shared answer is what executing the read alone gives (a new variable: no cache).
    alone = await post(demo, uncached=1)
    assert gate.executions == 2
    assert data(alone) == data(responses[0])


@pytest.mark.parametrize("failure", [
    ExecutionResult(data=None, errors=[GraphQLError("the leader's own error")]),
    RuntimeError("the leader's execution broke")], ids=["errors", "raises"])
async def test_a_failing_leader_leaves_its_followers_to_execute(
        demo: Api, monkeypatch: pytest.MonkeyPatch,
        failure: ExecutionResult | Exception) -> None:
    view = graphql_view(demo)
    gate = Gate(view, monkeypatch, first=failure)
    leader = post(demo)
    await until(lambda: gate.executions == 1)
    followers = [post(demo) for _ in range(FOLLOWERS)]
    await until(lambda: view.flights.waiting == FOLLOWERS)
    gate.release()
    outcomes = await asyncio.gather(leader, *followers, return_exceptions=True)
    if isinstance(failure, Exception):
        assert outcomes[0] is failure  # the in-process transport re-raises the app's error
    else:
        answer = outcomes[0]
        assert isinstance(answer, httpx.Response)
        assert answer.json()["errors"][0]["message"] == "the leader's own error"
    answers = [data(r) for r in outcomes[1:] if isinstance(r, httpx.Response)]
    assert len(answers) == FOLLOWERS
    assert all(a == answers[0] for a in answers)
    assert answers[0]["timeline"]["entries"]["nodes"]
    assert gate.executions == 1 + FOLLOWERS  # none of them took the leader's answer
    assert len(view.flights) == 0


async def test_a_cancelled_leader_does_not_strand_its_followers(
        demo: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    view = graphql_view(demo)
    gate = Gate(view, monkeypatch)
    leader = get(demo)
    await until(lambda: gate.executions == 1)
    followers = [get(demo) for _ in range(FOLLOWERS)]
    await until(lambda: view.flights.waiting == FOLLOWERS)
    leader.cancel()  # its client went away
    with pytest.raises(asyncio.CancelledError):
        await leader
    # One follower takes over, the others follow it.
    await until(lambda: gate.executions == 2 and view.flights.waiting == FOLLOWERS - 1)
    assert len(view.flights) == 1
    gate.release()
    responses = await asyncio.gather(*followers)
    assert gate.executions == 2
    assert len({r.content for r in responses}) == 1
    assert len({r.headers["etag"] for r in responses}) == 1
    assert data(responses[0])["timeline"]["entries"]["nodes"]
    assert len(view.flights) == 0 and view.flights.waiting == 0


async def test_a_cancelled_follower_leaves_the_execution_alone(
        demo: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    view = graphql_view(demo)
    gate = Gate(view, monkeypatch)
    leader = post(demo)
    await until(lambda: gate.executions == 1)
    followers = [post(demo) for _ in range(FOLLOWERS)]
    await until(lambda: view.flights.waiting == FOLLOWERS)
    followers[0].cancel()
    with pytest.raises(asyncio.CancelledError):
        await followers[0]
    assert view.flights.waiting == FOLLOWERS - 1 and len(view.flights) == 1
    gate.release()
    responses = await asyncio.gather(leader, *followers[1:])
    assert gate.executions == 1
    assert len({r.content for r in responses}) == 1
    assert data(responses[0])["timeline"]["entries"]["nodes"]
    assert len(view.flights) == 0


async def test_reads_with_different_keys_do_not_share(
        demo: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    view = graphql_view(demo)
    gate = Gate(view, monkeypatch)
    past = {"asOf": "2018-02-14T00:00:00Z", "axis": "REPORTED"}
    now = [post(demo) for _ in range(4)]
    then = [post(demo, **past) for _ in range(4)]
    await until(lambda: gate.executions == 2 and view.flights.waiting == 6)
    assert len(view.flights) == 2
    gate.release()
    now_answers = [data(r) for r in await asyncio.gather(*now)]
    then_answers = [data(r) for r in await asyncio.gather(*then)]
    assert gate.executions == 2
    assert all(a == now_answers[0] for a in now_answers)
    assert all(a == then_answers[0] for a in then_answers)
    assert now_answers[0] != then_answers[0]
    assert len(view.flights) == 0


async def test_a_read_after_a_write_does_not_join_a_read_from_before_it(
        demo: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    view = graphql_view(demo)
    gate = Gate(view, monkeypatch)
    before = post(demo)  # keyed by the timeline's version before the write, held
    await until(lambda: gate.executions == 1)
    await demo.ok("reportFact", {"timeline": "khasham-2018", "entry": "tank-strike",
                                 "attribute": "weapon", "value": {"text": "drone"},
                                 "source": "kremlin", "stance": "CONFIRMED",
                                 "reportedAt": "2018-02-16T00:00:00Z"})
    version = (await demo.services.read_model.timeline("khasham-2018")).version  # type: ignore[union-attr]
    after = post(demo)
    await until(lambda: gate.executions == 2)  # its own execution, not the held one
    assert len(view.flights) == 2 and view.flights.waiting == 0
    gate.release()
    assert data(await after)["timeline"]["version"] == version
    assert data(await before)["timeline"]["version"] <= version
    assert len(view.flights) == 0


async def test_the_app_freezes_what_startup_built_until_it_stops(database_url: str) -> None:
    async with running_api(Settings(database_url=database_url, migrate_on_start=False)):
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0  # collectable again once the app has stopped
