"""The pages a newsroom puts in front of readers: the start page and the embeddable timeline.

Rendered on the server (readable without JavaScript), nothing loaded from elsewhere: the
styles and the one small script are inline, allowed by a per-response nonce in the
Content-Security-Policy, whose ``frame-ancestors`` says who may frame the embed.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from api.embed.presenter import present, records_of
from api.embed.reading import (
    ReadRefused,
    public_url,
    read_source_of,
    read_view,
    require_reader,
    services_of,
)
from events.values import format_instant

templates = Environment(loader=PackageLoader("api.embed", "templates"),
                        autoescape=select_autoescape(["html"]), auto_reload=False)


def _page(request: Request, template: str, status: int = 200, **values: Any) -> Response:
    nonce = secrets.token_urlsafe(16)
    html = templates.get_template(template).render(nonce=nonce, **values)
    ancestors = " ".join(services_of(request).settings.embed_frame_ancestors) or "'none'"
    policy = (f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; "
              f"connect-src 'self'; img-src 'self' data:; base-uri 'none'; "
              f"form-action 'none'; frame-ancestors {ancestors}")
    return HTMLResponse(html, status_code=status, headers={
        "content-security-policy": policy, "x-content-type-options": "nosniff",
        "referrer-policy": "strict-origin-when-cross-origin", "cache-control": "no-cache"})


def _problem(request: Request, status: int, message: str) -> Response:
    return _page(request, "problem.html", status=status, message=message)


async def embed(request: Request) -> Response:
    """``/embed/{slug}[?asOf=…&axis=RECORDED|REPORTED][&part=content]``."""
    slug = request.path_params["slug"]
    try:
        view = await read_view(request, slug)
    except ReadRefused as e:
        return _problem(request, e.status, e.message)
    page = await present(view, records_of(services_of(request), read_source_of(request)))
    if page is None:
        return _problem(request, 404, f"There is no timeline “{slug}”"
                        + (" at that time." if view.moment.as_of else "."))
    base = public_url(request)
    here = f"{base}/embed/{slug}"
    as_of = view.moment.as_of
    url = here if as_of is None else here + "?" + urlencode(
        {"asOf": format_instant(as_of), "axis": view.moment.axis.value})
    # ?part=content: the timeline, its sources and footer alone, as the open page fetches
    # them again after each change (the whole page would bring a <style> whose nonce the
    # open page's policy refuses).
    template = "embed_content.html" if request.query_params.get("part") == "content" \
        else "embed.html"
    return _page(request, template, page=page, base_url=base, present_url=here,
                 as_of=as_of, as_of_text=_moment_text(as_of) if as_of else None,
                 axis=view.moment.axis.value,
                 oembed_url=f"{base}/oembed?" + urlencode({"url": url, "format": "json"}),
                 live_url=None if as_of else f"{here}/live")


async def home(request: Request) -> Response:
    """The timelines, with their embeds, exports and GraphiQL."""
    try:
        await require_reader(request)
        rows = await services_of(request).read_model.timelines()
    except ReadRefused as e:
        return _problem(request, e.status, e.message)
    return _page(request, "home.html", timelines=rows, base_url=public_url(request))


def _moment_text(moment: datetime) -> str:
    return f"{moment.day} {moment:%B %Y, %H:%M} UTC"
