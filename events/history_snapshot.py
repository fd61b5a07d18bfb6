"""What an as-of read of a timeline's kept history (events/history_index.py) answers: a
``Snapshot`` of rows, and the facts that differ between two of them. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from events.policy import SourceInfo, fact_document, resolve
from events.reducer import ReportState
from events.rows import EntryRow, FactRow, ReportRow, SourceRow, TimelineRow

Document = dict[str, Any]
FactKey = tuple[str, str]


@dataclass(slots=True)
class Snapshot:
    """A timeline as it stood at one moment on one clock: rows ready to serve."""

    timeline: TimelineRow | None
    entries: list[EntryRow]
    facts: dict[str, list[FactRow]]
    reports: Callable[[str], list[ReportRow]]  # an entry's reports, built when asked for
    sources: dict[str, SourceRow]
    survivors: dict[str, str] = field(default_factory=dict)  # merged entry → where it lives


def no_reports(entry: str) -> list[ReportRow]:
    return []


def changed_facts(before: Snapshot, after: Snapshot) -> list[
        tuple[str, str, FactRow | None, FactRow | None]]:
    """Facts whose value, range, dispute or status differ between two snapshots, with both
    versions, in (entry, attribute) order."""
    old = {(f.entry, f.attribute): f for rows in before.facts.values() for f in rows}
    new = {(f.entry, f.attribute): f for rows in after.facts.values() for f in rows}
    found = []
    for key in sorted(old.keys() | new.keys()):
        was, now = old.get(key), new.get(key)
        if _shown(was) != _shown(now):
            found.append((key[0], key[1], was, now))
    return found


def _shown(row: FactRow | None) -> object:
    """What a reader sees change (not the explanation's wording)."""
    if row is None:
        return None
    document = row.document
    return (document["value"], document["low"], document["high"],
            document.get("highOpen", False), document["disputed"], document["status"])


def resolve_fact(entry: str, attribute: str, reports: Sequence[ReportState],
                 info: Mapping[str, SourceInfo]) -> Document | None:
    fact = resolve(entry, attribute, reports, info)
    return None if fact is None else fact_document(fact)
