"""``/embed/{slug}/live``: server-sent events telling an open embed that its timeline
changed (the page then fetches itself again). Plain HTTP, so it passes the proxies and
CMS sandboxes that stop WebSockets."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from api.embed.reading import ReadRefused, checked_slug, require_reader, services_of
from api.services.live import TimelineChange
from events.errors import StoreUnavailable

HEARTBEAT_SECONDS = 15.0


async def live(request: Request) -> Response:
    slug = request.path_params["slug"]
    try:
        await require_reader(request)
        checked_slug(slug)
    except ReadRefused as e:
        return PlainTextResponse(e.message, status_code=e.status)
    services = services_of(request)
    if await services.read_model.timeline(slug) is None:
        return PlainTextResponse(f"no timeline {slug!r}", status_code=404)
    return StreamingResponse(_stream(request, slug), media_type="text/event-stream",
                             headers={"cache-control": "no-cache", "x-accel-buffering": "no"})


async def _stream(request: Request, slug: str) -> AsyncIterator[str]:
    changes: asyncio.Queue[TimelineChange | None] = asyncio.Queue()

    async def follow() -> None:
        try:
            async for change in services_of(request).changes.subscribe(slug):
                changes.put_nowait(change)
        except StoreUnavailable:
            pass
        changes.put_nowait(None)

    follower = asyncio.create_task(follow())
    try:
        yield ": listening\n\n"
        while True:
            try:
                change = await asyncio.wait_for(changes.get(), HEARTBEAT_SECONDS)
            except TimeoutError:
                yield ": still here\n\n"
                continue
            if change is None:
                return  # the browser's EventSource reconnects by itself
            yield f"event: changed\ndata: {json.dumps({'version': change.version})}\n\n"
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower
