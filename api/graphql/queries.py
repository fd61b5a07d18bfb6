"""Read queries: the present from the read model, the past replayed from the log."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from api.graphql.access import require_reader
from api.graphql.log_queries import LogQuery
from api.graphql.types import Source, Timeline
from api.graphql.views import AsOfView, PresentView, TimelineView
from events.as_of import Axis


async def timeline_view(info: Info, slug: str, as_of: datetime | None,
                        axis: Axis) -> TimelineView:
    services = info.context.services
    if as_of is None:
        return PresentView(services.read_model, slug)
    return await AsOfView.load(services.store, slug, as_of, axis)


@strawberry.type
class Query(LogQuery):
    @strawberry.field
    async def timelines(self, info: Info) -> list[Timeline]:
        await require_reader(info)
        read_model = info.context.read_model
        return [Timeline.from_row(r, PresentView(read_model, r.slug))
                for r in await read_model.timelines()]

    @strawberry.field(description="One timeline, now or as it stood at `asOf` on `axis`: "
                      "RECORDED (what Chronicle showed then) or REPORTED (what had been "
                      "reported by then).")
    async def timeline(self, info: Info, slug: str, as_of: datetime | None = None,
                       axis: Axis = Axis.RECORDED) -> Timeline | None:
        await require_reader(info)
        view = await timeline_view(info, slug, as_of, axis)
        row = await view.row()
        return None if row is None else Timeline.from_row(row, view)

    @strawberry.field
    async def sources(self, info: Info) -> list[Source]:
        await require_reader(info)
        return [Source.from_row(r) for r in (await info.context.sources()).values()]

    @strawberry.field
    async def source(self, info: Info, id: str) -> Source | None:
        await require_reader(info)
        row = (await info.context.sources()).get(id)
        return None if row is None else Source.from_row(row)
