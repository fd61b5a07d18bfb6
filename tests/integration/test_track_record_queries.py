"""``Source.trackRecord`` over GraphQL: a story counted by hand gives exactly those counts
now, and as of earlier moments on both clocks, in all and by timeline; nested in a timeline
read as of a moment, the record is counted at that moment unless given its own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.integration.conftest import Api
from tests.integration.khasham import report, story

D1, D2, D3 = "2018-02-08T00:00:00Z", "2018-02-10T00:00:00Z", "2018-02-14T00:00:00Z"
COUNTS = "reports retracted corrected outweighed upheld cited"
RECORD = f"{COUNTS} byTimeline {{ timeline {COUNTS} }}"


def counts(reports: int = 0, retracted: int = 0, corrected: int = 0, outweighed: int = 0,
           upheld: int = 0, cited: int = 0) -> dict[str, int]:
    return {"reports": reports, "retracted": retracted, "corrected": corrected,
            "outweighed": outweighed, "upheld": upheld, "cited": cited}


@dataclass
class Told:
    recorded: list[str]  # the recordedAt of each phase's last event


async def said(api: Api, mutation: str, input: dict[str, Any]) -> str:
    done = await api.ok(mutation, input, "event { recordedAt }")
    recorded: str = done["event"]["recordedAt"]
    return recorded


async def tell(api: Api) -> Told:
    """Three phases, each reported on its own day and recorded after the one before.

    1 (D1): pentagon says "jet" (CONFIRMED); bi relays pentagon's "jet"; mfa claims "drone".
       "jet" wins on one origin (pentagon): nothing upheld; mfa outweighed; pentagon cited.
    2 (D2): outlets claim "jet" too (a second origin): pentagon, bi and outlets upheld;
       mfa confirms "artillery" for the tank, alone (not upheld).
    3 (D3): bi corrects its origin to outlets (pentagon no longer cited, outlets cited);
       mfa retracts "drone" (retracted, no longer outweighed); mfa reports on a second
       timeline.
    """
    await story(api)
    recorded = []
    for entry, value, source, stance, via in [("strike", "jet", "pentagon", "CONFIRMED", None),
                                              ("strike", "jet", "bi", "CONFIRMED", "pentagon"),
                                              ("strike", "drone", "mfa", "CLAIMED", None)]:
        last = await said(api, "reportFact", report(entry, "weapon", {"text": value}, source,
                                                    stance, D1, via=via))
    recorded.append(last)
    await said(api, "reportFact", report("strike", "weapon", {"text": "jet"}, "outlets",
                                         "CLAIMED", D2))
    recorded.append(await said(api, "reportFact", report(
        "tank", "weapon", {"text": "artillery"}, "mfa", "CONFIRMED", D2)))
    await said(api, "correctReport", {"timeline": "khasham", "report": "r2", "via": "outlets",
                                      "reportedAt": D3})
    await said(api, "retractReport", {"timeline": "khasham", "report": "r3",
                                      "reason": "withdrawn", "reportedAt": D3})
    await said(api, "createTimeline", {"slug": "derna", "title": "Derna"})
    await said(api, "openEntry", {"timeline": "derna", "id": "flood", "title": "The flood"})
    recorded.append(await said(api, "reportFact", {
        "timeline": "derna", "entry": "flood", "attribute": "killed",
        "value": {"count": {"best": 5000}}, "source": "mfa", "stance": "CONFIRMED",
        "reportedAt": D3}))
    return Told(recorded)


PHASES: list[dict[str, dict[str, dict[str, int]]]] = [
    {"pentagon": {"khasham": counts(reports=1, cited=1)},
     "bi": {"khasham": counts(reports=1)},
     "mfa": {"khasham": counts(reports=1, outweighed=1)},
     "outlets": {}},
    {"pentagon": {"khasham": counts(reports=1, upheld=1, cited=1)},
     "bi": {"khasham": counts(reports=1, upheld=1)},
     "mfa": {"khasham": counts(reports=2, outweighed=1)},
     "outlets": {"khasham": counts(reports=1, upheld=1)}},
    {"pentagon": {"khasham": counts(reports=1, upheld=1)},
     "bi": {"khasham": counts(reports=1, corrected=1, upheld=1)},
     "mfa": {"derna": counts(reports=1), "khasham": counts(reports=2, retracted=1)},
     "outlets": {"khasham": counts(reports=1, upheld=1, cited=1)}},
]
NOTHING: dict[str, dict[str, dict[str, int]]] = {s: {} for s in PHASES[0]}


def expected(by_source: dict[str, dict[str, dict[str, int]]]) -> dict[str, dict[str, Any]]:
    found = {}
    for source, by_timeline in by_source.items():
        total = counts()
        for record in by_timeline.values():
            total = {k: total[k] + record[k] for k in total}
        found[source] = {**total, "byTimeline": [{"timeline": slug, **record}
                                                 for slug, record in by_timeline.items()]}
    return found


async def records(api: Api, arguments: str = "") -> dict[str, dict[str, Any]]:
    body = await api.post(f"{{ sources {{ id trackRecord{arguments} {{ {RECORD} }} }} }}")
    assert "errors" not in body, body["errors"]
    return {s["id"]: s["trackRecord"] for s in body["data"]["sources"]}


async def test_a_story_counted_by_hand_now_and_as_of_earlier_moments_on_both_clocks(
        api: Api) -> None:
    told = await tell(api)
    assert await records(api) == expected(PHASES[2])
    for phase, recorded in enumerate(told.recorded):
        assert await records(api, f'(asOf: "{recorded}")') == expected(PHASES[phase]), phase
        assert await records(api, f'(asOf: "{recorded}", axis: RECORDED)') == expected(
            PHASES[phase])
    for phase, day in enumerate([D1, D2, D3]):
        moment = day.replace("T00", "T01")
        assert await records(api, f'(asOf: "{moment}", axis: REPORTED)') == expected(
            PHASES[phase]), phase
    assert await records(api, '(asOf: "2018-02-07T00:00:00Z", axis: REPORTED)') == expected(
        NOTHING)
    assert await records(api, '(asOf: "2000-01-01T00:00:00Z")') == expected(NOTHING)


async def test_one_source_by_id(api: Api) -> None:
    await tell(api)
    body = await api.post(f'{{ source(id: "mfa") {{ trackRecord {{ {RECORD} }} }} }}')
    assert body["data"]["source"]["trackRecord"] == expected(PHASES[2])["mfa"]


NESTED = """query($asOf: DateTime, $axis: Axis!, $own: DateTime, $ownAxis: Axis) {
  timeline(slug: "khasham", asOf: $asOf, axis: $axis) {
    entries { edges { node { id reports { id source {
      id trackRecord(asOf: $own, axis: $ownAxis) { reports outweighed upheld cited }
    } } } } }
  }
}"""


async def nested(api: Api, **variables: Any) -> dict[str, dict[str, int]]:
    body = await api.post(NESTED, variables)
    assert "errors" not in body, body["errors"]
    found = {}
    for edge in body["data"]["timeline"]["entries"]["edges"]:
        for made in edge["node"]["reports"]:
            found[made["source"]["id"]] = made["source"]["trackRecord"]
    return found


def brief(phase: int, *sources: str) -> dict[str, dict[str, int]]:
    whole = expected(PHASES[phase])
    return {s: {k: whole[s][k] for k in ("reports", "outweighed", "upheld", "cited")}
            for s in sources}


async def test_read_through_a_timeline_as_of_a_moment_it_is_counted_then(api: Api) -> None:
    told = await tell(api)
    first = ("pentagon", "bi", "mfa")
    assert await nested(api, asOf=told.recorded[0], axis="RECORDED") == brief(0, *first)
    assert await nested(api, asOf=D1.replace("T00", "T01"), axis="REPORTED") == brief(
        0, *first)
    # Its own moment wins; given only an axis, it keeps the timeline's moment on that axis.
    assert await nested(api, asOf=told.recorded[0], axis="RECORDED",
                        own=told.recorded[1]) == brief(1, *first)
    zeros = {k: 0 for k in ("reports", "outweighed", "upheld", "cited")}
    assert await nested(api, asOf=D2.replace("T00", "T01"), axis="REPORTED",
                        ownAxis="RECORDED") == {s: zeros for s in (*first, "outlets")}
    assert await nested(api, asOf=told.recorded[1], axis="RECORDED",
                        ownAxis="REPORTED") == brief(2, *first, "outlets")
    assert await nested(api, axis="RECORDED") == brief(2, *first, "outlets")


async def test_a_timeline_read_with_track_records_never_serves_a_stale_answer(
        api: Api) -> None:
    """A record moves with other timelines, which the response cache's key for one
    timeline does not hold: such reads are executed every time."""
    await tell(api)
    before = await nested(api, axis="RECORDED")
    await said(api, "reportFact", {
        "timeline": "derna", "entry": "flood", "attribute": "killed",
        "value": {"count": {"best": 4000}}, "source": "pentagon", "stance": "CONFIRMED",
        "reportedAt": D3})
    after = await nested(api, axis="RECORDED")
    assert after["pentagon"]["reports"] == before["pentagon"]["reports"] + 1
