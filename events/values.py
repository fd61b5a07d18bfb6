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

from events.errors import BadInput, refuse_bad_text

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
_TIME_PATTERNS = {
    Precision.YEAR: r"(\d{4})",
    Precision.MONTH: r"(\d{4})-(\d{2})",
    Precision.DAY: r"(\d{4})-(\d{2})-(\d{2})",
    Precision.HOUR: r"(\d{4})-(\d{2})-(\d{2})T(\d{2})(?::00)?Z",
    Precision.MINUTE: r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})Z",
    Precision.EXACT: r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?Z",
}
# What a writer may send: ASCII digits, nothing after.
_TIME_SHAPES = {precision: re.compile(f"^{pattern}\\Z", re.ASCII)
                for precision, pattern in _TIME_PATTERNS.items()}
# What earlier versions let into the log (any Unicode digit, a final newline): the log's own
# values are read with these, so that no stored time ever fails to read.
_STORED_TIME_SHAPES = {precision: re.compile(f"^{pattern}$")
                       for precision, pattern in _TIME_PATTERNS.items()}

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
# GraphQL's Int (a signed 32-bit integer) is the type every client reads counts as, so it is
# also the one range every intake accepts: more people than any death toll or displacement.
MAX_COUNT = 2**31 - 1
# Earlier versions accepted counts up to 10^12 (by CSV). Such a count still reads, as the
# open-ended "at least" of what it said that GraphQL can carry: see ``_within_reach``.
STORED_MAX_COUNT = 10**12


def parse_value(raw: object, field: str = "value", *, stored: bool = False) -> Value:
    """Build a value from its one-of form, e.g. ``{"count": {"low": 200}}``.

    ``stored`` reads a value from the log, with the looser bounds of earlier versions."""
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
        if stored:
            return _within_reach(_parse_count(body, path, STORED_MAX_COUNT))
        return _parse_count(body, path, MAX_COUNT)
    if kind == "text":
        return Text(_text(body, path))
    if kind == "time":
        return _parse_time(body, path, _STORED_TIME_SHAPES if stored else _TIME_SHAPES)
    if kind == "place":
        return _parse_place(body, path)
    if not isinstance(body, bool):
        raise BadInput(f"{path} must be true or false", field=path)
    return Flag(body)


def stored_value(raw: object) -> Value:
    """A value as the log and the read model hold it, in the forms earlier versions wrote
    too; every read path decodes values with this, never with the writer's stricter rules."""
    return parse_value(raw, stored=True)


def _parse_count(body: object, path: str, limit: int) -> Count:
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
        if item is not None and not 0 <= item <= limit:
            raise BadInput(f"{path}.{name} must be between 0 and {limit:,}",
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


def _within_reach(count: Count) -> Count:
    """Upcast a count the first version stored beyond ``MAX_COUNT``: every bound above the
    cap is dropped. A count left with none reads as at least the cap when its low or best
    was above it, and as at least 0 when it only gave an upper bound. What remains still
    holds of what the source said, and every client can read it.
    """
    bounds = {"best": count.best, "low": count.low, "high": count.high}
    if all(n is None or n <= MAX_COUNT for n in bounds.values()):
        return count
    kept = {name: n for name, n in bounds.items() if n is not None and n <= MAX_COUNT}
    if kept:
        return Count(**kept)
    return Count(low=0 if count.best is None and count.low is None else MAX_COUNT)


def _parse_time(body: object, path: str,
                shapes: Mapping[Precision, re.Pattern[str]]) -> TimeSpan:
    if not isinstance(body, Mapping):
        raise BadInput(f"{path} must be an object with start, precision and optional end",
                       field=path)
    unknown = sorted(set(body) - {"start", "end", "precision"})
    if unknown:
        raise BadInput(f"{path}.{unknown[0]} is not a time field", field=f"{path}.{unknown[0]}")
    precision = parse_enum(Precision, body.get("precision"), f"{path}.precision")
    start = _time_string(body.get("start"), precision, f"{path}.start", shapes)
    end_raw = body.get("end")
    end = None if end_raw is None else _time_string(end_raw, precision, f"{path}.end", shapes)
    if end is not None and time_bounds(end, precision)[0] < time_bounds(start, precision)[0]:
        raise BadInput(f"{path}.end ({end}) is before {path}.start ({start})",
                       field=f"{path}.end")
    return TimeSpan(start=start, precision=precision, end=end)


def _time_string(raw: object, precision: Precision, path: str,
                 shapes: Mapping[Precision, re.Pattern[str]]) -> str:
    if not isinstance(raw, str):
        raise BadInput(f"{path} must be an ISO 8601 string like {_TIME_EXAMPLES[precision]}",
                       field=path)
    if not shapes[precision].match(raw):
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
    match = _STORED_TIME_SHAPES[precision].match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a {precision.value} time")
    groups = match.groups()
    fraction = groups[6] if precision is Precision.EXACT else None
    fields = [int(g) for g in groups[:6] if g is not None]
    year, month, day, hour, minute, second = fields + [1, 1, 0, 0, 0][len(fields) - 1:]
    micros = int(fraction.ljust(6, "0")) if fraction else 0
    start = datetime(year, month, day, hour, minute, second, micros, tzinfo=UTC)
    return start, _end_of(start, precision)


# The end of time as the log knows it: the last unit of the year 9999 ends here.
END_OF_TIME = datetime.max.replace(tzinfo=UTC)


def _end_of(start: datetime, precision: Precision) -> datetime:
    """The instant after the unit that begins at ``start``."""
    try:
        if precision is Precision.YEAR:
            return start.replace(year=start.year + 1)
        if precision is Precision.MONTH:
            return start.replace(year=start.year + start.month // 12,
                                 month=start.month % 12 + 1)
        return start + _UNITS[precision]
    except (OverflowError, ValueError):  # past 9999-12-31
        return END_OF_TIME


_UNITS = {Precision.DAY: timedelta(days=1), Precision.HOUR: timedelta(hours=1),
          Precision.MINUTE: timedelta(minutes=1), Precision.EXACT: timedelta(microseconds=1)}


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
    # + 0.0 turns -0.0 into 0.0: PostgreSQL's numeric has no negative zero, so the stored
    # form would differ from the hashed one.
    return float(raw) + 0.0


def _text(raw: object, path: str) -> str:
    if not isinstance(raw, str):
        raise BadInput(f"{path} must be a string", field=path)
    refuse_bad_text(**{path: raw})
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
    """An ISO 8601 date-time with a time zone, normalised to UTC, in the years 1 to 9999."""
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
    try:
        return value.astimezone(UTC)
    except OverflowError as e:  # 0001-01-01T00:00+01:00 is in the year 0 in UTC
        raise BadInput(f"{path} falls outside the years 1 to 9999 in UTC", field=path) from e


# The earlier version wrote years below 1000 without zero padding ("1-01-01T00:00:00Z").
_UNPADDED_YEAR = re.compile(r"^(\d{1,3})-")


def parse_stored_instant(raw: object, path: str) -> datetime:
    """An instant as the log holds it, including the unpadded years of earlier versions
    (an upcaster on read: the stored text, and so its hash, stays as it was)."""
    if isinstance(raw, str) and (match := _UNPADDED_YEAR.match(raw)):
        raw = match[1].zfill(4) + raw[match.end(1):]
    return parse_instant(raw, path)


def format_instant(value: datetime) -> str:
    """The one text form of an instant in the log: UTC, microseconds, ``Z``, and a year of
    four digits (``strftime("%Y")`` does not pad years below 1000)."""
    utc = value.astimezone(UTC)
    return f"{utc.year:04d}-{utc:%m-%dT%H:%M:%S.%f}Z"
