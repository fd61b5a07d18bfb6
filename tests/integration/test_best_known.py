"""The best-known timeline over GraphQL: facts, their projection, entries, and as-of."""

from __future__ import annotations

import asyncio
from typing import Any

from events.postgres.rebuild import replay_read_model
from tests.integration.conftest import Api
from tests.integration.khasham import report, story

FACT = ("fact { value { ... on Count { best low high } ... on Text { text } "
        "... on TimeSpan { start precision } } low high highOpen disputed status explanation "
        "alternatives { weight value { ... on Count { best } ... on Text { text } } } "
        "reports { report { id } weight role } }")

TIMELINE = """query($asOf: DateTime, $axis: Axis = RECORDED, $after: String, $first: Int = 100,
                    $from: DateTime, $to: DateTime) {
  timeline(slug: "khasham", asOf: $asOf, axis: $axis) { version
    entries(first: $first, after: $after, from: $from, to: $to) {
      totalCount pageInfo { hasNextPage endCursor }
      nodes { id title occurred { start precision }
        facts { attribute value { ... on Count { best low high } ... on Text { text }
                                  ... on TimeSpan { start precision } }
                low high disputed status explanation
                reports { report { id status } weight role } } } } } }"""


async def read(api: Api, **variables: Any) -> dict[str, Any]:
    body = await api.post(TIMELINE, variables)
    assert "errors" not in body, body["errors"]
    timeline: dict[str, Any] = body["data"]["timeline"]
    return timeline


def fact_of(timeline: dict[str, Any], entry: str, attribute: str) -> dict[str, Any] | None:
    for node in timeline["entries"]["nodes"]:
        if node["id"] == entry:
            for fact in node["facts"]:
                if fact["attribute"] == attribute:
                    return dict(fact)
    return None


async def test_the_killed_count_is_best_known_disputed_and_explained(api: Api) -> None:
    await story(api)
    first = await api.ok("reportFact", report("strike", "killed", {"count": {"best": 5}}, "mfa",
                                              "CONFIRMED", "2018-02-15T12:00:00Z"),
                         "report { id } " + FACT)
    assert first["fact"]["status"] == "SINGLE_SOURCE"
    second = await api.ok("reportFact", report("strike", "killed", {"count": {"low": 200}},
                                               "outlets", "CLAIMED", "2018-02-13T12:00:00Z"),
                          FACT)
    fact = second["fact"]
    assert fact["value"] == {"best": 5, "low": 5, "high": 200}
    assert (fact["low"], fact["high"], fact["highOpen"], fact["disputed"], fact["status"]) == (
        5, 200, True, True, "CONTESTED")
    assert fact["explanation"] == ("5 (Russian Foreign Ministry, confirmed, grade C) outweighs "
                                   "more than 200 (several news outlets, claimed); disputed")
    assert fact["reports"] == [
        {"report": {"id": "r1"}, "weight": 0.6, "role": "SUPPORTS"},
        {"report": {"id": "r2"}, "weight": 0.35, "role": "CONTRADICTS"}]
    assert fact["alternatives"] == [{"weight": 0.35, "value": {"best": 200}}]
    retracted = await api.ok("retractReport", {"timeline": "khasham", "report": "r2",
                                               "reason": "unsourced",
                                               "reportedAt": "2018-02-21T00:00:00Z"}, FACT)
    assert retracted["fact"]["disputed"] is False
    assert retracted["fact"]["highOpen"] is False
    assert retracted["fact"]["reports"][1] == {"report": {"id": "r2"}, "weight": 0.0,
                                               "role": "RETRACTED"}


async def test_regrading_a_source_changes_every_fact_that_cites_it(api: Api) -> None:
    await story(api)
    await api.ok("reportFact", report("tank", "weapon", {"text": "jet"}, "bi", "CONFIRMED",
                                      "2018-02-13T12:00:00Z", via="pentagon"))
    await api.ok("reportFact", report("tank", "weapon", {"text": "drone"}, "outlets",
                                      "CONFIRMED", "2018-02-12T12:00:00Z"))
    assert fact_of(await read(api), "tank", "weapon")["value"] == {"text": "jet"}  # type: ignore[index]
    await api.ok("gradeSource", {"source": "bi", "reliability": "E"})  # 0.2 < drone's 0.5
    timeline = await read(api)
    fact = fact_of(timeline, "tank", "weapon")
    assert fact is not None and fact["value"] == {"text": "drone"}
    # The regrade changed this timeline's facts, so its version moved to the regrade.
    assert timeline["version"] == await api.scalar("SELECT max(position) FROM events")
    assert await read(api, asOf="2100-01-01T00:00:00Z") == timeline


async def test_more_than_supports_a_best_above_it_and_keeps_the_top_open(api: Api) -> None:
    await story(api)
    alone = await api.ok("reportFact", report("funerals", "killed", {"count": {"low": 200}},
                                              "outlets", "CLAIMED", "2018-02-13T12:00:00Z"),
                         FACT)
    fact = alone["fact"]
    assert fact["value"] == {"best": 200, "low": 200, "high": 200}
    assert (fact["highOpen"], fact["disputed"], fact["status"]) == (True, False,
                                                                    "SINGLE_SOURCE")
    assert fact["explanation"] == ("more than 200 (several news outlets, claimed, grade F) is "
                                   "the only account")
    both = await api.ok("reportFact", report("funerals", "killed", {"count": {"best": 215}},
                                             "pentagon", "CLAIMED", "2018-02-16T12:00:00Z"),
                        FACT)
    fact = both["fact"]
    # 200 (0.35) and 215 (0.56): the median is 215, which "more than 200" holds.
    assert fact["value"] == {"best": 215, "low": 200, "high": 215}
    assert (fact["highOpen"], fact["disputed"], fact["status"]) == (True, False,
                                                                    "CORROBORATED")
    assert [r["role"] for r in fact["reports"]] == ["SUPPORTS", "SUPPORTS"]
    assert fact["explanation"] == (
        "215 (Pentagon, claimed, grade B) is reported by 2 independent origins and "
        "contradicted by none; more than 200 (several news outlets) leaves it open above")
    past = fact_of(await read(api, asOf="2018-02-14T00:00:00Z", axis="REPORTED"),
                   "funerals", "killed")
    assert past is not None and past["value"] == {"best": 200, "low": 200, "high": 200}


async def test_a_relay_weighs_its_origins_grade_and_follows_its_regrade(api: Api) -> None:
    await story(api)
    # A source only ever cited as an origin, never reporting itself; ungraded (F) at first.
    await api.ok("registerSource", {"id": "commander", "name": "a Syrian commander",
                                    "kind": "MILITARY"})
    await api.ok("reportFact", report("tank", "weapon", {"text": "jet"}, "bi", "CONFIRMED",
                                      "2018-02-13T12:00:00Z", via="commander"))
    await api.ok("reportFact", report("tank", "weapon", {"text": "drone"}, "mfa", "CLAIMED",
                                      "2018-02-14T12:00:00Z"))
    fact = fact_of(await read(api), "tank", "weapon")
    # jet: the lower of B (0.8) and the commander's F (0.5), confirmed: 0.5 > drone's 0.42.
    assert fact is not None and fact["value"] == {"text": "jet"}
    assert [r["weight"] for r in fact["reports"]] == [0.5, 0.42]
    assert fact["status"] == "CONTESTED"  # drone's 0.42 is more than a quarter of 0.5
    assert fact["explanation"].startswith("jet (Business Insider citing a Syrian commander, "
                                          "confirmed, origin's grade F) outweighs drone")
    before = await api.scalar("SELECT max(recorded_at) FROM events")
    await api.ok("gradeSource", {"source": "commander", "reliability": "E"})  # 0.2
    timeline = await read(api)
    fact = fact_of(timeline, "tank", "weapon")
    assert fact is not None and fact["value"] == {"text": "drone"}
    assert [r["weight"] for r in fact["reports"]] == [0.2, 0.42]
    # The regrade moved the facts citing it as an origin, and this timeline's version.
    assert timeline["version"] == await api.scalar("SELECT max(position) FROM events")
    assert await read(api, asOf="2100-01-01T00:00:00Z") == timeline
    assert await read(api, asOf="2100-01-01T00:00:00Z", axis="REPORTED") == timeline
    past = fact_of(await read(api, asOf=before.isoformat()), "tank", "weapon")
    assert past is not None and past["value"] == {"text": "jet"}
    body = await api.post('{ timeline(slug: "khasham") { entry(id: "tank") { '
                          'fact(attribute: "weapon") { history { value { ... on Text { text } } '
                          'status event { type } } } } } }')
    assert "errors" not in body, body["errors"]
    history = body["data"]["timeline"]["entry"]["fact"]["history"]
    assert [(v["value"]["text"], v["status"], v["event"]["type"]) for v in history] == [
        ("jet", "SINGLE_SOURCE", "FactReported"), ("jet", "CONTESTED", "FactReported"),
        ("drone", "CONTESTED", "SourceGraded")]
    stored = "SELECT document::text FROM facts WHERE entry = 'tank' AND attribute = 'weapon'"
    document = await api.scalar(stored)
    assert '"weight": 0.2' in document
    await replay_read_model(api.services.store)
    assert await api.scalar(stored) == document


async def test_entries_sort_by_best_known_occurred_and_page_with_cursors(api: Api) -> None:
    await story(api)
    for entry, day in (("strike", "2018-02-07"), ("tank", "2018-02-10")):
        await api.ok("reportFact", report(entry, "occurred",
                                          {"time": {"start": day, "precision": "DAY"}},
                                          "pentagon", "CONFIRMED", "2018-02-16T00:00:00Z"))
    timeline = await read(api)
    assert [n["id"] for n in timeline["entries"]["nodes"]] == ["strike", "tank", "funerals"]
    assert timeline["entries"]["nodes"][1]["occurred"] == {"start": "2018-02-10",
                                                           "precision": "DAY"}
    page = await read(api, first=2)
    assert [n["id"] for n in page["entries"]["nodes"]] == ["strike", "tank"]
    assert page["entries"]["pageInfo"]["hasNextPage"] is True
    rest = await read(api, first=2, after=page["entries"]["pageInfo"]["endCursor"])
    assert [n["id"] for n in rest["entries"]["nodes"]] == ["funerals"]
    assert rest["entries"]["pageInfo"]["hasNextPage"] is False
    window = await read(api, **{"from": "2018-02-09T00:00:00Z", "to": "2018-02-11T00:00:00Z"})
    assert [n["id"] for n in window["entries"]["nodes"]] == ["tank"]
    bad = await api.post(TIMELINE, {"after": "not-a-cursor"})
    assert bad["errors"][0]["extensions"]["code"] == "BAD_INPUT"


async def test_a_merge_moves_reports_and_facts_to_the_survivor(api: Api) -> None:
    await story(api)
    await api.ok("openEntry", {"timeline": "khasham", "id": "t72", "title": "T-72 hit"})
    await api.ok("reportFact", report("tank", "weapon", {"text": "jet"}, "bi", "CONFIRMED",
                                      "2018-02-13T12:00:00Z"))
    await api.ok("reportFact", report("t72", "weapon", {"text": "jet"}, "pentagon",
                                      "CONFIRMED", "2018-02-14T12:00:00Z"))
    await api.ok("mergeEntries", {"timeline": "khasham", "duplicate": "t72",
                                  "survivor": "tank"})
    timeline = await read(api)
    assert "t72" not in [n["id"] for n in timeline["entries"]["nodes"]]
    fact = fact_of(timeline, "tank", "weapon")
    assert fact is not None and fact["status"] == "CONFIRMED"
    assert [r["report"]["id"] for r in fact["reports"]] == ["r1", "r2"]


async def test_as_of_recorded_shows_what_chronicle_showed_then(api: Api) -> None:
    await story(api)
    await api.ok("reportFact", report("strike", "killed", {"count": {"low": 200}}, "outlets",
                                      "CLAIMED", "2018-02-13T12:00:00Z"))
    await asyncio.sleep(0.01)
    then = await api.scalar("SELECT max(recorded_at) FROM events")
    await asyncio.sleep(0.01)
    await api.ok("reportFact", report("strike", "killed", {"count": {"best": 5}}, "mfa",
                                      "CONFIRMED", "2018-02-15T12:00:00Z"))
    past = await read(api, asOf=then.isoformat())
    assert fact_of(past, "strike", "killed")["value"]["best"] == 200  # type: ignore[index]
    assert past["version"] == await api.scalar(
        "SELECT max(position) FROM events WHERE stream = 'timeline:khasham' "
        f"AND recorded_at <= '{then.isoformat()}'")
    now = await read(api)
    assert fact_of(now, "strike", "killed")["value"]["best"] == 5  # type: ignore[index]
    before = await api.post('query($t: DateTime) { timeline(slug: "khasham", asOf: $t) '
                            '{ slug } }', {"t": "2000-01-01T00:00:00Z"})
    assert before["data"]["timeline"] is None


async def test_as_of_reported_counts_back_dated_reports_and_todays_editing(api: Api) -> None:
    await story(api)
    # Recorded now, but reported on 15 February: counts for REPORTED as of 16 February.
    await api.ok("reportFact", report("strike", "killed", {"count": {"best": 5}}, "mfa",
                                      "CONFIRMED", "2018-02-15T12:00:00Z"))
    await api.ok("reportFact", report("strike", "killed", {"count": {"low": 200}}, "outlets",
                                      "CLAIMED", "2018-02-20T12:00:00Z"))
    await api.ok("retractReport", {"timeline": "khasham", "report": "r1", "reason": "revised",
                                   "reportedAt": "2018-02-25T00:00:00Z"})
    on_16th = await read(api, asOf="2018-02-16T00:00:00Z", axis="REPORTED")
    fact = fact_of(on_16th, "strike", "killed")
    assert fact is not None and fact["value"]["best"] == 5 and not fact["disputed"]
    on_21st = fact_of(await read(api, asOf="2018-02-21T00:00:00Z", axis="REPORTED"),
                      "strike", "killed")
    assert on_21st is not None and on_21st["disputed"]
    today = fact_of(await read(api, asOf="2018-03-01T00:00:00Z", axis="REPORTED"),
                    "strike", "killed")
    assert today == fact_of(await read(api), "strike", "killed")
    assert on_16th["entries"]["totalCount"] == 3  # entries are editorial: always there


async def test_the_projection_equals_a_replay_of_the_log(api: Api) -> None:
    await story(api)
    for i, (source, value, stance) in enumerate([
            ("mfa", {"count": {"best": 5}}, "CONFIRMED"),
            ("outlets", {"count": {"low": 200}}, "CLAIMED"),
            ("pentagon", {"count": {"best": 100, "low": 80, "high": 300}}, "CLAIMED"),
            ("bi", {"count": {"best": 5}}, "DENIED")]):
        await api.ok("reportFact", report("strike", "killed", value, source, stance,
                                          f"2018-02-1{i}T00:00:00Z", via="pentagon"
                                          if source == "bi" else None))
    await api.ok("rankReport", {"timeline": "khasham", "report": "r3", "rank": "DEPRECATED",
                                "reason": "unsourced"})
    await api.ok("gradeSource", {"source": "outlets", "reliability": "D"})
    present = await read(api)
    replayed = await read(api, asOf="2100-01-01T00:00:00Z")
    assert replayed == present


async def test_times_without_a_zone_are_refused_with_the_field_named(api: Api) -> None:
    await story(api)
    for variables, field in (({"asOf": "2018-02-14T00:00:00"}, "asOf"),
                             ({"from": "2018-02-14T00:00:00"}, "from")):
        body = await api.post(TIMELINE, variables)
        error = body["errors"][0]
        assert error["extensions"]["code"] == "BAD_INPUT" and field in error["message"], error
    body = await api.post('{ changes(slug: "khasham", since: "2018-02-14T00:00:00") '
                          '{ entry } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_INPUT"
