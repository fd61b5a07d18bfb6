"""The kept history answers exactly what a full replay of the log up to T answers."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.services.reading import SnapshotView, TimelineView, settled
from events.as_of import Axis
from tests.integration.conftest import Api
from tests.integration.khasham import report, story
from tests.integration.replay_view import AsOfView

ENTRIES = ["strike", "tank", "funerals"]
SOURCES = ["mfa", "outlets", "pentagon", "bi"]


async def random_story(api: Api, rng: random.Random, steps: int) -> list[datetime]:
    """A story told over many commits, with back-dated reports and editorial changes."""
    await story(api)
    moments = [await api.scalar("SELECT clock_timestamp()")]
    reports = 0
    for step in range(steps):
        kind = rng.choice(["report"] * 6 + ["correct", "retract", "rank", "grade", "merge"])
        day = datetime(2018, 2, 8, tzinfo=UTC) + timedelta(hours=rng.randint(0, 400))
        if kind == "report" or reports == 0:
            attribute, value = rng.choice([
                ("killed", {"count": rng.choice([{"best": 5}, {"low": 200}, {"best": 40}])}),
                ("weapon", {"text": rng.choice(["jet", "drone"])}),
                ("occurred", {"time": rng.choice([
                    {"start": "2018-02-10", "precision": "DAY"},
                    {"start": "2018-02-11", "precision": "DAY"},
                    {"start": "2018-02", "precision": "MONTH"}])})])
            body = await api.mutate("reportFact", report(
                rng.choice(ENTRIES), attribute, value, rng.choice(SOURCES),
                rng.choice(["CONFIRMED", "CLAIMED", "UNCONFIRMED", "DENIED"]),
                day.isoformat(), via=rng.choice([None, "pentagon"])))
            reports += "errors" not in body
        elif kind == "correct":
            await api.mutate("correctReport", {
                "timeline": "khasham", "report": f"r{rng.randint(1, reports)}",
                "stance": rng.choice(["CONFIRMED", "CLAIMED"]),
                "reportedAt": (day + timedelta(days=5)).isoformat()})
        elif kind == "retract":
            await api.mutate("retractReport", {
                "timeline": "khasham", "report": f"r{rng.randint(1, reports)}",
                "reason": "withdrawn", "reportedAt": (day + timedelta(days=3)).isoformat()})
        elif kind == "rank":
            await api.mutate("rankReport", {
                "timeline": "khasham", "report": f"r{rng.randint(1, reports)}",
                "rank": rng.choice(["PREFERRED", "DEPRECATED", "NORMAL"]), "reason": "desk"})
        elif kind == "grade":
            await api.mutate("gradeSource", {"source": rng.choice(SOURCES),
                                             "reliability": rng.choice("ABCDEF")})
        elif step > steps // 2:
            await api.mutate("mergeEntries", {"timeline": "khasham", "duplicate": "funerals",
                                              "survivor": "strike"})
        await asyncio.sleep(0.002)
        moments.append(await api.scalar("SELECT clock_timestamp()"))
    return moments


async def everything(view: TimelineView) -> dict[str, Any]:
    page = await view.entries(500, None, None, None)
    return {
        "row": await view.row(),
        "entries": page.entries,
        "facts": {e.id: await settled(view.facts(e.id)) for e in page.entries},
        "reports": {e.id: await view.reports(e.id) for e in page.entries},
        "lookups": {e: await view.entry(e) for e in ENTRIES},
        "sources": await view.sources(),
    }


@pytest.mark.parametrize("seed", [20180207, 7, 11])
async def test_history_equals_a_full_replay_at_random_times_on_both_clocks(
        api: Api, seed: int) -> None:
    rng = random.Random(seed)
    moments = await random_story(api, rng, steps=45)
    store = api.services.store
    history = await api.services.histories.get("khasham")
    probes = [(Axis.RECORDED, rng.choice(moments) + timedelta(microseconds=rng.randint(-5, 5)))
              for _ in range(12)]
    probes += [(Axis.REPORTED, datetime(2018, 2, 8, tzinfo=UTC)
                + timedelta(hours=rng.randint(0, 600))) for _ in range(12)]
    probes += [(Axis.RECORDED, moments[0] - timedelta(days=1)), (Axis.RECORDED, moments[-1])]
    seen = set()
    for axis, moment in probes:
        fast = await everything(SnapshotView(history, store, moment, axis))
        replayed = await everything(await AsOfView.load(store, "khasham", moment, axis))
        assert fast == replayed, (axis, moment)
        seen.add(repr(fast))
    assert len(seen) > 5, "the probes should see the story at many different stages"
    log = {e.type for e in await store.read(limit=1000)}
    assert {"ReportCorrected", "ReportRetracted", "ReportRanked", "SourceGraded"} <= log


EDGES = """query($asOf: DateTime) { timeline(slug: "khasham", asOf: $asOf) {
  entries(first: 10) { nodes { id occurred { start } reports { id reportedAt changedAt } } } } }"""


async def test_the_present_and_the_history_agree_at_the_first_and_last_instants(
        api: Api) -> None:
    # asyncpg writes the first and last instants a datetime has as PostgreSQL's -infinity
    # and infinity, and reads them back without a time zone.
    await story(api)
    await api.ok("reportFact", report("funerals", "occurred", {"time": {
        "start": "0001", "precision": "YEAR"}}, "mfa", "CLAIMED", "0001-01-01T00:00:00Z"))
    await api.ok("reportFact", report("tank", "occurred", {"time": {
        "start": "9999-12-31T23:59:59.999999Z", "precision": "EXACT"}}, "mfa", "CLAIMED",
        "2018-02-13T00:00:00Z"))
    await api.ok("reportFact", report("funerals", "weapon", {"text": "jet"}, "bi", "CLAIMED",
                                      "0001-01-01T00:00:00Z", id="slip"))
    await api.ok("retractReport", {"timeline": "khasham", "report": "slip", "reason": "a slip",
                                   "reportedAt": "0001-01-01T00:00:00Z"})
    now = await api.post(EDGES)
    at_the_end = await api.post(EDGES, {"asOf": "9999-12-31T23:59:59.999999Z"})
    assert now == at_the_end
    entries = now["data"]["timeline"]["entries"]["nodes"]
    # The undated strike and the tank at the end of time share the read model's infinity.
    assert [e["id"] for e in entries] == ["funerals", "strike", "tank"]
    assert entries[0]["reports"] == [
        {"id": "r1", "reportedAt": "0001-01-01T00:00:00+00:00", "changedAt": None},
        {"id": "slip", "reportedAt": "0001-01-01T00:00:00+00:00",
         "changedAt": "0001-01-01T00:00:00+00:00"}]
