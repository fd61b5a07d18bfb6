"""The composition root: ``create_app(settings)`` wires everything; no I/O before startup."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult

from api.database import create_engine, upgrade
from api.graphql.context import Context
from api.graphql.errors import code_for
from api.graphql.response_cache import ResponseCache, cache_key
from api.graphql.schema import build_schema
from api.services import Services
from api.settings import Settings
from events.errors import DomainError
from events.rebuild import replay_needed, replay_read_model

log = logging.getLogger(__name__)


class _Holder:
    services: Services | None = None

    def get(self) -> Services:
        if self.services is None:
            raise RuntimeError("the app has not started")
        return self.services


class ChronicleGraphQL(GraphQL[Context, None]):
    def __init__(self, holder: _Holder, settings: Settings) -> None:
        super().__init__(build_schema(), graphql_ide="graphiql",
                         subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
                         max_subscriptions_per_connection=settings.max_subscriptions_per_connection)
        self.holder = holder
        self.answers = ResponseCache()

    async def execute_single(self, request: Any, request_adapter: Any, sub_response: Any,
                             context: Context, root_value: None,
                             request_data: Any) -> ExecutionResult:
        """Timeline reads are answered from the response cache while nothing they depend on
        has changed; everything else is executed as usual."""
        key = await cache_key(context, request_data.query,
                              request_data.operation_name, request_data.variables)
        if key is not None and (answer := self.answers.get(key)) is not None:
            return answer
        result: ExecutionResult = await super().execute_single(
            request, request_adapter, sub_response, context, root_value, request_data)
        if key is not None:
            self.answers.put(key, result)
        return result

    async def get_context(self, request: Any, response: Any) -> Context:
        return Context(services=self.holder.get(),
                       authorization=request.headers.get("authorization"),
                       request=request, response=response)

    async def on_ws_connect(self, context: Context) -> None:
        """A WebSocket is acknowledged only with a valid token when one is given, or when
        the deployment requires one to read (closed with 4403 otherwise)."""
        try:
            principal = await context.principal()
        except DomainError as e:
            raise ConnectionRejectionError({"message": str(e), "code": code_for(e)}) from None
        if principal is None and context.services.settings.require_read_token:
            raise ConnectionRejectionError({"message": "this deployment requires a token to "
                                            "read", "code": "UNAUTHENTICATED"})


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


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    holder = _Holder()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = create_engine(settings)
        if settings.migrate_on_start:
            await upgrade(engine)
        services = Services.build(settings, engine)
        await services.start()
        replay = await start_replay_if_policy_changed(services)
        if settings.demo:
            from api.demo import load_demo_once

            await load_demo_once(services)
        holder.services = services
        app.state.services = services
        try:
            yield
        finally:
            holder.services = None
            if replay is not None:
                replay.cancel()
            await services.close()

    graphql = ChronicleGraphQL(holder, settings)

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def home(request: Request) -> Response:
        return RedirectResponse("/graphql")

    async def not_found(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": "not found"}, status_code=404)

    routes = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz),
        Route("/", home),
    ]
    return Starlette(routes=routes, lifespan=lifespan, exception_handlers={404: not_found})
