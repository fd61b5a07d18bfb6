"""``GET /checkpoint``: the log's latest signed checkpoint, a C2SP signed note in plain text
(signed now if the log has grown since the last one), for anyone to keep a copy of. Public
unless the deployment requires a token to read, like the pages and exports."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from api.embed.reading import ReadRefused, require_reader, services_of


async def checkpoint(request: Request) -> Response:
    try:
        await require_reader(request)
    except ReadRefused as e:
        return PlainTextResponse(e.message, status_code=e.status)
    signed = await services_of(request).transparency.checkpoint()
    return PlainTextResponse(signed.note, headers={"cache-control": "no-cache",
                                                    "x-content-type-options": "nosniff"})
