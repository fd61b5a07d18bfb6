"""What one fact's reports add to each source's track record (events/track_records.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from events.reducer import ReportState, ReportStatus, Stamp
from events.track_records import NOTHING, TrackRecord, fact_record, roles, total
from events.values import Count
from events.vocabulary import Stance

T = datetime(2018, 2, 10, tzinfo=UTC)


def said(report: str, source: str, *, via: str | None = None,
         status: ReportStatus = ReportStatus.ACTIVE, corrected: bool = False) -> ReportState:
    return ReportState(id=report, entry="strike", attribute="killed", value=Count(best=5),
                       source=source, stance=Stance.CLAIMED, reported_at=T,
                       reported=Stamp(int(report[1:]), T), via=via, status=status,
                       corrected=corrected)


def test_a_fact_adds_to_each_source_what_its_reports_did() -> None:
    reports = [said("r1", "pentagon"), said("r2", "bi", via="pentagon"), said("r3", "mfa"),
               said("r4", "outlets", corrected=True),
               said("r5", "mfa", status=ReportStatus.RETRACTED, corrected=True)]
    judged = {"r1": "SUPPORTS", "r2": "SUPPORTS", "r3": "CONTRADICTS", "r4": "CONTRADICTS",
              "r5": "RETRACTED"}
    assert fact_record(reports, judged) == {
        # Its own report only agrees with a relay of itself: one origin, nothing upheld.
        "pentagon": TrackRecord(reports=1, cited=1),
        "bi": TrackRecord(reports=1),
        "mfa": TrackRecord(reports=2, retracted=1, corrected=1, outweighed=1),
        "outlets": TrackRecord(reports=1, corrected=1, outweighed=1),
    }
    # A second origin agreeing upholds every supporting report, relays included.
    with_us = fact_record([*reports, said("r6", "us")], {**judged, "r6": "SUPPORTS"})
    assert with_us["pentagon"] == TrackRecord(reports=1, upheld=1, cited=1)
    assert with_us["bi"] == TrackRecord(reports=1, upheld=1)
    assert with_us["us"] == TrackRecord(reports=1, upheld=1)


def test_a_retracted_report_is_neither_outweighed_nor_upheld_nor_a_citation() -> None:
    reports = [said("r1", "pentagon"), said("r2", "us"),
               said("r3", "bi", via="pentagon", status=ReportStatus.RETRACTED)]
    record = fact_record(reports, {"r1": "SUPPORTS", "r2": "SUPPORTS", "r3": "SUPPORTS"})
    assert record["bi"] == TrackRecord(reports=1, retracted=1)
    assert record["pentagon"] == TrackRecord(reports=1, upheld=1)


def test_a_report_naming_its_own_source_as_origin_cites_nobody() -> None:
    record = fact_record([said("r1", "mfa", via="mfa")], {"r1": "SUPPORTS"})
    assert record == {"mfa": TrackRecord(reports=1)}


def test_roles_come_from_the_stored_document() -> None:
    document = {"reports": [{"report": "r1", "weight": 0.5, "role": "SUPPORTS"},
                            {"report": "r2", "weight": 0.1, "role": "CONTRADICTS"}]}
    assert roles(document) == {"r1": "SUPPORTS", "r2": "CONTRADICTS"}
    assert roles(None) == {}


counts = st.builds(TrackRecord, *(st.integers(-50, 50) for _ in range(6)))


@given(counts, counts, counts)
def test_records_add_and_subtract_like_numbers(a: TrackRecord, b: TrackRecord,
                                               c: TrackRecord) -> None:
    assert (a + b) - b == a
    assert (a + b) + c == a + (b + c)
    assert a + NOTHING == a and not NOTHING


@given(st.lists(st.dictionaries(st.sampled_from(["a", "b", "c"]), counts), max_size=6))
def test_a_total_is_the_sum_per_source_without_empty_records(
        parts: list[dict[str, TrackRecord]]) -> None:
    summed = total(parts)
    for source in {"a", "b", "c"}:
        expected = NOTHING
        for part in parts:
            expected = expected + part.get(source, NOTHING)
        assert summed.get(source, NOTHING) == expected
    assert all(summed.values())
