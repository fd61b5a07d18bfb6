"""Mutation inputs, named after their mutation (DESIGN.md §3)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry

from api.graphql.scalars import Precision, Rank, Reliability, SourceKind, Stance


@strawberry.input
class CountInput:
    best: int | None = strawberry.UNSET
    low: int | None = strawberry.UNSET
    high: int | None = strawberry.UNSET


@strawberry.input
class TimeInput:
    start: str
    precision: Precision
    end: str | None = strawberry.UNSET


@strawberry.input
class PlaceInput:
    name: str
    lat: float | None = strawberry.UNSET
    lon: float | None = strawberry.UNSET


@strawberry.input(one_of=True, description="Exactly one of count, text, time, place, flag.")
class ValueInput:
    count: CountInput | None = strawberry.UNSET
    text: str | None = strawberry.UNSET
    time: TimeInput | None = strawberry.UNSET
    place: PlaceInput | None = strawberry.UNSET
    flag: bool | None = strawberry.UNSET




@strawberry.input
class CreateTimelineInput:
    slug: str
    title: str
    description: str | None = strawberry.UNSET
    idempotency_key: str | None = strawberry.UNSET
    expected_version: int | None = strawberry.UNSET


@strawberry.input
class RegisterSourceInput:
    id: str
    name: str
    kind: SourceKind
    url: str | None = strawberry.UNSET
    idempotency_key: str | None = strawberry.UNSET
    expected_version: int | None = strawberry.UNSET


@strawberry.input
class GradeSourceInput:
    source: str
    reliability: Reliability
    note: str | None = strawberry.UNSET
    idempotency_key: str | None = strawberry.UNSET
    expected_version: int | None = strawberry.UNSET


@strawberry.input
class OpenEntryInput:
    timeline: str
    title: str
    id: str | None = strawberry.UNSET
    idempotency_key: str | None = strawberry.UNSET
    expected_version: int | None = strawberry.UNSET


@strawberry.input
class ReportFactInput:
    timeline: str
    entry: str
    attribute: str
    value: ValueInput
    source: str
    stance: Stance
    reported_at: datetime
    via: str | None = strawberry.UNSET
    quote: str | None = strawberry.UNSET
    url: str | None = strawberry.UNSET
    id: str | None = strawberry.UNSET
    idempotency_key: str | None = strawberry.UNSET
    expected_version: int | None = strawberry.UNSET


@strawberry.input
class CorrectReportInput:
    timeline: str
    report: str
    reported_at: datetime
    value: ValueInput | None = strawberry.UNSET
    stance: Stance | None = strawberry.UNSET
    via: str | None = strawberry.field(
        default=strawberry.UNSET, description="The origin the report now cites (a source "
        "id), when the correction changes whom the source says it got the figure from.")
    idempotency_key: str | None = strawberry.UNSET
    expected_version: int | None = strawberry.UNSET


@strawberry.input
class RetractReportInput:
    timeline: str
    report: str
    reason: str
    reported_at: datetime
    idempotency_key: str | None = strawberry.UNSET
    expected_version: int | None = strawberry.UNSET


@strawberry.input
class RankReportInput:
    timeline: str
    report: str
    rank: Rank
    reason: str
    idempotency_key: str | None = strawberry.UNSET
    expected_version: int | None = strawberry.UNSET


@strawberry.input
class MergeEntriesInput:
    timeline: str
    duplicate: str
    survivor: str
    idempotency_key: str | None = strawberry.UNSET
    expected_version: int | None = strawberry.UNSET


CONTROL_FIELDS = ("idempotency_key", "expected_version")


def plain(item: Any) -> Any:
    """A strawberry input as plain data: snake_case keys, unset fields left out."""
    if dataclasses.is_dataclass(item) and not isinstance(item, type):
        return {f.name: plain(getattr(item, f.name)) for f in dataclasses.fields(item)
                if getattr(item, f.name) is not strawberry.UNSET}
    if isinstance(item, Enum):
        return item
    return item
