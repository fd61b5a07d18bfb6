"""Cached timeline reads are exactly what executing them gives, and never stale."""

from __future__ import annotations

from typing import Any

import pytest

from api.graphql.view import ChronicleGraphQL
from api.services.demo import DEMO_ACTOR, demo_path
from api.services.ndjson_import import import_file
from tests.integration.conftest import Api
from tests.integration.demo_queries import READS

# The audit test's read, less its root `sources` field: a pure timeline read is cacheable.
TIMELINE_READ = READS.replace("sources { id name reliability } }", "}")


def answers(api: Api) -> Any:
    for route in api.client._transport.app.routes:  # type: ignore[attr-defined]
        if isinstance(getattr(route, "app", None), ChronicleGraphQL):
            return route.app.answers
        if isinstance(getattr(route, "endpoint", None), ChronicleGraphQL):
            return route.endpoint.answers
    raise AssertionError("no GraphQL route")


async def read(api: Api, **variables: Any) -> dict[str, Any]:
    body = await api.post(TIMELINE_READ, variables)
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


@pytest.mark.parametrize("variables", [
    {}, {"asOf": "2100-01-01T00:00:00Z"},
    {"asOf": "2018-02-14T00:00:00Z", "axis": "REPORTED"}])
async def test_a_cached_read_equals_an_executed_one(api: Api,
                                                    variables: dict[str, Any]) -> None:
    await import_file(api.services.intake, demo_path(), actor=DEMO_ACTOR)
    cache = answers(api)
    first = await read(api, **variables)
    hits = cache.hits
    again = await read(api, **variables)
    assert again == first and cache.hits == hits + 1
    with_sources = await api.post(READS, variables)  # reads more than timelines: executed
    assert cache.hits == hits + 1 and "errors" not in with_sources


async def test_writes_and_regrades_are_never_hidden_by_the_cache(api: Api) -> None:
    await import_file(api.services.intake, demo_path(), actor=DEMO_ACTOR)
    before = await read(api)
    await api.ok("reportFact", {"timeline": "khasham-2018", "entry": "tank-strike",
                                "attribute": "weapon", "value": {"text": "drone"},
                                "source": "kremlin", "stance": "CONFIRMED",
                                "reportedAt": "2018-02-16T00:00:00Z"})
    after_write = await read(api)
    assert after_write != before
    assert after_write["timeline"]["version"] > before["timeline"]["version"]
    await api.ok("gradeSource", {"source": "several-news-outlets", "reliability": "A"})
    after_grade = await read(api)
    assert after_grade != after_write
    # The past on the RECORDED clock is unchanged by both, and still served.
    past = await api.post(TIMELINE_READ, {"asOf": "2018-01-01T00:00:00Z"})
    assert past["data"]["timeline"] is None
    assert past["errors"][0]["extensions"]["code"] == "NOT_FOUND"  # not recorded yet


async def test_two_moments_with_the_same_log_share_an_answer(api: Api) -> None:
    await import_file(api.services.intake, demo_path(), actor=DEMO_ACTOR)
    cache = answers(api)
    await read(api, asOf="2099-01-01T00:00:00Z")
    hits = cache.hits
    await read(api, asOf="2099-06-01T00:00:00Z")  # nothing was committed in between
    assert cache.hits == hits + 1
