"""``chronicle serve`` as a user runs it: a real process, real HTTP, the embedded database."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.servers import BIN, DEMO_QUERY, Server, free_port, token


@pytest.fixture
def embedded_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["CHRONICLE_DATA_DIR"] = str(tmp_path / "data")
    (tmp_path / "data").mkdir()
    yield env


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
