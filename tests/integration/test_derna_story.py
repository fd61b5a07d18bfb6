"""The newsroom issue's acceptance story: the 2023 Derna flood death toll, entered through
GraphQL as a desk would, read back now and as it stood, audited through ``changes``, shown by
the embed, and round-tripped through the CSV into an empty database.

- the eastern government says "more than 2,300" dead and "more than 9,000" missing;
- Al Jazeera (C) relays the mayor's (D) estimate of 20,000;
- UN OCHA (A) gives 11,300 citing the Libyan Red Crescent (C), which disowns the figure;
- the WHO (A) confirms 3,958, and OCHA corrects its figure to 3,958, now citing the WHO.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from html import unescape
from pathlib import Path
from typing import Any

from api.settings import Settings
from tests.databases import Databases
from tests.integration.conftest import Api, running_api
from tests.integration.imports import import_path

SLUG = "derna-2023"
SOURCES = [("east", "Eastern government", "GOVERNMENT", "C"),
           ("lrc", "Libyan Red Crescent", "NGO", "C"),
           ("ocha", "UN OCHA", "NGO", "A"),
           ("who", "World Health Organization", "NGO", "A"),
           ("mayor", "Mayor of Derna", "GOVERNMENT", "D"),
           ("aljazeera", "Al Jazeera", "MEDIA", "C")]
BEFORE_THE_REVISION = "2023-09-16T12:00:00Z"
FACT = """fragment shown on Fact {
  value { ... on Count { best low high } } highOpen disputed status explanation
  reports { report { id via { id } } weight role } }"""
READ = """query($asOf: DateTime, $axis: Axis! = RECORDED) {
  timeline(slug: "derna-2023", asOf: $asOf, axis: $axis) { entry(id: "flood") {
    killed: fact(attribute: "killed") { ...shown }
    missing: fact(attribute: "missing") { ...shown } } } }""" + FACT
CHANGES = """query($since: DateTime!) {
  changes(slug: "derna-2023", since: $since) { attribute factChanged
    reportChanges { report kind before { value { ... on Count { best } } via }
                    after { value { ... on Count { best } } via } } } }"""


def count(report: str, attribute: str, value: dict[str, int], source: str, stance: str,
          reported_at: str, **more: str) -> tuple[str, dict[str, Any]]:
    return ("reportFact", {"timeline": SLUG, "entry": "flood", "id": report,
                           "attribute": attribute, "value": {"count": value},
                           "source": source, "stance": stance, "reportedAt": reported_at,
                           **more})


STORY: list[tuple[str, dict[str, Any]]] = [
    ("createTimeline", {"slug": SLUG, "title": "Derna flood, September 2023",
                        "description": "The death toll after two dams burst above Derna"}),
    *[step for id, name, kind, grade in SOURCES for step in (
        ("registerSource", {"id": id, "name": name, "kind": kind}),
        ("gradeSource", {"source": id, "reliability": grade}))],
    ("openEntry", {"timeline": SLUG, "id": "flood", "title": "Dams burst above Derna"}),
    count("east-dead", "killed", {"low": 2300}, "east", "CLAIMED", "2023-09-12T10:00:00Z",
          quote="more than 2,300 dead"),
    count("east-missing", "missing", {"low": 9000}, "east", "CLAIMED",
          "2023-09-12T10:00:00Z", quote="more than 9,000 missing"),
    count("mayor-tv", "killed", {"best": 20000}, "aljazeera", "CLAIMED",
          "2023-09-13T10:00:00Z", via="mayor",
          quote="the number of deaths could reach 18,000 to 20,000"),
    count("un", "killed", {"best": 11300}, "ocha", "CLAIMED", "2023-09-16T10:00:00Z",
          via="lrc"),
    count("who-toll", "killed", {"best": 3958}, "who", "CONFIRMED", "2023-09-17T08:00:00Z"),
]
REVISION = ("correctReport", {"timeline": SLUG, "report": "un", "via": "who",
                              "value": {"count": {"best": 3958}},
                              "reportedAt": "2023-09-17T10:00:00Z"})


async def read(api: Api, **variables: Any) -> dict[str, Any]:
    body = await api.post(READ, variables)
    assert "errors" not in body, body["errors"]
    entry: dict[str, Any] = body["data"]["timeline"]["entry"]
    return entry


def weights(fact: dict[str, Any]) -> dict[str, tuple[float, str]]:
    return {r["report"]["id"]: (r["weight"], r["role"]) for r in fact["reports"]}


def headline(html: str) -> str:
    text = " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())
    found = re.search(r"3,958 killed[^.]*?(?=\s{0,2}(?:missing|Why|Who|$))", text)
    assert found is not None, text[:2000]
    return found.group(0)


async def test_the_derna_toll_reads_as_a_careful_journalist_would_publish_it(
        api: Api) -> None:
    for mutation, fields in STORY:
        await api.ok(mutation, fields)
    then = await read(api, asOf=BEFORE_THE_REVISION, axis="REPORTED")
    before = await api.post("{ changes(slug: \"derna-2023\", since: \"2000-01-01T00:00:00Z\")"
                            " { attribute } }")
    assert "errors" not in before
    revised_at = await api.scalar("SELECT clock_timestamp()")
    await api.ok(*REVISION)
    now = await read(api)

    killed = now["killed"]
    # "More than 2,300" supports 3,958 rather than contradicting it; the mayor's 20,000 sets
    # the top of the range but, relayed, weighs at his grade D, not Al Jazeera's C.
    assert killed["value"] == {"best": 3958, "low": 2300, "high": 20000}
    assert killed["highOpen"] is True
    assert weights(killed)["east-dead"] == (0.42, "SUPPORTS")
    assert weights(killed)["mayor-tv"] == (0.28, "CONTRADICTS")
    assert not killed["disputed"] and killed["status"] == "CONFIRMED"
    # OCHA's corrected figure cites the WHO now, not the organisation that disowned it.
    un, = (r for r in killed["reports"] if r["report"]["id"] == "un")
    assert un["report"]["via"] == {"id": "who"}
    assert "Libyan Red Crescent" not in killed["explanation"]
    # "More than 9,000 missing" is its own quantity, open above.
    assert now["missing"]["value"] == {"best": 9000, "low": 9000, "high": 9000}
    assert now["missing"]["highOpen"] is True and not now["missing"]["disputed"]

    # As it stood before the revision: OCHA's 11,300, citing the Red Crescent, led a dispute.
    assert then["killed"]["value"]["best"] == 11300 and then["killed"]["disputed"]
    assert "Libyan Red Crescent" in then["killed"]["explanation"]

    # An auditor sees the revision, with the report before and after.
    audit = await api.post(CHANGES, {"since": revised_at.isoformat()})
    assert "errors" not in audit, audit["errors"]
    change, = (c for c in audit["data"]["changes"] if c["attribute"] == "killed")
    revision, = change["reportChanges"]
    assert revision == {"report": "un", "kind": "CORRECTED",
                        "before": {"value": {"best": 11300}, "via": "lrc"},
                        "after": {"value": {"best": 3958}, "via": "who"}}

    # The embed leads with the best value, with thousands separators and the open top.
    page = await api.client.get(f"/embed/{SLUG}")
    assert page.status_code == 200
    assert headline(page.text).startswith("3,958 killed · reports from 2,300 to 20,000+")


@asynccontextmanager
async def fresh_api(databases: Databases) -> AsyncIterator[Api]:
    url = await databases.fresh()
    try:
        async with running_api(Settings(database_url=url, migrate_on_start=False)) as copy:
            yield copy
    finally:
        await databases.drop(url)


async def test_the_derna_story_round_trips_through_the_csv(api: Api, databases: Databases,
                                                           tmp_path: Path) -> None:
    for mutation, fields in [*STORY, REVISION]:
        await api.ok(mutation, fields)
    export = await api.client.get(f"/export/{SLUG}.csv")
    assert export.status_code == 200
    sheet = tmp_path / "derna.csv"
    sheet.write_bytes(export.content)
    async with fresh_api(databases) as copy:
        await import_path(copy.services, sheet, spreadsheet=True, actor="csv")
        assert await read(copy) == await read(api)
        for moment in ("2023-09-12T12:00:00Z", BEFORE_THE_REVISION, "2023-09-17T09:00:00Z"):
            assert (await read(copy, asOf=moment, axis="REPORTED")
                    == await read(api, asOf=moment, axis="REPORTED")), moment
        again = await copy.client.get(f"/export/{SLUG}.csv")
        assert again.text == export.text
