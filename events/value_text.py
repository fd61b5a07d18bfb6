"""Values as one spreadsheet cell each, exactly and both ways (CSV export and import).

========  ==========================================  ==============================
kind      text                                        meaning
========  ==========================================  ==============================
count     ``7``, ``5..10``, ``200..``, ``..10``,      best, range, more than, at most,
          ``7 (5..10)``                               best within a range
time      ``2018-02-07 DAY``,                         start and precision; a range
          ``2018-02-07/2018-02-08 DAY``               joins start and end with ``/``
place     ``Khasham``, ``Khasham @ 35.1,40.2``        name, then lat,lon
text      the text itself
flag      ``yes`` or ``no``
========  ==========================================  ==============================
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from events.errors import BadInput
from events.values import Count, Flag, Place, Text, TimeSpan, Value

KINDS = ("count", "time", "place", "text", "flag")
# ASCII digits, and few enough that int() never meets its limit on long digit strings.
_NUMBER = re.compile(r"\d{1,19}", re.ASCII)
_DECIMAL = r"-?\d{1,3}(?:\.\d+)?"
_PLACE = re.compile(rf"^(?P<name>.*?)\s*@\s*(?P<lat>{_DECIMAL})\s*,\s*(?P<lon>{_DECIMAL})\s*$",
                    re.ASCII)


def value_cell(value: Value) -> tuple[str, str]:
    """The kind and the text of a value."""
    if isinstance(value, Count):
        return "count", _count_text(value)
    if isinstance(value, TimeSpan):
        span = value.start if value.end is None else f"{value.start}/{value.end}"
        return "time", f"{span} {value.precision.value}"
    if isinstance(value, Place):
        if value.lat is None or value.lon is None:
            return "place", value.name
        return "place", f"{value.name} @ {_decimal(value.lat)},{_decimal(value.lon)}"
    if isinstance(value, Flag):
        return "flag", "yes" if value.value else "no"
    assert isinstance(value, Text)
    return "text", value.value


def _decimal(number: float) -> str:
    """The shortest text that reads back as ``number``, without an exponent (``0.00001``)."""
    return format(Decimal(repr(number)), "f")


def _count_text(count: Count) -> str:
    span = None if count.low is None and count.high is None else \
        f"{'' if count.low is None else count.low}..{'' if count.high is None else count.high}"
    if count.best is None:
        return span or ""
    return f"{count.best}" if span is None else f"{count.best} ({span})"


def _count(text: str) -> dict[str, int]:
    """``7``, ``5..10``, ``200..``, ``..10`` or ``7 (5..10)``."""
    refused = BadInput(f"count {text[:40]!r} is not like 7, 5..10, 200.., ..10 or 7 (5..10)",
                       field="value")
    best, _, span = text.strip().partition("(")
    if span:
        if not span.endswith(")"):
            raise refused
        span = span[:-1]
    elif ".." in best:
        best, span = "", best
    numbers: dict[str, int] = {}
    if best.strip():
        if not _NUMBER.fullmatch(best.strip()):
            raise refused
        numbers["best"] = int(best)
    if span:
        low, dots, high = span.strip().partition("..")
        if not dots or not all(_NUMBER.fullmatch(n.strip()) for n in (low, high) if n.strip()):
            raise refused
        numbers |= {k: int(v) for k, v in (("low", low), ("high", high)) if v.strip()}
    if not numbers:
        raise refused
    return numbers


def value_input(kind: str, text: str) -> dict[str, Any]:
    """The ``ValueInput`` a cell stands for; BadInput naming what is wrong."""
    if kind == "count":
        return {"count": _count(text)}
    if kind == "time":
        span, _, precision = text.strip().rpartition(" ")
        start, _, end = span.partition("/")
        if not start or not precision:
            raise BadInput(f"time {text!r} is not like '2018-02-07 DAY' or "
                           "'2018-02-07/2018-02-08 DAY'", field="value")
        time: dict[str, Any] = {"start": start, "precision": precision.upper()}
        if end:
            time["end"] = end
        return {"time": time}
    if kind == "place":
        match = _PLACE.match(text)
        if match is None:
            return {"place": {"name": text.strip()}}
        return {"place": {"name": match["name"], "lat": float(match["lat"]),
                          "lon": float(match["lon"])}}
    if kind == "flag":
        if text.strip().lower() not in {"yes", "no"}:
            raise BadInput(f"flag {text!r} must be yes or no", field="value")
        return {"flag": text.strip().lower() == "yes"}
    if kind == "text":
        return {"text": text}
    raise BadInput(f"kind {kind!r} must be one of {', '.join(KINDS)}", field="kind")
