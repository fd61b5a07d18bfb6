"""The schema: queries, mutations and the extensions every request goes through."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import strawberry
from graphql import NoSchemaIntrospectionCustomRule
from graphql.error import GraphQLError
from strawberry.extensions import AddValidationRules, MaxTokensLimiter
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from api.graphql.errors import ErrorCodes, coded
from api.graphql.execution import PlainLeafExecutionContext, mark_plain_leaves
from api.graphql.limits import Guard, Limiter, QueryLimits
from api.graphql.mutations import Mutation
from api.graphql.operation_metrics import OperationMetrics
from api.graphql.queries import Query
from api.graphql.subscriptions import Subscription
from api.graphql.trusted import TrustedDocumentsOnly


class ChronicleSchema(strawberry.Schema):
    async def stream(self, *args: Any, **kwargs: Any) -> Any:
        """Every streamed result (subscriptions, operations over WebSocket) with its errors
        coded and masked as ``ErrorCodes`` does for single results: its hook runs once
        around a subscription, not for each result."""
        return _coded(await super().stream(*args, **kwargs))

    def process_errors(self, errors: list[GraphQLError],
                       execution_context: ExecutionContext | None = None) -> None:
        """Refusals are expected and unexpected errors are logged, with an id, by
        ``ErrorCodes``; strawberry's default would log every refusal with a traceback."""


async def _coded(results: AsyncIterator[Any]) -> AsyncIterator[Any]:
    async for result in results:
        if getattr(result, "errors", None):
            result.errors = [coded(e) for e in result.errors]
        yield result


def build_schema(limits: QueryLimits | None = None, introspection: bool = True,
                 trusted_documents_only: bool = False) -> strawberry.Schema:
    """The schema with its request pipeline; ``introspection=False`` refuses ``__schema``
    and ``__type`` (production deployments that publish their schema file instead), and
    ``trusted_documents_only`` anything but registered documents, on every transport."""
    limits = limits or QueryLimits()
    limiter = Limiter(limits)  # strawberry's depth and alias rules, built once
    extensions: list[Any] = [
        # Factories: strawberry builds extensions per request; Guard's parse and
        # validation caches live at module level, so they are shared across requests.
        # (ParserCache is left out: its parse errors bypass ErrorCodes and reach the
        # client without a code.) The parser stops at max_tokens; Guard refuses what goes
        # over the other limits before validation.
        ErrorCodes, OperationMetrics, lambda: MaxTokensLimiter(limits.max_tokens),
        lambda: Guard(limiter)]
    if trusted_documents_only:
        extensions.append(TrustedDocumentsOnly)  # after Guard: its refusal is the answer
    if not introspection:
        extensions.append(lambda: AddValidationRules([NoSchemaIntrospectionCustomRule]))
    schema = ChronicleSchema(query=Query, mutation=Mutation, subscription=Subscription,
                             extensions=extensions,
                             config=StrawberryConfig(auto_camel_case=True),
                             execution_context_class=PlainLeafExecutionContext)
    mark_plain_leaves(schema._schema, schema.config.default_resolver)
    return schema


def schema_sdl() -> str:
    """The SDL written to ``schema.graphql`` (a test fails when that file is stale)."""
    return build_schema().as_str() + "\n"
