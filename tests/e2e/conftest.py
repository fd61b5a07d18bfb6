"""Fixtures for the end-to-end tests: the Node tools' dependencies, and an environment for a
``chronicle serve`` process with a database of its own."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tests.e2e import node_tools
from tests.e2e.servers import stop_embedded


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """tests/e2e/node/node_modules, installed by ``npm ci`` when missing or older than
    package-lock.json. Without node or npm the test fails: nothing is skipped."""
    try:
        node_tools.install()
    except node_tools.NodeToolsMissing as e:
        pytest.fail(str(e), pytrace=False)
    except subprocess.CalledProcessError as e:
        pytest.fail(f"npm ci failed in {node_tools.NODE_DIR}:\n{e.stdout}\n{e.stderr}",
                    pytrace=False)
    return node_tools.NODE_DIR / "node_modules"


@pytest.fixture
def chromium(node_modules: Path) -> str:
    """Debian's chromium; without it the test fails and says how to install it."""
    try:
        return node_tools.chromium()
    except node_tools.ChromiumMissing as e:
        pytest.fail(str(e), pytrace=False)


def _admin_dsn(database_url: str) -> str:
    """DATABASE_URL as asyncpg takes it, whatever driver it names."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


async def _create_database(database_url: str, name: str) -> None:
    admin = await asyncpg.connect(_admin_dsn(database_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def _drop_database(database_url: str, name: str) -> None:
    admin = await asyncpg.connect(_admin_dsn(database_url))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
def chronicle_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment for ``Server(env, ...)`` from tests/e2e/servers.py.

    With DATABASE_URL set, the server gets a fresh database ``chronicle_e2e_<uuid>`` on that
    PostgreSQL, dropped afterwards, so nothing else there is touched; without it, the
    embedded server in a data directory under tmp_path. Other CHRONICLE_* settings from the
    caller's environment are left out so the server runs with its defaults.
    """
    env = {k: v for k, v in os.environ.items()
           if k != "DATABASE_URL" and not k.startswith("CHRONICLE_")}
    data = tmp_path / "data"
    data.mkdir()
    env["CHRONICLE_DATA_DIR"] = str(data)
    server = os.environ.get("DATABASE_URL")
    if not server:
        try:
            yield env
        finally:
            stop_embedded(data / "pgdata")
        return
    name = f"chronicle_e2e_{uuid.uuid4().hex}"
    asyncio.run(_create_database(server, name))
    try:
        env["DATABASE_URL"] = make_url(server).set(database=name).render_as_string(
            hide_password=False)
        yield env
    finally:
        asyncio.run(_drop_database(server, name))
