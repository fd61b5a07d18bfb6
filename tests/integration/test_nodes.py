"""Relay's Node: every object has a global ``nodeId`` and comes back from ``node(id)``."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from tests.integration.conftest import Api

READ = """query($asOf: DateTime) { timeline(slug: "khasham", asOf: $asOf) {
  nodeId slug version entries { nodes { nodeId id title
    facts { nodeId attribute value { ... on Count { best } } }
    reports { nodeId id status source { nodeId id reliability } } } } } }"""

NODE = """query($id: ID!) { node(id: $id) { __typename nodeId
  ... on Timeline { slug version } ... on Entry { id title }
  ... on Fact { attribute value { ... on Count { best } } }
  ... on Report { id status } ... on Source { id reliability }
  ... on Event { position type } } }"""


def killed(best: int, key: str, source: str = "pentagon") -> dict[str, Any]:
    return {"timeline": "khasham", "entry": "tank", "attribute": "killed",
            "value": {"count": {"best": best}}, "source": source, "stance": "CLAIMED",
            "reportedAt": "2018-02-08T12:00:00Z", "idempotencyKey": key}


async def node(api: Api, id: str) -> dict[str, Any] | None:
    body = await api.post(NODE, {"id": id})
    assert "errors" not in body, body["errors"]
    found: dict[str, Any] | None = body["data"]["node"]
    return found


async def read(api: Api, as_of: str | None = None) -> dict[str, Any]:
    body = await api.post(READ, {"asOf": as_of})
    assert "errors" not in body, body["errors"]
    timeline: dict[str, Any] = body["data"]["timeline"]
    return timeline


async def test_every_object_comes_back_from_its_node_id(seeded: Api) -> None:
    await seeded.ok("reportFact", killed(5, "a"))
    timeline = await read(seeded)
    entry = timeline["entries"]["nodes"][0]
    fact, report = entry["facts"][0], entry["reports"][0]
    source = report["source"]

    assert await node(seeded, timeline["nodeId"]) == {
        "__typename": "Timeline", "nodeId": timeline["nodeId"], "slug": "khasham",
        "version": timeline["version"]}
    assert await node(seeded, entry["nodeId"]) == {
        "__typename": "Entry", "nodeId": entry["nodeId"], "id": "tank",
        "title": "Tank destroyed"}
    assert await node(seeded, fact["nodeId"]) == {
        "__typename": "Fact", "nodeId": fact["nodeId"], "attribute": "killed",
        "value": {"best": 5}}
    assert await node(seeded, report["nodeId"]) == {
        "__typename": "Report", "nodeId": report["nodeId"], "id": report["id"],
        "status": "ACTIVE"}
    assert await node(seeded, source["nodeId"]) == {
        "__typename": "Source", "nodeId": source["nodeId"], "id": "pentagon",
        "reliability": None}


async def test_events_have_node_ids_too(seeded: Api) -> None:
    body = await seeded.post("{ events(first: 1) { nodes { nodeId position type } } }")
    event = body["data"]["events"]["nodes"][0]
    assert await node(seeded, event["nodeId"]) == {"__typename": "Event", **event}


async def test_node_ids_are_unique_across_the_api(seeded: Api) -> None:
    await seeded.ok("reportFact", killed(5, "a"))
    timeline = await read(seeded)
    entry = timeline["entries"]["nodes"][0]
    ids = [timeline["nodeId"], entry["nodeId"], entry["facts"][0]["nodeId"],
           entry["reports"][0]["nodeId"], entry["reports"][0]["source"]["nodeId"]]
    assert len(set(ids)) == len(ids)


async def test_a_past_read_has_its_own_node_ids_and_node_gives_the_past_back(
        seeded: Api) -> None:
    await seeded.ok("reportFact", killed(5, "a"))
    then = datetime.now(UTC).isoformat()
    await seeded.ok("gradeSource", {"source": "pentagon", "reliability": "B"})
    await seeded.ok("reportFact", killed(7, "b", source="business-insider"))

    past, now = await read(seeded, then), await read(seeded)
    past_fact = past["entries"]["nodes"][0]["facts"][0]
    now_fact = now["entries"]["nodes"][0]["facts"][0]
    assert past_fact["nodeId"] != now_fact["nodeId"]
    assert (await node(seeded, past_fact["nodeId"]) or {})["value"] == {"best": 5}
    assert (await node(seeded, now_fact["nodeId"]) or {})["value"] == now_fact["value"]
    past_source = past["entries"]["nodes"][0]["reports"][0]["source"]
    assert (await node(seeded, past_source["nodeId"]) or {})["reliability"] is None
    now_source = now["entries"]["nodes"][0]["reports"][0]["source"]
    assert (await node(seeded, now_source["nodeId"]) or {})["reliability"] == "B"


async def test_a_merged_entry_has_no_node_but_its_reports_do(seeded: Api) -> None:
    await seeded.ok("openEntry", {"timeline": "khasham", "id": "t72", "title": "T-72"})
    await seeded.ok("reportFact", {**killed(5, "a"), "entry": "t72"})
    before = await read(seeded)
    t72 = next(e for e in before["entries"]["nodes"] if e["id"] == "t72")
    await seeded.ok("mergeEntries", {"timeline": "khasham", "duplicate": "t72",
                                     "survivor": "tank"})
    assert await node(seeded, t72["nodeId"]) is None
    assert (await node(seeded, t72["reports"][0]["nodeId"]) or {})["id"] == \
        t72["reports"][0]["id"]


def forged(*parts: Any) -> str:
    """A node id of the API's shape holding what it would never put there."""
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


async def test_an_id_we_did_not_give_out_is_bad_input(api: Api) -> None:
    for id in ["not-an-id",
               forged("Event", [str(2**63)], None, None), forged("Event", ["-1"], None, None),
               forged("Event", ["\u0663"], None, None), forged("Source", [], None, None),
               forged("Entry", ["khasham", "strike", "x"], "khasham", None),
               forged("Fact", ["strike"], "khasham", None), forged("Planet", ["x"], None, None),
               forged("Timeline", ["khasham"], "khasham", ["RECORDED"]),
               forged("Timeline", ["khasham"], "khasham", ["RECORDED", 5]),
               forged("Timeline", ["khasham"], "khasham", ["SOMETIME", "2020-01-01T00:00Z"])]:
        body = await api.post(NODE, {"id": id})
        assert body["errors"][0]["extensions"] == {"code": "BAD_INPUT", "field": "id"}, id
