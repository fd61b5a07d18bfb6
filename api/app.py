"""The composition root: ``create_app(settings)`` wires everything; no I/O before startup."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from strawberry.asgi import GraphQL

from api.database import create_engine, upgrade
from api.graphql.context import Context
from api.graphql.schema import build_schema
from api.services import Services
from api.settings import Settings

log = logging.getLogger(__name__)


class _Holder:
    services: Services | None = None

    def get(self) -> Services:
        if self.services is None:
            raise RuntimeError("the app has not started")
        return self.services


class ChronicleGraphQL(GraphQL[Context, None]):
    def __init__(self, holder: _Holder) -> None:
        super().__init__(build_schema(), graphql_ide="graphiql")
        self.holder = holder

    async def get_context(self, request: Any, response: Any) -> Context:
        return Context(services=self.holder.get(),
                       authorization=request.headers.get("authorization"),
                       request=request, response=response)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    holder = _Holder()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = create_engine(settings)
        if settings.migrate_on_start:
            await upgrade(engine)
        services = Services.build(settings, engine)
        if settings.demo:
            from api.demo import load_demo_once

            await load_demo_once(services)
        holder.services = services
        app.state.services = services
        try:
            yield
        finally:
            holder.services = None
            await services.close()

    graphql = ChronicleGraphQL(holder)

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def home(request: Request) -> Response:
        return RedirectResponse("/graphql")

    async def not_found(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": "not found"}, status_code=404)

    routes = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/healthz", healthz),
        Route("/", home),
    ]
    return Starlette(routes=routes, lifespan=lifespan, exception_handlers={404: not_found})
