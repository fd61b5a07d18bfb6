"""Output types of the GraphQL contract, built from read-model rows."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from api.graphql.scalars import Precision, Rank, Reliability, ReportStatus, SourceKind, Stance
from events.chain import Envelope
from events.read_model import EntryRow, ReportRow, SourceRow, TimelineRow


@strawberry.type(description="A UCDP-style count: best estimate and range.")
class Count:
    best: int | None
    low: int | None
    high: int | None


@strawberry.type
class Text:
    text: str


@strawberry.type(description="A time in the world, known to a precision; end makes a range.")
class TimeSpan:
    start: str
    end: str | None
    precision: Precision


@strawberry.type
class Place:
    name: str
    lat: float | None
    lon: float | None


@strawberry.type
class Flag:
    flag: bool


Value = Annotated[Count | Text | TimeSpan | Place | Flag, strawberry.union("Value")]


def value_from_data(data: dict[str, Any]) -> Count | Text | TimeSpan | Place | Flag:
    """The GraphQL value of a stored one-of value such as ``{"count": {"low": 200}}``."""
    if "count" in data:
        count = data["count"]
        return Count(best=count.get("best"), low=count.get("low"), high=count.get("high"))
    if "text" in data:
        return Text(text=data["text"])
    if "time" in data:
        time = data["time"]
        return TimeSpan(start=time["start"], end=time.get("end"),
                        precision=Precision(time["precision"]))
    if "place" in data:
        place = data["place"]
        return Place(name=place["name"], lat=place.get("lat"), lon=place.get("lon"))
    return Flag(flag=data["flag"])


@strawberry.type
class Source:
    id: str
    name: str
    kind: SourceKind
    url: str | None
    reliability: Reliability | None
    note: str | None = strawberry.field(description="Why the source has its grade.")

    @classmethod
    def from_row(cls, row: SourceRow) -> Source:
        return cls(id=row.id, name=row.name, kind=SourceKind(row.kind), url=row.url,
                   reliability=Reliability(row.reliability) if row.reliability else None,
                   note=row.grade_note)


@strawberry.type(description="One source saying one thing about one attribute of an entry.")
class Report:
    row: strawberry.Private[ReportRow]
    id: str
    attribute: str
    stance: Stance
    reported_at: datetime
    recorded_at: datetime
    quote: str | None
    url: str | None
    status: ReportStatus
    rank: Rank
    position: int

    @strawberry.field
    def value(self) -> Value:
        return value_from_data(self.row.value)

    @strawberry.field
    def entry(self) -> str:
        return self.row.entry

    @strawberry.field
    async def source(self, info: Info) -> Source:
        sources = await info.context.sources()
        return Source.from_row(sources[self.row.source])

    @strawberry.field(description="The origin this report cites, if any.")
    async def via(self, info: Info) -> Source | None:
        if self.row.via is None:
            return None
        sources = await info.context.sources()
        return Source.from_row(sources[self.row.via])

    @classmethod
    def from_row(cls, row: ReportRow) -> Report:
        return cls(row=row, id=row.id, attribute=row.attribute,
                   stance=Stance(row.stance), reported_at=row.reported_at,
                   recorded_at=row.recorded_at, quote=row.quote, url=row.url,
                   status=ReportStatus(row.status), rank=Rank(row.rank),
                   position=row.position)


@strawberry.type(description="One thing that happened on a timeline.")
class Entry:
    row: strawberry.Private[EntryRow]
    id: str
    title: str

    @strawberry.field(description="Every report ever made about the entry, retracted included.")
    async def reports(self, info: Info) -> list[Report]:
        rows = await info.context.read_model.reports(self.row.timeline, entry_ids=[self.id])
        return [Report.from_row(r) for r in rows]

    @classmethod
    def from_row(cls, row: EntryRow) -> Entry:
        return cls(row=row, id=row.id, title=row.title)


@strawberry.type(description="A story being followed: the unit users query and embed.")
class Timeline:
    slug: str
    title: str
    description: str | None
    version: int = strawberry.field(description="The last log position applied.")

    @strawberry.field
    async def entries(self, info: Info) -> list[Entry]:
        return [Entry.from_row(r) for r in await info.context.read_model.entries(self.slug)]

    @strawberry.field
    async def entry(self, info: Info, id: str) -> Entry | None:
        row = await info.context.read_model.entry(self.slug, id)
        if row is None:
            return None
        if row.merged_into is not None:
            row = await info.context.read_model.entry(self.slug, row.merged_into)
        return None if row is None else Entry.from_row(row)

    @classmethod
    def from_row(cls, row: TimelineRow) -> Timeline:
        return cls(slug=row.slug, title=row.title, description=row.description,
                   version=row.version)


@strawberry.type(description="One stored event with its full envelope.")
class Event:
    position: int
    stream: str
    version: int
    type: str
    schema_version: int
    data: JSON
    recorded_at: datetime
    actor: str
    idempotency_key: str | None
    prev_hash: str
    hash: str

    @classmethod
    def from_envelope(cls, envelope: Envelope) -> Event:
        return cls(position=envelope.position, stream=envelope.stream,
                   version=envelope.version, type=envelope.type,
                   schema_version=envelope.schema_version, data=cast(JSON, dict(envelope.data)),
                   recorded_at=envelope.recorded_at, actor=envelope.actor,
                   idempotency_key=envelope.idempotency_key, prev_hash=envelope.prev_hash,
                   hash=envelope.hash)
