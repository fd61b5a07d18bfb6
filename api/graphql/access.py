"""Who may read (reads are public unless the deployment requires a token), and how much
one page may hold."""

from __future__ import annotations

from strawberry.types import Info

from events.errors import BadInput, Unauthenticated


async def require_reader(info: Info) -> None:
    principal = await info.context.principal()
    if principal is None and info.context.services.settings.require_read_token:
        raise Unauthenticated("this deployment requires a token to read")


def check_first(info: Info, first: int) -> None:
    """``first`` of a connection: 0 up to CHRONICLE_MAX_FIRST (500 by default)."""
    limit = info.context.services.settings.max_first
    if not 0 <= first <= limit:
        raise BadInput(f"first must be between 0 and {limit}", field="first")
