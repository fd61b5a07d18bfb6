"""How each source's reports have fared: the counts of its track record.

A source's record on a timeline is the sum, over the timeline's facts (one attribute of one
entry, the entries merged into it included), of what each fact's reports add to it:

- ``reports``: the reports the source made itself (as ``source``), retracted ones included;
- ``retracted``: those it retracted; ``corrected``: those corrected at least once;
- ``outweighed``: its live reports whose role in their fact is CONTRADICTS;
- ``upheld``: its live reports whose role is SUPPORTS in a fact that at least one other
  origin (a report's ``via`` when it names one, else its source) also supports;
- ``cited``: other sources' live reports that name it as their current origin (``via``).

So a record changes only where a fact's reports or their roles change, and can be kept
up to date one fact at a time (``fact_record``). The policy never reads a record: grades
stay editorial. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from events.as_of import Folded
from events.policy import fact_document
from events.reducer import ReportState, ReportStatus, TimelineState
from events.timeline_facts import fact_of, source_info

SUPPORTS = "SUPPORTS"
CONTRADICTS = "CONTRADICTS"


@dataclass(frozen=True, slots=True)
class TrackRecord:
    reports: int = 0
    retracted: int = 0
    corrected: int = 0
    outweighed: int = 0
    upheld: int = 0
    cited: int = 0

    def __add__(self, other: TrackRecord) -> TrackRecord:
        return TrackRecord(*(a + b for a, b in zip(self.counts(), other.counts(), strict=True)))

    def __sub__(self, other: TrackRecord) -> TrackRecord:
        return TrackRecord(*(a - b for a, b in zip(self.counts(), other.counts(), strict=True)))

    def counts(self) -> tuple[int, ...]:
        return (self.reports, self.retracted, self.corrected, self.outweighed, self.upheld,
                self.cited)

    def __bool__(self) -> bool:
        return any(self.counts())


COUNTS = tuple(f.name for f in fields(TrackRecord))
NOTHING = TrackRecord()
Records = dict[str, TrackRecord]  # by source


def roles(document: Mapping[str, Any] | None) -> dict[str, str]:
    """Each report's role in a fact, by report id, from its stored document (none when no
    live report is left: the fact is gone)."""
    if document is None:
        return {}
    return {judged["report"]: judged["role"] for judged in document["reports"]}


def origin(report: ReportState) -> str:
    return report.via if report.via is not None else report.source


def fact_record(reports: Sequence[ReportState], roles: Mapping[str, str]) -> Records:
    """What one fact's reports add to each source's record, given each report's role in
    the fact (``roles``)."""
    records: dict[str, list[int]] = {}

    def add(source: str, count: int) -> None:
        records.setdefault(source, [0] * len(COUNTS))[count] += 1

    live = [r for r in reports if r.status is not ReportStatus.RETRACTED]
    supporting_origins = [origin(r) for r in live if roles.get(r.id) == SUPPORTS]
    for report in reports:
        add(report.source, 0)
        if report.status is ReportStatus.RETRACTED:
            add(report.source, 1)
        if report.corrected:
            add(report.source, 2)
    for report in live:
        role = roles.get(report.id)
        if role == CONTRADICTS:
            add(report.source, 3)
        elif role == SUPPORTS and any(o != origin(report) for o in supporting_origins):
            add(report.source, 4)
        if report.via is not None and report.via != report.source:
            add(report.via, 5)
    return {source: TrackRecord(*counts) for source, counts in records.items()}


def total(records: Iterable[Records]) -> Records:
    summed: Records = {}
    for record in records:
        for source, counts in record.items():
            summed[source] = summed.get(source, NOTHING) + counts
    return {source: counts for source, counts in summed.items() if counts}


def recount(timeline: TimelineState,
            documents: Mapping[tuple[str, str], Mapping[str, Any] | None]) -> Records:
    """Every source's record on a timeline, counted afresh from its state and its facts'
    documents (by live entry and attribute): what keeping them one fact at a time must
    always equal."""
    return total(
        fact_record(timeline.fact_reports(entry.id, attribute),
                    roles(documents.get((entry.id, attribute))))
        for entry in timeline.live_entries() for attribute in timeline.attributes(entry.id))


def records_of(folded: Folded) -> Records:
    """Every source's record on a timeline folded from the log (events/as_of.py), its facts
    resolved by the policy afresh: the recount any kept record must equal."""
    timeline, info = folded.timeline, source_info(folded.sources)
    documents: dict[tuple[str, str], Mapping[str, Any] | None] = {}
    for entry in timeline.live_entries():
        for attribute in timeline.attributes(entry.id):
            fact = fact_of(timeline, entry.id, attribute, info)
            documents[(entry.id, attribute)] = None if fact is None else fact_document(fact)
    return recount(timeline, documents)
