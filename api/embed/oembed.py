"""``/oembed``: the oEmbed 1.0 provider for our embed pages, so a CMS turns a pasted embed
address into an iframe (https://oembed.com/, section 2.2)."""

from __future__ import annotations

from html import escape
from urllib.parse import unquote, urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from api.embed.reading import ReadRefused, public_url, require_reader, services_of

DEFAULT_WIDTH = 640
DEFAULT_HEIGHT = 720


async def oembed(request: Request) -> Response:
    params = request.query_params
    if params.get("format", "json") != "json":
        return PlainTextResponse("only format=json is provided", status_code=501)
    try:
        await require_reader(request)
        width = _dimension(params.get("maxwidth"), DEFAULT_WIDTH, "maxwidth")
        height = _dimension(params.get("maxheight"), DEFAULT_HEIGHT, "maxheight")
    except ReadRefused as e:
        return PlainTextResponse(e.message, status_code=e.status)
    base = public_url(request)
    url = params.get("url", "")
    slug = _our_embed(url, base)
    if slug is None or "\x00" in slug:
        return PlainTextResponse("not an embed of this Chronicle", status_code=404)
    timeline = await services_of(request).read_model.timeline(slug)
    if timeline is None:
        return PlainTextResponse(f"no timeline {slug!r}", status_code=404)
    iframe_title = f"{timeline.title}: a Chronicle timeline"
    iframe = (f'<iframe src="{escape(url)}" width="{width}" height="{height}" '
              f'title="{escape(iframe_title)}" style="border:0;max-width:100%" '
              f'loading="lazy"></iframe>')
    return JSONResponse({
        "version": "1.0", "type": "rich", "title": timeline.title,
        "provider_name": "Chronicle", "provider_url": base + "/",
        "cache_age": 300, "html": iframe, "width": width, "height": height})


def _dimension(raw: str | None, default: int, name: str) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ReadRefused(400, f"{name} must be a whole number of pixels") from None
    if value < 1:
        raise ReadRefused(400, f"{name} must be positive")
    return min(default, value)  # the spec: never wider or taller than asked


def _our_embed(url: str, base: str) -> str | None:
    """The slug when ``url`` is one of this server's embed pages, else None."""
    parts, ours = urlsplit(url), urlsplit(base)
    if (parts.scheme, parts.netloc) != (ours.scheme, ours.netloc):
        return None
    prefix = ours.path.rstrip("/") + "/embed/"
    if not parts.path.startswith(prefix):
        return None
    slug = unquote(parts.path[len(prefix):])  # as a browser's address bar shows it
    return slug if slug and "/" not in slug else None
