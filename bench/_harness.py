"""What every benchmark here needs: a throwaway database, ``chronicle`` as a subprocess,
GraphQL over HTTP, and a row in ``bench/results.md`` under the benchmark's own header.

Not a benchmark itself: ``appends.py`` and ``as_of.py`` import it (run as scripts, their
own directory is first on ``sys.path``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results.md"
SERVER_START_TIMEOUT = 60.0
REQUEST_TIMEOUT = 60.0
DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


class BenchError(RuntimeError):
    """The server or the database did not behave; the message says how."""


def percentile_ms(latencies: list[float], p: int) -> float:
    """The ``p``-th percentile of ``latencies`` (seconds), in milliseconds."""
    return statistics.quantiles(latencies, n=100)[p - 1] * 1000


# --- the throwaway database -------------------------------------------------------------

def with_database(dsn: str, name: str) -> str:
    return urlsplit(dsn)._replace(path=f"/{name}").geturl()


@contextlib.asynccontextmanager
async def throwaway_database(dsn: str) -> AsyncIterator[str]:
    """Create a database named after this process, yield its DSN, drop it however we leave."""
    name = f"chronicle_bench_{os.getpid()}"
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield with_database(dsn, name)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


# --- the chronicle command --------------------------------------------------------------

def chronicle_cli() -> str:
    return str(Path(sys.executable).parent / "chronicle")


def server_env(dsn: str) -> dict[str, str]:
    url = "postgresql+asyncpg://" + dsn.split("://", 1)[1]
    return {**os.environ, "DATABASE_URL": url}


async def run_chronicle(dsn: str, *args: str) -> str:
    """``chronicle ARGS`` on the database ``dsn``; its stdout, or BenchError on failure.

    The child is killed if we are cancelled (Ctrl-C) while it runs."""
    process = await asyncio.create_subprocess_exec(
        chronicle_cli(), *args, env=server_env(dsn), stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        stdout, stderr = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    if process.returncode != 0:
        raise BenchError(f"chronicle {' '.join(args)} exited with {process.returncode}: "
                         f"{stderr.decode()[-2000:]}")
    return stdout.decode()


async def create_token(dsn: str, scope: str = "write") -> str:
    output = await run_chronicle(dsn, "token", "create", "--scope", scope, "--name", "bench")
    return output.strip().splitlines()[-1]


# --- the Chronicle server ---------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def wait_healthy(base_url: str, server: asyncio.subprocess.Process, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    async with httpx.AsyncClient(base_url=base_url) as client:
        while time.monotonic() < deadline:
            if server.returncode is not None:
                raise BenchError(f"chronicle serve exited with {server.returncode}:\n"
                                 + (await asyncio.to_thread(log.read_text))[-3000:])
            with contextlib.suppress(httpx.TransportError):
                if (await client.get("/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise BenchError(f"/healthz did not answer within {SERVER_START_TIMEOUT:.0f}s")


async def stop(server: asyncio.subprocess.Process) -> None:
    if server.returncode is not None:
        return
    server.terminate()
    try:
        await asyncio.wait_for(server.wait(), timeout=10)
    except TimeoutError:
        server.kill()
        await server.wait()


@contextlib.asynccontextmanager
async def chronicle_server(dsn: str, log: Path) -> AsyncIterator[str]:
    """Run ``chronicle serve`` on a free port, its output in ``log``; yield its base URL."""
    port = free_port()
    with log.open("wb") as out:
        server = await asyncio.create_subprocess_exec(
            chronicle_cli(), "serve", "--port", str(port), env=server_env(dsn),
            stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=asyncio.subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        await wait_healthy(base_url, server, log)
        yield base_url
    finally:
        await stop(server)


def server_errors(log: Path) -> list[str]:
    return [line for line in log.read_text().splitlines()
            if line.startswith(("ERROR", "CRITICAL", "Traceback"))]


def report_server_log(log: Path) -> None:
    """Drop the server's log after a clean run; keep it and quote it when it logged errors."""
    errors = server_errors(log)
    if not errors:
        log.unlink()
        return
    print(f"the server logged {len(errors)} error line(s); its log is kept at {log}; first:\n  "
          + "\n  ".join(errors[:5]), file=sys.stderr)


# --- GraphQL ----------------------------------------------------------------------------

def graphql_client(base_url: str, token: str | None) -> httpx.AsyncClient:
    """A keep-alive client; ``token`` None sends no ``authorization`` (a public read)."""
    headers = {} if token is None else {"authorization": f"Bearer {token}"}
    return httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT, headers=headers)


def graphql_data(response: httpx.Response) -> dict[str, object]:
    """The ``data`` of a GraphQL answer; BenchError on any ``errors`` or a non-200."""
    try:
        body = response.json()
    except ValueError:
        raise BenchError(f"HTTP {response.status_code}: {response.text[:1000]}") from None
    if response.status_code != 200 or body.get("errors") or not body.get("data"):
        raise BenchError(f"HTTP {response.status_code}: {json.dumps(body)[:1000]}")
    data: dict[str, object] = body["data"]
    return data


async def graphql(client: httpx.AsyncClient, query: str,
                  variables: Mapping[str, object]) -> dict[str, object]:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    return graphql_data(response)


# --- results.md -------------------------------------------------------------------------

def git_head() -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=BENCH_DIR,
                          capture_output=True, text=True, check=True).stdout.strip()


def insert_row(text: str, header: str, row: str) -> str:
    """``text`` with ``row`` added at the end of the table under ``header`` (whose first line
    is the section's ``# title``); the section, ``header`` verbatim, is added when missing."""
    title = header.splitlines()[0]
    lines = text.splitlines(keepends=True)
    if title + "\n" not in lines:
        separator = "" if not text else "\n" if text.endswith("\n") else "\n\n"
        return text + separator + header + row
    start = lines.index(title + "\n")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("# ")),
               len(lines))
    last_row = max((i for i in range(start, end) if lines[i].startswith("|")), default=end - 1)
    if not lines[last_row].endswith("\n"):
        lines[last_row] += "\n"
    lines.insert(last_row + 1, row)
    return "".join(lines)


def record_row(header: str, row: str) -> None:
    """Add ``row`` to ``bench/results.md`` under ``header`` (see ``insert_row``)."""
    text = RESULTS.read_text() if RESULTS.exists() else ""
    RESULTS.write_text(insert_row(text, header, row))
