"""The demo timeline's embed page and its TimelineJS export in a real browser: Debian's
chromium driven by playwright-core (tests/e2e/node), never a downloaded browser, and nothing
fetched from the internet.

Screenshots and the full reports land in tests/e2e/artifacts/ (git-ignored) for a person to
look at; keyboard focus is reported there, not judged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e import node_tools
from tests.e2e.servers import Server

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
SLUG = "khasham-2018"
WIDTHS = (400, 1000)
SCROLL_WIDTHS = (320,)
BLOCKING = {"serious", "critical"}


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def save(artifacts: Path, name: str, report: dict[str, Any]) -> None:
    (artifacts / name).write_text(json.dumps(report, indent=2) + "\n")


def run(check: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    try:
        report: dict[str, Any] = check(*args, **kwargs)
    except node_tools.ChromiumMissing as e:
        pytest.fail(str(e), pytrace=False)
    return report


def page_problems(width: str, page: dict[str, Any]) -> list[str]:
    """What is wrong with one width of browser_check's report, for the assertion message."""
    if page["navigation_error"] is not None:
        return [f"{width}px: the page did not load: {page['navigation_error']}"]
    if page["status"] != 200:
        return [f"{width}px: HTTP {page['status']}; failed requests: {page['failed_requests']}"]
    problems = []
    probes = page["probes"]
    expected = {"lang": probes["lang"] == "en", "title": bool(probes["title"].strip()),
                "main landmark": probes["main"], "9 [data-entry]": probes["entries"] == 9,
                ">= 3 [data-disputed=true]": probes["disputed"] >= 3,
                ">= 10 [data-source]": probes["sources"] >= 10}
    problems += [f"{width}px: expected {what}; probes: {probes}"
                 for what, ok in expected.items() if not ok]
    errors = [m for m in page["console"] if m["type"] == "error"]
    for what, found in (("console errors", errors), ("page errors", page["page_errors"]),
                        ("requests to another origin", page["external_requests"]),
                        ("failed requests", page["failed_requests"])):
        if found:
            problems.append(f"{width}px: {what}: {json.dumps(found, indent=1)}")
    if page["scroll"]["horizontal"]:
        problems.append(f"{width}px: scrolls horizontally: {page['scroll']}")
    blocking = [v for v in page["axe"]["violations"] if v["impact"] in BLOCKING]
    if blocking:
        problems.append(f"{width}px: axe violations (serious/critical): "
                        f"{json.dumps(blocking, indent=1)}")
    return problems


def test_the_embed_page_is_self_contained_accessible_and_fits_a_phone(
        chromium: str, artifacts: Path, chronicle_env: dict[str, str]) -> None:
    screenshots = [artifacts / f"embed-{width}.png" for width in WIDTHS]
    for screenshot in screenshots:  # an earlier run's must not stand in for this run's
        screenshot.unlink(missing_ok=True)
    server = Server(chronicle_env, "--demo")
    try:
        report = run(node_tools.browser_check, f"{server.url}/embed/{SLUG}", WIDTHS,
                     artifacts, scroll_widths=SCROLL_WIDTHS, name="embed")
    finally:
        server.stop()
    save(artifacts, "embed-report.json", report)
    problems: list[str] = []
    for width, page in report["widths"].items():
        problems += page_problems(width, page)
    for width, page in report["scroll_widths"].items():
        if page["navigation_error"] is not None:
            problems.append(f"{width}px: the page did not load: {page['navigation_error']}")
        elif page["scroll"]["horizontal"]:
            problems.append(f"{width}px: scrolls horizontally: {page['scroll']}")
    assert not problems, "\n".join(problems)
    assert sorted(report["widths"]) == sorted(map(str, WIDTHS))
    for screenshot in screenshots:
        assert screenshot.stat().st_size > 0, f"{screenshot.name} was not written"


def test_the_timelinejs_export_renders_in_timelinejs(
        chromium: str, artifacts: Path, chronicle_env: dict[str, str]) -> None:
    server = Server(chronicle_env, "--demo")
    try:
        url = f"{server.url}/export/{SLUG}/timelinejs.json"
        exported = httpx.get(url, timeout=30)
        report = run(node_tools.timelinejs_check, url,
                     screenshot=artifacts / "timelinejs.png")
    finally:
        server.stop()
    save(artifacts, "timelinejs-report.json", report)
    summary = json.dumps({k: v for k, v in report.items() if k != "marker_ids"}, indent=1)
    assert report["navigation_error"] is None, summary
    assert report["export"].get("status") == 200, summary
    assert report["export"].get("error") is None, summary  # e.g. no CORS header
    assert report["tl_loaded"], summary
    assert report["events"], summary
    assert report["config_errors"] == [] and report["message"] is None, summary
    assert report["ready"], summary
    assert report["markers"] == report["events"], summary  # TimelineJS skips bad events
    assert [m for m in report["console"] if m["type"] == "error"] == [], summary
    assert report["page_errors"] == [], summary
    assert report["external_requests"] == [], summary
    assert report["failed_requests"] == [], summary
    # Chronicle gives every event its entry's id (TimelineJS would make one up otherwise):
    # each marker is one of the export's events.
    ids = [event.get("unique_id") for event in exported.json()["events"]]
    assert ids and all(ids), ids
    assert sorted(report["marker_ids"]) == sorted(ids), summary
