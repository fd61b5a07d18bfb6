"""The ``replicated_pair`` fixture (tests/e2e/standby.py) gives what the standby tests of
issue 19 rely on: a standby that replays the primary's writes, can be held back by an apply
delay, stopped and started again, and refuses writes."""

from __future__ import annotations

import time
from typing import Any

import asyncpg
import pytest

from tests.e2e.standby import ReplicatedPair, replicated_pair_fixture  # noqa: F401


async def execute(url: str, *statements: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def fetchval(url: str, query: str) -> Any:
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetchval(query)
    finally:
        await connection.close()


async def test_a_table_written_on_the_primary_is_read_on_the_standby(
        replicated_pair: ReplicatedPair) -> None:
    pair = replicated_pair
    await pair.create_database("chronicle_replica")
    await execute(pair.primary_url_for("chronicle_replica"),
                  "CREATE TABLE facts (id int PRIMARY KEY, body text)",
                  "INSERT INTO facts VALUES (1, 'first'), (2, 'second')")

    await pair.wait_replayed()

    standby = pair.standby_url_for("chronicle_replica")
    assert await fetchval(standby, "SELECT string_agg(body, ',' ORDER BY id) FROM facts") == (
        "first,second")
    assert await fetchval(standby, "SELECT pg_is_in_recovery()") is True
    assert await fetchval(pair.primary_url, "SELECT pg_is_in_recovery()") is False


async def test_an_apply_delay_holds_the_standby_back_by_that_long(
        replicated_pair: ReplicatedPair) -> None:
    pair = replicated_pair
    await execute(pair.primary_url, "CREATE TABLE facts (id int)")
    await pair.wait_replayed()
    await pair.set_apply_delay(1500)

    written = time.monotonic()
    await execute(pair.primary_url, "INSERT INTO facts VALUES (1)")
    assert await fetchval(pair.standby_url, "SELECT count(*) FROM facts") == 0

    await pair.wait_replayed(timeout=10)
    assert time.monotonic() - written >= 1.4
    assert await fetchval(pair.standby_url, "SELECT count(*) FROM facts") == 1

    await pair.set_apply_delay(0)
    written = time.monotonic()
    await execute(pair.primary_url, "INSERT INTO facts VALUES (2)")
    await pair.wait_replayed(timeout=10)
    assert time.monotonic() - written < 1
    assert await fetchval(pair.standby_url, "SELECT count(*) FROM facts") == 2


async def test_a_stopped_standby_refuses_connections_then_catches_up_once_started(
        replicated_pair: ReplicatedPair) -> None:
    pair = replicated_pair
    await pair.stop_standby()
    with pytest.raises(OSError):
        await asyncpg.connect(pair.standby_url, timeout=5)

    await execute(pair.primary_url, "CREATE TABLE facts (id int)",
                  "INSERT INTO facts VALUES (1)")
    await pair.start_standby()
    await pair.wait_replayed()

    assert await fetchval(pair.standby_url, "SELECT count(*) FROM facts") == 1


async def test_the_standby_refuses_writes(replicated_pair: ReplicatedPair) -> None:
    pair = replicated_pair
    await execute(pair.primary_url, "CREATE TABLE facts (id int)")
    await pair.wait_replayed()

    for statement in ("INSERT INTO facts VALUES (1)", "CREATE TABLE more_facts (id int)"):
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await execute(pair.standby_url, statement)
    assert await fetchval(pair.primary_url, "SELECT count(*) FROM facts") == 0
