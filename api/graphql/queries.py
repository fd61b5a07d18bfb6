"""Read queries: the present from the read model, the past replayed from the log."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry
from strawberry.types import Info

from api.graphql.access import require_reader
from api.graphql.log_queries import LogQuery
from api.graphql.node_query import NodeQuery
from api.graphql.source_types import Source
from api.graphql.transparency_queries import TransparencyQuery
from api.graphql.types import Fact, FactChange, ReportChange, Timeline
from api.services.reading import PresentView, SnapshotView
from events.as_of import Axis
from events.errors import BadInput, NotFound
from events.report_changes import fact_changes, report_changes
from events.values import format_instant, parse_instant


async def _not_yet_recorded(info: Info, slug: str, as_of: datetime) -> None:
    """A timeline that exists now but not at ``as_of`` on Chronicle's own clock: say when
    it was recorded, and where to look for what had been reported by then."""
    now = await info.context.read_model.timeline(slug)
    if now is None:
        return
    recorded = format_instant(now.created_at)
    raise NotFound(f"timeline {slug!r} was first recorded in Chronicle at {recorded}, after "
                   f"{format_instant(parse_instant(as_of, 'asOf'))}; for what had been "
                   "reported by then, ask with axis: REPORTED", field="asOf",
                   details={"recordedAt": recorded, "hint": "axis: REPORTED"})


@strawberry.type
class Query(LogQuery, TransparencyQuery, NodeQuery):
    @strawberry.field
    async def timelines(self, info: Info) -> list[Timeline]:
        await require_reader(info)
        context = info.context
        return [Timeline.from_row(r, PresentView(context.read_model, context.read_store,
                                                 r.slug))
                for r in await context.read_model.timelines()]

    @strawberry.field(description="One timeline, now or as it stood at `asOf` on `axis`: "
                      "RECORDED (what Chronicle showed then) or REPORTED (what had been "
                      "reported by then).")
    async def timeline(self, info: Info, slug: str, as_of: datetime | None = None,
                       axis: Axis = Axis.RECORDED) -> Timeline | None:
        await require_reader(info)
        view = await info.context.timeline_view(slug, as_of, axis)
        row = await view.row()
        if row is None and as_of is not None and axis is Axis.RECORDED:
            await _not_yet_recorded(info, slug, as_of)
        return None if row is None else Timeline.from_row(row, view)

    @strawberry.field(description="Every fact whose value, range, dispute or status differs "
                      "between two knowledge times, or one of whose reports was corrected, "
                      "retracted, ranked, superseded or reinstated between them, with both "
                      "versions (`factChanged` tells the two apart; `reportChanges` lists the "
                      "reports'). On REPORTED, ranks are applied as today: never changes.")
    async def changes(self, info: Info, slug: str, since: datetime,
                      until: datetime | None = None,
                      axis: Axis = Axis.RECORDED) -> list[FactChange]:
        await require_reader(info)
        services = info.context.services
        since = parse_instant(since, "since")
        end = parse_instant(until, "until") if until is not None else datetime.now(UTC)
        if end < since:
            raise BadInput("until must not be before since", field="until")
        history = await info.context.history(slug)
        before = SnapshotView(history, services.store, since, axis)
        after = SnapshotView(history, services.store, end, axis)
        if after.snapshot.timeline is None:
            raise NotFound(f"timeline {slug!r} does not exist", field="slug")
        reports = report_changes(history, since, end, axis)
        return [FactChange(entry=d.entry, attribute=d.attribute,
                           before=None if d.before is None else Fact.from_row(d.before, before),
                           after=None if d.after is None else Fact.from_row(d.after, after),
                           fact_changed=d.moved,
                           report_changes=[ReportChange.from_change(c) for c in d.reports])
                for d in fact_changes(before.snapshot, after.snapshot, reports)]

    @strawberry.field
    async def sources(self, info: Info) -> list[Source]:
        await require_reader(info)
        return [Source.from_row(r) for r in (await info.context.sources()).values()]

    @strawberry.field
    async def source(self, info: Info, id: str) -> Source | None:
        await require_reader(info)
        row = (await info.context.sources()).get(id)
        return None if row is None else Source.from_row(row)
