"""The Khasham story the best-known, as-of and time-travel tests tell over GraphQL: one
timeline, four graded sources and three entries, and reports on them."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.integration.conftest import Api

ENTRIES = ["strike", "tank", "funerals"]
SOURCES = ["mfa", "outlets", "pentagon", "bi"]


async def story(api: Api) -> None:
    for mutation, input in [
        ("createTimeline", {"slug": "khasham", "title": "Khasham"}),
        ("registerSource", {"id": "mfa", "name": "Russian Foreign Ministry",
                            "kind": "GOVERNMENT"}),
        ("gradeSource", {"source": "mfa", "reliability": "C"}),
        ("registerSource", {"id": "outlets", "name": "several news outlets", "kind": "MEDIA"}),
        ("gradeSource", {"source": "outlets", "reliability": "F"}),
        ("registerSource", {"id": "pentagon", "name": "Pentagon", "kind": "MILITARY"}),
        ("gradeSource", {"source": "pentagon", "reliability": "B"}),
        ("registerSource", {"id": "bi", "name": "Business Insider", "kind": "MEDIA"}),
        ("gradeSource", {"source": "bi", "reliability": "B"}),
        ("openEntry", {"timeline": "khasham", "id": "strike", "title": "The strike"}),
        ("openEntry", {"timeline": "khasham", "id": "tank", "title": "A tank destroyed"}),
        ("openEntry", {"timeline": "khasham", "id": "funerals", "title": "Funerals"}),
    ]:
        await api.ok(mutation, input)


def report(entry: str, attribute: str, value: dict[str, Any], source: str, stance: str,
           reported_at: str, **extra: Any) -> dict[str, Any]:
    return {"timeline": "khasham", "entry": entry, "attribute": attribute, "value": value,
            "source": source, "stance": stance, "reportedAt": reported_at, **extra}


async def random_change(api: Api, rng: random.Random, reports: int) -> int:
    """One random change of any kind to the story (reports, corrections that may change
    the origin, retractions, ranks, regrades, a merge, new sources); the reports made so far."""
    kind = rng.choice(["report"] * 4 + ["correct", "retract", "rank", "grade", "merge",
                                        "register"])
    day = datetime(2018, 2, 8, tzinfo=UTC) + timedelta(hours=rng.randint(0, 400))
    if kind == "report" or reports == 0:
        attribute, value = rng.choice([
            ("killed", {"count": rng.choice([{"best": 5}, {"low": 200}, {"best": 40}])}),
            ("weapon", {"text": rng.choice(["jet", "drone"])}),
            ("occurred", {"time": {"start": rng.choice(["2018-02-10", "2018-02-11"]),
                                   "precision": "DAY"}})])
        body = await api.mutate("reportFact", report(
            rng.choice(ENTRIES), attribute, value, rng.choice(SOURCES),
            rng.choice(["CONFIRMED", "CLAIMED", "DENIED"]), day.isoformat(),
            via=rng.choice([None, None, "pentagon", "bi"])))
        return reports + ("errors" not in body)
    target = f"r{rng.randint(1, reports)}"
    if kind == "correct":
        await api.mutate("correctReport", {"timeline": "khasham", "report": target,
                                           "stance": "CLAIMED", "via": rng.choice(SOURCES),
                                           "reportedAt": (day + timedelta(days=5)).isoformat()})
    elif kind == "retract":
        await api.mutate("retractReport", {"timeline": "khasham", "report": target,
                                           "reason": "withdrawn",
                                           "reportedAt": (day + timedelta(days=3)).isoformat()})
    elif kind == "rank":
        await api.mutate("rankReport", {"timeline": "khasham", "report": target,
                                        "rank": rng.choice(["PREFERRED", "DEPRECATED"]),
                                        "reason": "desk"})
    elif kind == "grade":
        await api.mutate("gradeSource", {"source": rng.choice(SOURCES),
                                         "reliability": rng.choice("ABCDEF")})
    elif kind == "merge":
        await api.mutate("mergeEntries", {"timeline": "khasham", "duplicate": "funerals",
                                          "survivor": "strike"})
    else:
        await api.mutate("registerSource", {"id": f"new-{rng.randint(0, 10**6)}",
                                            "name": "A new source", "kind": "MEDIA"})
    return reports
