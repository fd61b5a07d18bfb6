"""The store contract (tests/store_contract.py) on PostgreSQL, each test on a fresh
database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from api.database import create_engine
from api.settings import Settings
from events.postgres.projection import PostgresProjection
from events.postgres.store import PostgresEventStore
from tests.databases import Databases
from tests.store_contract import StoreContract


@pytest.fixture
async def store(databases: Databases) -> AsyncIterator[PostgresEventStore]:
    engine = create_engine(Settings(database_url=await databases.fresh()))
    try:
        yield PostgresEventStore(engine, PostgresProjection())
    finally:
        await engine.dispose()


class TestPostgresEventStore(StoreContract):
    # jsonb refuses a NUL at the insert (the memory store takes it: see its module).
    UNSTORABLE_TEXTS = ("NUL \x00 inside",)
