"""Read-your-writes across servers (api/services/replicas.py): every answer names the log
position it reflects (``Chronicle-Position``; a mutation's answer also as
``extensions.position``), and a request may name the position it must see at least
(``Chronicle-Min-Position``): the last one its client was given."""

from __future__ import annotations

from graphql import GraphQLError

from api.graphql.context import Context
from api.graphql.refusals import Refused
from api.services import replicas
from events.errors import BadInput

POSITION = "chronicle-position"
MIN_POSITION = "chronicle-min-position"


def position_asked(header: str | None) -> int | None:
    """The position a request must see (api/services/replicas.py), or the refusal."""
    try:
        return replicas.position_asked(header)
    except BadInput as e:
        raise Refused("BAD_INPUT", e.message) from None


def is_internal(error: GraphQLError) -> bool:
    return (error.extensions or {}).get("code") == "INTERNAL"


def on_standby(context: Context) -> bool:
    """Whether the request reads from a standby (not the primary)."""
    return context.source is not None and not context.source.primary
