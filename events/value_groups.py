"""Which reports say the same thing: equal values, and times that contain one another.

Times group by their finest spans; a coarser report ("February 2018") lends its weight to
every finer group it contains ("Saturday", "Sunday") and forms a group of its own only
when it contains none.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from events.reducer import ReportState
from events.values import Flag, Place, Text, TimeSpan

Span = tuple[datetime, datetime]


def span(value: TimeSpan) -> Span:
    return value.bounds()


def group_key(report: ReportState) -> object:
    """What makes two reports say the same thing (times: their span)."""
    value = report.value
    if isinstance(value, TimeSpan):
        return span(value)
    if isinstance(value, Text):
        return " ".join(value.value.casefold().split())
    if isinstance(value, Place):
        return " ".join(value.name.casefold().split())
    if isinstance(value, Flag):
        return value.value
    raise TypeError(f"counts are not grouped: {value!r}")


def contains(outer: Span, inner: Span) -> bool:
    return outer[0] <= inner[0] and inner[1] <= outer[1]


def matches(report: ReportState, key: object) -> bool:
    """Does ``report`` speak to the group ``key``: equal, or a time span containing it."""
    own = group_key(report)
    if isinstance(key, tuple) and isinstance(own, tuple):
        return contains(own, key)
    return own == key


def agrees(report: ReportState, key: object) -> bool:
    """Agreement with a preferred value: times agree when either span contains the other."""
    own = group_key(report)
    if isinstance(key, tuple) and isinstance(own, tuple):
        return contains(own, key) or contains(key, own)
    return own == key


def own_reports(members: Sequence[ReportState], key: object) -> list[ReportState]:
    """The group's own reports (not coarser ones lending it their weight)."""
    own = [r for r in members if group_key(r) == key]
    return own or list(members)


def group_reports(reports: Sequence[ReportState]) -> list[tuple[object, list[ReportState]]]:
    """Groups of equal values. For times, only the finest spans form groups; a coarser report
    adds its weight to every group it contains, and forms its own only when it contains none."""
    keys: list[object] = []
    for report in reports:
        key = group_key(report)
        if key not in keys:
            keys.append(key)
    if keys and isinstance(keys[0], tuple):
        spans = [k for k in keys if isinstance(k, tuple)]
        keys = [k for k in spans if not any(o != k and contains(k, o) for o in spans)]
    return [(key, [r for r in reports if matches(r, key)]) for key in keys]
