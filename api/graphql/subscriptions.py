"""Live reads over graphql-transport-ws: the log as it grows, and what changes a timeline."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterator
from contextlib import contextmanager

import strawberry
from strawberry.types import Info

from api.graphql.access import require_reader
from api.graphql.log_queries import EventFilter
from api.graphql.types import Event, Fact
from api.services.live import TimelineChange as Change
from api.services.reading import PresentView
from events.chain import Envelope
from events.errors import BadInput, NotFound, refuse_bad_text


@strawberry.type(description="What one commit changed on a timeline.")
class TimelineChange:
    slug: str
    version: int = strawberry.field(description="The timeline's version after the commit.")
    events: list[Event] = strawberry.field(
        description="The commit's events on the timeline (none when a source was regraded).")
    facts: list[Fact] = strawberry.field(
        description="The facts the commit changed, as they stand after it.")


def _matches(envelope: Envelope, filter: EventFilter | None) -> bool:
    if filter is None:
        return True
    return ((filter.stream is None or envelope.stream == filter.stream)
            and (not filter.types or envelope.type in filter.types)
            and (filter.after is None or envelope.position > filter.after)
            and (filter.recorded_from is None or envelope.recorded_at >= filter.recorded_from)
            and (filter.recorded_to is None or envelope.recorded_at <= filter.recorded_to))


@strawberry.type
class Subscription:
    @strawberry.subscription(description="Every event after position `after`: first those "
                             "already stored, then each one as it is committed, in position "
                             "order, none missed and none twice.")
    async def events(self, info: Info, after: int = 0,
                     filter: EventFilter | None = None) -> AsyncGenerator[Event, None]:
        await require_reader(info)
        if after < 0:
            raise BadInput("after must be a position, 0 or more")
        if filter is not None:  # as the query refuses it, though no SQL sees it here
            refuse_bad_text(stream=filter.stream, types=filter.types)
        with _counted(info):
            async for batch in info.context.services.feed.after(after):
                for envelope in batch:
                    if _matches(envelope, filter):
                        yield Event.from_envelope(envelope)

    @strawberry.subscription(description="After each commit that touches the timeline: the "
                             "facts it changed.")
    async def timeline_changed(self, info: Info,
                               slug: str) -> AsyncGenerator[TimelineChange, None]:
        await require_reader(info)
        services = info.context.services
        if await services.read_model.timeline(slug) is None:
            raise NotFound(f"no timeline {slug!r}")
        with _counted(info):
            async for change in services.changes.subscribe(slug):
                yield _message(change, PresentView(services.read_model, services.store, slug))


@contextmanager
def _counted(info: Info) -> Iterator[None]:
    gauge = info.context.services.metrics.subscriptions
    gauge.inc()
    try:
        yield
    finally:
        gauge.dec()


def _message(change: Change, view: PresentView) -> TimelineChange:
    return TimelineChange(slug=change.slug, version=change.version,
                          events=[Event.from_envelope(e) for e in change.events],
                          facts=[Fact.from_row(f, view) for f in change.facts])
