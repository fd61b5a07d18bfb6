"""The demo timeline reads as its article tells the story: separate quantities stay separate
facts, counts keep their sources' words, every entry and report is dated as the article
dates it, and the README's walk-through answers as documented.

The counts below follow policy version 2 (DESIGN.md §1): "scores" (``{low: 40}``) and "more
than 200" (``{low: 200}``) are open above, so they agree and leave the top open."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from api.services.demo import DEMO_ACTOR, demo_path
from api.services.ndjson_import import import_file
from tests.conftest import ROOT
from tests.integration.conftest import Api

README = (ROOT / "README.md").read_text()
QUERY, _, AFTER_QUERY = README.split("```graphql")[2].partition("```")
ANSWER = json.loads(AFTER_QUERY.split("```json", 1)[1].split("```", 1)[0])

# The battle, as the article dates it: "last week's clash", said on Thursday 15 February.
LAST_WEEK = {"start": "2018-02-05", "end": "2018-02-11", "precision": "DAY"}

FACT_REPORTS = """query($entry: String!, $attribute: String!) {
  timeline(slug: "khasham-2018") { entry(id: $entry) { fact(attribute: $attribute) {
    value { ... on Count { best low high } } highOpen
    reports { role report { id quote source { id }
                            value { ... on Count { best low high } } } } } } } }"""


@pytest.fixture
async def demo(api: Api) -> Api:
    await import_file(api.services.intake, demo_path(), actor=DEMO_ACTOR)
    return api


async def read(api: Api, query: str, variables: dict[str, Any] | None = None) -> Any:
    body = await api.post(query, variables)
    assert "errors" not in body, body
    return body["data"]


async def test_the_readme_example_answers_as_documented(demo: Api) -> None:
    data = await read(demo, QUERY)
    killed = data["timeline"]["strike"]["killed"]
    assert killed["value"] == {"best": 200, "low": 40, "high": 200}
    assert (killed["highOpen"], killed["disputed"], killed["status"]) == (
        True, False, "CORROBORATED")
    russians = data["timeline"]["strike"]["russians"]
    assert russians["value"] == {"best": 5, "low": 5, "high": 5}
    assert (russians["highOpen"], russians["disputed"]) == (False, False)
    assert russians["explanation"].startswith("5 (Russian Ministry of Foreign Affairs, confirmed")
    day = data["timeline"]["tank"]["day"]
    assert day["value"] == {"start": "2018-02-10", "precision": "DAY"}
    assert (day["disputed"], day["status"]) == (True, "PREFERRED")
    weapon = data["timeline"]["tank"]["weapon"]
    assert weapon["value"] == {"text": "jet"}
    assert (weapon["disputed"], weapon["status"]) == (True, "CONTESTED")
    assert "outweighs drone" in weapon["explanation"]
    assert {"data": data} == ANSWER  # the README shows the answer word for word


async def test_all_dead_and_russian_dead_are_separate_facts_in_their_sources_words(
        demo: Api) -> None:
    killed = (await read(demo, FACT_REPORTS, {"entry": "khasham-strike",
                                              "attribute": "killed"}))["timeline"]
    reports = {r["report"]["id"]: r for r in killed["entry"]["fact"]["reports"]}
    assert set(reports) == {"r11", "r20"}  # nobody's count of Russians among them
    scores, more_than_200 = reports["r11"]["report"], reports["r20"]["report"]
    assert scores["value"] == {"best": None, "low": 40, "high": None}  # at least 40, open
    assert "unconfirmed reports of scores that died" in scores["quote"]
    assert more_than_200["value"] == {"best": None, "low": 200, "high": None}
    assert "more than 200 were killed" in more_than_200["quote"]
    assert {r["role"] for r in reports.values()} == {"SUPPORTS"}
    russians = (await read(demo, FACT_REPORTS, {"entry": "khasham-strike",
                                                "attribute": "russians-killed"}))["timeline"]
    fact = russians["entry"]["fact"]
    assert fact["value"] == {"best": 5, "low": 5, "high": 5} and fact["highOpen"] is False
    [only] = [r["report"] for r in fact["reports"]]
    assert only["source"]["id"] == "russian-foreign-ministry"
    assert "the death of five Russian nationals" in only["quote"]
    assert "citizenship has yet to be verified" in only["quote"]


async def test_every_entry_is_dated_as_the_article_dates_it(demo: Api) -> None:
    data = await read(demo, '{ timeline(slug: "khasham-2018") { description '
                            "entries { nodes { id occurred { start end precision } } } } }")
    occurred = {n["id"]: n["occurred"] for n in data["timeline"]["entries"]["nodes"]}
    assert len(occurred) == 9 and None not in occurred.values(), occurred
    for clash in ("khasham-assault", "khasham-strike", "deconfliction", "ananyev-death"):
        assert occurred[clash] == LAST_WEEK, clash
    assert "5-11 February" in data["timeline"]["description"]  # what the facts say, too
    assert occurred["tank-strike"] == {"start": "2018-02-10", "end": None, "precision": "DAY"}
    assert occurred["oilfields-liberated"] == {"start": "2017-09", "end": None,
                                               "precision": "MONTH"}
    assert occurred["russian-intervention-2015"]["precision"] == "YEAR"
    for undated in ("hass-hospital-strike", "us-partition-accusation"):  # the month only
        assert occurred[undated] == {"start": "2018-02", "end": None, "precision": "MONTH"}


async def test_every_report_is_quoted_and_dated_to_the_day_its_source_spoke(
        demo: Api) -> None:
    data = await read(demo, '{ timeline(slug: "khasham-2018") { entries { nodes { '
                            "reports { id quote reportedAt source { id } } } } } }")
    reports = [r for n in data["timeline"]["entries"]["nodes"] for r in n["reports"]]
    assert len(reports) == 61
    assert all(r["quote"] for r in reports), [r["id"] for r in reports if not r["quote"]]
    said = {r["id"]: datetime.fromisoformat(r["reportedAt"]) for r in reports}
    assert all(moment.time() == datetime.min.time() for moment in said.values())  # a day
    days = {r["id"]: said[r["id"]].date().isoformat() for r in reports}
    assert set(days.values()) == {"2018-02-11", "2018-02-13", "2018-02-15"}
    assert days["r1"] == "2018-02-11"  # "the coalition had said last week": by its end
    assert days["r23"] == "2018-02-13"  # "confirmed to Business Insider on Tuesday"
    assert days["r37"] == "2018-02-15"  # "a Pentagon spokesman reached Thursday"
    assert days["r34"] == "2018-02-15"  # undated in the article: its own day


async def test_by_14_february_the_tank_strike_was_known_and_no_death_toll(demo: Api) -> None:
    data = await read(demo, QUERY.replace('timeline(slug: "khasham-2018")',
                                          'timeline(slug: "khasham-2018", asOf: '
                                          '"2018-02-14T00:00:00Z", axis: REPORTED)'))
    strike, tank = data["timeline"]["strike"], data["timeline"]["tank"]
    assert strike == {"killed": None, "russians": None}
    assert tank["day"]["value"] == {"start": "2018-02-10", "precision": "DAY"}
    assert tank["weapon"]["value"] == {"text": "jet"}
    assert not tank["day"]["disputed"] and not tank["weapon"]["disputed"]
