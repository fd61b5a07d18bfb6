"""How one fact's best value moved along the log, and which facts changed between two times.

Pure: both fold the log with the same reducer and policy the projection uses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from events.as_of import Axis, Folded, replay
from events.chain import Envelope
from events.policy import Fact, SourceInfo, fact_document
from events.timeline_facts import cited_sources, fact_of, facts_of_entry, source_info


@dataclass(frozen=True, slots=True)
class FactVersion:
    """The fact as it stood after ``envelope`` changed it (None: no live report remained)."""

    envelope: Envelope
    fact: Fact | None


def _shown(fact: Fact | None) -> object:
    """What a reader sees change: value, range, dispute, status (not the sentence's words)."""
    if fact is None:
        return None
    return (fact.value, fact.low, fact.high, fact.disputed, fact.status)


def history(envelopes: Iterable[Envelope], slug: str, entry: str, attribute: str,
            axis: Axis = Axis.RECORDED, until: datetime | None = None) -> list[FactVersion]:
    """Every change of one fact along the log (up to ``until`` on ``axis``), each with the
    event that made it."""
    versions: list[FactVersion] = []
    shown: object = None
    for envelope, folded in replay(envelopes, slug, axis, until):
        timeline = folded.timeline
        if entry not in timeline.entries:
            continue
        survivor = timeline.survivor_of(entry)
        cited = cited_sources(timeline, survivor, attribute)
        info = {k: v for k, v in source_info(folded.sources).items() if k in cited}
        fact = fact_of(timeline, survivor, attribute, info)
        if _shown(fact) != shown:
            shown = _shown(fact)
            versions.append(FactVersion(envelope, fact))
    return versions


@dataclass(frozen=True, slots=True)
class FactChange:
    entry: str
    attribute: str
    before: Fact | None
    after: Fact | None


def _facts(folded: Folded) -> dict[tuple[str, str], Fact]:
    sources: dict[str, SourceInfo] = source_info(folded.sources)
    return {(f.entry, f.attribute): f for e in folded.timeline.live_entries()
            for f in facts_of_entry(folded.timeline, e.id, sources)}


def changes(since: Folded, until: Folded) -> list[FactChange]:
    """Facts whose value, range, dispute or status differ between two folds of a timeline."""
    before, after = _facts(since), _facts(until)
    found = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        if _shown(old) != _shown(new):
            found.append(FactChange(key[0], key[1], old, new))
    return found


__all__ = ["FactChange", "FactVersion", "changes", "fact_document", "history"]
