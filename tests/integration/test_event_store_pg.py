"""What PostgreSQL itself guarantees about the log, beyond the store contract that
tests/integration/test_store_contract_postgres.py runs on it."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from api.database import create_engine
from api.settings import Settings
from events.appender import Appender
from events.commands import CreateTimeline
from events.postgres.projection import PostgresProjection
from events.postgres.store import PostgresEventStore


@pytest.fixture
async def engine(database_url: str):  # type: ignore[no-untyped-def]
    engine = create_engine(Settings(database_url=database_url))
    yield engine
    await engine.dispose()


async def test_the_log_refuses_update_delete_and_truncate_even_for_its_owner(engine) -> None:  # type: ignore[no-untyped-def]
    appender = Appender(PostgresEventStore(engine, PostgresProjection()))
    await appender.submit(CreateTimeline("t", "T"), actor="desk", idempotency_key="k")
    await appender.close()
    for statement in ("UPDATE events SET actor = 'mallory'", "DELETE FROM events",
                      "TRUNCATE events CASCADE", "UPDATE idempotency_keys SET fingerprint = ''",
                      "DELETE FROM idempotency_keys", "TRUNCATE idempotency_keys"):
        async with engine.connect() as connection:
            with pytest.raises(DBAPIError, match="append-only"):
                await connection.execute(text(statement))
    async with engine.connect() as connection:
        actor = (await connection.execute(text("SELECT actor FROM events"))).scalar_one()
    assert actor == "desk"


async def test_the_writer_role_may_only_read_and_append(engine) -> None:  # type: ignore[no-untyped-def]
    async with engine.connect() as connection:
        privileges = {row.privilege_type for row in await connection.execute(text(
            "SELECT privilege_type FROM information_schema.role_table_grants "
            "WHERE grantee = 'chronicle_writer' AND table_name = 'events'"))}
    assert privileges == {"SELECT", "INSERT"}
