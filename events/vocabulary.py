"""The event vocabulary: what can be said in the log, and how it is written down.

Event types are never changed once shipped; a new shape is a new type or a new
``schema_version`` with an upcaster from the old one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, ClassVar, Protocol

from events.errors import BadInput, DomainError
from events.values import JsonDict, Value, format_instant, parse_stored_instant, stored_value


class Stance(Enum):
    CONFIRMED = "CONFIRMED"
    CLAIMED = "CLAIMED"
    UNCONFIRMED = "UNCONFIRMED"
    DENIED = "DENIED"


class Reliability(Enum):
    """NATO Admiralty code: A completely reliable … E unreliable, F cannot be judged."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"
    F = "F"


class Rank(Enum):
    PREFERRED = "PREFERRED"
    NORMAL = "NORMAL"
    DEPRECATED = "DEPRECATED"


class SourceKind(Enum):
    GOVERNMENT = "GOVERNMENT"
    MILITARY = "MILITARY"
    MEDIA = "MEDIA"
    NGO = "NGO"
    SOCIAL = "SOCIAL"
    INDIVIDUAL = "INDIVIDUAL"
    OTHER = "OTHER"


class StoredEvent(Protocol):
    """What decoding needs of an envelope."""

    @property
    def position(self) -> int: ...
    @property
    def type(self) -> str: ...
    @property
    def schema_version(self) -> int: ...
    @property
    def data(self) -> Mapping[str, Any]: ...


def timeline_stream(slug: str) -> str:
    return f"timeline:{slug}"


def source_stream(source_id: str) -> str:
    return f"source:{source_id}"


@dataclass(frozen=True, slots=True)
class TimelineCreated:
    type: ClassVar[str] = "TimelineCreated"
    slug: str
    title: str
    description: str | None = None


@dataclass(frozen=True, slots=True)
class SourceRegistered:
    type: ClassVar[str] = "SourceRegistered"
    source: str
    name: str
    kind: SourceKind
    url: str | None = None


@dataclass(frozen=True, slots=True)
class SourceGraded:
    type: ClassVar[str] = "SourceGraded"
    source: str
    reliability: Reliability
    note: str | None = None


@dataclass(frozen=True, slots=True)
class EntryOpened:
    type: ClassVar[str] = "EntryOpened"
    entry: str
    title: str


@dataclass(frozen=True, slots=True)
class FactReported:
    type: ClassVar[str] = "FactReported"
    report: str
    entry: str
    attribute: str
    value: Value
    source: str
    stance: Stance
    reported_at: datetime
    via: str | None = None
    quote: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class ReportCorrected:
    """A source corrected itself: a new value, stance and/or origin (``via``, the source it
    now cites). What is None stays as it was; events written before ``via`` existed lack it
    and change no origin."""

    type: ClassVar[str] = "ReportCorrected"
    report: str
    reported_at: datetime
    value: Value | None = None
    stance: Stance | None = None
    via: str | None = None


@dataclass(frozen=True, slots=True)
class ReportRetracted:
    type: ClassVar[str] = "ReportRetracted"
    report: str
    reason: str
    reported_at: datetime


@dataclass(frozen=True, slots=True)
class ReportRanked:
    type: ClassVar[str] = "ReportRanked"
    report: str
    rank: Rank
    reason: str


@dataclass(frozen=True, slots=True)
class EntriesMerged:
    type: ClassVar[str] = "EntriesMerged"
    duplicate: str
    survivor: str


DomainEvent = (TimelineCreated | SourceRegistered | SourceGraded | EntryOpened | FactReported
               | ReportCorrected | ReportRetracted | ReportRanked | EntriesMerged)

SCHEMA_VERSION = 1


def event_to_data(event: DomainEvent) -> JsonDict:
    """The canonical JSON form of an event's payload, as stored in ``events.data``."""
    data: JsonDict = {}
    for name in event.__slots__:
        item = getattr(event, name)
        if item is None:
            continue
        if isinstance(item, Enum):
            data[name] = item.value
        elif isinstance(item, datetime):
            data[name] = format_instant(item)
        elif hasattr(item, "to_data"):
            data[name] = item.to_data()
        else:
            data[name] = item
    return data


_EVENT_CLASSES: dict[str, type[Any]] = {
    cls.type: cls
    for cls in (TimelineCreated, SourceRegistered, SourceGraded, EntryOpened, FactReported,
                ReportCorrected, ReportRetracted, ReportRanked, EntriesMerged)
}
_ENUM_FIELDS: dict[str, type[Enum]] = {
    "kind": SourceKind, "reliability": Reliability, "stance": Stance, "rank": Rank,
}

# (type, schema_version) → function lifting data one version up. Empty until a type changes.
UPCASTERS: dict[tuple[str, int], Callable[[JsonDict], JsonDict]] = {}


def event_from_data(event_type: str, schema_version: int, data: Mapping[str, Any]) -> DomainEvent:
    """Rebuild an event from the log, upcasting old schema versions first."""
    cls = _EVENT_CLASSES.get(event_type)
    if cls is None:
        raise BadInput(f"unknown event type {event_type!r}", field="type")
    payload = dict(data)
    version = schema_version
    while version < SCHEMA_VERSION:
        payload = UPCASTERS[(event_type, version)](payload)
        version += 1
    if version != SCHEMA_VERSION:
        raise BadInput(f"{event_type} schema version {schema_version} is newer than this code",
                       field="schema_version")
    kwargs: dict[str, Any] = {}
    for name, item in payload.items():
        if name in _ENUM_FIELDS:
            kwargs[name] = _ENUM_FIELDS[name](item)
        elif name == "reported_at":
            kwargs[name] = parse_stored_instant(item, name)
        elif name == "value":
            kwargs[name] = stored_value(item)
        else:
            kwargs[name] = item
    event: DomainEvent = cls(**kwargs)
    return event


class Unreadable(DomainError):
    """A stored event that this code cannot read back (a bug to report, never the
    writer's fault); names its position."""


def decode(envelope: StoredEvent) -> DomainEvent:
    """The domain event a stored envelope holds, or ``Unreadable`` naming its position."""
    try:
        return event_from_data(envelope.type, envelope.schema_version, envelope.data)
    except (BadInput, TypeError, ValueError) as e:
        raise Unreadable(f"the event at position {envelope.position} cannot be read: "
                         f"{getattr(e, 'message', e)}") from e


def event_types() -> list[str]:
    return sorted(_EVENT_CLASSES)
