"""GraphiQL served by Chronicle itself: a page that loads only its own bundle, from
``/graphql/ide/``, so the IDE works with no other host in reach.

The bundle in static/graphiql is built from GraphiQL's npm packages by
``npm run build`` in api/graphql/graphiql (see its build.mjs) and committed; its file names
carry a hash of their content, so they are cached for good, and manifest.json names the
script and the style the page loads.
"""

from __future__ import annotations

import functools
import json
import os
import re
from pathlib import Path

from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

PATH = "/graphql/ide"
STATIC = Path(__file__).resolve().parent / "static" / "graphiql"
# esbuild's [name]-[hash] file names, and the license notices named after them.
HASHED = re.compile(r".+-[A-Z0-9]{8}\.[a-z0-9]+(\.LEGAL\.txt)?")
# No inline script, and nothing from another origin. Monaco, the editor, adds <style>
# elements as it runs; the fonts are data: URLs in the stylesheet.
POLICY = ("default-src 'none'; script-src 'self'; worker-src 'self'; connect-src 'self'; "
          "style-src 'self' 'unsafe-inline'; font-src 'self' data:; img-src 'self' data:; "
          "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


@functools.cache
def _manifest() -> dict[str, str]:
    manifest: dict[str, str] = json.loads((STATIC / "manifest.json").read_text())
    return manifest


def html() -> str:
    """The GraphiQL page: a stylesheet, a module script and the element GraphiQL fills."""
    manifest = _manifest()
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Chronicle · GraphiQL</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{PATH}/{manifest['style']}">
<script type="module" src="{PATH}/{manifest['script']}"></script>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
</body>
</html>
"""


def page() -> Response:
    """The page as an answer, with the policy that allows what it loads and no more."""
    return HTMLResponse(html(), headers={
        "content-security-policy": POLICY, "x-content-type-options": "nosniff",
        "referrer-policy": "same-origin", "cache-control": "no-cache"})


class _Assets(StaticFiles):
    def file_response(self, full_path: str | os.PathLike[str], stat_result: os.stat_result,
                      scope: Scope, status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        if HASHED.fullmatch(Path(full_path).name):
            response.headers["cache-control"] = "public, max-age=31536000, immutable"
        else:
            response.headers["cache-control"] = "no-cache"
        response.headers["x-content-type-options"] = "nosniff"
        return response


def mount() -> Mount:
    """The bundle's files under ``PATH``, gzipped for clients that take it (they are
    several MB of JavaScript and CSS)."""
    return Mount(PATH, app=GZipMiddleware(_Assets(directory=STATIC)), name="graphiql")
