"""The peer of W1, W1-live and W2-http: PostGraphile 5 serving ``schema.sql`` (beside this file).

Loads ``schema.sql`` into the database (it drops and recreates its own schema ``peer_pgl``),
then becomes PostGraphile: the process execs Node 22 running PostGraphile 5 with its
``amber`` preset in production mode, so whoever started this script holds PostGraphile's
pid and stops it with SIGTERM. Both come from the bench's own npm project, ``bench/node``
(``postgraphile`` and ``node`` are dependencies there, pinned by its lock file; ``npm ci``
there installs them when they are missing). PostGraphile 5 needs Node 22 or newer: the
``node`` npm package brings it when the machine's own Node is older.

usage: python bench/peers/postgraphile/serve.py DSN [PORT] [--host 127.0.0.1] [--no-schema]
Then POST ``query.json`` (beside this file) to ``http://HOST:PORT/graphql``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import asyncpg

HERE = Path(__file__).resolve().parent
NODE_PROJECT = HERE.parent.parent / "node"
SCHEMA = HERE / "schema.sql"
PG_SCHEMA = "peer_pgl"
MIN_NODE = 22
INSTALL_TIMEOUT = 900.0


class PeerError(RuntimeError):
    """PostGraphile cannot be started; the message says why."""


def node_version(node: str) -> int:
    """The major version of the Node at ``node`` (0 when it does not run)."""
    try:
        shown = subprocess.run([node, "--version"], capture_output=True, text=True,
                               timeout=30, check=False).stdout
    except OSError:
        return 0
    found = re.match(r"v(\d+)\.", shown.strip())
    return int(found.group(1)) if found else 0


def install() -> None:
    """``npm ci`` in bench/node: autocannon, PostGraphile 5 and Node 22, from the lock file."""
    npm = shutil.which("npm")
    if npm is None:
        raise PeerError("npm must be on PATH to install PostGraphile into bench/node")
    print("installing bench/node (npm ci: autocannon, postgraphile, node) ...", flush=True)
    done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_PROJECT,
                          capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False)
    if done.returncode:
        raise PeerError(f"npm ci in {NODE_PROJECT} failed:\n{done.stderr[-2000:]}")


def postgraphile_cli() -> Path:
    return NODE_PROJECT / "node_modules" / "postgraphile" / "dist" / "cli-run.js"


def node22() -> str:
    """A Node of at least version 22: bench/node's own, else the one on PATH."""
    candidates = [str(NODE_PROJECT / "node_modules" / ".bin" / "node")]
    on_path = shutil.which("node")
    if on_path is not None:
        candidates.append(on_path)
    for node in candidates:
        if node_version(node) >= MIN_NODE:
            return node
    raise PeerError(f"PostGraphile 5 needs Node {MIN_NODE} or newer; none found (npm ci in "
                    f"{NODE_PROJECT} installs the npm package node@{MIN_NODE})")


def ensure_installed() -> tuple[str, Path]:
    """Node 22 and PostGraphile's command line script, installing them first if need be."""
    if not postgraphile_cli().is_file() or not (NODE_PROJECT / "node_modules" / ".bin"
                                                / "node").exists():
        install()
    cli = postgraphile_cli()
    if not cli.is_file():
        raise PeerError(f"no PostGraphile in {NODE_PROJECT}/node_modules after npm ci")
    return node22(), cli


async def load_schema(dsn: str) -> None:
    """Replace the peer's tables in ``dsn`` with the ones ``schema.sql`` makes."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("SET client_min_messages = warning")
        await connection.execute(SCHEMA.read_text())
    finally:
        await connection.close()


def command(node: str, cli: Path, dsn: str, port: int, host: str) -> list[str]:
    return [node, str(cli), "-P", "postgraphile/presets/amber", "-c", dsn, "-s", PG_SCHEMA,
            "-p", str(port), "-n", host]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dsn", help="the database to serve (postgresql://…)")
    parser.add_argument("port", type=int, nargs="?", default=5678, help="port to listen on")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument("--no-schema", dest="schema", action="store_false",
                        help="serve the tables as they are, without loading schema.sql")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    try:
        node, cli = ensure_installed()
        if args.schema:
            asyncio.run(load_schema(args.dsn))
    except (PeerError, OSError, asyncpg.PostgresError) as e:
        print(f"postgraphile peer: {e}", file=sys.stderr)
        return 1
    print(f"PostGraphile 5 on http://{args.host}:{args.port}/graphql (Node at {node})",
          flush=True)
    os.chdir(NODE_PROJECT)  # the preset is resolved from bench/node's node_modules
    argv = command(node, cli, args.dsn, args.port, args.host)
    os.execve(argv[0], argv, {**os.environ, "GRAPHILE_ENV": "production"})


if __name__ == "__main__":
    sys.exit(main())
