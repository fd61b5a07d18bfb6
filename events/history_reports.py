"""Each report's past, kept small: the few events that changed it after it was made.

A report is one ``ReportState`` in the timeline's state (as it stands now). What it was at an
earlier log position, or as reported at an earlier instant, is rebuilt on demand from the
events that changed it since (corrections, retractions, ranks: a few in a hundred reports
have any) and, for a corrected report, what it first said. Reports nothing changed after they
were made, nearly all of them, are their own past at every moment. Pure: no I/O, no clock.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime

from events.reducer import ReportState, ReportStatus, Stamp, TimelineState
from events.values import Value
from events.vocabulary import (
    FactReported,
    Rank,
    ReportCorrected,
    ReportRanked,
    ReportRetracted,
    Stance,
)

ReportLogEvent = FactReported | ReportCorrected | ReportRetracted
ReportEvent = ReportCorrected | ReportRetracted | ReportRanked
RankAt = tuple[Rank, str | None, int | None]
Original = tuple[Value, Stance, str | None]  # what a corrected report first said


class ReportTrails:
    """The events that changed reports after they were made, by report and in log order."""

    def __init__(self) -> None:
        self.changes: dict[str, list[tuple[int, ReportEvent]]] = {}
        self.originals: dict[str, Original] = {}
        self.events: list[tuple[int, ReportEvent]] = []  # every one, in position order

    def record(self, position: int, event: ReportEvent, report: ReportState) -> None:
        """Keep ``event``, which is about to be applied to ``report``."""
        if isinstance(event, ReportCorrected):
            self.originals.setdefault(report.id, (report.value, report.stance, report.via))
        self.changes.setdefault(report.id, []).append((position, event))
        self.events.append((position, event))

    def restore(self, changes: Sequence[tuple[int, ReportEvent]],
                originals: Mapping[str, Original]) -> None:
        for position, event in changes:
            self.changes.setdefault(event.report, []).append((position, event))
            self.events.append((position, event))
        self.originals.update(originals)

    def first(self, report: ReportState) -> ReportState:
        """The report as its ``FactReported`` made it (ranked normal)."""
        value, stance, via = self.originals.get(report.id,
                                                (report.value, report.stance, report.via))
        return dataclasses.replace(report, value=value, stance=stance, via=via,
                                   status=ReportStatus.ACTIVE, rank=Rank.NORMAL,
                                   rank_reason=None, ranked_at=None, retraction_reason=None,
                                   changed_at=None, corrected=False)

    def at_position(self, report: ReportState, position: int) -> ReportState:
        """The report as the log up to ``position`` left it (made at or before it)."""
        changes = self.changes.get(report.id)
        if not changes or changes[-1][0] <= position:
            return report
        past = self.first(report)
        scratch = TimelineState("", reports={report.id: past})
        for at, event in changes:
            if at > position:
                break
            scratch.apply(event, Stamp(at, report.reported.recorded_at))
        return past

    def rank_at(self, report: ReportState, position: int) -> RankAt:
        """The report's rank, its reason and where it was set, as of ``position``."""
        rank: RankAt = (Rank.NORMAL, None, None)
        for at, event in self.changes.get(report.id, ()):
            if at > position:
                break
            if isinstance(event, ReportRanked):
                rank = (event.rank, event.reason, at)
        return rank

    def as_reported(self, report: ReportState, moment: datetime, known: int | None = None,
                    rank: RankAt | None = None) -> ReportState | None:
        """A report as it stood at ``moment`` on the REPORTED clock (None: not reported yet),
        ranked as today (or as ``rank`` says), from the log up to position ``known`` (all of
        it when None)."""
        if report.reported_at > moment:
            return None
        today = (report.rank, report.rank_reason, report.ranked_at)
        if report.status is ReportStatus.ACTIVE and (rank is None or rank == today):
            return report  # never corrected nor retracted: it is its own past
        past = self.first(report)
        past.rank, past.rank_reason, past.ranked_at = rank if rank is not None else today
        for at, event in self.changes.get(report.id, ()):
            if (known is not None and at > known) or isinstance(event, ReportRanked) \
                    or event.reported_at > moment:
                continue
            if isinstance(event, ReportCorrected):
                past.value = event.value if event.value is not None else past.value
                past.stance = event.stance if event.stance is not None else past.stance
                past.via = event.via if event.via is not None else past.via
                past.status, past.changed_at = ReportStatus.CORRECTED, event.reported_at
                past.corrected = True
            elif isinstance(event, ReportRetracted):
                past.status, past.changed_at = ReportStatus.RETRACTED, event.reported_at
                past.retraction_reason = event.reason
        return past

    def vias(self, report: ReportState) -> Iterator[str]:
        """Every origin the report cited along the way."""
        first = self.originals.get(report.id)
        via = first[2] if first is not None else report.via
        if via is not None:
            yield via
        for _, event in self.changes.get(report.id, ()):
            if isinstance(event, ReportCorrected) and event.via is not None:
                yield event.via

    def log(self, report: ReportState) -> list[tuple[int, ReportLogEvent]]:
        """The report's ``FactReported`` and every correction and retraction of it."""
        first = self.first(report)
        made = FactReported(report=report.id, entry=report.entry, attribute=report.attribute,
                            value=first.value, source=report.source, stance=first.stance,
                            reported_at=report.reported_at, via=first.via, quote=report.quote,
                            url=report.url)
        log: list[tuple[int, ReportLogEvent]] = [(report.reported.position, made)]
        log += [(at, e) for at, e in self.changes.get(report.id, ())
                if isinstance(e, ReportCorrected | ReportRetracted)]
        return log


class ReportLogs(Mapping[str, Sequence[tuple[int, ReportLogEvent]]]):
    """Each report's log (its ``FactReported``, corrections and retractions), built when
    asked for."""

    def __init__(self, state: TimelineState, trails: ReportTrails) -> None:
        self._state = state
        self._trails = trails

    def __getitem__(self, report_id: str) -> list[tuple[int, ReportLogEvent]]:
        return self._trails.log(self._state.reports[report_id])

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._state.reports))

    def __len__(self) -> int:
        return len(self._state.reports)
