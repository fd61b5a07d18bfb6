"""The union ``Value`` a fact or report holds: a count, a text, a time, a place or a flag."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from api.graphql.scalars import Precision


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
