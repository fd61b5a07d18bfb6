"""``Query.node(id)``: any object back from its global id, as of the moment it was read."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.graphql.access import require_reader
from api.graphql.nodes import Node, NodeRef, parse_node_id
from api.graphql.source_types import Source
from api.graphql.types import Entry, Event, Fact, Report, Timeline
from api.services.reading import TimelineView, settled


@strawberry.type
class NodeQuery:
    @strawberry.field(description="The object with this global id (its `nodeId`), or null "
                      "when it does not exist (at that moment).")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        await require_reader(info)
        ref = parse_node_id(id)
        if ref.kind == "Event":
            return await _event(info, ref)
        if ref.kind == "Source" and ref.slug is None:
            row = (await info.context.sources()).get(ref.key[0])
            return None if row is None else Source.from_row(row)
        if ref.slug is None:
            return None
        view = await info.context.timeline_view(ref.slug, ref.moment.as_of,
                                                    ref.moment.axis)
        return await _in_timeline(view, ref)


async def _event(info: Info, ref: NodeRef) -> Event | None:
    position = int(ref.key[0])  # parse_node_id checked it is one
    found = await info.context.read_store.read(position - 1, 1)
    return Event.from_envelope(found[0]) if found and found[0].position == position else None


async def _in_timeline(view: TimelineView, ref: NodeRef) -> Node | None:
    if ref.kind == "Timeline":
        row = await view.row()
        return None if row is None else Timeline.from_row(row, view)
    if ref.kind == "Source":
        source = (await view.sources()).get(ref.key[0])
        return None if source is None else Source.from_row(source, view)
    entry = await view.entry(ref.key[0])
    if entry is None:
        return None
    if ref.kind == "Report":
        # A merged entry's reports are listed under the entry that survived it.
        return next((Report.from_row(r, view) for r in await view.reports(entry.id)
                     if r.id == ref.key[1]), None)
    if entry.id != ref.key[0]:
        return None  # merged into another entry since
    if ref.kind == "Entry":
        return Entry.from_row(entry, view)
    if ref.kind == "Fact":
        facts = await settled(view.facts(entry.id))
        return next((Fact.from_row(f, view) for f in facts if f.attribute == ref.key[1]), None)
    return None
