"""Reads from a real streaming-replication standby, as clients use them (issue 19).

Each test gets a primary and a standby of its own (tests/e2e/standby.py), tells the Khasham
story on the primary, lets the standby catch up and then holds it back by an apply delay, so
that the standby really is behind when the tests read. Clients do what the API asks of them:
send the last position they were given (``Chronicle-Position``, a mutation's
``extensions.position``) as ``Chronicle-Min-Position``.

Which server answered a read is not named in its answer; a read shows it came from the
lagging standby when its ``Chronicle-Position`` is below a position the primary had
already committed when the read began.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import httpx

from api.settings import Settings
from tests.e2e.standby import ReplicatedPair, replicated_pair_fixture  # noqa: F401
from tests.integration.conftest import Api, running_api
from tests.integration.khasham import report, story
from tests.integration.ws import GraphQLWs, served

T = TypeVar("T")

DATABASE = "chronicle_replicas"
APPLY_DELAY_MS = 1500
REPORTS = ('query($entry: String!) { timeline(slug: "khasham") { version '
           "entry(id: $entry) { reports { quote } } } }")
VERSION = '{ timeline(slug: "khasham") { version } }'
TIMELINES = "{ timelines { version } }"  # not kept in the response cache
CHANGED = ('subscription { timelineChanged(slug: "khasham") { version events { type } '
           "facts { attribute value { ... on Count { best } } } } }")


# -- the story, on a primary with a lagging standby --------------------------------------------


@asynccontextmanager
async def khasham_on(pair: ReplicatedPair, tmp_path: Path, *, wait: float,
                     poll: float = 0.05, read_concurrency: int = 4) -> AsyncIterator[Api]:
    """An app reading from ``pair``'s standby (waiting up to ``wait`` seconds for it to reach
    a client's position), the Khasham story told, the standby caught up with it and then
    held back by APPLY_DELAY_MS."""
    await pair.create_database(DATABASE)
    settings = Settings(database_url=pair.primary_url_for(DATABASE),
                        replica_urls=(pair.standby_url_for(DATABASE),), data_dir=tmp_path,
                        migrate_on_start=True, replica_wait_seconds=wait,
                        replica_poll_seconds=poll, read_concurrency=read_concurrency)
    async with running_api(settings) as api:
        await story(api)
        head = await api.event_count()
        await pair.wait_replayed()
        await standby_state(api, lambda s: s["up"] and s["position"] == head,
                            what=f"the app to see the standby at {head}")
        await pair.set_apply_delay(APPLY_DELAY_MS)
        yield api


async def eventually(probe: Callable[[], Awaitable[T | None]], *, what: str,
                     seconds: float = 15) -> T:
    """``probe()``'s first answer other than None, asked every 20 ms for ``seconds``."""
    deadline = time.monotonic() + seconds
    while (found := await probe()) is None:
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        await asyncio.sleep(0.02)
    return found


async def ready(api: Api) -> dict[str, Any]:
    response = await api.client.get("/readyz")
    body: dict[str, Any] = response.json()
    assert response.status_code == 200, body
    return body


async def standby_state(api: Api, wanted: Callable[[dict[str, Any]], bool], *,
                        what: str) -> dict[str, Any]:
    """The standby as /readyz shows it, once it is as ``wanted``."""

    async def probe() -> dict[str, Any] | None:
        [state] = (await ready(api))["replicas"]
        return state if wanted(state) else None

    return await eventually(probe, what=what)


async def standby_at(api: Api, position: int) -> None:
    """Once ``api`` sees its standby holding ``position``."""
    await standby_state(api, lambda s: s["up"] and s["position"] >= position,
                        what=f"the standby at {position}")


def replica_up_metric(metrics: str) -> float:
    [value] = re.findall(r'^chronicle_replica_up\{replica="127\.0\.0\.1:\d+/'
                         + DATABASE + r'"\} (\S+)$', metrics, re.MULTILINE)
    return float(value)


# -- what a client sends and gets -------------------------------------------------------------


def killed(best: int, quote: str, entry: str = "tank") -> dict[str, Any]:
    return report(entry, "killed", {"count": {"best": best}}, "pentagon", "CLAIMED",
                  "2018-02-08T12:00:00Z", quote=quote)


async def write(api: Api, input: dict[str, Any]) -> int:
    """reportFact; the position its answer names (in the body and in the header)."""
    response = await api.client.post(
        "/graphql", headers={"authorization": f"Bearer {api.token}"},
        json={"query": "mutation($input: ReportFactInput!) { reportFact(input: $input) "
                       "{ event { position } } }", "variables": {"input": input}})
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    position: int = body["extensions"]["position"]
    assert body["data"]["reportFact"]["event"]["position"] == position
    assert response.headers["chronicle-position"] == str(position)
    return position


def asking(min_position: int | None) -> dict[str, str]:
    return {} if min_position is None else {"chronicle-min-position": str(min_position)}


async def read(api: Api, query: str, variables: dict[str, Any] | None = None, *,
               min_position: int | None = None) -> tuple[dict[str, Any], int]:
    """A read's data and the position it names (``Chronicle-Position``)."""
    response = await api.client.post("/graphql", headers=asking(min_position),
                                     json={"query": query, "variables": variables or {}})
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data, int(response.headers["chronicle-position"])


def quotes(data: dict[str, Any]) -> set[str]:
    return {r["quote"] for r in data["timeline"]["entry"]["reports"]}


async def get(api: Api, query: str, *, min_position: int | None = None,
              if_none_match: str | None = None) -> httpx.Response:
    headers = asking(min_position)
    if if_none_match is not None:
        headers["if-none-match"] = if_none_match
    response = await api.client.get("/graphql", params={"query": query}, headers=headers)
    assert response.status_code in (200, 304), response.text
    return response


# -- the tests ---------------------------------------------------------------------------------


async def test_concurrent_writers_each_read_their_own_write_while_the_standby_lags(
        replicated_pair: ReplicatedPair, tmp_path: Path) -> None:
    async with khasham_on(replicated_pair, tmp_path, wait=4.0) as patient, \
            running_api(replace(patient.services.settings, migrate_on_start=False,
                                replica_wait_seconds=0.1)) as hasty:
        # The lag is real: a read naming no position is answered by the standby, which
        # does not hold the write yet.
        position = await write(patient, killed(1, "not on the standby yet"))
        data, read_at = await read(patient, REPORTS, {"entry": "tank"})
        assert read_at < position
        assert data["timeline"]["version"] < position
        assert "not on the standby yet" not in quotes(data)

        async def writer(i: int) -> None:
            """Writes through one server, reads through the same one (which waits for the
            standby) or another (which soon gives up and asks the primary)."""
            reader = patient if i % 2 else hasty
            entry = ("strike", "tank", "funerals")[i % 3]
            for turn in range(2):
                quote = f"writer {i}, turn {turn}"
                position = await write(patient, killed(10 * i + turn, quote, entry))
                data, read_at = await read(reader, REPORTS, {"entry": entry},
                                           min_position=position)
                assert quote in quotes(data), (quote, position, read_at)
                assert data["timeline"]["version"] >= position
                assert read_at >= position

        await asyncio.gather(*(writer(i) for i in range(6)))


class Reader:
    """A client that sends the greatest position it was given, by any server, and checks
    that it never sees the timeline older than it saw it, nor an answer newer than the
    position it names."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.seen = 0
        self.versions: list[int] = []

    def given(self, position: int) -> None:
        self.seen = max(self.seen, position)

    async def read(self, server: Api, query: str) -> None:
        data, read_at = await read(server, query, min_position=self.seen)
        [version] = [t["version"] for t in data.get("timelines", [])] or [
            data["timeline"]["version"]]
        # Every event after the story is on this timeline: its version is the position
        # the answer reflects.
        where = (f"{self.name} sent {self.seen}, had seen versions {self.versions[-3:]}, "
                 f"got version {version} named as position {read_at} ({query})")
        assert version >= self.seen, f"older than asked: {where}"
        assert read_at >= version, f"newer than the position it names: {where}"
        assert not self.versions or version >= self.versions[-1], f"went back: {where}"
        self.versions.append(version)
        self.given(read_at)


async def test_clients_sending_the_last_position_they_saw_never_go_back(
        replicated_pair: ReplicatedPair, tmp_path: Path) -> None:
    """Readers at once, through two servers, while another newsroom writes on: some
    write and read in turn, some only read, some follow the timeline live (as the live
    embed does: a read asking for each new position as it is announced)."""
    # One read executing at a time, as on a small server: reads queue, and commits land
    # between a read's arrival and its execution.
    async with khasham_on(replicated_pair, tmp_path, wait=0.1, read_concurrency=1) as one, \
            running_api(replace(one.services.settings, migrate_on_start=False)) as other:
        servers = (one, other)
        announced = 0
        writing = asyncio.Event()
        writing.set()

        async def someone_else() -> None:
            nonlocal announced
            n = 0
            while writing.is_set():
                announced = await write(other, killed(1000 + n, f"elsewhere {n}", "strike"))
                n += 1

        async def follower(number: int) -> Reader:
            reader = Reader(f"follower {number}")
            rng = random.Random(-number)
            for _ in range(60):
                reader.given(announced)
                await reader.read(rng.choice(servers), VERSION)
            return reader

        async def browser(number: int) -> Reader:
            """Only reads, as long as the others are at it."""
            reader = Reader(f"browser {number}")
            rng = random.Random(100 + number)
            while writing.is_set():
                await reader.read(rng.choice(servers), rng.choice([VERSION, TIMELINES]))
            return reader

        async def client(number: int) -> Reader:
            reader = Reader(f"client {number}")
            rng = random.Random(number)
            for step in range(40):
                server = rng.choice(servers)  # as a load balancer sends it
                action = rng.choice(["write"] + ["read"] * 12 + ["settle"])
                if action == "write":
                    reader.given(await write(server, killed(step, f"{number}.{step}")))
                elif action == "settle":
                    # Time passes: the standby reaches what the client saw, and serves it.
                    await standby_at(server, reader.seen)
                else:
                    await reader.read(server, rng.choice([VERSION, TIMELINES]))
            return reader

        elsewhere = asyncio.create_task(someone_else())
        browsers = [asyncio.create_task(browser(n)) for n in range(3)]
        try:
            readers = await asyncio.gather(*(follower(n) for n in range(3)),
                                           *(client(n) for n in range(3)))
        finally:
            writing.clear()
            ended = await asyncio.gather(elsewhere, *browsers, return_exceptions=True)
        for outcome in ended:
            if isinstance(outcome, BaseException):
                raise outcome
        readers += [r for r in ended if isinstance(r, Reader)]
        assert len(readers) == 9 and all(len(r.versions) > 20 for r in readers)


async def test_reads_go_to_the_primary_while_the_standby_is_down_and_back_after(
        replicated_pair: ReplicatedPair, tmp_path: Path) -> None:
    pair = replicated_pair
    async with khasham_on(pair, tmp_path, wait=0.3) as api:
        await pair.stop_standby()
        state = await standby_state(api, lambda s: not s["up"], what="the standby down")
        assert state["serving"] is False
        body = await ready(api)
        assert body["ready"] is True and body["database"] == "ok"
        assert replica_up_metric((await api.client.get("/metrics")).text) == 0

        # Only the primary answers now: even a read naming no position sees every write.
        head = await api.event_count()
        for kind in READS:
            for min_position in (None, head):
                assert await answered(api, kind, min_position) == "ok", (kind, min_position)
        position = await write(api, killed(2, "while the standby is down"))
        data, read_at = await read(api, REPORTS, {"entry": "tank"})
        assert read_at == position and "while the standby is down" in quotes(data)

        await pair.start_standby()
        await standby_state(api, lambda s: s["up"] and s["serving"] and s["lag_positions"] == 0,
                            what="the standby up and caught up")
        assert replica_up_metric((await api.client.get("/metrics")).text) == 1

        # Served by the standby again: it still lags, and a read right after a write shows
        # a position the primary had passed before the read began.
        position = await write(api, killed(3, "after the standby returned"))
        data, read_at = await read(api, REPORTS, {"entry": "tank"})
        assert read_at < position
        assert "while the standby is down" in quotes(data)
        assert "after the standby returned" not in quotes(data)
        data, read_at = await read(api, REPORTS, {"entry": "tank"}, min_position=position)
        assert read_at >= position and "after the standby returned" in quotes(data)


# Reads by each path that routes them: GraphQL through the response cache's key, the ETag
# or plain execution; the embed page and an export.
OTHER = "{ timelines { slug version } sources { id } }"
READS: dict[str, tuple[str, str, str | None]] = {
    "timeline read (POST, response cache)": ("POST", "/graphql", VERSION),
    "timeline read (GET, ETag)": ("GET", "/graphql", VERSION),
    "other read (POST)": ("POST", "/graphql", OTHER),
    "other read (GET, ETag)": ("GET", "/graphql", OTHER),
    "embed page": ("GET", "/embed/khasham", None),
    "TimelineJS export": ("GET", "/export/khasham/timelinejs.json", None),
}


async def answered(api: Api, kind: str, min_position: int | None) -> str:
    """"ok", or what went wrong with a read of that kind."""
    method, path, query = READS[kind]
    try:
        if method == "POST":
            response = await api.client.post(path, json={"query": query},
                                             headers=asking(min_position))
        else:
            response = await api.client.get(path, headers=asking(min_position),
                                            params={} if query is None else {"query": query})
    except Exception as e:  # the in-process transport raises what the app raised: a 500
        return f"raised {type(e).__name__}: {e}"
    if response.status_code != 200 or (query is not None and "errors" in response.json()):
        return f"{response.status_code}: {response.text[:300]}"
    return "ok"


async def test_a_read_routed_to_a_standby_that_just_stopped_is_answered_by_the_primary(
        replicated_pair: ReplicatedPair, tmp_path: Path) -> None:
    """The poller has not noticed yet (it asks every second): the read is routed to the
    stopped standby, fails there and must be answered by the primary."""
    pair = replicated_pair
    failures: dict[str, str] = {}
    async with khasham_on(pair, tmp_path, wait=0.3, poll=1.0) as api:
        for kind in READS:
            for _ in range(3):  # again if the poller noticed first
                state = await standby_state(api, lambda s: s["up"], what="the standby up")
                await pair.stop_standby()
                routed = (await ready(api))["replicas"][0]["up"]
                outcome = await answered(api, kind, None)
                await pair.start_standby()
                if routed:
                    break
            else:
                raise AssertionError(f"the poller always noticed first ({state})")
            if outcome != "ok":
                failures[kind] = outcome
    assert not failures, "\n".join(f"{kind}: {what}" for kind, what in failures.items())


async def subscribed(api: Api, subscriber: GraphQLWs, id: str) -> None:
    """Once changes reach the subscriber: the watcher starts from the moment of
    subscribing, so writes go on until one is delivered."""
    for n in range(50):
        position = await write(api, killed(n, f"until subscribed {n}", "strike"))
        try:
            change = await subscriber.next_data(id, seconds=0.2)
        except TimeoutError:
            continue
        while change["timelineChanged"]["version"] < position:
            change = await subscriber.next_data(id)
        return
    raise AssertionError("no change reached the subscriber")


async def test_subscribers_get_each_change_at_once_and_can_read_it_although_the_standby_lags(
        replicated_pair: ReplicatedPair, tmp_path: Path) -> None:
    async with khasham_on(replicated_pair, tmp_path, wait=4.0) as api, \
            served(api.app) as url, GraphQLWs(url) as subscriber:
        await api.services.feed.listening()
        await subscriber.subscribe("changes", CHANGED)
        await subscribed(api, subscriber, "changes")
        for best in (7, 70, 700):
            written = time.monotonic()
            position = await write(api, killed(best, f"{best} killed"))
            change = (await subscriber.next_data("changes", seconds=10))["timelineChanged"]
            # Before the standby could have applied the commit, and showing it.
            assert time.monotonic() - written < APPLY_DELAY_MS / 1000
            assert change["version"] == position
            assert [e["type"] for e in change["events"]] == ["FactReported"]
            [fact] = change["facts"]
            assert fact["attribute"] == "killed"
            assert fact["value"]["best"] == best
            # A reader told of the change can read it at once, naming its position.
            shown, _ = await read(api, REPORTS, {"entry": "tank"},
                                  min_position=change["version"])
            assert shown["timeline"]["version"] == position
            assert f"{best} killed" in quotes(shown)


async def test_cached_and_tagged_answers_never_hide_a_write_from_a_client_who_asks_for_it(
        replicated_pair: ReplicatedPair, tmp_path: Path) -> None:
    query = '{ timeline(slug: "khasham") { version entry(id: "tank") { reports { quote } } } }'
    async with khasham_on(replicated_pair, tmp_path, wait=0.3) as api:
        before = await get(api, query)
        old_tag, old_body = before.headers["etag"], before.json()
        assert (await get(api, query, if_none_match=old_tag)).status_code == 304

        position = await write(api, killed(4, "the new report"))
        # The lagging standby answers first, from before the write; it may keep the old
        # answer in the response cache and confirm the old tag.
        stale = await get(api, query, if_none_match=old_tag)
        assert stale.status_code == 304 and stale.headers["etag"] == old_tag
        assert int(stale.headers["chronicle-position"]) < position
        assert (await get(api, query)).json() == old_body

        # Asking for the write: never the old body, never a 304 for the old tag.
        fresh = await get(api, query, min_position=position, if_none_match=old_tag)
        assert fresh.status_code == 200 and fresh.headers["etag"] != old_tag
        new_tag, new_body = fresh.headers["etag"], fresh.json()
        assert new_body["data"]["timeline"]["version"] >= position
        assert "the new report" in quotes(new_body["data"])
        assert int(fresh.headers["chronicle-position"]) >= position
        again = await get(api, query, min_position=position)
        assert again.status_code == 200 and again.json() == new_body

        # Asking for nothing: whichever server answers, the body and the tag agree with
        # the version they show.
        answer = await get(api, query)
        shown = answer.json()
        if shown["data"]["timeline"]["version"] < position:
            assert shown == old_body and answer.headers["etag"] == old_tag
        else:
            assert shown == new_body and answer.headers["etag"] == new_tag

        # Once the standby has the write it serves the new answer, under the same tag.
        await standby_at(api, position)
        caught_up = await get(api, query, if_none_match=new_tag)
        assert caught_up.status_code == 304 and caught_up.headers["etag"] == new_tag
        assert (await get(api, query)).json() == new_body
