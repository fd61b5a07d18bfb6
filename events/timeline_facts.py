"""Facts of a folded timeline: the policy applied to the state the reducer built."""

from __future__ import annotations

from collections.abc import Mapping

from events.policy import Fact, SourceInfo, resolve
from events.reducer import SourceState, TimelineState
from events.vocabulary import (
    DomainEvent,
    EntriesMerged,
    FactReported,
    ReportCorrected,
    ReportRanked,
    ReportRetracted,
)


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


def facts_touched(timeline: TimelineState, event: DomainEvent) -> set[tuple[str, str]]:
    """The facts (survivor entry, attribute) a timeline event may change, judged on the state
    after it was applied. A merge touches every attribute of the survivor."""
    if isinstance(event, FactReported):
        return {(timeline.survivor_of(event.entry), event.attribute)}
    if isinstance(event, ReportCorrected | ReportRetracted | ReportRanked):
        report = timeline.reports[event.report]
        return {(timeline.survivor_of(report.entry), report.attribute)}
    if isinstance(event, EntriesMerged):
        survivor = timeline.survivor_of(event.survivor)
        return {(survivor, attribute) for attribute in timeline.attributes(survivor)}
    return set()


def facts_citing(timeline: TimelineState, source_id: str) -> set[tuple[str, str]]:
    """The facts whose resolution reads a source's grade: those with a report from or via it."""
    return {(timeline.survivor_of(r.entry), r.attribute) for r in timeline.reports.values()
            if source_id in (r.source, r.via)}
