"""The CSV's rows, planned both ways without a database: the export's rows from a log
(``csv_rows``), and the commands of a file's rows (``plan_text``), on the memory store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from api.embed.exports import CSV_COLUMNS, Row, csv_rows, csv_text
from api.services.csv_import import Known, plan_text
from api.services.intake import LineRefused
from events.appender import Appender
from events.as_of import Axis, Moment
from events.chain import Envelope
from events.commands import CorrectReport, ReportFact, Submission, parse_submission
from events.memory import MemoryEventStore
from events.values import Count

STORY: list[tuple[str, dict[str, Any]]] = [
    ("createTimeline", {"slug": "k", "title": "Khasham", "description": "Two,\nlines"}),
    ("registerSource", {"id": "mfa", "name": "Foreign Ministry", "kind": "GOVERNMENT"}),
    ("registerSource", {"id": "pentagon", "name": "Pentagon", "kind": "MILITARY",
                        "url": "https://example.org/dod"}),
    ("registerSource", {"id": "unused", "name": "Never cited", "kind": "OTHER"}),
    ("gradeSource", {"source": "pentagon", "reliability": "B", "note": "a party"}),
    ("openEntry", {"timeline": "k", "id": "strike", "title": "The strike"}),
    ("openEntry", {"timeline": "k", "id": "dup", "title": "The strike again"}),
    ("reportFact", {"timeline": "k", "id": "r1", "entry": "strike", "attribute": "killed",
                    "value": {"count": {"best": 5}}, "source": "mfa",
                    "stance": "CONFIRMED", "reported_at": "2018-02-15T12:00:00Z"}),
    ("reportFact", {"timeline": "k", "id": "r2", "entry": "dup", "attribute": "killed",
                    "value": {"count": {"low": 200}}, "source": "mfa", "via": "pentagon",
                    "stance": "CLAIMED", "reported_at": "2018-02-13T12:00:00Z"}),
    ("correctReport", {"timeline": "k", "report": "r1", "value": {"count": {"best": 9}},
                       "via": "pentagon", "reported_at": "2018-02-16T12:00:00Z"}),
    ("rankReport", {"timeline": "k", "report": "r2", "rank": "DEPRECATED",
                    "reason": "an echo"}),
    ("retractReport", {"timeline": "k", "report": "r2", "reason": "misread",
                       "reported_at": "2018-02-20T00:00:00Z"}),
    ("mergeEntries", {"timeline": "k", "duplicate": "dup", "survivor": "strike"}),
]


def later() -> datetime:
    return datetime(2030, 1, 1, tzinfo=UTC)


async def logged(submissions: list[Submission]) -> list[Envelope]:
    store = MemoryEventStore(clock=later)
    appender = Appender(store)
    try:
        await appender.append_all(submissions, actor="desk")
    finally:
        await appender.close()
    return store.log


def parsed(commands: list[tuple[str, dict[str, Any]]]) -> list[Submission]:
    return [parse_submission(mutation, fields) for mutation, fields in commands]


def cells(row: Row, *columns: str) -> tuple[str, ...]:
    return tuple(row.get(column, "") for column in columns)


def nobody() -> Known:
    return Known(set(), set(), set())


def planned(text: str, known: Known | None = None) -> list[str]:
    submissions, _ = plan_text(text, known or nobody())
    return [type(s.command).__name__ for s in submissions]


async def test_a_story_is_a_row_per_event_in_log_order_after_its_timeline_and_sources(
        ) -> None:
    rows = csv_rows(await logged(parsed(STORY)), "k")
    assert rows is not None
    assert [row["row"] for row in rows] == [
        "timeline", "source", "source", "entry", "entry", "report", "report", "correction",
        "rank", "retraction", "merge"]
    timeline, mfa, pentagon = rows[:3]
    assert cells(timeline, "timeline_title", "timeline_description") == \
        ("Khasham", "Two,\nlines")
    assert cells(mfa, "source", "source_name", "source_kind", "source_grade") == \
        ("mfa", "Foreign Ministry", "GOVERNMENT", "")
    assert cells(pentagon, "source_url", "source_grade", "grade_note") == \
        ("https://example.org/dod", "B", "a party")
    r1, r2, correction, rank, retraction, merge = rows[5:]
    # The report row says what the report says now, and what it first said.
    assert cells(r1, "value", "via", "status", "changed_at", "role", "best") == \
        ("9", "pentagon", "CORRECTED", "2018-02-16T12:00:00+00:00", "SUPPORTS", "9")
    assert cells(r1, "original_value", "original_stance", "original_via") == \
        ("5", "CONFIRMED", "")
    # Never corrected: nothing first said that it does not say now.
    assert cells(r2, "entry", "entry_title", "status", "rank", "rank_reason",
                 "original_stance") == \
        ("dup", "The strike again", "RETRACTED", "DEPRECATED", "an echo", "")
    # A correction row holds what it changed, and nothing it left alone.
    assert cells(correction, "report", "value", "stance", "via", "via_name",
                 "reported_at") == \
        ("r1", "9", "", "pentagon", "Pentagon", "2018-02-16T12:00:00+00:00")
    assert cells(rank, "report", "rank", "rank_reason") == ("r2", "DEPRECATED", "an echo")
    assert cells(retraction, "report", "retraction_reason", "reported_at") == \
        ("r2", "misread", "2018-02-20T00:00:00+00:00")
    assert cells(merge, "entry", "merged_into") == ("dup", "strike")
    assert set().union(*rows) <= set(CSV_COLUMNS)


async def test_as_of_a_reported_time_the_rows_are_what_had_been_said_by_then() -> None:
    log = await logged(parsed(STORY))
    rows = csv_rows(log, "k", Moment(datetime(2018, 2, 14, tzinfo=UTC), Axis.REPORTED))
    assert rows is not None
    assert [row["row"] for row in rows] == [
        "timeline", "source", "source", "entry", "entry", "report", "rank", "merge"]
    # r2 stood alone, deprecated: no fact yet, so neither a role nor a best value.
    assert cells(rows[5], "report", "value", "status", "rank", "role", "best") == \
        ("r2", "200..", "ACTIVE", "DEPRECATED", "", "")
    assert csv_rows(log, "k", Moment(datetime(2018, 2, 14, tzinfo=UTC))) is None  # RECORDED
    assert csv_rows(log, "elsewhere") is None


@pytest.mark.parametrize("moment", [
    Moment(), *(Moment(datetime(2018, 2, day, 13, tzinfo=UTC), Axis.REPORTED)
                for day in (12, 13, 15, 16, 19, 20, 21))])
async def test_rows_planned_back_into_commands_give_the_same_rows(moment: Moment) -> None:
    original = await logged(parsed(STORY))
    text = csv_text(csv_rows(original, "k") or [])
    copy = await logged(plan_text(text, nobody())[0])
    assert csv_rows(copy, "k", moment) == csv_rows(original, "k", moment)


async def test_a_file_plans_in_its_order_and_what_exists_is_not_made_again() -> None:
    text = csv_text(csv_rows(await logged(parsed(STORY)), "k") or [])
    assert planned(text) == [
        "CreateTimeline", "RegisterSource", "RegisterSource", "GradeSource", "OpenEntry",
        "OpenEntry", "ReportFact", "ReportFact", "CorrectReport", "RankReport",
        "RetractReport", "MergeEntries"]
    known = Known({"k"}, {("k", "strike"), ("k", "dup")}, {"mfa", "pentagon"})
    assert planned(text, known)[:2] == ["ReportFact", "ReportFact"]


# --- files a person wrote or edited -------------------------------------------------------

HEADER = "row,timeline,entry,report,attribute,kind,value,source,source_name,stance," \
         "reported_at,status,original_value,original_stance,retraction_reason\n"
REPORT = "report,k,strike,r1,killed,count,{value},mfa,Foreign Ministry,CLAIMED," \
         "2018-02-15T12:00:00Z,{status},{original},{original_stance},\n"
CORRECTION = "correction,k,strike,r1,killed,count,9,mfa,,,2018-02-16T12:00:00Z,,,,\n"


def refused(text: str) -> LineRefused:
    with pytest.raises(LineRefused) as refusal:
        plan_text(text, nobody())
    return refusal.value


def test_a_report_row_reports_what_was_first_said_and_its_rows_the_rest() -> None:
    text = HEADER + REPORT.format(value=9, status="CORRECTED", original=5,
                                  original_stance="CLAIMED") + CORRECTION
    submissions, lines = plan_text(text, nobody())
    reported, corrected = (s.command for s in submissions[3:])
    assert isinstance(reported, ReportFact) and reported.value == Count(best=5)
    assert isinstance(corrected, CorrectReport) and corrected.value == Count(best=9)
    assert corrected.stance is None and corrected.via is None
    assert lines == [2, 2, 2, 2, 3]


@pytest.mark.parametrize(("rows", "field"), [
    # the value edited in the report row of a corrected report, where it would be lost
    (REPORT.format(value=7, status="CORRECTED", original=5, original_stance="CLAIMED")
     + CORRECTION, "value"),
    # corrected, by the report row, but not by any row of its own
    (REPORT.format(value=9, status="CORRECTED", original=5, original_stance="CLAIMED"),
     "value"),
    # a correction row, but what the report first said is missing
    (REPORT.format(value=5, status="CORRECTED", original="", original_stance="")
     + CORRECTION, "value"),
    (REPORT.format(value=5, status="RETRACTED", original="", original_stance=""), "status"),
])
def test_a_report_whose_rows_do_not_end_where_its_row_says_is_refused_by_its_line(
        rows: str, field: str) -> None:
    refusal = refused(HEADER + rows)
    assert refusal.line == 2 and refusal.field == field
    assert "original_value" in refusal.message


def test_rows_out_of_order_or_of_no_known_kind_are_refused_by_their_line() -> None:
    timeline_late = HEADER + REPORT.format(value=5, status="", original="",
                                           original_stance="") + "timeline,k,,,,,,,,,,,,,\n"
    refusal = refused(timeline_late)
    assert refusal.line == 3 and "must come before" in refusal.message
    refusal = refused(HEADER + "note,k,,,,,,,,,,,,,\n")
    assert refusal.line == 2 and refusal.field == "row"
    refusal = refused(HEADER + "retraction,k,strike,r1,,,,,,,2018-02-16T00:00:00Z,,,,\n")
    assert refusal.field == "retraction_reason"


def test_a_row_left_blank_in_the_row_column_is_a_report() -> None:
    text = HEADER + "," + REPORT.format(value=5, status="", original="",
                                        original_stance="").split(",", 1)[1]
    assert planned(text) == ["CreateTimeline", "RegisterSource", "OpenEntry", "ReportFact"]


def test_a_file_of_the_earlier_layout_imports_as_it_always_did() -> None:
    """Without a `row` column a CORRECTED row is its report saying its value now, then a
    correction restating it (which the log refuses as already said): such a file never
    held what the report first said."""
    text = ("timeline,entry,report,attribute,kind,value,source,source_name,stance,"
            "reported_at,status,changed_at,rank\n"
            "k,strike,r1,killed,count,9,mfa,Foreign Ministry,CLAIMED,2018-02-15T12:00:00Z,"
            "CORRECTED,2018-02-16T12:00:00Z,PREFERRED\n"
            "k,strike,r2,killed,count,200..,mfa,,CLAIMED,2018-02-15T12:00:00Z,RETRACTED,,\n")
    submissions, lines = plan_text(text, nobody())
    assert [type(s.command).__name__ for s in submissions] == [
        "CreateTimeline", "RegisterSource", "OpenEntry", "ReportFact", "CorrectReport",
        "RankReport", "ReportFact", "RetractReport"]
    reported, corrected = (s.command for s in submissions[3:5])
    assert isinstance(reported, ReportFact) and isinstance(corrected, CorrectReport)
    assert reported.value == corrected.value == Count(best=9)
    assert lines == [2, 2, 2, 2, 2, 2, 3, 3]
