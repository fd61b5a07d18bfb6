"""Who may open a GraphQL WebSocket: acknowledged only with a valid token when one is
given, or when the deployment requires one to read (closed with 4403 otherwise)."""

from __future__ import annotations

from strawberry.exceptions import ConnectionRejectionError

from api.graphql.context import Context
from api.graphql.errors import code_for
from events.errors import DomainError


async def admit_connection(context: Context) -> None:
    """Nothing when the connection may be acknowledged; ``ConnectionRejectionError`` with
    the message and code its client is told otherwise. The token comes from
    ``connectionParams.authorization``, or else the Authorization header."""
    try:
        principal = await context.principal()
    except DomainError as e:
        raise ConnectionRejectionError({"message": str(e), "code": code_for(e)}) from None
    if principal is None and context.services.settings.require_read_token:
        raise ConnectionRejectionError({"message": "this deployment requires a token to "
                                        "read", "code": "UNAUTHENTICATED"})
