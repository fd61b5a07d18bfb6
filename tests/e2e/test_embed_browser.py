"""The demo timeline's embed page and its TimelineJS export in a real browser: Debian's
chromium driven by playwright-core (tests/e2e/node), never a downloaded browser, and nothing
fetched from the internet. And an open embed updating itself when a fact changes, in the
same wording as a fresh page.

Screenshots and the full reports land in tests/e2e/artifacts/ (git-ignored) for a person to
look at; keyboard focus is reported there, not judged.
"""

from __future__ import annotations

import json
import re
import subprocess
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e import node_tools
from tests.e2e.servers import Server, token

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


def demo_counts(server: Server) -> dict[str, int]:
    """How many entries the demo timeline has and how many of their facts are disputed, as
    the API says (the demo's contents are not this test's business)."""
    body: Any = server.graphql(f'{{ timeline(slug: "{SLUG}") {{ entries(first: 500) '
                               "{ nodes { facts { disputed } } } } }")
    nodes = body["data"]["timeline"]["entries"]["nodes"]
    return {"entries": len(nodes),
            "disputed": sum(f["disputed"] for n in nodes for f in n["facts"])}


def page_problems(width: str, page: dict[str, Any], counts: dict[str, int]) -> list[str]:
    """What is wrong with one width of browser_check's report, for the assertion message."""
    if page["navigation_error"] is not None:
        return [f"{width}px: the page did not load: {page['navigation_error']}"]
    if page["status"] != 200:
        return [f"{width}px: HTTP {page['status']}; failed requests: {page['failed_requests']}"]
    problems = []
    probes = page["probes"]
    expected = {"lang": probes["lang"] == "en", "title": bool(probes["title"].strip()),
                "main landmark": probes["main"],
                f"{counts['entries']} [data-entry]": probes["entries"] == counts["entries"],
                f"{counts['disputed']} [data-disputed=true]":
                    probes["disputed"] == counts["disputed"],
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
        counts = demo_counts(server)
        report = run(node_tools.browser_check, f"{server.url}/embed/{SLUG}", WIDTHS,
                     artifacts, scroll_widths=SCROLL_WIDTHS, name="embed")
    finally:
        server.stop()
    save(artifacts, "embed-report.json", report)
    assert counts["entries"] >= 5 and counts["disputed"] >= 1, counts
    problems: list[str] = []
    for width, page in report["widths"].items():
        problems += page_problems(width, page, counts)
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


# Opens the embed in chromium, opens a fact's "Why this value", then makes a change through
# GraphQL and waits for the open page to show it (it hears of the change over server-sent
# events and fetches itself again). Should the change land before the page's listener is in
# place, a harmless second change (a new entry) makes it fetch itself again. Prints a JSON
# report; the test judges it.
LIVE_CHECK = r"""
import { errorText, launch, record, report } from './browser.mjs';

const config = JSON.parse(process.argv[1]);
const headline = (page) => page.evaluate((selector) => {
  const element = document.querySelector(selector);
  return element ? element.textContent.replace(/\s+/g, ' ').trim() : null;
}, config.headline);

async function post(query, variables) {
  const response = await fetch(config.graphql, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${config.token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
}

const browser = await launch('live-check');
const out = { before: null, after: null, nudges: 0, details_open: null, quote: null,
              status: null, error: null };
try {
  const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
  const log = await record(context, [config.url]);
  const page = await context.newPage();
  const listening = page.waitForResponse((r) => r.url().endsWith('/live'), { timeout: 15000 });
  await page.goto(config.url, { waitUntil: 'load', timeout: 15000 });
  await listening;
  out.before = await headline(page);
  await page.click(`${config.fact} details > summary`);
  await post(config.mutation, { input: config.input });
  for (;;) {
    try {
      await page.waitForFunction(({ selector, expected }) => {
        const element = document.querySelector(selector);
        return element && element.textContent.replace(/\s+/g, ' ').trim() === expected;
      }, { selector: config.headline, expected: config.expected }, { timeout: 10000 });
      break;
    } catch (error) {
      if (out.nudges >= 3) throw error;
      out.nudges += 1;
      await post('mutation($input: OpenEntryInput!) { openEntry(input: $input) '
                 + '{ event { position } } }',
                 { input: { timeline: config.timeline, title: `Nudge ${out.nudges}` } });
    }
  }
  out.after = await headline(page);
  out.details_open = await page.evaluate((s) => document.querySelector(`${s} details`).open,
                                         config.fact);
  out.quote = await page.evaluate((s) => document.querySelector(s)?.textContent ?? null,
                                  config.quote);
  out.status = await page.evaluate(() => document.getElementById('live-status').textContent);
  Object.assign(out, log);
} catch (error) {
  out.error = errorText(error);
  out.after = out.after ?? null;
}
await browser.close();
report(out);
"""

LIVE_SLUG = "derna-2023"


def headline_of(html: str, entry: str, attribute: str) -> str:
    """A fact's headline in a page's HTML, as text."""
    article = html.split(f'data-entry="{entry}"', 1)[1]
    fact = article.split(f'data-fact="{attribute}"', 1)[1]
    line = fact.split('<p class="headline">', 1)[1].split("</p>", 1)[0]
    return " ".join(unescape(re.sub(r"<[^>]+>", "", line)).split())


def test_an_open_embed_shows_a_changed_fact_in_the_same_wording(
        chromium: str, chronicle_env: dict[str, str]) -> None:
    server = Server(chronicle_env)
    try:
        writer = token(chronicle_env)

        def ok(mutation: str, input: dict[str, Any]) -> None:
            name = mutation[0].upper() + mutation[1:]
            response = httpx.post(
                server.url + "/graphql", timeout=30,
                headers={"authorization": f"Bearer {writer}"},
                json={"query": f"mutation($input: {name}Input!) {{ {mutation}(input: $input) "
                               "{ event { position } } }", "variables": {"input": input}})
            assert response.status_code == 200 and "errors" not in response.json(), \
                response.text

        ok("createTimeline", {"slug": LIVE_SLUG, "title": "Derna flood, September 2023"})
        for id, name in (("lrc", "Libyan Red Crescent"), ("health", "Eastern health ministry"),
                         ("ocha", "UN OCHA")):
            ok("registerSource", {"id": id, "name": name, "kind": "NGO"})
            ok("gradeSource", {"source": id, "reliability": "B"})
        ok("openEntry", {"timeline": LIVE_SLUG, "id": "flood", "title": "Dams burst"})
        report = {"timeline": LIVE_SLUG, "entry": "flood", "attribute": "killed",
                  "stance": "CLAIMED"}
        ok("reportFact", {**report, "source": "health", "value": {"count": {"best": 2300}},
                          "reportedAt": "2023-09-12T10:00:00Z"})
        ok("reportFact", {**report, "source": "lrc", "value": {"count": {"best": 3958}},
                          "reportedAt": "2023-09-14T10:00:00Z"})
        fact = '[data-entry="flood"] [data-fact="killed"]'
        config = {
            "url": f"{server.url}/embed/{LIVE_SLUG}", "graphql": f"{server.url}/graphql",
            "token": writer, "timeline": LIVE_SLUG, "fact": fact,
            "headline": f"{fact} .headline",
            "mutation": "mutation($input: ReportFactInput!) { reportFact(input: $input) "
                        "{ event { position } } }",
            "input": {**report, "id": "k-ocha", "source": "ocha",
                      "value": {"count": {"low": 20000}},
                      "reportedAt": "2023-09-17T10:00:00Z",
                      "quote": "More than 20,000 may have died."},
            "expected": "3,958 killed · reports from 2,300 to 20,000+ · disputed",
            "quote": '[data-report="k-ocha"] q'}
        result = subprocess.run(
            [node_tools.executable("node"), "--input-type=module", "-e", LIVE_CHECK,
             json.dumps(config)], cwd=node_tools.NODE_DIR, capture_output=True, text=True,
            timeout=120, check=False, env={**chronicle_env, "CHROMIUM": chromium})
        fresh = httpx.get(config["url"], timeout=30).text
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    summary = json.dumps(out, indent=1)
    assert out["error"] is None, summary
    # Two reports of equal weight: the lower value, disputed; a third makes 3,958 the median.
    assert out["before"] == "2,300 killed · reports from 2,300 to 3,958 · disputed", summary
    assert out["after"] == config["expected"], summary
    assert out["quote"] == "More than 20,000 may have died.", summary
    assert out["details_open"] is True, summary  # what the reader opened stays open
    assert out["status"].startswith("Updated"), summary
    assert headline_of(fresh, "flood", "killed") == out["after"]  # as a fresh page says it
    assert out["external_requests"] == [] and out["page_errors"] == [], summary
    assert [m for m in out["console"] if m["type"] == "error"] == [], summary
