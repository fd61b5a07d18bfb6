"""Who may read: reads are public unless the deployment requires a token."""

from __future__ import annotations

from strawberry.types import Info

from events.errors import Unauthenticated


async def require_reader(info: Info) -> None:
    principal = await info.context.principal()
    if principal is None and info.context.services.settings.require_read_token:
        raise Unauthenticated("this deployment requires a token to read")
