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
- ``browser_check(url, widths, screenshots_dir)`` opens a page in Debian's chromium
  (browser_check.mjs, playwright-core) and returns what it saw: console errors, requests to
  other origins, horizontal scrolling, DOM probes, axe-core violations, keyboard focus.
- ``timelinejs_check(export_url)`` loads a TimelineJS export in TimelineJS itself
  (timelinejs_check.mjs) and returns how it rendered.
- ``client_cache_check(script, ...)`` runs apollo_cache.mjs or urql_cache.mjs: a frontend
  client's normalized cache, a timelineChanged subscription and one write; returns what the
  cache held before and after.
- ``graphiql_check(graphql_url, query)`` uses Chronicle's GraphiQL as a person would
  (graphiql_check.mjs): the editor, the docs explorer, a query run, every request made.

  browser_check, timelinejs_check and graphiql_check raise ChromiumMissing without the
  browser (CHROMIUM, default /usr/bin/chromium).
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, cast

NODE_DIR = Path(__file__).resolve().parent / "node"
LOCK = NODE_DIR / "package-lock.json"
# npm writes this after every install; its age is the age of node_modules' contents.
INSTALLED = NODE_DIR / "node_modules" / ".package-lock.json"
# The browser scripts exit with this when chromium is missing or does not start.
EXIT_NO_BROWSER = 3


class NodeToolsMissing(RuntimeError):
    """node or npm is not on PATH."""


def executable(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise NodeToolsMissing(
            f"`{name}` is not on PATH: the e2e tests in tests/e2e/node need Node.js 20+ and npm "
            "(Debian: apt-get install nodejs npm)")
    return found


class ChromiumMissing(RuntimeError):
    """Debian's chromium, which the browser scripts drive, is not installed or won't start."""


def chromium() -> str:
    """The browser the scripts drive: CHROMIUM from the environment, else /usr/bin/chromium.
    Raises ChromiumMissing when it is not there."""
    path = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
    if not Path(path).is_file():
        raise ChromiumMissing(
            f"no chromium at {path}: the browser tests drive Debian's chromium with "
            "playwright-core, never a downloaded browser (apt-get install chromium; .ci/run "
            "installs it)")
    return path


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


def _run_browser_script(script: str, args: list[str], timeout: float) -> dict[str, Any]:
    """``node script args...`` and the JSON object it prints; every failure says why."""
    browser = chromium()
    command = [executable("node"), str(NODE_DIR / script), *args]
    try:
        result = subprocess.run(command, cwd=NODE_DIR, capture_output=True, text=True,
                                timeout=timeout, check=False,
                                env={**os.environ, "CHROMIUM": browser})
    except subprocess.TimeoutExpired as e:
        stderr = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else e.stderr
        raise RuntimeError(f"{script} did not finish in {timeout} s: {' '.join(command)}\n"
                           f"stderr: {stderr or ''}") from None
    if result.returncode == EXIT_NO_BROWSER:
        raise ChromiumMissing(result.stderr.strip())
    if result.returncode != 0:
        raise RuntimeError(f"{script} exited {result.returncode}: {' '.join(command)}\n"
                           f"stderr: {result.stderr}")
    try:
        report: dict[str, Any] = json.loads(result.stdout)
    except json.JSONDecodeError:
        raise RuntimeError(f"{script} printed no JSON report: {result.stdout[:2000]!r}\n"
                           f"stderr: {result.stderr}") from None
    return report


def browser_check(url: str, widths: Sequence[int], screenshots_dir: Path, *,
                  scroll_widths: Sequence[int] = (320,), name: str = "embed",
                  tabs: int = 3, timeout: float = 60) -> dict[str, Any]:
    """browser_check.mjs on ``url``: a fresh chromium page per width, 900 px high.

    The report: ``{"url", "browser", "widths": {"<width>": {...}}, "scroll_widths":
    {"<width>": {...}}}``. Each of ``widths`` has ``status``, ``navigation_error``,
    ``network_idle``, ``console`` (errors and warnings), ``page_errors``,
    ``external_requests`` (to any origin but the page's; aborted), ``failed_requests``,
    ``screenshot`` (``screenshots_dir/<name>-<width>.png``, full page), ``scroll``
    (``horizontal``, ``scroll_width``, ``client_width``), ``probes`` (``lang``, ``title``,
    ``entries``, ``disputed``, ``sources``, ``corrections``, ``main``, ``header``,
    ``first_disputed_text``), ``axe`` (``violations``: ``id``, ``impact``, ``help``,
    ``nodes``, ``targets``) and ``focus`` (what each Tab focused, and whether it has a
    visible outline or box-shadow). Each of ``scroll_widths`` has only ``status``,
    ``navigation_error`` and ``scroll``. See the header of browser_check.mjs.
    """
    args = ["--url", url, "--widths", ",".join(map(str, widths)),
            "--scroll-widths", ",".join(map(str, scroll_widths)),
            "--screenshots", str(screenshots_dir), "--name", name, "--tabs", str(tabs)]
    return _run_browser_script("browser_check.mjs", args, timeout)


def timelinejs_check(export_url: str, *, screenshot: Path | None = None,
                     timeout: float = 60) -> dict[str, Any]:
    """timelinejs_check.mjs: a page on another origin fetches ``export_url`` (so the export
    needs CORS) and renders it with ``new TL.Timeline(...)`` from @knight-lab/timelinejs.

    The report: ``export`` (``status``, ``content_type``, ``error``), ``tl_loaded``,
    ``events`` (in the fetched JSON), ``ready``, ``timed_out``, ``config_errors``,
    ``message`` (TimelineJS's error in place of the timeline), ``markers``, ``slides`` (not
    counting the title slide), ``marker_ids``, and ``console``, ``page_errors``,
    ``external_requests``, ``failed_requests`` as in ``browser_check``.
    """
    args = ["--export", export_url]
    if screenshot is not None:
        args += ["--screenshot", str(screenshot)]
    return _run_browser_script("timelinejs_check.mjs", args, timeout)


def graphiql_check(graphql_url: str, query: str, *, authorization: str | None = None,
                   screenshot: Path | None = None, timeout: float = 90) -> dict[str, Any]:
    """graphiql_check.mjs: opens ``graphql_url`` in chromium, waits for GraphiQL's editor,
    opens the documentation explorer and its query root type, puts ``authorization`` in the
    headers editor if given, and runs ``query``; each step may take 30 s.

    The report: ``status``, ``csp``, ``editor``, ``docs_button``, ``root_types`` (e.g.
    ``"query: Query"``), ``query_fields``, ``docs_error``, ``result`` (the response editor's
    text), ``graphql_posts`` (``authorization``, ``operation``), ``requests`` (every one the
    page made: ``url``, ``method``, ``resource_type``), ``step`` and ``step_error`` (where it
    stopped, or None), and ``console``, ``page_errors``, ``external_requests``,
    ``failed_requests`` as in ``browser_check``. See the header of graphiql_check.mjs.
    """
    args = ["--url", graphql_url, "--query", query]
    if authorization is not None:
        args += ["--authorization", authorization]
    if screenshot is not None:
        args += ["--screenshot", str(screenshot)]
    return _run_browser_script("graphiql_check.mjs", args, timeout)


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


# Node flags per client script: Apollo's development build warns about cache misconfiguration.
_CLIENT_NODE_FLAGS = {"apollo_cache.mjs": ["--conditions=development"], "urql_cache.mjs": []}


def client_cache_check(script: str, *, http_url: str, ws_url: str, token: str, timeline: str,
                       entry: str, attribute: str, report: dict[str, Any],
                       timeout: float = 60) -> dict[str, Any]:
    """``node script``, one of apollo_cache.mjs and urql_cache.mjs (see their headers): two
    clients, one configured as README.md shows and one with the library's default keys, query
    ``timeline``, subscribe to ``timelineChanged``, and the configured one sends ``report``
    (a ReportFactInput, with an ``id``) over HTTP with ``token``.

    The report: ``written`` (the event), ``configured`` and ``default``, each with the fact
    (``entry``, ``attribute``) as the query first read it (``before``), as the subscription
    pushed it (``pushed``) and as the cache read it right after (``cached``), and for
    ``configured`` as the watched query emitted it (``watched``); and ``warnings`` the
    library logged, plus script-specific fields. Raises RuntimeError with the script's
    stderr when it fails or times out.
    """
    args = ["--http", http_url, "--ws", ws_url, "--token", token, "--timeline", timeline,
            "--entry", entry, "--attribute", attribute, "--report", json.dumps(report),
            "--timeout-ms", str(int(timeout * 1000) // 2)]
    command = [executable("node"), *_CLIENT_NODE_FLAGS[script], str(NODE_DIR / script), *args]
    try:
        result = subprocess.run(command, cwd=NODE_DIR, capture_output=True, text=True,
                                timeout=timeout, check=False)
    except subprocess.TimeoutExpired as e:
        stderr = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else e.stderr
        raise RuntimeError(f"{script} did not finish in {timeout} s\nstderr: {stderr or ''}"
                           ) from None
    if result.returncode != 0:
        raise RuntimeError(f"{script} exited {result.returncode}: {result.stdout}\n"
                           f"stderr: {result.stderr}")
    observed: dict[str, Any] = json.loads(result.stdout)
    return observed

