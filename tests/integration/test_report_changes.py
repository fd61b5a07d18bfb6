"""`changes` lists report changes too: a source revising its figure shows up even when the
best value does not move, with the report before and after, on both clocks."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from tests.integration.conftest import Api

COUNT = "value { ... on Count { best low high } }"
SNAPSHOT = f"{COUNT} stance status rank rankReason role weight"
CHANGES = f"""query($since: DateTime!, $until: DateTime, $axis: Axis = RECORDED) {{
  changes(slug: "siege", since: $since, until: $until, axis: $axis) {{
    entry attribute factChanged
    before {{ {COUNT} status }}
    after {{ {COUNT} status }}
    reportChanges {{ report entry attribute source kind at position supersededBy
                     before {{ {SNAPSHOT} }} after {{ {SNAPSHOT} }} }} }} }}"""


async def moment(api: Api) -> str:
    """A database instant strictly between what was recorded before and what comes after."""
    await asyncio.sleep(0.01)
    stamp: datetime = await api.scalar("SELECT clock_timestamp()")
    await asyncio.sleep(0.01)
    return stamp.isoformat()


def report(report_id: str, source: str, value: dict[str, Any],
           reported_at: str) -> dict[str, Any]:
    return {"timeline": "siege", "entry": "siege", "attribute": "killed", "id": report_id,
            "value": {"count": value}, "source": source, "stance": "CONFIRMED",
            "reportedAt": reported_at}


async def siege(api: Api) -> None:
    """WHO (graded A) and the UN (graded B) agree on 100 killed, the UN with 80–120."""
    for mutation, input in [
        ("createTimeline", {"slug": "siege", "title": "The siege"}),
        ("registerSource", {"id": "who", "name": "WHO", "kind": "NGO"}),
        ("gradeSource", {"source": "who", "reliability": "A"}),
        ("registerSource", {"id": "un", "name": "UN OCHA", "kind": "NGO"}),
        ("gradeSource", {"source": "un", "reliability": "B"}),
        ("openEntry", {"timeline": "siege", "id": "siege", "title": "The siege"}),
        ("reportFact", report("r1", "who", {"best": 100}, "2018-02-11T00:00:00Z")),
        ("reportFact", report("r2", "un", {"best": 100, "low": 80, "high": 120},
                              "2018-02-12T00:00:00Z")),
    ]:
        await api.ok(mutation, input)


async def changes(api: Api, **variables: Any) -> list[dict[str, Any]]:
    body = await api.post(CHANGES, variables)
    assert "errors" not in body, body["errors"]
    found: list[dict[str, Any]] = body["data"]["changes"]
    return found


async def test_the_un_revising_its_figure_shows_though_the_best_value_does_not_move(
        api: Api) -> None:
    await siege(api)
    since = await moment(api)
    event = (await api.ok("correctReport", {
        "timeline": "siege", "report": "r2", "reportedAt": "2018-02-15T00:00:00Z",
        "value": {"count": {"best": 110, "low": 80, "high": 120}}},
        "event { position recordedAt }"))["event"]
    toll = {"value": {"best": 100, "low": 80, "high": 120}, "status": "CONFIRMED"}
    [fact] = await changes(api, since=since)
    assert {k: fact[k] for k in ("entry", "attribute", "factChanged", "before", "after")} == {
        "entry": "siege", "attribute": "killed", "factChanged": False, "before": toll,
        "after": toll}
    [change] = fact["reportChanges"]
    assert datetime.fromisoformat(change["at"]) == datetime.fromisoformat(event["recordedAt"])
    del change["at"]
    assert change == {
        "report": "r2", "entry": "siege", "attribute": "killed", "source": "un",
        "kind": "CORRECTED", "position": event["position"], "supersededBy": None,
        "before": {"value": {"best": 100, "low": 80, "high": 120}, "stance": "CONFIRMED",
                   "status": "ACTIVE", "rank": "NORMAL", "rankReason": None,
                   "role": "SUPPORTS", "weight": 0.8},
        "after": {"value": {"best": 110, "low": 80, "high": 120}, "stance": "CONFIRMED",
                  "status": "CORRECTED", "rank": "NORMAL", "rankReason": None,
                  "role": "SUPPORTS", "weight": 0.8}}
    # A client that asks only for what it always asked sees the fact listed, unchanged.
    old = await api.post('query($since: DateTime!) { changes(slug: "siege", since: $since) '
                         '{ entry attribute before { status } after { status } } }',
                         {"since": since})
    assert old == {"data": {"changes": [{"entry": "siege", "attribute": "killed",
                                         "before": {"status": "CONFIRMED"},
                                         "after": {"status": "CONFIRMED"}}]}}
    # On the REPORTED clock the same correction sits at its reportedAt.
    [fact] = await changes(api, since="2018-02-14T00:00:00Z", until="2018-02-16T00:00:00Z",
                           axis="REPORTED")
    [change] = fact["reportChanges"]
    assert (fact["factChanged"], change["kind"], change["position"]) == (
        False, "CORRECTED", event["position"])
    assert datetime.fromisoformat(change["at"]) == datetime.fromisoformat(
        "2018-02-15T00:00:00+00:00")
    assert (change["before"]["value"]["best"], change["after"]["value"]["best"]) == (100, 110)
    assert await changes(api, since="2018-02-15T00:00:00Z", axis="REPORTED") == []
    assert await changes(api, since=await moment(api)) == []


async def test_retracted_ranked_and_superseded_reports_on_both_clocks(api: Api) -> None:
    await siege(api)
    await api.ok("registerSource", {"id": "ngo", "name": "Local NGO", "kind": "NGO"})
    await api.ok("reportFact", report("r3", "ngo", {"best": 100}, "2018-02-13T00:00:00Z"))
    since = await moment(api)
    await api.ok("retractReport", {"timeline": "siege", "report": "r3", "reason": "duplicate",
                                   "reportedAt": "2018-02-16T00:00:00Z"})
    await api.ok("rankReport", {"timeline": "siege", "report": "r1", "rank": "PREFERRED",
                                "reason": "the registry of deaths"})
    await api.ok("reportFact", report("r4", "un", {"best": 100, "low": 90, "high": 110},
                                      "2018-02-17T00:00:00Z"))
    [fact] = await changes(api, since=since)
    # Preferring r1 moves the status to PREFERRED; the UN's newer range narrows the low.
    assert fact["factChanged"] and fact["after"]["status"] == "PREFERRED"
    found = [(c["report"], c["kind"], c["supersededBy"]) for c in fact["reportChanges"]]
    assert found == [("r3", "RETRACTED", None), ("r1", "RANKED", None),
                     ("r2", "SUPERSEDED", "r4")]
    retracted, ranked, superseded = fact["reportChanges"]
    assert (retracted["before"]["role"], retracted["after"]["role"]) == ("SUPPORTS",
                                                                         "RETRACTED")
    assert (ranked["before"]["rank"], ranked["after"]["rank"]) == ("NORMAL", "PREFERRED")
    assert ranked["after"]["rankReason"] == "the registry of deaths"
    assert (superseded["before"]["role"], superseded["after"]["role"]) == ("SUPPORTS",
                                                                           "SUPERSEDED")
    assert [datetime.fromisoformat(c["at"]) for c in fact["reportChanges"]] == sorted(
        datetime.fromisoformat(c["at"]) for c in fact["reportChanges"])
    # On the REPORTED clock the rank is today's at every instant: no change, by design.
    [fact] = await changes(api, since="2018-02-15T00:00:00Z", until="2018-02-18T00:00:00Z",
                           axis="REPORTED")
    assert [(c["report"], c["kind"], c["at"][:10]) for c in fact["reportChanges"]] == [
        ("r3", "RETRACTED", "2018-02-16"), ("r2", "SUPERSEDED", "2018-02-17")]
    assert fact["reportChanges"][1]["after"]["rank"] == "NORMAL"
    # Outside the window: nothing.
    assert await changes(api, since="2018-02-17T00:00:00Z", until="2018-02-20T00:00:00Z",
                         axis="REPORTED") == []
