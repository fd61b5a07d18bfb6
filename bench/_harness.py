"""What every benchmark here needs: a throwaway database, ``chronicle`` as a subprocess,
GraphQL over HTTP, a synthetic story to import (NDJSON command lines describing realistic
timelines), and a row in ``bench/results.md`` under the benchmark's own header.

Not a benchmark itself: ``appends.py``, ``as_of.py``, ``replay.py`` and the others import it
(run as scripts, their own directory is first on ``sys.path``). The suite's plumbing is here
too: ``Comparison`` and ``write_summary``, the JSON a script leaves for ``run.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import (
    AsyncIterator,
    Callable,
    Coroutine,
    Iterable,
    Iterator,
    Mapping,
)
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar
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


async def chronicle_import(dsn: str, path: Path) -> int:
    """``chronicle import PATH`` (migrating first, all in one transaction); the events stored."""
    output = await run_chronicle(dsn, "import", str(path))
    found = re.search(r"imported (\d+) events", output)
    if found is None:
        raise BenchError(f"chronicle import {path.name} said: {output[-1000:]}")
    return int(found.group(1))


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
async def chronicle_server(dsn: str, log: Path,
                           env: Mapping[str, str] | None = None) -> AsyncIterator[str]:
    """Run ``chronicle serve`` on a free port, its output in ``log``; yield its base URL.
    ``env`` adds to (or overrides) the environment it gets, e.g. ``CHRONICLE_REPLICA_URLS``."""
    port = free_port()
    with log.open("wb") as out:
        server = await asyncio.create_subprocess_exec(
            chronicle_cli(), "serve", "--port", str(port), env={**server_env(dsn), **(env or {})},
            stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=asyncio.subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        await wait_healthy(base_url, server, log)
        yield base_url
    finally:
        await stop(server)


def server_errors(log: Path) -> list[str]:
    """Error lines of a server log, in text form or as JSON lines (``chronicle serve``
    writes JSON when its output is not a terminal)."""
    def is_error(line: str) -> bool:
        if line.startswith("{"):
            try:
                return json.loads(line).get("level") in ("error", "critical")
            except ValueError:
                return False
        return line.startswith(("ERROR", "CRITICAL", "Traceback"))

    return [line for line in log.read_text().splitlines() if is_error(line)]


def report_server_log(log: Path) -> None:
    """Drop the server's log after a clean run; keep it and quote it when it logged errors."""
    errors = server_errors(log)
    if not errors:
        log.unlink()
        return
    print(f"the server logged {len(errors)} error line(s); its log is kept at {log}; first:\n  "
          + "\n  ".join(errors[:5]), file=sys.stderr)


@contextlib.contextmanager
def server_log(name: str = "") -> Iterator[Path]:
    """A file for a server's output. A failure names it when the server wrote anything; it
    is removed when the server never did (it never started); ``report_server_log`` decides
    after a clean run."""
    fd, path = tempfile.mkstemp(prefix=f"chronicle-bench-{name}", suffix=".log")
    os.close(fd)
    log = Path(path)
    try:
        yield log
    except BenchError as e:
        if log.exists() and log.stat().st_size:
            raise BenchError(f"{e}\nthe server's log is at {log}") from None
        raise
    finally:
        if log.exists() and not log.stat().st_size:
            log.unlink()


def failed(error: BenchError) -> int:
    print(f"benchmark failed: {error}", file=sys.stderr)
    return 1


Figures = TypeVar("Figures")


def run_against_a_server(
        args: argparse.Namespace, name: str,
        measure: Callable[[argparse.Namespace, Path, Path], Coroutine[Any, Any, Figures]],
        summary: Callable[[Figures], str], write_json: Callable[[Path | None, Figures], None],
        record: Callable[[Figures], None]) -> int:
    """A benchmark's ``main`` when it serves Chronicle once: ``measure(args, server log,
    scratch directory)``, the server's log reported, then ``publish``ed."""
    try:
        with server_log(f"{name}-") as log, \
                tempfile.TemporaryDirectory(prefix=f"chronicle-{name}-") as directory:
            figures = asyncio.run(measure(args, log, Path(directory)))
            report_server_log(log)
    except BenchError as e:
        return failed(e)
    return publish(args, summary(figures), lambda: write_json(args.json, figures),
                   lambda: record(figures))


def publish(args: argparse.Namespace, text: str, write_json: Callable[[], None],
            record: Callable[[], None]) -> int:
    """Print a run's summary, leave its JSON for ``run.py``, and add its row to
    ``results.md`` unless ``--no-record``."""
    print(text)
    write_json()
    if not args.no_record:
        record()
        print(f"appended to {RESULTS.relative_to(BENCH_DIR.parent)}")
    return 0


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


# --- a synthetic story: NDJSON command lines ---------------------------------------------
#
# One timeline: 8 sources graded A–F, entries ``e0``..``e199``, reports ``r1``..``rN`` on
# five attributes from varied sources and stances, and about 3 % more lines revising earlier
# reports. Every line is valid after the lines before it (per timeline).

ENTRIES = 200
ATTRIBUTES = ("killed", "wounded", "weapon", "occurred", "place")
# id, kind, reliability: eight sources, six grades.
SOURCES = (
    ("wire", "MEDIA", "A"), ("ministry", "GOVERNMENT", "B"), ("army", "MILITARY", "C"),
    ("monitor", "NGO", "B"), ("channel", "SOCIAL", "E"), ("witness", "INDIVIDUAL", "D"),
    ("paper", "MEDIA", "C"), ("rumour", "OTHER", "F"),
)
STANCES = ("CONFIRMED", "CLAIMED", "UNCONFIRMED", "DENIED")
STANCE_WEIGHTS = (3, 5, 2, 1)
WEAPONS = ("artillery", "air strike", "drone", "tank", "mortar", "small arms")
PLACES = ("Khasham", "Al Tabiyeh", "Deir ez-Zor", "Conoco field", "Euphrates crossing")
REPORTED_FROM = dt.datetime(2018, 2, 8, tzinfo=dt.UTC)
REPORTED_TO = dt.datetime(2018, 3, 10, 23, 59, tzinfo=dt.UTC)
REVISION_RATE = 0.03  # corrections, retractions and ranks per report

Line = dict[str, object]


@dataclass(slots=True)
class Said:
    """What the story has made a report say so far, to write valid revisions of it."""

    entry: int
    attribute: str
    value: dict[str, object]
    stance: str
    reported_at: dt.datetime
    retracted: bool = False


def command(mutation: str, **fields: object) -> Line:
    return {"mutation": mutation, "input": fields}


def instant(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def create_timeline(slug: str, title: str, description: str) -> Line:
    return command("createTimeline", slug=slug, title=title, description=description)


def register_sources() -> list[Line]:
    """The eight ``SOURCES``, registered then graded."""
    return [
        *(command("registerSource", id=s, name=f"The {s}", kind=kind) for s, kind, _ in SOURCES),
        *(command("gradeSource", source=s, reliability=grade, note=f"grade {grade}")
          for s, _, grade in SOURCES),
    ]


def open_entries(slug: str) -> list[Line]:
    return [command("openEntry", timeline=slug, id=f"e{n}", title=f"Entry {n}")
            for n in range(ENTRIES)]


def count(rng: random.Random, centre: int) -> dict[str, object]:
    """A UCDP count near ``centre``: a best guess, a range around it, or "more than"."""
    best = max(0, round(rng.gauss(centre, centre / 4 + 1)))
    shape = rng.random()
    if shape < 0.6:
        return {"count": {"best": best}}
    if shape < 0.85:
        return {"count": {"best": best, "low": best // 2, "high": best * 2 + 1}}
    return {"count": {"low": best}}


def occurred(rng: random.Random, entry: int) -> dict[str, object]:
    if rng.random() < 0.1:
        return {"time": {"start": "2018-02", "precision": "MONTH"}}
    day = 1 + (entry + rng.choice((-1, 0, 0, 0, 1))) % 28
    return {"time": {"start": f"2018-02-{day:02d}", "precision": "DAY"}}


def value(rng: random.Random, attribute: str, entry: int) -> dict[str, object]:
    if attribute == "killed":
        return count(rng, 5 + entry * 37 % 300)
    if attribute == "wounded":
        return count(rng, 10 + entry * 53 % 500)
    if attribute == "weapon":
        return {"text": WEAPONS[(entry + rng.choice((0, 0, 1, 2))) % len(WEAPONS)]}
    if attribute == "occurred":
        return occurred(rng, entry)
    return {"place": {"name": PLACES[(entry + rng.choice((0, 0, 1))) % len(PLACES)]}}


def reported_at(rng: random.Random, i: int, total: int) -> dt.datetime:
    """News arrives over the month, in order but for jitter and some back-dated reports."""
    moment = REPORTED_FROM + (REPORTED_TO - REPORTED_FROM) * (i / total)
    moment += dt.timedelta(hours=rng.uniform(-6, 6))
    if rng.random() < 0.2:
        moment -= dt.timedelta(days=rng.uniform(0, 4))
    return min(max(moment, REPORTED_FROM), REPORTED_TO).replace(second=0, microsecond=0)


def later(rng: random.Random, moment: dt.datetime) -> dt.datetime:
    """A moment up to three days after ``moment``, within the reporting month."""
    then = min(moment + dt.timedelta(hours=rng.uniform(0, 72)), REPORTED_TO)
    return max(then.replace(second=0, microsecond=0), moment)


def report(rng: random.Random, slug: str, i: int, total: int) -> tuple[Line, Said]:
    entry, attribute = rng.randrange(ENTRIES), rng.choice(ATTRIBUTES)
    source = rng.choice(SOURCES)[0]
    said = Said(entry, attribute, value(rng, attribute, entry),
                rng.choices(STANCES, STANCE_WEIGHTS)[0], reported_at(rng, i, total))
    fields: dict[str, object] = {
        "timeline": slug, "id": f"r{i}", "entry": f"e{entry}", "attribute": attribute,
        "value": said.value, "source": source, "stance": said.stance,
        "reportedAt": instant(said.reported_at)}
    if rng.random() < 0.2:
        fields["via"] = rng.choice([s for s, _, _ in SOURCES if s != source])
    if rng.random() < 0.3:
        fields["quote"] = f"Report {i} on {attribute} of entry {entry}."
    return command("reportFact", **fields), said


def correction(rng: random.Random, slug: str, report_id: str, said: Said) -> Line:
    new_value = value(rng, said.attribute, said.entry)
    new_stance = said.stance
    if new_value == said.value or rng.random() < 0.3:
        new_stance = rng.choice([s for s in STANCES if s != said.stance])
    said.value, said.stance = new_value, new_stance
    said.reported_at = later(rng, said.reported_at)
    return command("correctReport", timeline=slug, report=report_id, value=new_value,
                   stance=new_stance, reportedAt=instant(said.reported_at))


def revision(rng: random.Random, slug: str, said: dict[str, Said]) -> Line:
    """A correction, retraction or rank of a live report already in the story."""
    report_id = f"r{rng.randrange(len(said)) + 1}"
    while said[report_id].retracted:
        report_id = f"r{rng.randrange(len(said)) + 1}"
    target = said[report_id]
    kind = rng.random()
    if kind < 0.5:
        return correction(rng, slug, report_id, target)
    if kind < 0.8:
        target.retracted = True
        return command("retractReport", timeline=slug, report=report_id,
                       reason="the source withdrew it",
                       reportedAt=instant(later(rng, target.reported_at)))
    rank = rng.choices(("PREFERRED", "DEPRECATED", "NORMAL"), (3, 5, 2))[0]
    return command("rankReport", timeline=slug, report=report_id, rank=rank,
                   reason=f"editor: {rank.lower()}")


def reports(slug: str, total: int, rng: random.Random) -> list[Line]:
    """``total`` reports ``r1``..``rN`` on ``slug``'s entries, with revisions of earlier ones
    mixed in (about ``REVISION_RATE`` per report); the entries must exist before them."""
    lines: list[Line] = []
    said: dict[str, Said] = {}
    for i in range(1, total + 1):
        line, said[f"r{i}"] = report(rng, slug, i, total)
        lines.append(line)
        if rng.random() < REVISION_RATE:
            lines.append(revision(rng, slug, said))
    return lines


def ndjson(lines: Iterable[Line]) -> str:
    """``{"mutation": …, "input": {…}}`` per line, as ``chronicle import`` reads them."""
    return "".join(json.dumps(line) + "\n" for line in lines)


def mutation_request(line: Line) -> dict[str, object]:
    """A command line as the body of its GraphQL request (input type ``<Mutation>Input``),
    asking for the position of the event it appends."""
    name = str(line["mutation"])
    query = (f"mutation($input: {name[0].upper()}{name[1:]}Input!) "
             f"{{ {name}(input: $input) {{ event {{ position }} }} }}")
    return {"query": query, "variables": {"input": line["input"]}}


def appended_position(line: Line, data: Mapping[str, object]) -> int:
    """The position in the ``data`` answering ``mutation_request(line)``."""
    answer: Any = data.get(str(line["mutation"]))
    try:
        return int(answer["event"]["position"])
    except (TypeError, KeyError, ValueError):
        raise BenchError(f"{line['mutation']} answered {json.dumps(data)[:500]}") from None


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


def record_run(header: str, *cells: object) -> None:
    """One results row: the date (UTC), the commit and the core count, then ``cells``."""
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")
    values = [now, git_head(), os.cpu_count(), *cells]
    record_row(header, "| " + " | ".join(str(v) for v in values) + " |\n")


# --- the suite: a machine-readable summary for bench/run.py -----------------------------
#
# Every script of the suite takes ``--json PATH`` (write the summary there, besides the
# usual output) and ``--no-record`` (append nothing to results.md). The summary is one JSON
# object: {"script", "workload", "commit", "cores", "sizes": {...}, "comparisons": [...],
# "details": {...}}, each comparison a ``Comparison`` as a dict, with its ``ratio`` added.


@dataclass(frozen=True, slots=True)
class Comparison:
    """One line of the suite's table: a Chronicle figure beside its peer's, same run."""

    key: str  # the suite's name for it, e.g. "W2 eventsourcing": a column of its row
    what: str  # what Chronicle did, e.g. "reportFact over HTTP, 16 clients"
    unit: str  # of both figures, e.g. "events/s", "ms p95"
    chronicle: float
    peer_name: str
    peer: float
    goal: str  # e.g. "≥ 3× peer", "p95 < 50 ms"
    met: bool
    judged: str  # the figure the goal judges, as printed: "0.33×", "34.0 ms"

    @property
    def ratio(self) -> float:
        return self.chronicle / self.peer if self.peer else float("nan")

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "ratio": self.ratio}

    @classmethod
    def from_dict(cls, fields: Mapping[str, Any]) -> Comparison:
        """The inverse of ``as_dict`` (``ratio`` is recomputed); KeyError or TypeError
        when a field is missing or of the wrong kind."""
        comparison = cls(
            key=str(fields["key"]), what=str(fields["what"]), unit=str(fields["unit"]),
            chronicle=float(fields["chronicle"]), peer_name=str(fields["peer_name"]),
            peer=float(fields["peer"]), goal=str(fields["goal"]), met=fields["met"],
            judged=str(fields["judged"]))
        if not isinstance(comparison.met, bool):
            raise TypeError(f"met must be true or false, not {comparison.met!r}")
        return comparison


def add_suite_options(parser: argparse.ArgumentParser) -> None:
    """``--json PATH`` and ``--no-record``, which ``run.py`` passes to every script."""
    parser.add_argument("--json", type=Path, metavar="PATH",
                        help="also write a JSON summary there (for bench/run.py)")
    parser.add_argument("--no-record", action="store_true",
                        help="append nothing to bench/results.md")


def write_summary(path: Path | None, *, script: str, workload: str,
                  sizes: Mapping[str, object], comparisons: Iterable[Comparison],
                  details: Mapping[str, object] | None = None) -> None:
    """Write the suite's JSON summary of a run to ``path`` (nothing when None)."""
    if path is None:
        return
    summary = {"script": script, "workload": workload, "commit": git_head(),
               "cores": os.cpu_count(), "sizes": dict(sizes),
               "comparisons": [c.as_dict() for c in comparisons],
               "details": dict(details or {})}
    path.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
