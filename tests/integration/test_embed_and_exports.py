"""The embed page, oEmbed and the exports, as a newsroom's CMS and tools use them."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from html import unescape
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from api.services.csv_import import import_csv
from api.services.demo import DEMO_ACTOR, demo_path
from api.services.intake import LineRefused
from api.services.ndjson_import import import_file
from api.settings import Settings
from tests.databases import Databases
from tests.integration.conftest import Api, running_api
from tests.integration.ws import served

SLUG = "khasham-2018"
BASE = "http://chronicle.test"


@pytest.fixture
async def demo(api: Api) -> Api:
    await import_file(api.services.intake, demo_path(), actor=DEMO_ACTOR)
    return api


async def page(api: Api, path: str) -> str:
    response = await api.client.get(path)
    assert response.status_code == 200, response.text
    return response.text


async def test_the_embed_shows_entries_disputes_and_sources(demo: Api) -> None:
    # The wording itself is tested on stories of their own in test_embed_page.py; here, the
    # demo's page shows every entry and every disputed fact the API knows of.
    response = await demo.client.get(f"/embed/{SLUG}")
    html = response.text
    assert response.status_code == 200
    entries = (await demo.post(f'{{ timeline(slug: "{SLUG}") {{ entries {{ nodes {{ id '
                               "facts { disputed } } } } }"))["data"]["timeline"]["entries"]
    assert html.count("data-entry=") == len(entries["nodes"]) >= 5
    disputed = sum(f["disputed"] for n in entries["nodes"] for f in n["facts"])
    assert html.count('data-disputed="true"') == disputed >= 1
    assert '<html lang="en">' in html and "<main" in html and "<title>" in html
    assert "<script src" not in html and "<link rel=\"stylesheet\"" not in html
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors *" in policy and "x-frame-options" not in response.headers
    nonce = re.search(r"'nonce-([^']+)'", policy)
    assert nonce and f'<style nonce="{nonce[1]}">' in html


async def test_the_embed_notes_corrections_and_retractions(seeded: Api) -> None:
    report = {"timeline": "khasham", "entry": "tank", "attribute": "killed",
              "stance": "CLAIMED", "reportedAt": "2018-02-13T12:00:00Z"}
    await seeded.ok("reportFact", {**report, "id": "bi-200", "source": "business-insider",
                                   "value": {"count": {"low": 200}}})
    await seeded.ok("reportFact", {**report, "id": "p-2", "source": "pentagon",
                                   "value": {"count": {"best": 2}}})
    await seeded.ok("retractReport", {"timeline": "khasham", "report": "bi-200",
                                      "reason": "no source", "reportedAt":
                                      "2018-02-21T09:00:00Z"})
    await seeded.ok("correctReport", {"timeline": "khasham", "report": "p-2",
                                      "value": {"count": {"best": 3}},
                                      "reportedAt": "2018-02-22T09:00:00Z"})
    html = unescape(await page(seeded, "/embed/khasham"))
    assert "updated 21 Feb 2018: 'more than 200' (killed) retracted by Business Insider" \
        in html
    assert "updated 22 Feb 2018: Pentagon corrected its report on killed to '3'" in html


async def test_as_of_shows_the_timeline_as_it_stood(seeded: Api) -> None:
    before = datetime.now(UTC)
    await seeded.ok("openEntry", {"timeline": "khasham", "id": "later", "title": "Later"})
    moment = quote(before.isoformat())
    past = await page(seeded, f"/embed/khasham?asOf={moment}")
    now = await page(seeded, "/embed/khasham")
    assert past.count("data-entry=") == 1 and now.count("data-entry=") == 2
    assert "/live" not in past and "/embed/khasham/live" in now
    bad = await seeded.client.get("/embed/khasham?asOf=yesterday")
    assert bad.status_code == 400 and "asOf" in bad.text
    assert (await seeded.client.get("/embed/nope")).status_code == 404


async def test_frame_ancestors_are_a_setting(database_url: str) -> None:
    settings = Settings(database_url=database_url, migrate_on_start=False,
                        embed_frame_ancestors=("https://news.example", "'self'"))
    async with running_api(settings) as api:
        await api.ok("createTimeline", {"slug": "t", "title": "T"})
        response = await api.client.get("/embed/t")
        assert response.headers["content-security-policy"].endswith(
            "frame-ancestors https://news.example 'self'")


async def test_oembed_follows_the_spec(demo: Api) -> None:
    url = f"{BASE}/embed/{SLUG}"
    response = await demo.client.get("/oembed", params={"url": url, "maxwidth": "400",
                                                        "maxheight": "300"})
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == "1.0" and body["type"] == "rich"
    assert body["width"] <= 400 and body["height"] <= 300
    assert f'src="{url}"' in body["html"] and 'title="' in body["html"]
    assert body["html"].startswith("<iframe") and body["provider_name"] == "Chronicle"
    assert body["title"].startswith("Khasham")
    assert (await demo.client.get("/oembed", params={"url": url, "format": "xml"})
            ).status_code == 501
    for foreign in ("https://evil.example/embed/khasham-2018", f"{BASE}/embed/nope",
                    f"{BASE}/graphql"):
        assert (await demo.client.get("/oembed", params={"url": foreign})).status_code == 404
    assert (await demo.client.get("/oembed", params={"url": url, "maxwidth": "wide"})
            ).status_code == 400
    embed = await page(demo, f"/embed/{SLUG}")
    assert 'type="application/json+oembed"' in embed
    assert f'href="{BASE}/oembed?url={quote(url, safe="")}&amp;format=json"' in embed


async def test_timelinejs_export(demo: Api) -> None:
    response = await demo.client.get(f"/export/{SLUG}/timelinejs.json")
    data = response.json()
    assert data["title"]["text"]["headline"].startswith("Khasham")
    events = data["events"]
    dated = (await demo.post(f'{{ timeline(slug: "{SLUG}") {{ entries {{ nodes {{ id '
                             "occurred { start } facts { disputed } } } } }"
                             ))["data"]["timeline"]["entries"]
    nodes = [n for n in dated["nodes"] if n["occurred"] is not None]
    ids = [n["id"] for n in nodes]
    assert [e["unique_id"] for e in events] == ids and len(ids) >= 5
    assert all(set(e["start_date"]) >= {"year"} for e in events)
    assert {"year": "2018", "month": "2", "day": "10"} in [e["start_date"] for e in events]
    disputed = [e["unique_id"] for e in events if "Disputed" in e["text"]["text"]]
    assert disputed == [n["id"] for n in nodes if any(f["disputed"] for f in n["facts"])]
    assert disputed  # the demo has a disputed fact on a dated entry


async def test_the_start_page_links_every_timeline(demo: Api) -> None:
    html = await page(demo, "/")
    assert f'data-timeline="{SLUG}"' in html
    for link in (f"/embed/{SLUG}", f"/export/{SLUG}.csv", f"/export/{SLUG}/timelinejs.json",
                 "/graphql"):
        assert link in html


async def csv_of(api: Api, slug: str) -> str:
    response = await api.client.get(f"/export/{slug}.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    return response.text


async def test_csv_export_has_a_row_per_report(demo: Api) -> None:
    rows = list(csv.DictReader(io.StringIO(await csv_of(demo, SLUG))))
    commands = demo_path().read_text(encoding="utf-8")
    reports = [r for r in rows if r["row"] == "report"]
    assert len(reports) == commands.count('"reportFact"') > 0
    # ... and rows of the rest of the story: the timeline, the sources its reports cite, its
    # entries and its ranks, as many as the demo's commands make.
    kinds = [r["row"] for r in rows]
    assert kinds[0] == "timeline" and rows[0]["timeline_title"].startswith("Khasham")
    cited = {r["source"] for r in reports} | {r["via"] for r in reports if r["via"]}
    assert sorted(r["source"] for r in rows if r["row"] == "source") == sorted(cited)
    assert kinds.count("entry") == commands.count('"openEntry"') > 0
    assert kinds.count("rank") == commands.count('"rankReport"') > 0
    assert all(r["rank_reason"] for r in rows if r["row"] == "rank")
    killed = [r for r in reports if r["attribute"] == "killed" and r["value"] == "200.."]
    # "more than 200" agrees with the demo's "scores" (at least 40): best 200, from 40 up.
    assert killed and killed[0]["role"] == "SUPPORTS" and killed[0]["best"].startswith(
        "200 (40–200")


@pytest.fixture
async def empty(database_url: str) -> AsyncIterator[Api]:
    async with running_api(Settings(database_url=database_url,
                                    migrate_on_start=False)) as api:
        yield api


async def test_csv_export_then_import_round_trips(demo: Api, databases: Databases,
                                                  tmp_path: Path) -> None:
    exported = await csv_of(demo, SLUG)
    path = tmp_path / "demo.csv"
    path.write_text(exported, encoding="utf-8")
    settings = Settings(database_url=await databases.fresh(), migrate_on_start=False)
    async with running_api(settings) as fresh:
        await import_csv(fresh.services.intake, fresh.services.read_model, path, actor="csv")
        assert await csv_of(fresh, SLUG) == exported


async def test_a_bad_csv_row_is_refused_with_its_line_and_nothing_is_stored(
        empty: Api, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "timeline,entry,attribute,kind,value,source,source_name,stance,reported_at\n"
        "t,e,killed,count,5,s,S,CLAIMED,2018-02-08T00:00:00Z\n"
        "t,e,killed,count,lots,s,S,CLAIMED,2018-02-08T00:00:00Z\n", encoding="utf-8")
    with pytest.raises(LineRefused) as refused:
        await import_csv(empty.services.intake, empty.services.read_model, path, actor="csv")
    assert refused.value.line == 3 and "lots" in refused.value.message
    assert await empty.event_count() == 0


async def test_an_open_embed_hears_of_each_change(seeded: Api) -> None:
    async with served(seeded.app) as ws_url, httpx.AsyncClient(
            base_url=ws_url.replace("ws://", "http://").removesuffix("/graphql")) as client, \
            client.stream("GET", "/embed/khasham/live") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.aiter_lines()
        assert await anext(lines) == ": listening"
        await asyncio.sleep(0.2)  # the watcher starts from the moment of subscribing
        await seeded.ok("openEntry", {"timeline": "khasham", "id": "e2", "title": "Two"})
        received = [await asyncio.wait_for(anext(lines), 10) for _ in range(3)]
        version = await seeded.scalar("SELECT version FROM timelines WHERE slug = 'khasham'")
        assert received == ["", "event: changed", f'data: {{"version": {version}}}']


async def test_newsroom_text_is_escaped_everywhere_it_is_shown(api: Api) -> None:
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    await api.ok("createTimeline", {"slug": "xss", "title": hostile, "description": hostile})
    await api.ok("registerSource", {"id": "src", "name": hostile, "kind": "MEDIA"})
    await api.ok("openEntry", {"timeline": "xss", "id": "e", "title": hostile})
    await api.ok("reportFact", {"timeline": "xss", "entry": "e", "attribute": "claim",
                                "value": {"text": hostile}, "source": "src",
                                "stance": "CLAIMED", "reportedAt": "2018-02-08T12:00:00Z"})
    for path in ("/embed/xss", "/"):
        html = await page(api, path)
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;" in html
    slides = (await api.client.get("/export/xss/timelinejs.json")).json()
    assert "<script>" not in slides["title"]["text"]["headline"]


async def test_oembed_reads_an_embed_address_as_a_browser_writes_it(demo: Api) -> None:
    # Percent-encoded, as an address bar or a CMS may hand it over (and as a slug an earlier
    # version let in, with a final newline, must be).
    url = f"{BASE}/embed/{SLUG.replace('-', '%2D')}"
    response = await demo.client.get("/oembed", params={"url": url})
    assert response.status_code == 200 and response.json()["title"].startswith("Khasham")
