"""What changed between two times, and how one fact moved, with the events that moved it."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from tests.integration.conftest import Api
from tests.integration.khasham import report, story

CHANGES = """query($since: DateTime!, $until: DateTime, $axis: Axis = RECORDED) {
  changes(slug: "khasham", since: $since, until: $until, axis: $axis) {
    entry attribute
    before { value { ... on Count { best low high } } disputed status }
    after { value { ... on Count { best low high } } disputed status
            reports { report { id } role } } } }"""

HISTORY = """{ timeline(slug: "khasham") { entry(id: "strike") { fact(attribute: "killed") {
  history { value { ... on Count { best low high } } disputed status
            event { position type data } } } } } }"""


async def moment(api: Api) -> str:
    await asyncio.sleep(0.01)
    stamp: datetime = await api.scalar("SELECT clock_timestamp()")
    await asyncio.sleep(0.01)
    return stamp.isoformat()


async def changes(api: Api, **variables: Any) -> list[dict[str, Any]]:
    body = await api.post(CHANGES, variables)
    assert "errors" not in body, body["errors"]
    found: list[dict[str, Any]] = body["data"]["changes"]
    return found


async def test_changes_between_two_times_on_a_scripted_story(api: Api) -> None:
    await story(api)
    t0 = await moment(api)
    await api.ok("reportFact", report("strike", "killed", {"count": {"best": 5}}, "mfa",
                                      "CONFIRMED", "2018-02-15T12:00:00Z"))
    await api.ok("reportFact", report("tank", "weapon", {"text": "jet"}, "bi", "CONFIRMED",
                                      "2018-02-13T12:00:00Z"))
    t1 = await moment(api)
    await api.ok("reportFact", report("strike", "killed", {"count": {"low": 200}}, "outlets",
                                      "CLAIMED", "2018-02-13T12:00:00Z"))
    await api.ok("reportFact", report("tank", "weapon", {"text": "jet"}, "pentagon", "CLAIMED",
                                      "2018-02-14T12:00:00Z"))  # agrees: nothing shown moves
    t2 = await moment(api)
    first = await changes(api, since=t0, until=t1)
    assert [(c["entry"], c["attribute"], c["before"]) for c in first] == [
        ("strike", "killed", None), ("tank", "weapon", None)]
    second = await changes(api, since=t1, until=t2)
    killed = next(c for c in second if c["attribute"] == "killed")
    assert killed["before"] == {"value": {"best": 5, "low": 5, "high": 5}, "disputed": False,
                                "status": "SINGLE_SOURCE"}
    assert killed["after"]["value"] == {"best": 5, "low": 5, "high": 200}
    assert killed["after"]["disputed"] and killed["after"]["status"] == "CONTESTED"
    assert [r["role"] for r in killed["after"]["reports"]] == ["SUPPORTS", "CONTRADICTS"]
    # The Pentagon agreeing with a confirmed "jet" changes no value, range, dispute or status.
    assert [c["attribute"] for c in second] == ["killed"]
    assert await changes(api, since=t2) == []
    # On the REPORTED clock the 200 (reported 13 Feb) came before the 5 (15 Feb).
    reported = await changes(api, since="2018-02-14T00:00:00Z", until="2018-02-16T00:00:00Z",
                             axis="REPORTED")
    killed = next(c for c in reported if c["attribute"] == "killed")
    assert killed["before"]["value"]["best"] == 200 and killed["after"]["value"]["best"] == 5
    backwards = await api.post(CHANGES, {"since": t2, "until": t0})
    assert backwards["errors"][0]["extensions"]["code"] == "BAD_INPUT"


async def test_a_fact_keeps_its_history_with_the_event_that_changed_it(api: Api) -> None:
    await story(api)
    await api.ok("reportFact", report("strike", "killed", {"count": {"best": 5}}, "mfa",
                                      "CONFIRMED", "2018-02-15T12:00:00Z"))
    await api.ok("reportFact", report("strike", "killed", {"count": {"low": 200}}, "outlets",
                                      "CLAIMED", "2018-02-13T12:00:00Z"))
    await api.ok("gradeSource", {"source": "outlets", "reliability": "A"})
    await api.ok("retractReport", {"timeline": "khasham", "report": "r2", "reason": "unsourced",
                                   "reportedAt": "2018-02-20T00:00:00Z"})
    body = await api.post(HISTORY)
    versions = body["data"]["timeline"]["entry"]["fact"]["history"]
    assert [(v["event"]["type"], v["value"]["best"], v["disputed"]) for v in versions] == [
        ("FactReported", 5, False),
        ("FactReported", 5, True),
        ("SourceGraded", 200, True),  # graded A, the 200 now outweighs the 5
        ("ReportRetracted", 5, False),
    ]
    positions = [v["event"]["position"] for v in versions]
    assert positions == sorted(positions)


async def test_as_of_before_a_timeline_was_recorded_says_when_and_where_to_look(
        api: Api) -> None:
    await story(api)
    query = """query($asOf: DateTime, $axis: Axis) {
      timeline(slug: "khasham", asOf: $asOf, axis: $axis) { slug } }"""
    early = await api.post(query, {"asOf": "2018-02-10T00:00:00Z"})
    assert early["data"]["timeline"] is None
    [error] = early["errors"]
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert error["extensions"]["hint"] == "axis: REPORTED"
    assert error["extensions"]["recordedAt"].startswith(str(datetime.now().year))
    assert "first recorded in Chronicle at" in error["message"]
    reported = await api.post(query, {"asOf": "2018-02-10T00:00:00Z", "axis": "REPORTED"})
    assert reported == {"data": {"timeline": {"slug": "khasham"}}}
    unknown = await api.post('{ timeline(slug: "nowhere", asOf: "2018-02-10T00:00:00Z") '
                             '{ slug } }')
    assert unknown == {"data": {"timeline": None}}
