"""A correction can change whom a report cites (``correctReport(via:)``): the report, its
fact's explanation and the weights follow the current origin, and the past keeps the old."""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import Api

STORY: list[tuple[str, dict[str, Any]]] = [
    ("createTimeline", {"slug": "derna", "title": "Derna flood, September 2023"}),
    ("registerSource", {"id": "ocha", "name": "UN OCHA", "kind": "NGO"}),
    ("registerSource", {"id": "lrc", "name": "Libyan Red Crescent", "kind": "NGO"}),
    ("registerSource", {"id": "who", "name": "World Health Organization", "kind": "NGO"}),
    ("gradeSource", {"source": "lrc", "reliability": "E"}),
    ("gradeSource", {"source": "who", "reliability": "A"}),
    ("gradeSource", {"source": "ocha", "reliability": "A"}),
    ("openEntry", {"timeline": "derna", "id": "flood", "title": "Dams burst over Derna"}),
    ("reportFact", {"timeline": "derna", "entry": "flood", "attribute": "killed", "id": "un",
                    "value": {"count": {"best": 11300}}, "source": "ocha", "via": "lrc",
                    "stance": "CLAIMED", "reportedAt": "2023-09-16T10:00:00Z"}),
]
READ = """query($asOf: DateTime, $axis: Axis! = RECORDED) {
  timeline(slug: "derna", asOf: $asOf, axis: $axis) { entry(id: "flood") {
    reports { id via { id } } facts { explanation reports { report { id } weight } } } } }"""


async def read(api: Api, **variables: Any) -> tuple[str | None, str, float]:
    body = await api.post(READ, variables)
    assert "errors" not in body, body["errors"]
    entry = body["data"]["timeline"]["entry"]
    report, = entry["reports"]
    fact, = entry["facts"]
    weight, = (r["weight"] for r in fact["reports"] if r["report"]["id"] == "un")
    return (report["via"] or {}).get("id"), fact["explanation"], weight


async def test_a_corrected_origin_is_read_now_and_the_old_one_in_the_past(api: Api) -> None:
    for mutation, fields in STORY:
        await api.ok(mutation, fields)
    before = await read(api)
    assert before[0] == "lrc" and "Libyan Red Crescent" in before[1]
    await api.ok("correctReport", {"timeline": "derna", "report": "un", "via": "who",
                                   "value": {"count": {"best": 3958}},
                                   "reportedAt": "2023-09-17T10:00:00Z"})
    via, explanation, weight = await read(api)
    assert via == "who"
    assert "World Health Organization" in explanation
    assert "Libyan Red Crescent" not in explanation
    # The past keeps the origin it had, on the clock of what was reported...
    assert await read(api, asOf="2023-09-16T12:00:00Z", axis="REPORTED") == before
    # ...and the read model agrees with a replay of the log.
    assert await api.scalar("SELECT via FROM reports WHERE id = 'un'") == "who"
    assert weight > 0


async def test_a_correction_citing_an_unknown_source_is_refused(api: Api) -> None:
    for mutation, fields in STORY:
        await api.ok(mutation, fields)
    body = await api.mutate("correctReport", {"timeline": "derna", "report": "un",
                                              "via": "nobody",
                                              "reportedAt": "2023-09-17T10:00:00Z"})
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert "nobody" in body["errors"][0]["message"]
