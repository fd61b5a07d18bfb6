"""Which media type a GraphQL answer is sent as, and what that changes about it.

``Accept: application/graphql-response+json`` gets that media type, and then a request that
fails before execution (parse, validation, variables) is a 400 without ``data``, as the
GraphQL-over-HTTP spec asks; ``application/json`` clients keep the 200 they expect.
"""

from __future__ import annotations

from strawberry.types import ExecutionResult

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"


def media_type(accept: str | None) -> str:
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


def is_request_error(result: ExecutionResult) -> bool:
    """The request failed before execution: no data, and no error has a field path."""
    return result.data is None and bool(result.errors) and all(
        e.path is None for e in result.errors or [])


def is_bad_request(media: str, result: ExecutionResult) -> bool:
    """A 400 without ``data``: a request error answered as
    ``application/graphql-response+json``."""
    return media == GRAPHQL_RESPONSE and is_request_error(result)
