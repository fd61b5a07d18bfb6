"""Report changes (events/report_changes.py): the reports corrected, retracted, ranked or
superseded between two knowledge times, read off the kept history, on both clocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from events.as_of import Axis
from events.chain import Envelope
from events.history_index import TimelineHistory, changed_facts
from events.policy import ReportRole
from events.report_changes import (
    ReportChange,
    ReportChangeKind,
    fact_changes,
    report_changes,
)
from events.values import Count
from events.vocabulary import (
    SCHEMA_VERSION,
    DomainEvent,
    EntriesMerged,
    EntryOpened,
    FactReported,
    Rank,
    Reliability,
    ReportCorrected,
    ReportRanked,
    ReportRetracted,
    SourceGraded,
    SourceKind,
    SourceRegistered,
    Stance,
    TimelineCreated,
    event_to_data,
)

RECORDED_0 = datetime(2026, 3, 1, tzinfo=UTC)  # position p is recorded p minutes later
REPORTED_0 = datetime(2018, 2, 10, tzinfo=UTC)  # "day d" is d days later
SLUG = "siege"


def recorded(position: int) -> datetime:
    return RECORDED_0 + timedelta(minutes=position)


def day(d: float) -> datetime:
    return REPORTED_0 + timedelta(days=d)


class Log:
    """A timeline's world as envelopes: WHO (graded A) and the UN (graded B) each report
    the toll of one siege; both agree on 100, the UN with a range of 80–120."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.versions: dict[str, int] = {}
        for source, name, grade in (("who", "WHO", Reliability.A), ("un", "UN", Reliability.B)):
            self.add(f"source:{source}", SourceRegistered(source, name, SourceKind.NGO))
            self.add(f"source:{source}", SourceGraded(source, grade))
        self.add(f"timeline:{SLUG}", TimelineCreated(SLUG, "Siege"))
        self.add(f"timeline:{SLUG}", EntryOpened("siege", "The siege"))
        self.report("r1", "who", Count(best=100), day(1))
        self.report("r2", "un", Count(best=100, low=80, high=120), day(2))

    def add(self, stream: str, event: DomainEvent) -> int:
        position = len(self.envelopes) + 1
        self.versions[stream] = self.versions.get(stream, 0) + 1
        self.envelopes.append(Envelope(
            position=position, stream=stream, version=self.versions[stream], type=event.type,
            schema_version=SCHEMA_VERSION, data=event_to_data(event),
            recorded_at=recorded(position), actor="test", idempotency_key=None, prev_hash="",
            hash=""))
        return position

    def on_timeline(self, event: DomainEvent) -> int:
        return self.add(f"timeline:{SLUG}", event)

    def report(self, report: str, source: str, value: Count, reported_at: datetime,
               entry: str = "siege") -> int:
        return self.on_timeline(FactReported(report, entry, "killed", value, source,
                                             Stance.CONFIRMED, reported_at))

    @property
    def head(self) -> int:
        return len(self.envelopes)

    def history(self) -> TimelineHistory:
        history = TimelineHistory(SLUG)
        history.extend(self.envelopes)
        return history


@pytest.fixture
def log() -> Log:
    return Log()


def changes(log: Log, since: datetime, until: datetime,
            axis: Axis = Axis.RECORDED) -> list[ReportChange]:
    return report_changes(log.history(), since, until, axis)


def side(change: ReportChange, which: str) -> dict[str, Any]:
    """One side of a change, as a reader sees it."""
    state = getattr(change, which)
    if state is None:
        return {}
    row = state.row
    return {"value": row.value, "stance": row.stance, "status": row.status, "rank": row.rank,
            "role": state.role, "weight": state.weight}


def count(best: int, low: int | None = None, high: int | None = None) -> dict[str, Any]:
    return Count(best=best, low=low, high=high).to_data()


# -- RECORDED: what Chronicle recorded between two moments ---------------------------------------

def test_a_correction_that_moves_no_best_value_is_listed_with_before_and_after(
        log: Log) -> None:
    start = log.head
    # The UN revises its figure to 110; WHO's 100 still weighs more: the fact does not move.
    corrected = log.on_timeline(ReportCorrected("r2", day(5), Count(best=110, low=80,
                                                                     high=120)))
    history = log.history()
    before, after = history.at_recorded(recorded(start)), history.at_recorded(recorded(corrected))
    assert changed_facts(before, after) == []  # what `changes` saw before report changes
    [change] = report_changes(history, recorded(start), recorded(corrected), Axis.RECORDED)
    assert (change.report, change.entry, change.attribute, change.source, change.kind) == (
        "r2", "siege", "killed", "un", ReportChangeKind.CORRECTED)
    assert (change.at, change.position) == (recorded(corrected), corrected)
    assert side(change, "before") == {
        "value": count(100, 80, 120), "stance": "CONFIRMED", "status": "ACTIVE",
        "rank": "NORMAL", "role": ReportRole.SUPPORTS, "weight": 0.8}
    assert side(change, "after") == {
        "value": count(110, 80, 120), "stance": "CONFIRMED", "status": "CORRECTED",
        "rank": "NORMAL", "role": ReportRole.SUPPORTS, "weight": 0.8}
    [fact] = fact_changes(before, after, [change])
    assert (fact.entry, fact.attribute, fact.moved, fact.reports) == (
        "siege", "killed", False, (change,))
    assert fact.before is not None and fact.before == fact.after
    assert fact.before.document["value"] == count(100, 80, 120)


def test_a_retraction_shows_the_report_leaving_its_fact(log: Log) -> None:
    start = log.head
    retracted = log.on_timeline(ReportRetracted("r2", "misread the table", day(4)))
    [change] = changes(log, recorded(start), recorded(retracted))
    assert change.kind is ReportChangeKind.RETRACTED and change.position == retracted
    assert (side(change, "before")["status"], side(change, "after")["status"]) == (
        "ACTIVE", "RETRACTED")
    assert (side(change, "before")["role"], side(change, "after")["role"]) == (
        ReportRole.SUPPORTS, ReportRole.RETRACTED)
    assert side(change, "after")["weight"] == 0.0


def test_a_rank_is_a_change_on_the_recorded_clock_only(log: Log) -> None:
    start = log.head
    ranked = log.on_timeline(ReportRanked("r2", Rank.DEPRECATED, "outdated method"))
    [change] = changes(log, recorded(start), recorded(ranked))
    assert change.kind is ReportChangeKind.RANKED and change.at == recorded(ranked)
    assert (side(change, "before")["rank"], side(change, "after")["rank"]) == (
        "NORMAL", "DEPRECATED")
    assert (side(change, "before")["role"], side(change, "after")["role"]) == (
        ReportRole.SUPPORTS, ReportRole.DEPRECATED)
    assert change.after.row.rank_reason == "outdated method"
    # On REPORTED, ranks count at every instant as they stand today: never a change.
    assert changes(log, day(0), day(30), Axis.REPORTED) == []


def test_a_re_rank_with_the_same_rank_and_reason_is_still_listed(log: Log) -> None:
    log.on_timeline(ReportRanked("r1", Rank.PREFERRED, "the registry"))
    start = log.head
    again = log.on_timeline(ReportRanked("r1", Rank.PREFERRED, "the registry"))
    [change] = changes(log, recorded(start), recorded(again))
    assert change.kind is ReportChangeKind.RANKED and change.position == again
    assert side(change, "before") == side(change, "after")


def test_the_same_sources_newer_report_supersedes_its_older_one(log: Log) -> None:
    start = log.head
    newer = log.report("r3", "un", Count(best=130), day(6))
    found = changes(log, recorded(start), recorded(newer))
    assert [(c.report, c.kind, c.superseded_by, c.position) for c in found] == [
        ("r2", ReportChangeKind.SUPERSEDED, "r3", newer)]
    [change] = found
    assert (side(change, "before")["role"], side(change, "after")["role"]) == (
        ReportRole.SUPPORTS, ReportRole.SUPERSEDED)
    assert side(change, "before")["value"] == side(change, "after")["value"]
    assert side(change, "after")["weight"] == 0.0


@pytest.mark.parametrize("axis", list(Axis))
def test_retracting_the_newer_report_reinstates_the_older(log: Log, axis: Axis) -> None:
    log.report("r3", "un", Count(best=130), day(6))
    start = log.head
    retracted = log.on_timeline(ReportRetracted("r3", "wrong siege", day(7)))
    window = ((recorded(start), recorded(retracted)) if axis is Axis.RECORDED
              else (day(6.5), day(7.5)))
    found = changes(log, *window, axis)
    assert [(c.report, c.kind, c.position, c.superseded_by) for c in found] == [
        ("r2", ReportChangeKind.REINSTATED, retracted, None),
        ("r3", ReportChangeKind.RETRACTED, retracted, None)]
    assert (side(found[0], "before")["role"], side(found[0], "after")["role"]) == (
        ReportRole.SUPERSEDED, ReportRole.SUPPORTS)


def test_an_older_report_arriving_late_supersedes_nothing_and_is_no_change(log: Log) -> None:
    start = log.head
    late = log.report("r3", "un", Count(best=90), day(1))  # dated before the UN's r2
    assert changes(log, recorded(start), recorded(late)) == []


def test_a_merge_that_brings_a_sources_reports_together_supersedes_the_older(
        log: Log) -> None:
    log.on_timeline(EntryOpened("siege-dup", "Siege (duplicate)"))
    log.report("r3", "un", Count(best=120), day(3), entry="siege-dup")
    start = log.head
    merged = log.on_timeline(EntriesMerged("siege-dup", "siege"))
    history = log.history()
    found = report_changes(history, recorded(start), recorded(merged), Axis.RECORDED)
    assert [(c.report, c.entry, c.kind, c.superseded_by) for c in found] == [
        ("r2", "siege", ReportChangeKind.SUPERSEDED, "r3")]
    facts = fact_changes(history.at_recorded(recorded(start)),
                         history.at_recorded(recorded(merged)), found)
    # The duplicate's fact is gone; the survivor's moved and carries the change.
    assert [(f.entry, f.moved, len(f.reports)) for f in facts] == [
        ("siege", True, 1), ("siege-dup", True, 0)]


def test_nothing_outside_the_window(log: Log) -> None:
    first = log.on_timeline(ReportCorrected("r2", day(5), Count(best=105, low=80, high=120)))
    second = log.on_timeline(ReportCorrected("r2", day(6), Count(best=110, low=80, high=120)))
    third = log.on_timeline(ReportRetracted("r1", "duplicate count", day(7)))
    assert [c.position for c in changes(log, recorded(0), recorded(third))] == [
        first, second, third]
    # since is excluded, until included, on the event's recorded_at.
    assert [c.position for c in changes(log, recorded(first), recorded(second))] == [second]
    assert changes(log, recorded(third), recorded(third + 60)) == []
    assert changes(log, recorded(0), recorded(first - 1)) == []
    assert changes(log, recorded(second), recorded(first)) == []  # an empty window
    # Each change's sides are the log just before and just after it.
    found = changes(log, recorded(0), recorded(third))
    assert [side(c, "before")["value"] for c in found[:2]] == [count(100, 80, 120),
                                                               count(105, 80, 120)]
    assert [side(c, "after")["value"] for c in found[:2]] == [count(105, 80, 120),
                                                              count(110, 80, 120)]


# -- REPORTED: what had been reported between two instants ---------------------------------------

def test_reported_axis_dates_a_correction_by_its_reported_at(log: Log) -> None:
    corrected = log.on_timeline(ReportCorrected("r2", day(5), Count(best=110, low=80,
                                                                     high=120)))
    [change] = changes(log, day(4), day(6), Axis.REPORTED)
    assert (change.kind, change.at, change.position) == (
        ReportChangeKind.CORRECTED, day(5), corrected)
    assert (side(change, "before")["value"], side(change, "after")["value"]) == (
        count(100, 80, 120), count(110, 80, 120))
    assert changes(log, day(5), day(9), Axis.REPORTED) == []  # since excluded
    assert changes(log, day(2), day(4.9), Axis.REPORTED) == []
    # The same correction on the RECORDED clock, whatever it says it was reported at.
    assert [c.position for c in changes(log, recorded(0), recorded(corrected))] == [corrected]
    assert changes(log, day(4), day(6), Axis.RECORDED) == []  # in 2018 nothing was recorded


def test_a_back_dated_correction_is_placed_in_the_past_on_the_reported_axis(log: Log) -> None:
    log.on_timeline(ReportCorrected("r2", day(6), Count(best=110, low=80, high=120)))
    late = log.on_timeline(ReportCorrected("r1", day(3), stance=Stance.CLAIMED))
    found = changes(log, day(2), day(4), Axis.REPORTED)
    assert [(c.report, c.at, c.position) for c in found] == [("r1", day(3), late)]
    assert (side(found[0], "before")["stance"], side(found[0], "after")["stance"]) == (
        "CONFIRMED", "CLAIMED")


def test_reported_axis_supersession_happens_when_the_newer_report_was_made(log: Log) -> None:
    newer = log.report("r3", "un", Count(best=130), day(6))
    [change] = changes(log, day(5), day(7), Axis.REPORTED)
    assert (change.report, change.kind, change.at, change.superseded_by, change.position) == (
        "r2", ReportChangeKind.SUPERSEDED, day(6), "r3", newer)
    assert (side(change, "before")["role"], side(change, "after")["role"]) == (
        ReportRole.SUPPORTS, ReportRole.SUPERSEDED)
    assert changes(log, day(6), day(9), Axis.REPORTED) == []


def test_reported_axis_one_change_per_report_and_instant(log: Log) -> None:
    log.on_timeline(ReportCorrected("r2", day(5), Count(best=110, low=80, high=120)))
    retracted = log.on_timeline(ReportRetracted("r2", "withdrawn", day(5)))
    [change] = changes(log, day(4), day(6), Axis.REPORTED)
    assert (change.kind, change.position) == (ReportChangeKind.RETRACTED, retracted)
    assert (side(change, "before")["status"], side(change, "after")["status"]) == (
        "ACTIVE", "RETRACTED")
    # On RECORDED they are two events, two changes.
    assert [c.kind for c in changes(log, recorded(0), recorded(retracted))] == [
        ReportChangeKind.CORRECTED, ReportChangeKind.RETRACTED]


def test_a_retraction_dated_before_its_report_has_no_before_on_the_reported_axis(
        log: Log) -> None:
    log.on_timeline(ReportRetracted("r2", "never said it", day(1)))  # r2 is dated day 2
    [change] = changes(log, day(1.5), day(3), Axis.REPORTED)
    assert (change.kind, change.at, change.before) == (ReportChangeKind.RETRACTED, day(2), None)
    assert side(change, "after")["status"] == "RETRACTED"


# -- the same snapshots as-of reads use, and nothing folded or resolved again ------------------

def busy_log() -> Log:
    log = Log()
    log.on_timeline(ReportCorrected("r2", day(5), Count(best=110, low=80, high=120)))
    log.on_timeline(ReportRanked("r1", Rank.PREFERRED, "the registry"))
    log.report("r3", "un", Count(best=130), day(6))
    log.on_timeline(ReportCorrected("r1", day(7), Count(best=95)))
    log.on_timeline(ReportRetracted("r3", "withdrawn", day(8)))
    return log


@pytest.mark.parametrize("axis", list(Axis))
def test_each_reports_first_and_last_sides_are_what_as_of_reads_show(axis: Axis) -> None:
    log = busy_log()
    history = log.history()
    since, until = (recorded(8), recorded(log.head)) if axis is Axis.RECORDED else (
        day(2), day(9))
    read = history.at_recorded if axis is Axis.RECORDED else history.at_reported
    then, now = read(since), read(until)
    found = report_changes(history, since, until, axis)
    assert {c.report for c in found} == {"r1", "r2", "r3"}
    was = {r.id: r for r in then.reports("siege")}
    assert set(was) == {"r1", "r2"}  # r3 is made inside the window
    for report in ("r1", "r2", "r3"):
        mine = [c for c in found if c.report == report]
        first, last = mine[0].before, mine[-1].after
        sides = [(now, last)] + ([(then, first)] if report in was else [])
        for snapshot, state in sides:
            assert state is not None
            assert state.row == next(r for r in snapshot.reports("siege") if r.id == report)
            [fact] = snapshot.facts["siege"]
            judged = {j["report"]: j["role"] for j in fact.document["reports"]}
            assert state.role is not None and state.role.value == judged[report]


def test_nothing_is_folded_or_resolved_again(monkeypatch: pytest.MonkeyPatch) -> None:
    log = busy_log()
    for i in range(200):  # a bigger timeline: corrections spread over many facts
        entry = f"e{i}"
        log.on_timeline(EntryOpened(entry, entry))
        log.report(f"x{i}", "who", Count(best=i + 1), day(1), entry=entry)
        log.on_timeline(ReportCorrected(f"x{i}", day(4), Count(best=i + 2)))
    history = log.history()
    # Versions are resolved when first read (the fold is lazy); once kept, as a history
    # written down keeps them, changes resolve nothing again.
    history.prepare()

    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("report changes must read kept versions, not fold or resolve")

    monkeypatch.setattr("events.policy._Judge.__init__", refused)
    monkeypatch.setattr("events.vocabulary.event_from_data", refused)
    recorded_changes = report_changes(history, recorded(0), recorded(log.head), Axis.RECORDED)
    reported_changes = report_changes(history, day(0), day(9), Axis.REPORTED)
    assert len(recorded_changes) == 206 and len(reported_changes) == 205
