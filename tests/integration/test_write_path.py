"""The nine mutations over HTTP: what they store, what they answer, what they refuse."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from tests.integration.conftest import Api

REPORT = {"timeline": "khasham", "entry": "tank", "attribute": "weapon",
          "value": {"text": "jet"}, "source": "business-insider", "via": "pentagon",
          "stance": "CONFIRMED", "reportedAt": "2018-02-13T15:00:00Z",
          "quote": "A USA jet operating in Syria destroyed a Russian-made T-72 battle tank"}


async def test_every_mutation_answers_with_its_payload(seeded: Api) -> None:
    api = seeded
    graded = await api.ok("gradeSource", {"source": "pentagon", "reliability": "B",
                                          "note": "official, on the record"},
                          "source { id reliability note } event { type actor }")
    assert graded == {"source": {"id": "pentagon", "reliability": "B",
                                 "note": "official, on the record"},
                      "event": {"type": "SourceGraded", "actor": "tester"}}
    reported = await api.ok("reportFact", REPORT, "report { id attribute stance via { id } "
                            "source { id } value { ... on Text { text } } status rank } "
                            "event { position stream version type data prevHash hash }")
    assert reported["report"] == {"id": "r1", "attribute": "weapon", "stance": "CONFIRMED",
                                  "via": {"id": "pentagon"}, "source": {"id": "business-insider"},
                                  "value": {"text": "jet"}, "status": "ACTIVE", "rank": "NORMAL"}
    event = reported["event"]
    assert (event["stream"], event["version"], event["type"]) == (
        "timeline:khasham", 3, "FactReported")
    assert event["data"]["value"] == {"text": "jet"} and len(event["hash"]) == 64
    corrected = await api.ok("correctReport", {"timeline": "khasham", "report": "r1",
                                               "value": {"text": "drone"},
                                               "reportedAt": "2018-02-14T10:00:00Z"},
                             "report { status value { ... on Text { text } } }")
    assert corrected["report"] == {"status": "CORRECTED", "value": {"text": "drone"}}
    ranked = await api.ok("rankReport", {"timeline": "khasham", "report": "r1",
                                         "rank": "PREFERRED", "reason": "on the record"},
                          "report { rank }")
    assert ranked["report"] == {"rank": "PREFERRED"}
    retracted = await api.ok("retractReport", {"timeline": "khasham", "report": "r1",
                                               "reason": "wrong tank",
                                               "reportedAt": "2018-02-15T10:00:00Z"},
                             "report { status }")
    assert retracted["report"] == {"status": "RETRACTED"}
    await api.ok("openEntry", {"timeline": "khasham", "id": "t72", "title": "T-72 hit"})
    await api.ok("reportFact", {**REPORT, "entry": "t72", "value": {"text": "jet"}})
    merged = await api.ok("mergeEntries", {"timeline": "khasham", "duplicate": "t72",
                                           "survivor": "tank"},
                          "entry { id reports { id status } }")
    assert merged["entry"] == {"id": "tank", "reports": [{"id": "r1", "status": "RETRACTED"},
                                                         {"id": "r2", "status": "ACTIVE"}]}
    body = await api.post("{ timeline(slug: \"khasham\") { version entries { nodes { id } } "
                          "entry(id: \"t72\") { id } } }")
    assert body["data"]["timeline"] == {"version": await api.scalar(
        "SELECT max(position) FROM events"), "entries": {"nodes": [{"id": "tank"}]},
        "entry": {"id": "tank"}}


async def test_forty_concurrent_reports_get_forty_gapless_positions(seeded: Api) -> None:
    async def one(i: int) -> int:
        result = await seeded.ok("reportFact", {**REPORT, "attribute": "killed",
                                                "value": {"count": {"best": i}},
                                                "idempotencyKey": str(uuid.uuid4())})
        return int(result["event"]["position"])

    positions = await asyncio.gather(*(one(i) for i in range(40)))
    assert sorted(positions) == list(range(5, 45))
    assert await seeded.event_count() == 44
    assert await seeded.scalar("SELECT count(*) FROM reports") == 40


async def test_a_retried_mutation_is_answered_from_the_first(seeded: Api) -> None:
    input = {**REPORT, "idempotencyKey": "bi-2018-02-13"}
    first = await seeded.ok("reportFact", input, "report { id } event { position hash }")
    again = await seeded.ok("reportFact", input, "report { id } event { position hash }")
    assert again == first
    assert await seeded.event_count() == 5
    changed = await seeded.mutate("reportFact", {**input, "stance": "CLAIMED"})
    assert changed["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert await seeded.event_count() == 5


async def test_expected_version_conflict(seeded: Api) -> None:
    await seeded.ok("reportFact", {**REPORT, "expectedVersion": 2})
    body = await seeded.mutate("reportFact", {**REPORT, "expectedVersion": 2})
    error = body["errors"][0]
    assert error["extensions"] == {"code": "CONFLICT", "field": "expectedVersion"}
    assert "version 3" in error["message"]


BAD_INPUTS: list[tuple[str, dict[str, Any], str, str]] = [
    ("reportFact", {**REPORT, "timeline": "nowhere"}, "NOT_FOUND", "timeline"),
    ("reportFact", {**REPORT, "entry": "ghost"}, "NOT_FOUND", "entry"),
    ("reportFact", {**REPORT, "source": "tass"}, "NOT_FOUND", "source"),
    ("reportFact", {**REPORT, "via": "kremlin"}, "NOT_FOUND", "via"),
    ("correctReport", {"timeline": "khasham", "report": "r404", "stance": "CLAIMED",
                       "reportedAt": "2018-02-14T00:00:00Z"}, "NOT_FOUND", "report"),
    ("reportFact", {**REPORT, "attribute": "killed",
                    "value": {"count": {"low": 300, "high": 200}}}, "BAD_INPUT", "low"),
    ("reportFact", {**REPORT, "attribute": "occurred",
                    "value": {"time": {"start": "2018-02-10", "precision": "WEEK"}}},
     "BAD_INPUT", "precision"),
    ("reportFact", {**REPORT, "attribute": "occurred",
                    "value": {"time": {"start": "2018-02", "precision": "DAY"}}},
     "BAD_INPUT", "start"),
    ("reportFact", {**REPORT, "attribute": "occurred",
                    "value": {"time": {"start": "2018-02-31", "precision": "DAY"}}},
     "BAD_INPUT", "start"),
    ("reportFact", {**REPORT, "reportedAt": "Tuesday"}, "BAD_INPUT", "reportedAt"),
    ("reportFact", {**REPORT, "reportedAt": "2018-02-13T15:00:00"}, "BAD_INPUT", "reportedAt"),
    ("reportFact", {**REPORT, "stance": "SHOUTED"}, "BAD_INPUT", "stance"),
    ("reportFact", {**REPORT, "value": {"text": "jet", "flag": True}}, "BAD_INPUT", "value"),
    ("reportFact", {**REPORT, "value": {}}, "BAD_INPUT", "value"),
    ("createTimeline", {"slug": "new", "title": ""}, "BAD_INPUT", "title"),
    ("createTimeline", {"slug": "New Slug", "title": "x"}, "BAD_INPUT", "slug"),
    ("openEntry", {"timeline": "khasham", "title": "   "}, "BAD_INPUT", "title"),
    ("registerSource", {"id": "x", "name": "X", "kind": "BLOG"}, "BAD_INPUT", "kind"),
    ("gradeSource", {"source": "pentagon", "reliability": "Z"}, "BAD_INPUT", "reliability"),
    ("reportFact", {k: v for k, v in REPORT.items() if k != "source"}, "BAD_INPUT", "source"),
]


@pytest.mark.parametrize(("mutation", "input", "code", "named"), BAD_INPUTS)
async def test_bad_input_gets_a_coded_error_and_stores_nothing(
        seeded: Api, mutation: str, input: dict[str, Any], code: str, named: str) -> None:
    before = await seeded.event_count()
    body = await seeded.mutate(mutation, input)
    assert body.get("data") is None or body["data"].get(mutation) is None
    error = body["errors"][0]
    assert error["extensions"]["code"] == code, error
    assert named.lower() in error["message"].lower(), error["message"]
    assert "Traceback" not in str(body) and "sqlalchemy" not in str(body).lower()
    assert await seeded.event_count() == before


async def test_malformed_documents_are_bad_input(api: Api) -> None:
    for query in ("{ timelines { slug ", "{ nosuchfield }", "mutation { createTimeline }"):
        body = await api.post(query)
        assert body["errors"][0]["extensions"]["code"] == "BAD_INPUT", body


async def test_an_unexpected_failure_is_masked_with_an_error_id(
        seeded: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setattr(seeded.services.read_model, "timelines", broken)
    body = await seeded.post("{ timelines { slug } }")
    error = body["errors"][0]
    assert error["extensions"]["code"] == "INTERNAL" and error["extensions"]["errorId"]
    assert "hunter2" not in str(body)
