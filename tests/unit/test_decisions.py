from __future__ import annotations

from datetime import UTC, datetime

import pytest

from events.commands import parse_command
from events.errors import BadInput, Conflict, DomainError, NotFound
from events.values import Count, Text
from events.vocabulary import (
    EntriesMerged,
    EntryOpened,
    FactReported,
    ReportCorrected,
    ReportRetracted,
    SourceKind,
    SourceRegistered,
    Stance,
    TimelineCreated,
)
from tests.unit.worlds import T0, World


@pytest.fixture
def world() -> World:
    w = World()
    w.run("createTimeline", slug="khasham", title="Khasham")
    w.run("registerSource", id="pentagon", name="Pentagon", kind="MILITARY")
    w.run("registerSource", id="bi", name="Business Insider", kind="MEDIA")
    w.run("openEntry", timeline="khasham", id="tank", title="Tank destroyed")
    return w


def report(world: World, **overrides: object) -> object:
    fields: dict[str, object] = {
        "timeline": "khasham", "entry": "tank", "attribute": "weapon",
        "value": {"text": "jet"}, "source": "bi", "via": "pentagon", "stance": "CONFIRMED",
        "reported_at": "2018-02-13T15:00:00Z"}
    fields.update(overrides)
    return world.run("reportFact", **fields)


def test_a_report_records_everything_the_source_said(world: World) -> None:
    event = report(world, quote="A USA jet ... destroyed a T-72")
    assert event == FactReported(report="r1", entry="tank", attribute="weapon",
                                 value=Text("jet"), source="bi", stance=Stance.CONFIRMED,
                                 reported_at=T0, via="pentagon",
                                 quote="A USA jet ... destroyed a T-72")


def test_ids_left_out_are_derived_from_the_state(world: World) -> None:
    assert world.run("openEntry", timeline="khasham", title="Tank destroyed") == EntryOpened(
        "tank-destroyed", "Tank destroyed")
    assert world.run("openEntry", timeline="khasham", title="Tank destroyed!") == EntryOpened(
        "tank-destroyed-2", "Tank destroyed!")
    first, second = report(world), report(world, value={"text": "drone"})
    assert (first.report, second.report) == ("r1", "r2")  # type: ignore[attr-defined]


@pytest.mark.parametrize(("mutation", "fields", "error", "field"), [
    ("openEntry", {"timeline": "nowhere", "title": "x"}, NotFound, "timeline"),
    ("reportFact", {"entry": "ghost"}, NotFound, "entry"),
    ("reportFact", {"source": "tass"}, NotFound, "source"),
    ("reportFact", {"via": "kremlin"}, NotFound, "via"),
    ("reportFact", {"attribute": "occurred"}, BadInput, "value"),
    ("reportFact", {"stance": "SHOUTED"}, BadInput, "stance"),
    ("reportFact", {"reported_at": "last Tuesday"}, BadInput, "reportedAt"),
    ("reportFact", {"attribute": "Weapon Type"}, BadInput, "attribute"),
    ("correctReport", {"report": "r404", "stance": "CLAIMED"}, NotFound, "report"),
    ("retractReport", {"report": "r404", "reason": "x"}, NotFound, "report"),
    ("rankReport", {"report": "r404", "rank": "PREFERRED", "reason": "x"}, NotFound, "report"),
    ("createTimeline", {"slug": "khasham", "title": "again"}, Conflict, "slug"),
    ("createTimeline", {"slug": "Khasham 2018", "title": "x"}, BadInput, "slug"),
    ("createTimeline", {"slug": "k2", "title": "   "}, BadInput, "title"),
    ("registerSource", {"id": "pentagon", "name": "P", "kind": "MILITARY"}, Conflict, "id"),
    ("registerSource", {"id": "x", "name": "X", "kind": "BLOG"}, BadInput, "kind"),
    ("gradeSource", {"source": "tass", "reliability": "B"}, NotFound, "source"),
    ("gradeSource", {"source": "bi", "reliability": "G"}, BadInput, "reliability"),
    ("mergeEntries", {"duplicate": "tank", "survivor": "tank"}, BadInput, "survivor"),
    ("mergeEntries", {"duplicate": "ghost", "survivor": "tank"}, NotFound, "duplicate"),
])
def test_refusals_name_their_field(world: World, mutation: str, fields: dict[str, object],
                                   error: type[DomainError], field: str) -> None:
    report(world)
    base: dict[str, dict[str, object]] = {
        "reportFact": {"timeline": "khasham", "entry": "tank", "attribute": "weapon",
                       "value": {"text": "jet"}, "source": "bi", "stance": "CLAIMED",
                       "reported_at": "2018-02-13T15:00:00Z"},
        "correctReport": {"timeline": "khasham", "reported_at": "2018-02-14T00:00:00Z"},
        "retractReport": {"timeline": "khasham", "reported_at": "2018-02-14T00:00:00Z"},
        "rankReport": {"timeline": "khasham"},
        "mergeEntries": {"timeline": "khasham"},
    }
    with pytest.raises(error) as caught:
        world.run(mutation, **{**base.get(mutation, {}), **fields})
    assert caught.value.field == field


def test_an_attribute_keeps_one_value_kind(world: World) -> None:
    report(world, attribute="killed", value={"count": {"best": 5}})
    with pytest.raises(BadInput, match="takes a count"):
        report(world, attribute="killed", value={"text": "five"})


def test_a_correction_changes_value_or_stance_and_keeps_the_kind(world: World) -> None:
    report(world, attribute="killed", value={"count": {"low": 200}})
    corrected = world.run("correctReport", timeline="khasham", report="r1",
                          value={"count": {"best": 215}},
                          reported_at="2018-02-14T00:00:00Z")
    assert corrected == ReportCorrected("r1", datetime(2018, 2, 14, tzinfo=UTC),
                                        Count(best=215), None)
    with pytest.raises(BadInput, match="stay a count"):
        world.run("correctReport", timeline="khasham", report="r1", value={"text": "many"},
                  reported_at="2018-02-14T00:00:00Z")
    with pytest.raises(Conflict, match="already says"):
        world.run("correctReport", timeline="khasham", report="r1",
                  value={"count": {"best": 215}}, reported_at="2018-02-15T00:00:00Z")
    with pytest.raises(BadInput, match="needs a new value, stance or via"):
        world.run("correctReport", timeline="khasham", report="r1",
                  reported_at="2018-02-15T00:00:00Z")


def test_a_correction_can_change_the_origin_a_report_cites(world: World) -> None:
    world.run("registerSource", id="lrc", name="Libyan Red Crescent", kind="NGO")
    world.run("registerSource", id="who", name="WHO", kind="NGO")
    report(world, attribute="killed", value={"count": {"best": 11300}}, via="lrc")
    corrected = world.run("correctReport", timeline="khasham", report="r1",
                          value={"count": {"best": 3958}}, via="who",
                          reported_at="2018-02-14T00:00:00Z")
    assert corrected == ReportCorrected("r1", datetime(2018, 2, 14, tzinfo=UTC),
                                        Count(best=3958), None, "who")
    assert world.timeline("khasham").reports["r1"].via == "who"
    # Only the origin may change, and not to what it already is, nor to a stranger.
    world.run("correctReport", timeline="khasham", report="r1", via="lrc",
              reported_at="2018-02-15T00:00:00Z")
    assert world.timeline("khasham").reports["r1"].via == "lrc"
    with pytest.raises(Conflict, match="already says"):
        world.run("correctReport", timeline="khasham", report="r1", via="lrc",
                  reported_at="2018-02-16T00:00:00Z")
    with pytest.raises(NotFound, match="nobody"):
        world.run("correctReport", timeline="khasham", report="r1", via="nobody",
                  reported_at="2018-02-16T00:00:00Z")


def test_a_retracted_report_cannot_be_retracted_or_corrected_again(world: World) -> None:
    report(world)
    assert world.run("retractReport", timeline="khasham", report="r1", reason="wrong tank",
                     reported_at="2018-02-14T00:00:00Z") == ReportRetracted(
        "r1", "wrong tank", datetime(2018, 2, 14, tzinfo=UTC))
    with pytest.raises(Conflict, match="retracted"):
        world.run("retractReport", timeline="khasham", report="r1", reason="again",
                  reported_at="2018-02-15T00:00:00Z")
    with pytest.raises(Conflict, match="retracted"):
        world.run("correctReport", timeline="khasham", report="r1", stance="CLAIMED",
                  reported_at="2018-02-15T00:00:00Z")


def test_merged_entries_refuse_new_reports_and_conflicting_kinds(world: World) -> None:
    world.run("openEntry", timeline="khasham", id="tank-2", title="T-72 hit")
    report(world, entry="tank-2", attribute="killed", value={"count": {"best": 1}})
    world.run("openEntry", timeline="khasham", id="tank-3", title="T-72 hit, again")
    report(world, entry="tank-3", attribute="killed", value={"text": "one crewman"})
    with pytest.raises(Conflict, match="killed"):
        world.run("mergeEntries", timeline="khasham", duplicate="tank-3", survivor="tank-2")
    assert world.run("mergeEntries", timeline="khasham", duplicate="tank-2",
                     survivor="tank") == EntriesMerged("tank-2", "tank")
    with pytest.raises(Conflict, match="merged into 'tank'"):
        report(world, entry="tank-2")


def test_unknown_fields_and_mutations_are_refused() -> None:
    with pytest.raises(BadInput, match="no field 'colour'"):
        parse_command("createTimeline", {"slug": "a", "title": "b", "colour": "red"})
    with pytest.raises(BadInput, match="unknown mutation"):
        parse_command("deleteTimeline", {})


def test_decisions_are_deterministic(world: World) -> None:
    other = World()
    for mutation, fields in [
        ("createTimeline", {"slug": "khasham", "title": "Khasham"}),
        ("registerSource", {"id": "pentagon", "name": "Pentagon", "kind": "MILITARY"}),
        ("registerSource", {"id": "bi", "name": "Business Insider", "kind": "MEDIA"}),
        ("openEntry", {"timeline": "khasham", "id": "tank", "title": "Tank destroyed"}),
    ]:
        other.run(mutation, **fields)
    assert report(world) == report(other)
    assert world.states["timeline:khasham"] == other.states["timeline:khasham"]


def test_events_carry_only_domain_types() -> None:
    w = World()
    assert w.run("createTimeline", slug="t", title="T") == TimelineCreated("t", "T")
    assert w.run("registerSource", id="s", name="S", kind="NGO") == SourceRegistered(
        "s", "S", SourceKind.NGO)
