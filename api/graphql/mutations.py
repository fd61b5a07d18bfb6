"""One mutation per event type; each parses its input, appends, and answers from the log."""

from __future__ import annotations

from typing import Any, Self

import strawberry
from strawberry.types import Info

from api.graphql import inputs
from api.graphql.source_types import Source
from api.graphql.types import Entry, Event, Fact, Report, Timeline
from api.services.auth import require_writer
from api.services.intake import CommandIntake
from api.services.reading import PresentView, settled
from events.appender import AppendResult
from events.errors import NotFound


async def append(info: Info, mutation: str, given: Any) -> AppendResult:
    """Authorise, parse and append one command; the shared path of every mutation."""
    principal = require_writer(await info.context.principal())
    intake: CommandIntake = info.context.services.intake
    result = await intake.submit(mutation, inputs.plain(given), actor=principal.name)
    # The answer names the position, so the client can read its write on any server.
    info.context.appended = max(info.context.appended, result.envelope.position)
    return result


def _timeline_of(result: AppendResult) -> str:
    return result.envelope.stream.split(":", 1)[1]


def _view(info: Info, slug: str) -> PresentView:
    services = info.context.services
    return PresentView(services.read_model, services.store, slug)


async def _timeline(info: Info, slug: str) -> Timeline:
    row = await info.context.read_model.timeline(slug)
    if row is None:
        raise NotFound(f"timeline {slug!r} does not exist", field="timeline")
    return Timeline.from_row(row, _view(info, slug))


async def _source(info: Info, source_id: str) -> Source:
    rows = await info.context.read_model.sources([source_id])
    if not rows:
        raise NotFound(f"source {source_id!r} does not exist", field="source")
    return Source.from_row(rows[0])


async def _entry(info: Info, timeline: str, entry_id: str) -> Entry:
    view = _view(info, timeline)
    row = await view.entry(entry_id)
    if row is None:
        raise NotFound(f"entry {entry_id!r} does not exist", field="entry")
    return Entry.from_row(row, view)


@strawberry.type
class ReportPayload:
    """What report mutations answer; report and fact are read only when selected."""

    result: strawberry.Private[AppendResult]
    view: strawberry.Private[PresentView]
    event: Event

    async def _report(self) -> Report:
        report_id = self.result.envelope.data["report"]
        rows = await self.view.read_model.reports(self.view.slug, report_ids=[report_id])
        if not rows:
            raise NotFound(f"report {report_id!r} does not exist", field="report")
        return Report.from_row(rows[0], self.view)

    @strawberry.field
    async def report(self) -> Report:
        return await self._report()

    @strawberry.field(description="The fact the report bears on, now; null when no live "
                      "report on it remains.")
    async def fact(self) -> Fact | None:
        report = await self._report()
        entry = await self.view.entry(report.row.entry)
        if entry is None:
            return None
        facts = await settled(self.view.facts(entry.id))
        return next((Fact.from_row(f, self.view) for f in facts
                     if f.attribute == report.attribute), None)

    @classmethod
    def of(cls, info: Info, result: AppendResult) -> Self:
        return cls(result=result, view=_view(info, _timeline_of(result)),
                   event=Event.from_envelope(result.envelope))


@strawberry.type
class CreateTimelinePayload:
    timeline: Timeline
    event: Event


@strawberry.type
class RegisterSourcePayload:
    source: Source
    event: Event


@strawberry.type
class GradeSourcePayload:
    source: Source
    event: Event


@strawberry.type
class OpenEntryPayload:
    entry: Entry
    event: Event


@strawberry.type
class ReportFactPayload(ReportPayload):
    pass


@strawberry.type
class CorrectReportPayload(ReportPayload):
    pass


@strawberry.type
class RetractReportPayload(ReportPayload):
    pass


@strawberry.type
class RankReportPayload(ReportPayload):
    pass


@strawberry.type
class MergeEntriesPayload:
    entry: Entry = strawberry.field(description="The surviving entry, now holding both.")
    event: Event


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_timeline(self, info: Info,
                              input: inputs.CreateTimelineInput) -> CreateTimelinePayload:
        result = await append(info, "createTimeline", input)
        return CreateTimelinePayload(timeline=await _timeline(info, _timeline_of(result)),
                                     event=Event.from_envelope(result.envelope))

    @strawberry.mutation
    async def register_source(self, info: Info,
                              input: inputs.RegisterSourceInput) -> RegisterSourcePayload:
        result = await append(info, "registerSource", input)
        return RegisterSourcePayload(source=await _source(info, result.envelope.data["source"]),
                                     event=Event.from_envelope(result.envelope))

    @strawberry.mutation
    async def grade_source(self, info: Info,
                           input: inputs.GradeSourceInput) -> GradeSourcePayload:
        result = await append(info, "gradeSource", input)
        return GradeSourcePayload(source=await _source(info, result.envelope.data["source"]),
                                  event=Event.from_envelope(result.envelope))

    @strawberry.mutation
    async def open_entry(self, info: Info, input: inputs.OpenEntryInput) -> OpenEntryPayload:
        result = await append(info, "openEntry", input)
        entry = await _entry(info, _timeline_of(result), result.envelope.data["entry"])
        return OpenEntryPayload(entry=entry, event=Event.from_envelope(result.envelope))

    @strawberry.mutation
    async def report_fact(self, info: Info, input: inputs.ReportFactInput) -> ReportFactPayload:
        result = await append(info, "reportFact", input)
        return ReportFactPayload.of(info, result)

    @strawberry.mutation
    async def correct_report(self, info: Info,
                             input: inputs.CorrectReportInput) -> CorrectReportPayload:
        result = await append(info, "correctReport", input)
        return CorrectReportPayload.of(info, result)

    @strawberry.mutation
    async def retract_report(self, info: Info,
                             input: inputs.RetractReportInput) -> RetractReportPayload:
        result = await append(info, "retractReport", input)
        return RetractReportPayload.of(info, result)

    @strawberry.mutation
    async def rank_report(self, info: Info, input: inputs.RankReportInput) -> RankReportPayload:
        result = await append(info, "rankReport", input)
        return RankReportPayload.of(info, result)

    @strawberry.mutation
    async def merge_entries(self, info: Info,
                            input: inputs.MergeEntriesInput) -> MergeEntriesPayload:
        result = await append(info, "mergeEntries", input)
        entry = await _entry(info, _timeline_of(result), result.envelope.data["survivor"])
        return MergeEntriesPayload(entry=entry, event=Event.from_envelope(result.envelope))
