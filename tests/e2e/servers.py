"""``chronicle serve`` and ``chronicle token`` as the end-to-end tests run them: real
processes, from the virtualenv's own ``chronicle``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent

# The demo timeline with its entries and their reports, and every source.
DEMO_QUERY = ('{ timeline(slug: "khasham-2018") { version entries(first: 500) { totalCount '
              'nodes { id reports { id } } } } sources { id } }')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``chronicle serve`` on a free port, started with ``env`` (see the ``chronicle_env``
    fixture) and ``args``; it answers /healthz once constructed. Its output goes to
    ``serve-<port>.log`` in the data directory."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env
        self.log = Path(env["CHRONICLE_DATA_DIR"]) / f"serve-{self.port}.log"
        self.output = self.log.open("w")
        self.process = subprocess.Popen(
            [str(BIN / "chronicle"), "serve", "--port", str(self.port), *args],
            env=env, stdout=self.output, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.output.close()
                raise AssertionError(f"server exited: {self.log.read_text()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        self.stop()
        raise AssertionError(f"server did not start: {self.log.read_text()}")

    def graphql(self, query: str, token: str | None = None) -> dict[str, object]:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        response = httpx.post(self.url + "/graphql", json={"query": query}, headers=headers,
                              timeout=30)
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        return body

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.output.close()


def token(env: dict[str, str]) -> str:
    """A new write token, made by ``chronicle token create`` against ``env``'s database."""
    result = subprocess.run([str(BIN / "chronicle"), "token", "create", "--scope", "write",
                             "--name", "e2e"], env=env, capture_output=True, text=True,
                            check=True, timeout=120)
    return result.stdout.strip().splitlines()[-1]


def stop_embedded(pgdata: Path, timeout: float = 15) -> None:
    """Stop the embedded PostgreSQL if a ``chronicle serve`` left it running in ``pgdata``
    (serve stops it on SIGTERM; a server that was killed, or failed, cannot)."""
    pid_file = pgdata / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().split()[0])
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError, IndexError):
        return  # not running
    if str(pgdata).encode() not in command:
        return  # a stale pid file; that pid is someone else now
    os.kill(pid, signal.SIGINT)  # PostgreSQL's fast shutdown
    deadline = time.monotonic() + timeout
    while pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
