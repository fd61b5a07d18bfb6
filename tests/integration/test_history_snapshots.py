"""Written-down histories (``history_snapshots``): a process starts from one instead of
folding the log, answers exactly what a replay answers, and uses one only for the log, the
codec format and the policy version it was written for."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from api.cli.commands import app
from api.services import history_cache
from api.services.history_cache import HistoryCache
from api.services.reading import SnapshotView
from events import history_codec
from events.as_of import Axis
from events.chain import Envelope
from events.postgres import history_snapshots
from tests.conftest import ROOT
from tests.integration.conftest import Api
from tests.integration.replay_view import AsOfView
from tests.integration.test_as_of_history import everything, random_story
from tests.integration.test_cli import cli_db, count, runner

__all__ = ["cli_db"]  # a fixture

pytestmark = pytest.mark.integration


class Reads:
    """A fresh process's history cache (nothing kept yet), counting what it reads."""

    def __init__(self, api: Api, persist_every: int = 10**9) -> None:
        self.cache = HistoryCache(api.services.store, persist_every=persist_every)
        self.folded: list[int] = []  # envelopes read from the log, per read of it
        read = self.cache.store.read_timeline_world

        async def counted(slug: str, recorded_until: datetime | None = None,
                          after: int = 0) -> list[Envelope]:
            found = await read(slug, recorded_until=recorded_until, after=after)
            self.folded.append(len(found))
            return found

        self.cache.store = _Store(self.cache.store, counted)


class _Store:
    def __init__(self, store: Any, read: Any) -> None:
        self._store = store
        self.read_timeline_world = read

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


async def rows(api: Api) -> list[Any]:
    async with api.engine.connect() as connection:
        return list(await connection.execute(text(
            "SELECT timeline, position, format, policy_version FROM history_snapshots")))


async def assert_like_a_replay(api: Api, cache: HistoryCache, moments: list[datetime],
                               rng: random.Random) -> None:
    history = await cache.get("khasham")
    store = api.services.store
    probes = [(Axis.RECORDED, rng.choice(moments) + timedelta(microseconds=rng.randint(-5, 5)))
              for _ in range(8)]
    probes += [(Axis.REPORTED, datetime(2018, 2, 8, tzinfo=UTC)
                + timedelta(hours=rng.randint(0, 600))) for _ in range(8)]
    probes += [(Axis.RECORDED, moments[-1])]
    for axis, moment in probes:
        fast = await everything(SnapshotView(history, store, moment, axis))
        replayed = await everything(await AsOfView.load(store, "khasham", moment, axis))
        assert fast == replayed, (axis, moment)


async def test_a_fresh_process_starts_from_the_written_history_and_answers_like_a_replay(
        api: Api) -> None:
    rng = random.Random(16)
    moments = await random_story(api, rng, steps=40)
    await api.services.histories.persist("khasham")
    [(slug, position, form, policy)] = await rows(api)
    head = await api.services.store.head_position()
    assert (slug, position, form, policy) == ("khasham", head, history_codec.FORMAT,
                                              history_codec.POLICY_VERSION)
    fresh = Reads(api)
    await assert_like_a_replay(api, fresh.cache, moments, rng)
    assert fresh.folded[0] == 0  # nothing after the written history: the log was not folded
    # More of the story: the fresh process folds only what came after.
    moments += await random_story_more(api, rng)
    await assert_like_a_replay(api, fresh.cache, moments, rng)
    assert 0 < sum(fresh.folded) < head
    # And a process started now reads the written history, then the events after it.
    later = Reads(api)
    await assert_like_a_replay(api, later.cache, moments, rng)
    assert 0 < later.folded[0] < head


async def random_story_more(api: Api, rng: random.Random) -> list[datetime]:
    moments = []
    for day in range(6):
        await api.ok("reportFact", {
            "timeline": "khasham", "entry": rng.choice(["strike", "tank"]),
            "attribute": "killed", "value": {"count": {"best": rng.randint(1, 300)}},
            "source": rng.choice(["mfa", "pentagon"]), "stance": "CLAIMED",
            "reportedAt": f"2018-02-{10 + day:02d}T12:00:00Z"})
        await api.ok("gradeSource", {"source": "mfa", "reliability": rng.choice("ABCD")})
        await asyncio.sleep(0.002)
        moments.append(await api.scalar("SELECT clock_timestamp()"))
    return moments


async def test_a_written_history_that_does_not_match_the_log_is_ignored(api: Api) -> None:
    rng = random.Random(3)
    moments = await random_story(api, rng, steps=20)
    await api.services.histories.persist("khasham")
    async with api.engine.begin() as connection:  # as after a restore of another log
        await connection.execute(text("UPDATE history_snapshots SET hash = repeat('0', 64)"))
    fresh = Reads(api)
    await assert_like_a_replay(api, fresh.cache, moments, rng)
    assert fresh.folded[0] == await api.services.store.head_position()  # folded it all


async def test_a_history_written_under_another_policy_or_format_is_ignored_then_replaced(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(4)
    moments = await random_story(api, rng, steps=20)
    await api.services.histories.persist("khasham")
    head = await api.services.store.head_position()
    for name in ("POLICY_VERSION", "FORMAT"):
        value = getattr(history_snapshots, name)
        monkeypatch.setattr(history_snapshots, name, value + 1)
        monkeypatch.setattr(history_codec, name, value + 1)
        fresh = Reads(api)
        await assert_like_a_replay(api, fresh.cache, moments, rng)
        assert fresh.folded[0] == head
        await fresh.cache.persist("khasham")  # the next one written replaces it
        [(_, position, form, policy)] = await rows(api)
        assert (position, form, policy) == (head, history_codec.FORMAT,
                                            history_codec.POLICY_VERSION)
        monkeypatch.undo()


async def test_an_unreadable_history_is_folded_instead(api: Api) -> None:
    rng = random.Random(5)
    moments = await random_story(api, rng, steps=15)
    await api.services.histories.persist("khasham")
    async with api.engine.begin() as connection:
        await connection.execute(text("UPDATE history_snapshots SET history = 'garbage'"))
    fresh = Reads(api)
    await assert_like_a_replay(api, fresh.cache, moments, rng)
    assert fresh.folded[0] == await api.services.store.head_position()


async def test_a_serving_process_writes_a_grown_history_down_in_the_background(
        api: Api) -> None:
    rng = random.Random(6)
    moments = await random_story(api, rng, steps=25)
    reads = Reads(api, persist_every=10)
    await reads.cache.get("khasham")
    for _ in range(100):
        if not reads.cache._tasks:
            break
        await asyncio.sleep(0.05)
    [(_, position, _, _)] = await rows(api)
    assert position == await api.services.store.head_position()
    fresh = Reads(api)
    await assert_like_a_replay(api, fresh.cache, moments, rng)
    assert fresh.folded[0] == 0
    await reads.cache.close()


def test_a_short_import_leaves_the_history_to_the_first_read(cli_db: str) -> None:
    demo = ROOT / "examples" / "khasham-2018.ndjson"
    assert len(demo.read_text().splitlines()) < history_cache.IMPORT_PERSIST_AFTER
    result = runner.invoke(app, ["import", str(demo)])
    assert result.exit_code == 0, result.output
    assert count(cli_db, "SELECT count(*) FROM history_snapshots") == 0


def test_chronicle_import_writes_the_history_down(cli_db: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history_cache, "IMPORT_PERSIST_AFTER", 1)
    demo = ROOT / "examples" / "khasham-2018.ndjson"
    result = runner.invoke(app, ["import", str(demo)])
    assert result.exit_code == 0, result.output
    assert count(cli_db, "SELECT count(*) FROM history_snapshots s JOIN events e "
                         "ON e.position = s.position AND e.hash = s.hash "
                         "WHERE s.position = (SELECT max(position) FROM events)") == 1


async def test_a_history_read_back_is_warmed_in_the_background(api: Api) -> None:
    """Once the first reads are answered, the documents of a written history are decoded a
    little at a time; the answers stay what a replay gives."""
    rng = random.Random(8)
    moments = await random_story(api, rng, steps=30)
    await api.services.histories.persist("khasham")
    fresh = Reads(api)
    history = await fresh.cache.get("khasham")
    assert history.unread is not None and history.documents.data
    for _ in range(200):
        if not fresh.cache._tasks:
            break
        await asyncio.sleep(0.02)
    assert history.documents.data == b""
    assert history.unread is not None  # its reports: not needed yet
    await assert_like_a_replay(api, fresh.cache, moments, rng)


async def snapshot_row(api: Api) -> tuple[int, str, bytes]:
    async with api.engine.connect() as connection:
        position, hash_, history = (await connection.execute(text(
            "SELECT position, hash, history FROM history_snapshots "
            "WHERE timeline = 'khasham'"))).one()
    return position, hash_, bytes(history)


async def put_back(api: Api, row: tuple[int, str, bytes]) -> None:
    async with api.engine.begin() as connection:
        await connection.execute(text(
            "UPDATE history_snapshots SET position = :position, hash = :hash, "
            "history = :history WHERE timeline = 'khasham'"),
            {"position": row[0], "hash": row[1], "history": row[2]})


@pytest.mark.parametrize("tampered", [False, True])
async def test_events_an_import_hands_over_write_the_history_a_read_back_writes(
        api: Api, tampered: bool) -> None:
    """``chronicle import`` folds the events it committed as the appender decided them
    (``recording``), not read back from the log; what it writes is byte for byte what
    folding the log writes. Events that are not the log's are refused: the log is read."""
    rng = random.Random(9)
    await random_story(api, rng, steps=15)
    histories = api.services.histories
    await histories.persist("khasham")
    written = await snapshot_row(api)
    await random_story_more(api, rng)  # not handed over: read from the log
    before = await api.services.store.head_position()
    with histories.recording() as decided:
        moments = await random_story_more(api, rng)
    assert decided.applied and decided.applied[0].envelope.position == before + 1
    handed = list(decided.applied)
    if tampered:
        last = handed[-1]
        handed[-1] = dataclasses.replace(
            last, envelope=dataclasses.replace(last.envelope, hash="0" * 64))
    reads = Reads(api)
    reads.cache.snapshots = histories.snapshots
    assert await reads.cache.persist_touched(before, behind=1, decided=handed) == ["khasham"]
    head = await api.services.store.head_position()
    assert reads.folded == ([head - written[0]] if tampered else [])  # the log read back
    from_handed = await snapshot_row(api)
    assert from_handed[0] == head
    await put_back(api, written)
    await histories.persist("khasham")
    assert await snapshot_row(api) == from_handed
    fresh = Reads(api)
    await assert_like_a_replay(api, fresh.cache, moments, rng)
    assert fresh.folded[0] == 0
