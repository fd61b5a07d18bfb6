"""GraphQL over HTTP and WebSocket: strawberry's view, composed with what clients and
caches expect. Each of these is a module of its own; the view only puts them in place:

- ``trusted``: persisted queries (a hash for a document) and trusted documents.
- ``response_cache``: timeline reads answered while nothing they depend on moved.
- ``single_flight``: concurrent requests for the same uncached read share one execution.
- ``etags``: GET answers carry an ``ETag`` and answer 304 to ``If-None-Match``.
- ``negotiation``: ``application/json`` or ``application/graphql-response+json``, and the
  400 without ``data`` the latter gets for a request that fails before execution.
- ``refusals``: a request refused before it reaches GraphQL answered as a GraphQL error.
- ``websocket_auth``: WebSockets are acknowledged only with a valid token, when one is
  given or required.
- ``encoding``: answers as JSON text (orjson).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult

from api.graphql import encoding, etags, ide
from api.graphql.admission import ReadAdmission, Turn, is_mutation
from api.graphql.context import Context
from api.graphql.fragments import EntryRenderings
from api.graphql.limits import QueryLimits
from api.graphql.negotiation import JSON, is_bad_request, media_type
from api.graphql.positions import (
    MIN_POSITION,
    POSITION,
    is_internal,
    on_standby,
    position_asked,
)
from api.graphql.refusals import Refused, refusal_body, refusal_headers
from api.graphql.response_cache import (
    EncodedResult,
    ResponseCache,
    is_cacheable,
    is_encoded,
    request_key,
)
from api.graphql.schema import build_schema
from api.graphql.single_flight import SingleFlight
from api.graphql.trusted import with_persisted_query
from api.graphql.websocket_auth import admit_connection
from api.services.replicas import standby_failed
from api.services.wiring import Services
from api.settings import Settings
from events.errors import BadInput, refuse_bad_text


class ServicesHolder:
    """The services once the app has started (the view exists before they do)."""

    services: Services | None = None

    def get(self) -> Services:
        if self.services is None:
            raise RuntimeError("the app has not started")
        return self.services


class ChronicleGraphQL(GraphQL[Context, None]):
    def __init__(self, holder: ServicesHolder, settings: Settings) -> None:
        limits = QueryLimits(max_depth=settings.max_depth, max_aliases=settings.max_aliases,
                             max_cost=settings.max_cost, max_tokens=settings.max_tokens)
        schema = build_schema(limits, settings.introspection, settings.trusted_documents_only)
        # Pings every 15 s keep idle subscriptions alive through proxies and load balancers.
        super().__init__(schema, graphql_ide="graphiql", keep_alive=True,
                         keep_alive_interval=15,
                         subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
                         max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
                         # Browser apps allowed over HTTP may subscribe too ("*": any).
                         allowed_origins=settings.cors_origins)
        self.holder = holder
        self.answers = ResponseCache()
        self.flights: SingleFlight[ExecutionResult] = SingleFlight()
        self.renderings = EntryRenderings()
        self.admission = ReadAdmission(settings.read_concurrency)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Strawberry's, except that a refused HTTP request is answered as a GraphQL error."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive=receive)
        try:
            response = await self.run(request)
        except HTTPException as e:
            response = self._refusal(request, e)
        await response(scope, receive, send)

    def _refusal(self, request: Request, refused: HTTPException) -> Response:
        return Response(self.encode_json(refusal_body(refused.status_code, refused.reason)),
                        status_code=refused.status_code,
                        media_type=media_type(request.headers.get("accept")),
                        headers=refusal_headers(refused.status_code))

    async def parse_http_body(self, request_adapter: Any) -> Any:
        try:
            return await super().parse_http_body(request_adapter)
        except AttributeError as e:
            # Strawberry reads the decoded body with ``.get``, which JSON other than an
            # object (a string, a number, null) does not have.
            raise HTTPException(400, "the request body must be a JSON object") from e

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL from Chronicle's own bundle, not from a CDN: it works offline."""
        return ide.page()

    def should_render_graphql_ide(self, request: Any) -> bool:
        """GraphiQL for a browser opening /graphql; not for a persisted query sent by GET
        (it has extensions but no query)."""
        return super().should_render_graphql_ide(request) and \
            request.query_params.get("extensions") is None

    async def get_context(self, request: Any, response: Any) -> Context:
        return Context(services=self.holder.get(),
                       authorization=request.headers.get("authorization"),
                       request=request, response=response)

    async def execute_single(self, request: Any, request_adapter: Any, sub_response: Any,
                             context: Context, root_value: None,
                             request_data: Any) -> ExecutionResult:
        operation_name = request_data.operation_name
        if operation_name is not None and not isinstance(operation_name, str):
            raise HTTPException(400, "operationName must be a string")
        media = media_type(request.headers.get("accept"))
        sub_response.headers["content-type"] = media
        try:
            request_data = await self._admitted(context, request_data)
            min_position = position_asked(request.headers.get(MIN_POSITION))
        except Refused as e:
            refused = ExecutionResult(data=None, errors=[e.error])
            if is_bad_request(media, refused):
                sub_response.status_code = 400
            return refused
        replicas = context.services.replicas
        writes = is_mutation(request_data.query, operation_name,
                             context.services.settings.max_tokens)
        if not writes:
            context.read_from(await replicas.for_read(min_position))
        answer = partial(self._respond, request, request_adapter, sub_response, context,
                         root_value, request_data, media, writes)
        try:
            result = await answer()
        except Exception as e:
            if not on_standby(context) or not standby_failed(e):
                raise
            return await self._on_primary(context, answer)
        if on_standby(context) and any(is_internal(e) for e in result.errors or ()):
            return await self._on_primary(context, answer)
        return result

    async def _on_primary(self, context: Context,
                          answer: Callable[[], Awaitable[ExecutionResult]]) -> ExecutionResult:
        """The answer again, from the primary: the standby went away mid-read."""
        replicas = context.services.replicas
        await replicas.check_all()
        context.read_from(replicas.primary)
        return await answer()

    async def _respond(self, request: Any, request_adapter: Any, sub_response: Any,
                       context: Context, root_value: None, request_data: Any, media: str,
                       writes: bool) -> ExecutionResult:
        """The answer, from the response cache or executed, with its ETag on a GET and the
        position it reflects."""
        result = await self._answered(request, request_adapter, sub_response, context,
                                      root_value, request_data, media)
        if context.appended:
            result.extensions = {**(result.extensions or {}), "position": context.appended}
            sub_response.headers[POSITION] = str(context.appended)
        elif context.services.replicas.configured and not writes:
            sub_response.headers[POSITION] = str(await _position_shown(context, result))
        return result

    async def _answered(self, request: Any, request_adapter: Any, sub_response: Any,
                        context: Context, root_value: None, request_data: Any,
                        media: str) -> ExecutionResult:
        """The answer, from the response cache or executed, with its ETag on a GET."""
        operation_name = request_data.operation_name
        turn = self.admission.turn(request_data.query, operation_name,
                                   context.services.settings.max_tokens)
        async with turn():
            key = await request_key(context, request_data)
            tag = None
            if request.method == "GET":
                tag = await etags.read_entity_tag(context, key, request_data, media)
            answer = self.answers.get(key) if key is not None else None
        result = answer or await self._answer(key, turn, request, request_adapter,
                                              sub_response, context, root_value,
                                              request_data)
        if is_bad_request(media, result):
            sub_response.status_code = 400
        if tag is not None and not result.errors:
            etags.tag_response(sub_response, tag, request.headers.get("if-none-match"),
                               private=context.services.settings.require_read_token)
        return result

    async def _admitted(self, context: Context, request_data: Any) -> Any:
        """The request with its document, once it passes the checks that need no parse:
        no NUL (PostgreSQL text cannot hold it; escaped in a document, ``\\u0000`` is
        refused where the value is used) and a known persisted query. The size limits are
        the schema's (api/graphql/limits.py), on every transport."""
        try:
            refuse_bad_text(query=request_data.query, variables=request_data.variables)
        except BadInput as e:
            raise Refused("BAD_INPUT", e.message) from None
        request_data = await with_persisted_query(context.services.documents, request_data)
        return request_data

    async def _answer(self, key: Any, turn: Turn, request: Any, request_adapter: Any,
                      sub_response: Any, context: Context, root_value: None,
                      request_data: Any) -> ExecutionResult:
        """The answer of the same read executing already for another request (single
        flight, by the response cache's key); or executed in a turn of its own, and cached
        when it is a cacheable read. Waiting for another's execution takes no turn."""

        async def execute() -> ExecutionResult:
            async with turn():
                return await self._execute(key, request, request_adapter, sub_response,
                                           context, root_value, request_data)

        if key is None:
            return await execute()
        return await self.flights.run(key, execute, shareable=is_encoded)

    async def _execute(self, key: Any, request: Any, request_adapter: Any, sub_response: Any,
                       context: Context, root_value: None,
                       request_data: Any) -> ExecutionResult:
        """Executed; a cacheable read is cached, and answered, encoded. Its entries are
        rendered from, and into, the entry renderings (it is encoded at once)."""
        if key is not None:
            context.entry_renderings = self.renderings
        try:
            result = await super().execute_single(request, request_adapter, sub_response,
                                                  context, root_value, request_data)
        except HTTPException as e:
            if isinstance(e.__cause__, InvalidOperationTypeError):
                # GraphQL over HTTP: a mutation over GET is the wrong method, not a bad
                # request.
                raise HTTPException(405, e.reason) from e
            raise
        if key is None or not is_cacheable(result):
            return result
        made_at = await context.read_source.head() if context.services.replicas.configured \
            else 0
        encoded = EncodedResult(self.encode_json_string(
            await super().process_result(request, result)), made_at)
        self.answers.put(key, encoded)
        return encoded

    async def process_result(self, request: Any, result: ExecutionResult) -> Any:
        if isinstance(result, EncodedResult):
            return result
        answer = await super().process_result(request, result)
        if is_bad_request(media_type(request.headers.get("accept")), result):
            answer.pop("data", None)  # the request never reached execution
        return answer

    def decode_json(self, data: str | bytes) -> object:
        try:
            return super().decode_json(data)
        except UnicodeDecodeError:
            raise HTTPException(400, "the request body is not UTF-8") from None

    def encode_json(self, data: object) -> str | bytes:
        return encoding.encode_json(data)

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        headers = {k: v for k, v in sub_response.headers.items() if k != "content-length"}
        if sub_response.status_code == etags.NOT_MODIFIED:
            headers.pop("content-type", None)
            return Response(status_code=etags.NOT_MODIFIED, headers=headers)
        content_type = headers.pop("content-type", JSON)
        response = Response(self.encode_json(response_data), media_type=content_type,
                            status_code=sub_response.status_code or 200, headers=headers)
        if sub_response.background:
            response.background = sub_response.background
        return response

    async def on_ws_connect(self, context: Context) -> None:
        await admit_connection(context)


async def _position_shown(context: Context, result: ExecutionResult) -> int:
    """A position at least as new as anything ``result`` shows. A cached answer knows the
    head read when it was made, after its execution, so it costs no round trip; an answer
    just executed asks the database that made it for its head now."""
    if isinstance(result, EncodedResult):
        return result.position
    return await context.read_source.head()
