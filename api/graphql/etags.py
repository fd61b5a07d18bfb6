"""ETags of GET answers, and 304 to a client whose ``If-None-Match`` holds the current one.

A tag stands for what the answer depends on, read before executing: a commit during the
execution can only make the tag older than the body, never newer. A cacheable timeline read
is tagged by its response-cache key; anything else a read can show comes from the log, so
the log's head stands for it, with one exception: checkpoints are signed while the log stands
still (on demand, or by the signer catching up), so a read that may show one or choose a
tree size by one is tagged by the latest checkpoint too.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from starlette.responses import Response
from strawberry.http import GraphQLRequestData

from api.graphql.context import Context

NOT_MODIFIED = 304


def entity_tag(key: Any, media: str) -> str:
    """The strong ETag (quoted) of an answer depending on ``key``, sent as ``media``."""
    digest = hashlib.sha256(repr((key, media)).encode()).hexdigest()[:32]
    return f'"{digest}"'


def log_key(head: int, query: str | None, operation_name: str | None,
            variables: dict[str, Any] | None) -> tuple[Any, ...]:
    """What a read that is not a cacheable timeline read depends on: the log's head."""
    return ("log", head, query, operation_name,
            json.dumps(variables or {}, sort_keys=True, default=str))


# The fields whose answers move with the checkpoints signed (api/graphql/transparency_queries.py).
CHECKPOINT_FIELDS = ("checkpoint", "inclusionProof", "consistencyProof")


def reads_checkpoints(query: str | None) -> bool:
    """Whether the document may select a field whose answer moves with the checkpoints
    signed: a document spells out the name of every field it selects (aliases only add
    names), so a document without these names selects none of them."""
    return query is not None and any(name in query for name in CHECKPOINT_FIELDS)


async def read_entity_tag(context: Context, key: Any, request_data: GraphQLRequestData,
                          media: str) -> str:
    """The tag of a GET answer: by its response-cache key, or else by the log's head (and
    the latest checkpoint, for a read that may show checkpoints)."""
    if key is None:
        key = log_key(await context.read_store.head_position(), request_data.query,
                      request_data.operation_name, request_data.variables)
        if reads_checkpoints(request_data.query):
            latest = await context.services.transparency.checkpoints.latest()
            key = (*key, None if latest is None else latest.id)
    return entity_tag(key, media)


def if_none_match_tags(if_none_match: str | None) -> set[str]:
    """The tags of an ``If-None-Match`` header, weak ones (``W/``) as their strong form."""
    if not if_none_match:
        return set()
    return {t.strip().removeprefix("W/") for t in if_none_match.split(",")}


def not_modified(tag: str, if_none_match: str | None) -> bool:
    """The client holds the answer tagged ``tag`` already (weak comparison)."""
    return tag in if_none_match_tags(if_none_match)


def caching_headers(tag: str, *, private: bool) -> dict[str, str]:
    """The ETag and caching headers of a GET answer: revalidated on every use, and kept by
    shared caches only when anyone may read."""
    return {"etag": tag,
            "cache-control": "private, no-cache" if private else "no-cache",
            "vary": "Accept, Authorization"}


def tag_response(sub_response: Response, tag: str, if_none_match: str | None, *,
                 private: bool) -> None:
    """ETag and caching headers of a GET answer; 304 when the client has it already."""
    for name, value in caching_headers(tag, private=private).items():
        sub_response.headers[name] = value
    if not_modified(tag, if_none_match):
        sub_response.status_code = NOT_MODIFIED
