"""Typed report values: what a source can say about one attribute.

Each value knows its canonical JSON form (``to_data``), which is what the log stores, and
``parse_value`` builds one from that form with errors that name the offending field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from functools import lru_cache
from typing import Any, TypeVar

from events.errors import BadInput

JsonDict = dict[str, Any]
E = TypeVar("E", bound=Enum)


class Precision(Enum):
    """How finely a time is known, coarsest last."""

    EXACT = "EXACT"
    MINUTE = "MINUTE"
    HOUR = "HOUR"
    DAY = "DAY"
    MONTH = "MONTH"
    YEAR = "YEAR"

    @property
    def coarseness(self) -> int:
        return _COARSENESS[self]


_COARSENESS = {p: i for i, p in enumerate(Precision)}

# The shape an ISO 8601 string must have at each precision ("truncated to the precision").
_TIME_SHAPES: dict[Precision, re.Pattern[str]] = {
    Precision.YEAR: re.compile(r"^(\d{4})$"),
    Precision.MONTH: re.compile(r"^(\d{4})-(\d{2})$"),
    Precision.DAY: re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"),
    Precision.HOUR: re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2})(?::00)?Z$"),
    Precision.MINUTE: re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})Z$"),
    Precision.EXACT: re.compile(
        r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?Z$"),
}

_TIME_EXAMPLES = {
    Precision.YEAR: "2018",
    Precision.MONTH: "2018-02",
    Precision.DAY: "2018-02-10",
    Precision.HOUR: "2018-02-10T14Z",
    Precision.MINUTE: "2018-02-10T14:05Z",
    Precision.EXACT: "2018-02-10T14:05:09Z",
}


@dataclass(frozen=True, slots=True)
class Count:
    """UCDP-style count: a best estimate and/or a range; at least one of the three is set."""

    best: int | None = None
    low: int | None = None
    high: int | None = None

    kind = "count"

    def to_data(self) -> JsonDict:
        return {"count": {k: v for k, v in (("best", self.best), ("low", self.low),
                                             ("high", self.high)) if v is not None}}


@dataclass(frozen=True, slots=True)
class Text:
    value: str

    kind = "text"

    def to_data(self) -> JsonDict:
        return {"text": self.value}


@dataclass(frozen=True, slots=True)
class TimeSpan:
    """A time in the world, known to ``precision``; ``end`` (inclusive) makes it a range."""

    start: str
    precision: Precision
    end: str | None = None

    kind = "time"

    def bounds(self) -> tuple[datetime, datetime]:
        """The instants the span covers: from its start to the end of its last unit."""
        return (time_bounds(self.start, self.precision)[0],
                time_bounds(self.end or self.start, self.precision)[1])

    def contains(self, other: TimeSpan) -> bool:
        """True when ``other`` lies within this span ("February 2018" contains "Saturday")."""
        mine, theirs = self.bounds(), other.bounds()
        return mine[0] <= theirs[0] and theirs[1] <= mine[1]

    def overlaps(self, other: TimeSpan) -> bool:
        """Agreement at the coarser precision: the spans share some instant."""
        mine, theirs = self.bounds(), other.bounds()
        return mine[0] < theirs[1] and theirs[0] < mine[1]

    def to_data(self) -> JsonDict:
        data: JsonDict = {"start": self.start, "precision": self.precision.value}
        if self.end is not None:
            data["end"] = self.end
        return {"time": data}


@dataclass(frozen=True, slots=True)
class Place:
    name: str
    lat: float | None = None
    lon: float | None = None

    kind = "place"

    def to_data(self) -> JsonDict:
        data: JsonDict = {"name": self.name}
        if self.lat is not None:
            data["lat"] = self.lat
        if self.lon is not None:
            data["lon"] = self.lon
        return {"place": data}


@dataclass(frozen=True, slots=True)
class Flag:
    value: bool

    kind = "flag"

    def to_data(self) -> JsonDict:
        return {"flag": self.value}


Value = Count | Text | TimeSpan | Place | Flag

VALUE_KINDS = ("count", "text", "time", "place", "flag")
MAX_TEXT_LENGTH = 10_000
MAX_COUNT = 10**12


def parse_value(raw: object, field: str = "value") -> Value:
    """Build a value from its one-of form, e.g. ``{"count": {"low": 200}}``."""
    if not isinstance(raw, Mapping):
        raise BadInput(f"{field} must be an object with one of {', '.join(VALUE_KINDS)}",
                       field=field)
    given = [k for k, v in raw.items() if v is not None]
    unknown = [k for k in given if k not in VALUE_KINDS]
    if unknown:
        raise BadInput(f"{field}.{unknown[0]} is not a value kind; use one of "
                       f"{', '.join(VALUE_KINDS)}", field=f"{field}.{unknown[0]}")
    if len(given) != 1:
        raise BadInput(f"{field} must set exactly one of {', '.join(VALUE_KINDS)} "
                       f"(got {len(given)})", field=field)
    kind = given[0]
    body = raw[kind]
    path = f"{field}.{kind}"
    if kind == "count":
        return _parse_count(body, path)
    if kind == "text":
        return Text(_text(body, path))
    if kind == "time":
        return _parse_time(body, path)
    if kind == "place":
        return _parse_place(body, path)
    if not isinstance(body, bool):
        raise BadInput(f"{path} must be true or false", field=path)
    return Flag(body)


def _parse_count(body: object, path: str) -> Count:
    if not isinstance(body, Mapping):
        raise BadInput(f"{path} must be an object with best, low and/or high", field=path)
    unknown = sorted(set(body) - {"best", "low", "high"})
    if unknown:
        raise BadInput(f"{path}.{unknown[0]} is not a count field", field=f"{path}.{unknown[0]}")
    parts: dict[str, int | None] = {}
    for name in ("best", "low", "high"):
        item = body.get(name)
        if item is not None and (isinstance(item, bool) or not isinstance(item, int)):
            raise BadInput(f"{path}.{name} must be a whole number", field=f"{path}.{name}")
        if item is not None and not 0 <= item <= MAX_COUNT:
            raise BadInput(f"{path}.{name} must be between 0 and {MAX_COUNT}",
                           field=f"{path}.{name}")
        parts[name] = item
    best, low, high = parts["best"], parts["low"], parts["high"]
    if best is None and low is None and high is None:
        raise BadInput(f"{path} needs at least one of best, low, high", field=path)
    if low is not None and high is not None and low > high:
        raise BadInput(f"{path}.low ({low}) is greater than {path}.high ({high})",
                       field=f"{path}.low")
    if best is not None and low is not None and best < low:
        raise BadInput(f"{path}.best ({best}) is below {path}.low ({low})", field=f"{path}.best")
    if best is not None and high is not None and best > high:
        raise BadInput(f"{path}.best ({best}) is above {path}.high ({high})",
                       field=f"{path}.best")
    return Count(best=best, low=low, high=high)


def _parse_time(body: object, path: str) -> TimeSpan:
    if not isinstance(body, Mapping):
        raise BadInput(f"{path} must be an object with start, precision and optional end",
                       field=path)
    unknown = sorted(set(body) - {"start", "end", "precision"})
    if unknown:
        raise BadInput(f"{path}.{unknown[0]} is not a time field", field=f"{path}.{unknown[0]}")
    precision = parse_enum(Precision, body.get("precision"), f"{path}.precision")
    start = _time_string(body.get("start"), precision, f"{path}.start")
    end_raw = body.get("end")
    end = None if end_raw is None else _time_string(end_raw, precision, f"{path}.end")
    if end is not None and time_bounds(end, precision)[0] < time_bounds(start, precision)[0]:
        raise BadInput(f"{path}.end ({end}) is before {path}.start ({start})",
                       field=f"{path}.end")
    return TimeSpan(start=start, precision=precision, end=end)


def _time_string(raw: object, precision: Precision, path: str) -> str:
    if not isinstance(raw, str):
        raise BadInput(f"{path} must be an ISO 8601 string like {_TIME_EXAMPLES[precision]}",
                       field=path)
    if not _TIME_SHAPES[precision].match(raw):
        raise BadInput(f"{path} {raw!r} does not match precision {precision.value}; "
                       f"write it like {_TIME_EXAMPLES[precision]}", field=path)
    try:
        time_bounds(raw, precision)
    except ValueError as e:
        raise BadInput(f"{path} {raw!r} is not a real date: {e}", field=path) from e
    return raw


@lru_cache(maxsize=4096)
def time_bounds(text: str, precision: Precision) -> tuple[datetime, datetime]:
    """The instant a truncated time starts and the instant it ends (exclusive), in UTC.

    >>> time_bounds("2018-02", Precision.MONTH)[1].isoformat()
    '2018-03-01T00:00:00+00:00'
    """
    match = _TIME_SHAPES[precision].match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a {precision.value} time")
    numbers = [int(g) if g is not None else 0 for g in match.groups()]
    year, month, day, hour, minute, second = [*numbers, 1, 1, 0, 0, 0, 0][:6]
    if precision is Precision.YEAR:
        return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    if precision is Precision.MONTH:
        start = datetime(year, month, 1, tzinfo=UTC)
        return start, datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    if precision is Precision.DAY:
        start = datetime(year, month, day, tzinfo=UTC)
        return start, start + timedelta(days=1)
    if precision is Precision.HOUR:
        start = datetime(year, month, day, hour, tzinfo=UTC)
        return start, start + timedelta(hours=1)
    if precision is Precision.MINUTE:
        start = datetime(year, month, day, hour, minute, tzinfo=UTC)
        return start, start + timedelta(minutes=1)
    fraction = match.group(7)
    micros = int(fraction.ljust(6, "0")) if fraction else 0
    start = datetime(year, month, day, hour, minute, second, micros, tzinfo=UTC)
    return start, start + timedelta(microseconds=1)


def _parse_place(body: object, path: str) -> Place:
    if not isinstance(body, Mapping):
        raise BadInput(f"{path} must be an object with name and optional lat, lon", field=path)
    unknown = sorted(set(body) - {"name", "lat", "lon"})
    if unknown:
        raise BadInput(f"{path}.{unknown[0]} is not a place field", field=f"{path}.{unknown[0]}")
    name = _text(body.get("name"), f"{path}.name")
    lat = _coordinate(body.get("lat"), 90, f"{path}.lat")
    lon = _coordinate(body.get("lon"), 180, f"{path}.lon")
    if (lat is None) != (lon is None):
        raise BadInput(f"{path} needs both lat and lon, or neither", field=f"{path}.lat")
    return Place(name=name, lat=lat, lon=lon)


def _coordinate(raw: object, limit: int, path: str) -> float | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise BadInput(f"{path} must be a number", field=path)
    if not -limit <= raw <= limit:
        raise BadInput(f"{path} must be between -{limit} and {limit}", field=path)
    return float(raw)


def _text(raw: object, path: str) -> str:
    if not isinstance(raw, str):
        raise BadInput(f"{path} must be a string", field=path)
    if "\x00" in raw:
        raise BadInput(f"{path} must not contain NUL characters", field=path)
    stripped = raw.strip()
    if not stripped:
        raise BadInput(f"{path} must not be empty", field=path)
    if len(stripped) > MAX_TEXT_LENGTH:
        raise BadInput(f"{path} is longer than {MAX_TEXT_LENGTH} characters", field=path)
    return stripped


def parse_text(raw: object, path: str) -> str:
    """A required, non-empty, trimmed string."""
    return _text(raw, path)


def parse_optional_text(raw: object, path: str) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, str) and not raw.strip():
        return None
    return _text(raw, path)


def parse_enum(enum: type[E], raw: object, path: str) -> E:
    """Accept a member or its name; anything else names the field and the choices."""
    if isinstance(raw, enum):
        return raw
    if isinstance(raw, str):
        for member in enum:
            if member.name == raw:
                return member
    choices = ", ".join(m.name for m in enum)
    shown = "nothing" if raw is None else repr(raw)
    raise BadInput(f"{path} must be one of {choices} (got {shown})", field=path)


def parse_instant(raw: object, path: str) -> datetime:
    """An ISO 8601 date-time with a time zone, normalised to UTC."""
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, str):
        try:
            value = datetime.fromisoformat(raw)
        except ValueError as e:
            raise BadInput(f"{path} {raw!r} is not an ISO 8601 date-time", field=path) from e
    else:
        raise BadInput(f"{path} must be an ISO 8601 date-time", field=path)
    if value.tzinfo is None:
        raise BadInput(f"{path} needs a time zone, e.g. 2018-02-13T15:00:00Z", field=path)
    return value.astimezone(UTC)


def format_instant(value: datetime) -> str:
    """The one text form of an instant in the log: UTC, microseconds, ``Z``."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
