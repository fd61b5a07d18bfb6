"""Frontend clients reading their own writes when reads come from a lagging standby: the
Apollo link and the urql exchange README.md shows ("Reading your writes when reads come from
replicas"), run word for word by Node with the npm packages against a real ``chronicle serve``
whose reads go to a real standby held back by an apply delay (tests/e2e/standby.py).

The scripts are tests/e2e/node/apollo_positions.mjs and urql_positions.mjs: a read, a write
(openEntry) and at once a read of the entries, then another read; each reports the
``Chronicle-Min-Position`` every request carried and the ``Chronicle-Position`` every answer
named. The same scripts with ``--plain`` (a client without the README's code) show that the
standby really is behind: right after its write, a plain client does not see it.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.node_tools import NODE_DIR, executable
from tests.e2e.servers import Server, token
from tests.e2e.standby import NO_POSTGRES_BINARIES, ReplicatedPair, find_postgres_bin

ROOT = Path(__file__).resolve().parents[2]
DATABASE = "chronicle_client_positions"
APPLY_DELAY_MS = 1500  # how far the standby stays behind the primary
WAIT_MS = 3000  # how long a read waits for the standby to reach its client's position
SLUG = "positions"
SCRIPTS = {"apollo": "apollo_positions.mjs", "urql": "urql_positions.mjs"}
# What each script sends, in order: a read, the write, the read that must show it, a read.
OPERATIONS = ["Version", "OpenEntry", "Entries", "Version"]
SEED = [
    f'mutation {{ createTimeline(input: {{slug: "{SLUG}", title: "Positions"}}) '
    "{ event { position } } }",
    f'mutation {{ openEntry(input: {{timeline: "{SLUG}", id: "first", title: "First"}}) '
    "{ event { position } } }",
]


@dataclass(frozen=True)
class Deployment:
    url: str
    token: str


def serve_env(pair: ReplicatedPair, data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k != "DATABASE_URL" and not k.startswith("CHRONICLE_")}
    return {**env, "CHRONICLE_DATA_DIR": str(data),
            "DATABASE_URL": pair.primary_url_for(DATABASE),
            "CHRONICLE_REPLICA_URLS": pair.standby_url_for(DATABASE),
            "CHRONICLE_REPLICA_WAIT_MS": str(WAIT_MS), "CHRONICLE_REPLICA_POLL_MS": "100"}


async def standby_holds(url: str, position: int) -> None:
    """Once the server sees its standby up and holding ``position`` (/readyz)."""
    async with httpx.AsyncClient(base_url=url, timeout=5) as http:
        for _ in range(300):
            [standby] = (await http.get("/readyz")).json()["replicas"]
            if standby["up"] and standby["position"] >= position:
                return
            await asyncio.sleep(0.05)
    raise AssertionError(f"the server never saw its standby at {position}: {standby}")


@pytest.fixture(scope="module")
async def deployment(node_modules: Path,
                     tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Deployment]:
    """``chronicle serve`` on a primary, reading from its standby; the timeline SLUG with
    one entry, on both; then the standby held APPLY_DELAY_MS behind."""
    bin_dir = find_postgres_bin()
    if bin_dir is None:
        pytest.skip(NO_POSTGRES_BINARIES)
    async with ReplicatedPair(bin_dir) as pair:
        await pair.create_database(DATABASE)
        env = serve_env(pair, tmp_path_factory.mktemp("data"))
        server = await asyncio.to_thread(Server, env)
        try:
            bearer = await asyncio.to_thread(token, env)
            head = 0
            for mutation in SEED:
                body = await asyncio.to_thread(server.graphql, mutation, bearer)
                assert "errors" not in body, body
                head = body["extensions"]["position"]  # type: ignore[index]
            await pair.wait_replayed()
            await standby_holds(server.url, head)
            await pair.set_apply_delay(APPLY_DELAY_MS)
            yield Deployment(server.url, bearer)
        finally:
            await asyncio.to_thread(server.stop)


async def run_client(deployment: Deployment, client: str, entry: str, *,
                     plain: bool = False) -> dict[str, Any]:
    """The script's report; it opens ``entry`` (``--plain``: without the README's code)."""
    command = [executable("node"), str(NODE_DIR / SCRIPTS[client]),
               "--http", deployment.url + "/graphql", "--token", deployment.token,
               "--timeline", SLUG, "--entry", entry, "--timeout-ms", "10000",
               *(["--plain"] if plain else [])]
    result = await asyncio.to_thread(subprocess.run, command, cwd=NODE_DIR,
                                     capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, f"{SCRIPTS[client]}: {result.stdout}\n{result.stderr}"
    report: dict[str, Any] = json.loads(result.stdout)
    assert [r["operation"] for r in report["requests"]] == OPERATIONS, report
    return report


def sent(report: dict[str, Any]) -> list[int | None]:
    return [None if r["minPosition"] is None else int(r["minPosition"])
            for r in report["requests"]]


def named(report: dict[str, Any]) -> list[int]:
    return [int(r["position"]) for r in report["requests"]]


@pytest.mark.parametrize("client", list(SCRIPTS))
async def test_readme_client_reads_its_write_from_a_lagging_standby(
        deployment: Deployment, client: str) -> None:
    entry = f"{client}-with-positions"
    report = await run_client(deployment, client, entry)
    written = report["written"]
    answers = named(report)
    # The write's answer names its position; the read right after it asks for it...
    assert answers[1] == written, report
    assert sent(report) == [None, answers[0], written, answers[2]], report
    # ... and shows the write, though the standby is still behind.
    assert entry in report["after"]["entries"], report
    assert report["after"]["version"] >= written
    assert answers[2] >= written and report["last"] >= written
    assert report["seen"] == max(answers)
    positions = [p for p in sent(report) if p is not None]
    assert positions == sorted(positions), f"a later request asked for less: {report}"


@pytest.mark.parametrize("client", list(SCRIPTS))
async def test_a_plain_client_misses_its_write_on_the_lagging_standby(
        deployment: Deployment, client: str) -> None:
    """Without the README's code nothing is asked, and the standby answers without the
    write: the test above passes because of that code, not because the standby kept up."""
    entry = f"{client}-plain"
    report = await run_client(deployment, client, entry, plain=True)
    assert sent(report) == [None] * len(OPERATIONS), report
    assert entry not in report["after"]["entries"], report
    assert report["after"]["version"] < report["written"], report
    assert named(report)[2] < report["written"], report


def readme_positions_blocks() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    found = re.search(r"^### Reading your writes when reads come from replicas\n(.*?)(?=^##)",
                      readme, re.S | re.M)
    assert found, "README.md has no section 'Reading your writes when reads come from replicas'"
    return re.findall(r"^```js\n(.*?)^```\n", found.group(1), re.S | re.M)


def marked_block(script: Path, name: str) -> str:
    found = re.search(rf"^// README: {name}\n(.*?)^// README: end\n", script.read_text(),
                      re.S | re.M)
    assert found, f"{script.name} marks no README block {name}"
    return found.group(1)


def test_readme_shows_the_code_the_position_tests_run() -> None:
    scripts = [marked_block(NODE_DIR / SCRIPTS[client], f"{client}-positions")
               for client in SCRIPTS]
    assert readme_positions_blocks() == scripts, (
        "README.md's code blocks under 'Reading your writes when reads come from replicas' "
        f"are no longer, word for word, the README blocks of {', '.join(SCRIPTS.values())}")
