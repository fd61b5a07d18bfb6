"""The composition root: ``create_app(settings)`` wires everything; no I/O before startup."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

from api.database import create_engine, upgrade
from api.embed.checkpoint import checkpoint
from api.embed.exports import csv_export, timelinejs_export
from api.embed.live import live
from api.embed.oembed import oembed
from api.embed.pages import embed, home
from api.embed.reading import falling_back
from api.embed.source_export import sources_csv_export
from api.embed.tiles import tile
from api.graphql import ide
from api.graphql.view import ChronicleGraphQL, ServicesHolder
from api.http.body_limit import BodyLimit
from api.http.health import healthz, readyz
from api.http.metrics import metrics_endpoint
from api.http.observability import RequestIds, configure_logging
from api.services.wiring import Services
from api.settings import Settings
from events.postgres.rebuild import replay_needed, replay_read_model

log = logging.getLogger(__name__)


async def start_replay_if_policy_changed(services: Services) -> asyncio.Task[None] | None:
    """A new policy version means the facts on disk were judged by the old one: rebuild
    them in the background while the old read model keeps serving."""
    if not await replay_needed(services.store):
        return None

    async def run() -> None:
        try:
            position = await replay_read_model(services.store)
            log.info("read model rebuilt for the new policy up to position %d", position)
        except Exception:
            log.exception("the read model could not be rebuilt; run chronicle replay")

    log.warning("the read model was built by another policy version: rebuilding it")
    return asyncio.create_task(run(), name="chronicle-replay")


def freeze_long_lived() -> None:
    """Move what startup built (modules, the schema, the services, the demo) out of the
    cyclic collector's reach: it lives as long as the process, yet every full collection
    would walk it again. See "The read path" in docs/architecture.md for the numbers. No
    collection first: a fresh process holds a few hundred garbage objects by then, frozen
    until the app stops, while a full collection per start doubles the time of the tests,
    which start hundreds of apps in one process."""
    gc.freeze()


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    holder = ServicesHolder()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = create_engine(settings)
        if settings.migrate_on_start:
            await upgrade(engine)
        services = Services.build(settings, engine)
        await services.start()
        replay = await start_replay_if_policy_changed(services)
        if settings.demo:
            from api.services.demo import load_demo_once

            await load_demo_once(services)
        holder.services = services
        app.state.services = services
        freeze_long_lived()
        try:
            yield
        finally:
            # Collectable again: an app stopped inside a longer-lived process (the tests)
            # leaves nothing the collector cannot reach.
            gc.unfreeze()
            holder.services = None
            if replay is not None:
                replay.cancel()
            await services.close()

    graphql = ChronicleGraphQL(holder, settings)

    async def not_found(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": "not found"}, status_code=404)

    routes = [
        Route("/graphql", graphql),  # the view answers other methods: a JSON 405
        WebSocketRoute("/graphql", graphql),
        ide.mount(),  # GraphiQL's bundle, at /graphql/ide
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics_endpoint),
        Route("/", home),
        Route("/embed/{slug}", falling_back(embed)),
        Route("/embed/{slug}/live", live),
        Route("/oembed", oembed),
        Route("/export/{slug}.csv", falling_back(csv_export)),
        Route("/export/{slug}/sources.csv", falling_back(sources_csv_export)),
        Route("/export/{slug}/timelinejs.json", falling_back(timelinejs_export)),
        Route("/checkpoint", checkpoint),
        Route("/tile/{path:path}", tile),
    ]
    return Starlette(routes=routes, lifespan=lifespan, exception_handlers={404: not_found},
                     middleware=middleware(settings))


def worker_app() -> Starlette:
    """The app of one ``chronicle serve --workers N`` process: its own logging, then the
    app, both from the environment; each worker says when it is ready."""
    configure_logging(os.environ.get("CHRONICLE_LOG_FORMAT"),
                      os.environ.get("CHRONICLE_LOG_LEVEL"))
    app = create_app()
    started = app.router.lifespan_context

    @asynccontextmanager
    async def announced(app: Starlette) -> AsyncIterator[None]:
        async with started(app):
            log.info("worker %d is ready", os.getpid())
            yield

    app.router.lifespan_context = announced
    return app


def middleware(settings: Settings) -> list[Middleware]:
    """CORS for browser apps on other origins (bearer tokens, so no credentials), and the
    body size limit."""
    stack = [Middleware(RequestIds)]
    if settings.cors_origins:
        stack.append(Middleware(CORSMiddleware, allow_origins=list(settings.cors_origins),
                                allow_methods=["GET", "POST", "OPTIONS"],
                                allow_headers=["authorization", "content-type", "accept",
                                               "chronicle-min-position"],
                                expose_headers=["etag", "chronicle-position"], max_age=600))
    stack.append(Middleware(BodyLimit, max_bytes=settings.max_body_bytes))
    return stack
