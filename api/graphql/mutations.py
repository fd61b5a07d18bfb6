"""One mutation per event type; each parses its input, appends, and answers from the log."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from api.auth import require_writer
from api.graphql import inputs
from api.graphql.types import Entry, Event, Fact, Report, Source, Timeline
from api.graphql.views import PresentView
from events.appender import AppendResult
from events.commands import parse_command
from events.errors import BadInput, NotFound

MAX_IDEMPOTENCY_KEY = 200


async def append(info: Info, mutation: str, given: Any) -> AppendResult:
    """Authorise, parse and append one command; the shared path of every mutation."""
    principal = require_writer(await info.context.principal())
    fields = inputs.plain(given)
    key = fields.pop("idempotency_key", None)
    expected_version = fields.pop("expected_version", None)
    if key is not None and not (isinstance(key, str) and 0 < len(key) <= MAX_IDEMPOTENCY_KEY):
        raise BadInput(f"idempotencyKey must be 1 to {MAX_IDEMPOTENCY_KEY} characters",
                       field="idempotencyKey")
    if expected_version is not None and expected_version < 0:
        raise BadInput("expectedVersion must be 0 or more", field="expectedVersion")
    command = parse_command(mutation, fields)
    result: AppendResult = await info.context.services.appender.submit(
        command, actor=principal.name, idempotency_key=key, expected_version=expected_version)
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


async def _report_and_fact(info: Info, result: AppendResult) -> tuple[Report, Fact | None]:
    """The report a mutation touched, and the fact it bears on as it now stands."""
    timeline = _timeline_of(result)
    rows = await info.context.read_model.reports(timeline,
                                                 report_ids=[result.envelope.data["report"]])
    if not rows:
        raise NotFound(f"report {result.envelope.data['report']!r} does not exist",
                       field="report")
    report = rows[0]
    view = _view(info, timeline)
    entry = await view.entry(report.entry)
    fact = None
    if entry is not None:
        fact = next((Fact.from_row(f, view) for f in await view.facts(entry.id)
                     if f.attribute == report.attribute), None)
    return Report.from_row(report, view), fact


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
class ReportFactPayload:
    report: Report
    fact: Fact | None = strawberry.field(description="The fact the report bears on, now; "
                                         "null when no live report on it remains.")
    event: Event


@strawberry.type
class CorrectReportPayload:
    report: Report
    fact: Fact | None = strawberry.field(description="The fact the report bears on, now; "
                                         "null when no live report on it remains.")
    event: Event


@strawberry.type
class RetractReportPayload:
    report: Report
    fact: Fact | None = strawberry.field(description="The fact the report bears on, now; "
                                         "null when no live report on it remains.")
    event: Event


@strawberry.type
class RankReportPayload:
    report: Report
    fact: Fact | None = strawberry.field(description="The fact the report bears on, now; "
                                         "null when no live report on it remains.")
    event: Event


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
        report, fact = await _report_and_fact(info, result)
        return ReportFactPayload(report=report, fact=fact,
                                 event=Event.from_envelope(result.envelope))

    @strawberry.mutation
    async def correct_report(self, info: Info,
                             input: inputs.CorrectReportInput) -> CorrectReportPayload:
        result = await append(info, "correctReport", input)
        report, fact = await _report_and_fact(info, result)
        return CorrectReportPayload(report=report, fact=fact,
                                    event=Event.from_envelope(result.envelope))

    @strawberry.mutation
    async def retract_report(self, info: Info,
                             input: inputs.RetractReportInput) -> RetractReportPayload:
        result = await append(info, "retractReport", input)
        report, fact = await _report_and_fact(info, result)
        return RetractReportPayload(report=report, fact=fact,
                                    event=Event.from_envelope(result.envelope))

    @strawberry.mutation
    async def rank_report(self, info: Info, input: inputs.RankReportInput) -> RankReportPayload:
        result = await append(info, "rankReport", input)
        report, fact = await _report_and_fact(info, result)
        return RankReportPayload(report=report, fact=fact,
                                 event=Event.from_envelope(result.envelope))

    @strawberry.mutation
    async def merge_entries(self, info: Info,
                            input: inputs.MergeEntriesInput) -> MergeEntriesPayload:
        result = await append(info, "mergeEntries", input)
        entry = await _entry(info, _timeline_of(result), result.envelope.data["survivor"])
        return MergeEntriesPayload(entry=entry, event=Event.from_envelope(result.envelope))
