"""``GET /tile/<L>/<N>[.p/<W>]`` and ``GET /tile/entries/<N>[.p/<W>]``: the log's tree as
C2SP tlog-tiles (events/tiles.py), beside ``/checkpoint``, so that generic
transparency-log clients can audit the log without Chronicle's API. A tile never changes
once it exists, so it may be cached for good; one the tree is too small for is a 404."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from api.embed.reading import ReadRefused, require_reader, services_of
from events.tiles import NotATile, parse_tile_path

IMMUTABLE = "public, max-age=31536000, immutable"


async def tile(request: Request) -> Response:
    try:
        await require_reader(request)
    except ReadRefused as e:
        return PlainTextResponse(e.message, status_code=e.status)
    try:
        wanted = parse_tile_path(request.path_params["path"])
    except NotATile as e:
        return PlainTextResponse(f"not a tile: {e}", status_code=404)
    found = await services_of(request).transparency.tile(wanted)
    if found is None:
        return PlainTextResponse("the log does not hold that tile yet", status_code=404,
                                 headers={"cache-control": "no-cache"})
    return Response(found, media_type="application/octet-stream",
                    headers={"cache-control": IMMUTABLE, "x-content-type-options": "nosniff"})
