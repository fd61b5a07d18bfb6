"""GraphQL over HTTP and WebSocket: strawberry's view, with what clients and caches expect.

- Timeline reads are answered from the response cache while nothing they depend on moved.
- ``Accept: application/graphql-response+json`` gets that media type, and then a request
  that fails before execution (parse, validation, variables) is a 400 without ``data``, as
  the GraphQL-over-HTTP spec asks; ``application/json`` clients keep the 200 they expect.
- GET answers carry an ``ETag`` and answer 304 to ``If-None-Match``.
- A request refused before it reaches GraphQL (a body that is not a JSON object, a content
  type or method it does not take, no query) keeps its 4xx status but is answered as a
  GraphQL error (``BAD_INPUT``, or ``METHOD_NOT_ALLOWED`` with ``Allow``), not plain text.
- WebSockets are acknowledged only with a valid token, when one is given or required.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

import orjson
from cross_web import HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult

from api.graphql import ide
from api.graphql.context import Context
from api.graphql.errors import TOO_COMPLEX, code_for
from api.graphql.limits import QueryLimits, prescan
from api.graphql.response_cache import EncodedResult, ResponseCache, cache_key
from api.graphql.schema import build_schema
from api.services.documents import SHA256, sha256_of
from api.services.wiring import Services
from api.settings import Settings
from events.errors import BadInput, DomainError, refuse_bad_text

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
ALLOWED_METHODS = "GET, POST"
# The code of a request refused before it reaches GraphQL, by its HTTP status.
REFUSAL_CODES = {400: "BAD_INPUT", 405: "METHOD_NOT_ALLOWED"}


class Refused(Exception):
    """A request answered with an error before it is parsed or executed."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.error = GraphQLError(message, extensions={"code": code})


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
        self.limits = limits
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
        error = {"message": refused.reason,
                 "extensions": {"code": REFUSAL_CODES.get(refused.status_code, "BAD_REQUEST")}}
        headers = {"allow": ALLOWED_METHODS} if refused.status_code == 405 else None
        return Response(self.encode_json({"errors": [error]}), status_code=refused.status_code,
                        media_type=_media_type(request.headers.get("accept")), headers=headers)

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
        media_type = _media_type(request.headers.get("accept"))
        sub_response.headers["content-type"] = media_type
        try:
            request_data = await self._admitted(context, request_data)
        except Refused as e:
            if media_type == GRAPHQL_RESPONSE:
                sub_response.status_code = 400
            return ExecutionResult(data=None, errors=[e.error])
        try:
            key = await cache_key(context, request_data.query, operation_name,
                                  request_data.variables)
        except DomainError:
            key = None  # not a read to cache; executing it gives the error its place
        tag = None
        if request.method == "GET":
            # What the answer depends on is read before executing: a commit during the
            # execution can only make the tag older than the body, never newer.
            tag = await self._entity_tag(context, key, request_data, media_type)
        result = await self._answer(key, request, request_adapter, sub_response, context,
                                    root_value, request_data)
        if media_type == GRAPHQL_RESPONSE and _request_error(result):
            sub_response.status_code = 400
        if tag is not None and not result.errors:
            _tag(sub_response, tag, request.headers.get("if-none-match"),
                 private=context.services.settings.require_read_token)
        return result

    async def _admitted(self, context: Context, request_data: Any) -> Any:
        """The request with its document, once it passes the checks that need no parse:
        no NUL (PostgreSQL text cannot hold it; escaped in a document, ``\\u0000`` is
        refused where the value is used), a known persisted query, the token and alias
        limits."""
        try:
            refuse_bad_text(query=request_data.query, variables=request_data.variables)
        except BadInput as e:
            raise Refused("BAD_INPUT", e.message) from None
        request_data = await self._persisted(context, request_data)
        if isinstance(request_data.query, str) and (
                refusal := prescan(request_data.query, self.limits)) is not None:
            raise Refused(TOO_COMPLEX, refusal.message)
        return request_data

    async def _answer(self, key: Any, request: Any, request_adapter: Any, sub_response: Any,
                      context: Context, root_value: None,
                      request_data: Any) -> ExecutionResult:
        """From the response cache, or executed (and cached when it is a cacheable read)."""
        if key is not None and (answer := self.answers.get(key)) is not None:
            return answer
        try:
            result = await super().execute_single(request, request_adapter, sub_response,
                                                  context, root_value, request_data)
        except HTTPException as e:
            if isinstance(e.__cause__, InvalidOperationTypeError):
                # GraphQL over HTTP: a mutation over GET is the wrong method, not a bad
                # request.
                raise HTTPException(405, e.reason) from e
            raise
        if key is None or result.errors or result.data is None:
            return result
        encoded = EncodedResult(self.encode_json_string(
            await super().process_result(request, result)))
        self.answers.put(key, encoded)
        return encoded

    async def _persisted(self, context: Context, request_data: Any) -> Any:
        """The request with its document, for Apollo's automatic persisted queries: a hash
        alone is looked up; a hash with its document is checked, then remembered."""
        extensions = request_data.extensions or {}
        persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        if persisted is None:
            return request_data
        sha = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
        if not isinstance(persisted, dict) or persisted.get("version") != 1 \
                or not isinstance(sha, str) or not SHA256.fullmatch(sha):
            raise Refused("BAD_INPUT", "persistedQuery needs version 1 and a "
                                      "sha256Hash of 64 lowercase hex digits")
        documents = context.services.documents
        if request_data.query is None:
            document = await documents.find(sha)
            if document is None:
                raise Refused("PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")
            return dataclasses.replace(request_data, query=document)
        if sha256_of(request_data.query) != sha:
            raise Refused("BAD_INPUT", "provided sha does not match query")
        documents.remember(sha, request_data.query)
        return request_data

    async def process_result(self, request: Any, result: ExecutionResult) -> Any:
        if isinstance(result, EncodedResult):
            return result
        answer = await super().process_result(request, result)
        if _request_error(result) and _media_type(request.headers.get("accept")) \
                == GRAPHQL_RESPONSE:
            answer.pop("data", None)  # the request never reached execution
        return answer

    def decode_json(self, data: str | bytes) -> object:
        try:
            return super().decode_json(data)
        except UnicodeDecodeError:
            raise HTTPException(400, "the request body is not UTF-8") from None

    def encode_json(self, data: object) -> str | bytes:
        if isinstance(data, EncodedResult):
            return data.body
        try:
            # Several times faster than json on a 200-entry answer; a str, as WebSocket
            # messages are text frames.
            return orjson.dumps(data).decode()
        except TypeError:  # what orjson cannot take (ints past 64 bits) json can
            return super().encode_json(data)

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        headers = {k: v for k, v in sub_response.headers.items() if k != "content-length"}
        if sub_response.status_code == 304:
            headers.pop("content-type", None)
            return Response(status_code=304, headers=headers)
        media_type = headers.pop("content-type", JSON)
        response = Response(self.encode_json(response_data), media_type=media_type,
                            status_code=sub_response.status_code or 200, headers=headers)
        if sub_response.background:
            response.background = sub_response.background
        return response

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

    async def _entity_tag(self, context: Context, key: Any, request_data: Any,
                          media_type: str) -> str:
        if key is None:
            # Anything else a read can show comes from the log: its head stands for it.
            key = ("log", await context.services.store.head_position(), request_data.query,
                   request_data.operation_name,
                   json.dumps(request_data.variables or {}, sort_keys=True, default=str))
        digest = hashlib.sha256(repr((key, media_type)).encode()).hexdigest()[:32]
        return f'"{digest}"'


def _media_type(accept: str | None) -> str:
    """``application/graphql-response+json`` when the client ranks it at least as high as
    ``application/json``; ``application/json`` otherwise (also for ``*/*`` and none)."""
    if not accept:
        return JSON
    ranks: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranks[media.lower()] = quality
    wanted = ranks.get(GRAPHQL_RESPONSE, 0.0)
    return GRAPHQL_RESPONSE if wanted > 0 and wanted >= ranks.get(JSON, 0.0) else JSON


def _tag(sub_response: Any, tag: str, if_none_match: str | None, *, private: bool) -> None:
    """ETag and caching headers of a GET answer; 304 when the client has it already."""
    sub_response.headers["etag"] = tag
    sub_response.headers["cache-control"] = "private, no-cache" if private else "no-cache"
    sub_response.headers["vary"] = "Accept, Authorization"
    if tag in _tags(if_none_match):
        sub_response.status_code = 304


def _request_error(result: ExecutionResult) -> bool:
    """The request failed before execution: no data, and no error has a field path."""
    return result.data is None and bool(result.errors) and all(
        e.path is None for e in result.errors or [])


def _tags(if_none_match: str | None) -> set[str]:
    if not if_none_match:
        return set()
    return {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
