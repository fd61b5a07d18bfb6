"""The Khasham story the best-known, as-of and time-travel tests tell over GraphQL: one
timeline, four graded sources and three entries, and reports on them."""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import Api


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
