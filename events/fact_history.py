"""How one fact's best value moved along the log, with the event that moved it each time.

Pure: it folds the log with the same reducer and policy the projection uses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from events.as_of import Axis, replay
from events.chain import Envelope
from events.policy import Fact
from events.timeline_facts import cited_sources, fact_of, source_info


@dataclass(frozen=True, slots=True)
class FactVersion:
    """The fact as it stood after ``envelope`` changed it (None: no live report remained)."""

    envelope: Envelope
    fact: Fact | None


def _shown(fact: Fact | None) -> object:
    """What a reader sees change: value, range (open or not), dispute, status (not the
    sentence's words)."""
    if fact is None:
        return None
    return (fact.value, fact.low, fact.high, fact.high_open, fact.disputed, fact.status)


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


__all__ = ["FactVersion", "history"]
