"""Read queries over the read model."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.graphql.types import Source, Timeline
from events.errors import Unauthenticated


async def require_reader(info: Info) -> None:
    """Reads are public unless the deployment requires a token (any scope)."""
    principal = await info.context.principal()
    if principal is None and info.context.services.settings.require_read_token:
        raise Unauthenticated("this deployment requires a token to read")


@strawberry.type
class Query:
    @strawberry.field
    async def timelines(self, info: Info) -> list[Timeline]:
        await require_reader(info)
        return [Timeline.from_row(r) for r in await info.context.read_model.timelines()]

    @strawberry.field
    async def timeline(self, info: Info, slug: str) -> Timeline | None:
        await require_reader(info)
        row = await info.context.read_model.timeline(slug)
        return None if row is None else Timeline.from_row(row)

    @strawberry.field
    async def sources(self, info: Info) -> list[Source]:
        await require_reader(info)
        return [Source.from_row(r) for r in (await info.context.sources()).values()]

    @strawberry.field
    async def source(self, info: Info, id: str) -> Source | None:
        await require_reader(info)
        row = (await info.context.sources()).get(id)
        return None if row is None else Source.from_row(row)
