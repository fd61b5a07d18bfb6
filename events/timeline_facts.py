"""Facts of a folded timeline: the policy applied to the state the reducer built."""

from __future__ import annotations

from collections.abc import Mapping

from events.policy import Fact, SourceInfo, resolve
from events.reducer import SourceState, TimelineState


def source_info(sources: Mapping[str, SourceState]) -> dict[str, SourceInfo]:
    return {s.id: SourceInfo(s.id, s.name, s.reliability) for s in sources.values()
            if s.exists}


def fact_of(timeline: TimelineState, entry: str, attribute: str,
            sources: Mapping[str, SourceInfo]) -> Fact | None:
    survivor = timeline.survivor_of(entry)
    return resolve(survivor, attribute, timeline.fact_reports(survivor, attribute), sources)


def facts_of_entry(timeline: TimelineState, entry: str,
                   sources: Mapping[str, SourceInfo]) -> list[Fact]:
    facts = (fact_of(timeline, entry, attribute, sources)
             for attribute in timeline.attributes(entry))
    return [f for f in facts if f is not None]


def cited_sources(timeline: TimelineState, entry: str, attribute: str) -> set[str]:
    """The sources whose grade or name a fact's resolution reads."""
    cited: set[str] = set()
    for report in timeline.fact_reports(entry, attribute):
        cited.add(report.source)
        if report.via is not None:
            cited.add(report.via)
    return cited
