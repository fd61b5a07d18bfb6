"""The raw log for auditors: ``events`` (a Relay connection) and ``verifyLog``."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from api.graphql import cursors
from api.graphql.access import check_first, require_reader
from api.graphql.types import Event, PageInfo
from api.services.archive import verify_log
from events.errors import Unauthenticated
from events.ports import EventFilter as StoreEventFilter


@strawberry.input(description="Narrows the log: one stream, some types, after a position, "
                  "a window of recorded_at.")
class EventFilter:
    stream: str | None = None
    types: list[str] | None = None
    after: int | None = strawberry.field(default=None,
                                         description="Only events after this position.")
    recorded_from: datetime | None = None
    recorded_to: datetime | None = None


@strawberry.type
class EventEdge:
    cursor: str
    node: Event


@strawberry.type
class EventConnection:
    edges: list[EventEdge]
    page_info: PageInfo

    @strawberry.field
    def nodes(self) -> list[Event]:
        return [edge.node for edge in self.edges]


@strawberry.type
class LogCheck:
    ok: bool
    checked: int
    first_bad_position: int | None


def event_cursor(position: int) -> str:
    return cursors.encode("event", str(position))


def event_position(cursor: str) -> int:
    return cursors.position(cursors.payload(cursor, "event"))


@strawberry.type
class LogQuery:
    @strawberry.field(description="The raw log in position order, with full envelopes.")
    async def events(self, info: Info, filter: EventFilter | None = None, first: int = 100,
                     after: str | None = None) -> EventConnection:
        await require_reader(info)
        check_first(info, first)
        wanted = filter or EventFilter()
        store_filter = StoreEventFilter(stream=wanted.stream, types=tuple(wanted.types or ()),
                                        after=wanted.after, recorded_from=wanted.recorded_from,
                                        recorded_to=wanted.recorded_to)
        start = event_position(after) if after else 0
        rows = await info.context.read_store.filtered(store_filter, start, first + 1)
        edges = [EventEdge(cursor=event_cursor(e.position), node=Event.from_envelope(e))
                 for e in rows[:first]]
        return EventConnection(edges=edges, page_info=PageInfo(
            has_next_page=len(rows) > first, has_previous_page=start > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None))

    @strawberry.field(description="Recompute the hash chain over the whole log. Needs a "
                      "token (any scope): it reads every event.")
    async def verify_log(self, info: Info) -> LogCheck:
        if await info.context.principal() is None:
            raise Unauthenticated("verifyLog needs a token (any scope)")
        check = await verify_log(info.context.services.store)
        return LogCheck(ok=check.ok, checked=check.checked,
                        first_bad_position=check.first_bad_position)
