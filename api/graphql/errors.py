"""One table from domain errors to GraphQL codes; everything else is masked with an id."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

from graphql.error import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import SchemaExtension

from api.services.rate_limit import RateLimited
from events.appender import StoreFailure
from events.errors import (
    BadInput,
    Conflict,
    DomainError,
    Forbidden,
    LogDamaged,
    NotFound,
    StoreUnavailable,
    Unauthenticated,
)
from events.vocabulary import Unreadable

log = logging.getLogger("chronicle.errors")

TOO_COMPLEX = "QUERY_TOO_COMPLEX"

ERROR_CODES: dict[type[DomainError], str] = {
    BadInput: "BAD_INPUT",
    NotFound: "NOT_FOUND",
    Conflict: "CONFLICT",
    Unauthenticated: "UNAUTHENTICATED",
    Forbidden: "FORBIDDEN",
    StoreUnavailable: "UNAVAILABLE",
    LogDamaged: "LOG_DAMAGED",
    RateLimited: "RATE_LIMITED",
    StoreFailure: "INTERNAL",
    Unreadable: "INTERNAL",
}


def code_for(error: DomainError) -> str:
    for cls in type(error).__mro__:
        if cls in ERROR_CODES:
            return ERROR_CODES[cls]
    return "BAD_REQUEST"


def coded(error: GraphQLError) -> GraphQLError:
    """The error as the client should see it: a code, and nothing internal."""
    original = error.original_error
    if isinstance(original, DomainError):
        extensions = {"code": code_for(original)}
        if original.field is not None:
            extensions["field"] = original.field
        extensions.update(original.details)
        return GraphQLError(original.message, nodes=error.nodes, source=error.source,
                            positions=error.positions, path=error.path,
                            extensions=extensions)
    if isinstance(error, GraphQLSyntaxError) and any(
            limit in error.message for limit in ("contains more than", "nested too deeply")):
        # graphql-core's own parser limits (tokens, nesting): the document is too big.
        return GraphQLError(error.message, nodes=error.nodes, source=error.source,
                            positions=error.positions, extensions={"code": TOO_COMPLEX})
    if original is None or error.path is None:
        # Parse, validation and variable-coercion errors (no execution path): the request
        # itself is wrong, and graphql-core's message names the offending field.
        extensions = dict(error.extensions or {})
        extensions.setdefault("code", "BAD_INPUT")
        return GraphQLError(error.message, nodes=error.nodes, source=error.source,
                            positions=error.positions, path=error.path,
                            extensions=extensions)
    error_id = uuid.uuid4().hex[:12]
    log.error("unexpected error %s at %s", error_id, error.path, exc_info=original)
    return GraphQLError(f"Internal error; quote error id {error_id} when reporting it.",
                        nodes=error.nodes, source=error.source, positions=error.positions,
                        path=error.path, extensions={"code": "INTERNAL", "errorId": error_id})


class ErrorCodes(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            result.errors = [coded(e) for e in errors]
