"""The Node tools in tests/e2e/node, driven from Python.

- ``install()`` runs ``npm ci`` when node_modules is missing or older than the lock file
  (the ``node_modules`` fixture in tests/e2e/conftest.py calls it once per session).
- ``run_audit(url)`` runs graphql-http's server audits (audit.mjs) and returns its report.
- ``Subscription`` runs a graphql-transport-ws client (subscribe.mjs) and hands back each
  JSON line it prints::

      with Subscription(ws_url, "subscription { ... }", count=2) as sub:
          sub.wait_connected()
          ...append something over HTTP...
          first, second = sub.next(), sub.next()
          assert sub.wait() == 0  # leaving the block terminates a script still running

  Lines are read by a thread, so ``next`` takes a timeout and never hangs a test; an async
  test can ``await asyncio.to_thread(sub.next)``.
"""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, cast

NODE_DIR = Path(__file__).resolve().parent / "node"
LOCK = NODE_DIR / "package-lock.json"
# npm writes this after every install; its age is the age of node_modules' contents.
INSTALLED = NODE_DIR / "node_modules" / ".package-lock.json"


class NodeToolsMissing(RuntimeError):
    """node or npm is not on PATH."""


def executable(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise NodeToolsMissing(
            f"`{name}` is not on PATH: the e2e tests in tests/e2e/node need Node.js 20+ and npm "
            "(Debian: apt-get install nodejs npm)")
    return found


def install(timeout: float = 300) -> bool:
    """``npm ci`` unless node_modules is already at least as new as the lock file.

    Returns whether it installed. Raises NodeToolsMissing without node or npm, and
    CalledProcessError (with npm's output) when the install fails.
    """
    executable("node")
    npm = executable("npm")
    if INSTALLED.exists() and INSTALLED.stat().st_mtime >= LOCK.stat().st_mtime:
        return False
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True,
                   capture_output=True, text=True, timeout=timeout)
    return True


def run_audit(url: str, timeout: float = 60) -> dict[str, Any]:
    """graphql-http's server audits against ``url`` (the /graphql endpoint).

    The report: ``{"url", "total", "counts": {level: {status: n}}, "failures": [{"id",
    "level", "name", "status", "reason", "response"}]}`` with levels MUST, SHOULD, MAY and
    statuses ok, notice, warn, error.
    """
    result = subprocess.run([executable("node"), str(NODE_DIR / "audit.mjs"), url],
                            cwd=NODE_DIR, capture_output=True, text=True, timeout=timeout,
                            check=False)
    if result.returncode != 0:
        raise RuntimeError(f"audit.mjs exited {result.returncode}: {result.stderr}")
    report: dict[str, Any] = json.loads(result.stdout)
    return report


_EOF = object()


class Subscription:
    """``node subscribe.mjs`` as a subprocess, its stdout as parsed JSON lines.

    Lines are ``{"connected": true}`` once the server acknowledged the connection, then each
    ``next`` payload, and at the end possibly ``{"error": ...}`` or ``{"timeout": ...}``.
    The process exits 0 after ``count`` payloads (or when the server completes, without
    ``count``), 1 on an error or a closed socket, 2 when ``timeout_ms`` ran out.
    """

    def __init__(self, url: str, query: str, *, variables: dict[str, Any] | None = None,
                 authorization: str | None = None, count: int | None = None,
                 timeout_ms: int = 30_000) -> None:
        command = [executable("node"), str(NODE_DIR / "subscribe.mjs"), "--url", url,
                   "--query", query, "--timeout-ms", str(timeout_ms)]
        if variables is not None:
            command += ["--variables", json.dumps(variables)]
        if authorization is not None:
            command += ["--authorization", authorization]
        if count is not None:
            command += ["--count", str(count)]
        self.timeout_ms = timeout_ms
        self.process = subprocess.Popen(command, cwd=NODE_DIR, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, bufsize=1)
        self._lines: queue.Queue[object] = queue.Queue()
        self._stderr: list[str] = []
        self._readers = [threading.Thread(target=self._read_stdout, daemon=True),
                         threading.Thread(target=self._read_stderr, daemon=True)]
        for reader in self._readers:
            reader.start()

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            if raw.strip():
                try:
                    self._lines.put(json.loads(raw))
                except json.JSONDecodeError:
                    self._lines.put({"unparsed": raw.rstrip("\n")})
        self._lines.put(_EOF)

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        self._stderr.extend(self.process.stderr)

    def next(self, timeout: float | None = None) -> dict[str, Any]:
        """The next line; StopIteration once the process has exited and every line was read,
        TimeoutError after ``timeout`` seconds (default: the script's own timeout + 5 s)."""
        wait = self.timeout_ms / 1000 + 5 if timeout is None else timeout
        try:
            item = self._lines.get(timeout=wait)
        except queue.Empty:
            raise TimeoutError(f"no line from subscribe.mjs in {wait} s; "
                               f"stderr: {self.stderr}") from None
        if item is _EOF:
            self._lines.put(_EOF)  # later calls end too
            raise StopIteration
        return cast(dict[str, Any], item)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        while True:
            try:
                yield self.next()
            except StopIteration:
                return

    def wait_connected(self, timeout: float = 10) -> None:
        """Returns once the server acknowledged the connection; fails on any other line."""
        line = self.next(timeout)
        if line != {"connected": True}:
            raise AssertionError(f"expected {{'connected': True}}, got {line}; "
                                 f"stderr: {self.stderr}")

    def wait(self, timeout: float = 10) -> int:
        """The exit code, once the process has exited."""
        return self.process.wait(timeout=timeout)

    @property
    def returncode(self) -> int | None:
        return self.process.poll()

    @property
    def stderr(self) -> str:
        return "".join(self._stderr)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for reader in self._readers:
            reader.join(timeout=5)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()
