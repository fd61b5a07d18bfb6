"""``chronicle serve`` as a user runs it: a real process, real HTTP, the embedded database."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
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


@pytest.fixture
def embedded_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["CHRONICLE_DATA_DIR"] = str(tmp_path / "data")
    (tmp_path / "data").mkdir()
    yield env


def token(env: dict[str, str]) -> str:
    result = subprocess.run([str(BIN / "chronicle"), "token", "create", "--scope", "write",
                             "--name", "e2e"], env=env, capture_output=True, text=True,
                            check=True, timeout=120)
    return result.stdout.strip().splitlines()[-1]


DEMO_QUERY = ('{ timeline(slug: "khasham-2018") { version entries(first: 500) { totalCount '
              'nodes { id reports { id } } } } sources { id } }')


def test_the_embedded_default_serves_the_demo_once_and_takes_concurrent_writes(
        embedded_env: dict[str, str]) -> None:
    server = Server(embedded_env, "--demo")
    try:
        body = server.graphql(DEMO_QUERY)
        timeline = body["data"]["timeline"]  # type: ignore[index]
        assert len(timeline["entries"]["nodes"]) >= 8
        assert sum(len(e["reports"]) for e in timeline["entries"]["nodes"]) >= 25
        version = timeline["version"]
        ide = httpx.get(server.url + "/graphql", headers={"accept": "text/html"})
        assert ide.status_code == 200 and "graphiql" in ide.text.lower()
    finally:
        server.stop()
    writer = token(embedded_env)
    server = Server(embedded_env, "--demo")
    try:
        again = server.graphql(DEMO_QUERY)
        assert again["data"]["timeline"]["version"] == version  # type: ignore[index]
        positions = asyncio.run(forty_reports(server.url, writer))
        assert sorted(positions) == list(range(version + 1, version + 41))
    finally:
        server.stop()


async def forty_reports(url: str, writer: str) -> list[int]:
    mutation = ("mutation($input: ReportFactInput!) { reportFact(input: $input) "
                "{ event { position } } }")
    async with httpx.AsyncClient(base_url=url, timeout=30,
                                 headers={"authorization": f"Bearer {writer}"}) as client:
        async def one(i: int) -> int:
            response = await client.post("/graphql", json={"query": mutation, "variables": {
                "input": {"timeline": "khasham-2018", "entry": "khasham-strike",
                          "attribute": "killed", "value": {"count": {"best": i}},
                          "source": "several-news-outlets", "stance": "CLAIMED",
                          "reportedAt": "2018-02-20T12:00:00Z",
                          "idempotencyKey": str(uuid.uuid4())}}})
            body = response.json()
            assert "errors" not in body, body
            return int(body["data"]["reportFact"]["event"]["position"])

        return list(await asyncio.gather(*(one(i) for i in range(40))))


def test_serve_says_ready_only_once_it_answers_and_keeps_the_chatter_quiet(
        embedded_env: dict[str, str]) -> None:
    port = free_port()
    process = subprocess.Popen(
        [str(BIN / "chronicle"), "serve", "--demo", "--port", str(port)], env=embedded_env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    said: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            said.append(line)
            if "Chronicle is ready on" in line:
                break
        else:
            raise AssertionError(f"serve never said it was ready: {''.join(said)}")
        # No retry: the moment it says so, it answers.
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
        output = "".join(said)
        assert f"http://127.0.0.1:{port}/graphql" in output
        assert "importing the demo timeline" in output  # what it is doing meanwhile
        for chatter in ("initdb", "setup plugin", "Running upgrade", "Waiting for application",
                        "XDG_RUNTIME_DIR"):
            assert chatter not in output, output
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()
