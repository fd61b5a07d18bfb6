"""GraphiQL at /graphql, served by Chronicle alone (api/graphql/ide.py): its page and bundle
over HTTP, then the IDE used in Debian's chromium against a real ``chronicle serve``, with
every request the page makes recorded: none may go to another host.

The screenshot and the full report land in tests/e2e/artifacts/ (git-ignored).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.graphql import ide
from tests.e2e import node_tools
from tests.e2e.servers import Server, token

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
QUERY = "{ timelines { slug } verifyLog { ok } }"  # verifyLog answers only with a token


async def test_the_page_loads_only_files_the_bundle_has_and_caches_them_for_good() -> None:
    async def page(request: Request) -> Response:
        return ide.page()

    app = Starlette(routes=[Route("/graphql", page), ide.mount()])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://chronicle.test") as client:
        answer = await client.get("/graphql")
        assert answer.status_code == 200
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self';" in policy and "connect-src 'self';" in policy
        assert answer.headers["cache-control"] == "no-cache"
        urls = re.findall(r'(?:src|href)="([^"]*)"', answer.text)
        assert [u for u in urls if not u.startswith(f"{ide.PATH}/") and u != "data:,"] == []
        assert len(urls) == 3  # the icon, the style and the script
        for url in urls[1:]:
            asset = await client.get(url, headers={"accept-encoding": "gzip"})
            assert asset.status_code == 200, url
            assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert asset.headers["content-encoding"] == "gzip"
        assert (await client.get(f"{ide.PATH}/nothing.js")).status_code == 404
    workers = {p.name.split("-")[0] for p in ide.STATIC.glob("*.worker-*.js")}
    assert workers == {"editor.worker", "json.worker", "graphql.worker"}


def test_graphiql_works_with_nothing_but_the_server(
        chromium: str, chronicle_env: dict[str, str]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    server = Server(chronicle_env, "--demo")
    try:
        bearer = f"Bearer {token(chronicle_env)}"
        report = node_tools.graphiql_check(f"{server.url}/graphql", QUERY,
                                           authorization=bearer,
                                           screenshot=ARTIFACTS / "graphiql.png")
    except node_tools.ChromiumMissing as e:
        pytest.fail(str(e), pytrace=False)
    finally:
        server.stop()
    (ARTIFACTS / "graphiql-report.json").write_text(json.dumps(report, indent=2) + "\n")
    summary = json.dumps({k: v for k, v in report.items() if k != "requests"}, indent=1)
    if report["docs_error"]:
        summary += ("\nThe docs explorer could not introspect the schema: is the introspection "
                    "query within the limits of api/graphql/limits.py?")
    assert report["status"] == 200 and report["editor"] and report["docs_button"], summary
    assert report["step"] is None, summary
    assert "query: Query" in report["root_types"], summary
    assert {"timeline", "timelines"} <= set(report["query_fields"]), summary
    result = json.loads(report["result"])
    assert result == {"data": {"timelines": [{"slug": "khasham-2018"}],
                               "verifyLog": {"ok": True}}}, summary
    posts = [p for p in report["graphql_posts"] if p["operation"] == QUERY]
    assert [p["authorization"] for p in posts] == [bearer], summary

    origin = urlsplit(server.url)
    elsewhere = [r for r in report["requests"]
                 if urlsplit(r["url"]).scheme not in {"data", "blob"}
                 and urlsplit(r["url"]).netloc != origin.netloc]
    assert elsewhere == [] and report["external_requests"] == [], summary
    loaded = {urlsplit(r["url"]).path.rsplit("/", 1)[-1].split("-")[0] for r in report["requests"]}
    assert "graphql.worker" in loaded, report["requests"]  # Monaco's workers: ours too
    assert report["console"] == [] and report["page_errors"] == [], summary
    assert report["failed_requests"] == [], summary
