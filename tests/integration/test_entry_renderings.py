"""Entries rendered once per version are spliced into answers that equal executing the read
afresh, through every kind of change; an entry's version moves only when it shows a change."""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import text

from api.graphql.context import Context
from api.graphql.fragments import EntryRenderings
from api.graphql.view import ChronicleGraphQL
from events.postgres.rebuild import replay_read_model
from tests.integration.conftest import Api
from tests.integration.khasham import random_change, report, story

READ = """query($attribute: String!, $withReports: Boolean!) {
  timeline(slug: "khasham") { version
    entries(first: 50) { edges { cursor node { ...shown } } } } }
fragment shown on Entry { id nodeId title occurred { start precision }
  chosen: fact(attribute: $attribute) { value { __typename ... on Count { best low high }
                                               ... on Text { text } } disputed }
  reports @include(if: $withReports) { id status stance rank
                                       source { id name reliability } via { id } }
  facts { attribute low high highOpen disputed status explanation
          value { ... on Count { best } ... on Text { text } ... on TimeSpan { start } }
          reports { report { id } weight role } alternatives { weight } } }"""


def view(api: Api) -> ChronicleGraphQL:
    for route in api.app.routes:
        app = getattr(route, "app", None) or getattr(route, "endpoint", None)
        if isinstance(app, ChronicleGraphQL):
            return app
    raise AssertionError("no GraphQL route")


async def fresh(api: Api, variables: dict[str, Any]) -> Any:
    """The read executed with no renderings kept: what every answer must equal."""
    result = await view(api).schema.execute(
        READ, variable_values=variables,
        context_value=Context(services=api.services, authorization=None))
    assert not result.errors, result.errors
    return result.data


async def served(api: Api, variables: dict[str, Any]) -> Any:
    body = await api.post(READ, variables)
    assert "errors" not in body, body
    return body["data"]


async def test_spliced_answers_equal_fresh_ones_through_every_kind_of_change(api: Api) -> None:
    await story(api)
    renderings: EntryRenderings = view(api).renderings
    rng = random.Random(16)
    reports = 0
    for _ in range(40):
        reports = await random_change(api, rng, reports)
        for variables in ({"attribute": "killed", "withReports": True},
                          {"attribute": "weapon", "withReports": False}):
            first = await served(api, variables)
            assert first == await fresh(api, variables)
            # Another variable that no entry reads: the response cache misses, every
            # entry's rendering is reused.
            hits = renderings.hits
            again = await served(api, {**variables, "unused": rng.random()})
            assert again == first
            assert renderings.hits - hits == len(first["timeline"]["entries"]["edges"])
    assert len(renderings) > 0


async def versions(api: Api) -> dict[str, int]:
    async with api.engine.connect() as connection:
        rows = await connection.execute(text(
            "SELECT id, version FROM entries WHERE timeline = 'khasham'"))
        return {row.id: row.version for row in rows}


async def test_an_entry_version_moves_with_what_it_shows_and_only_then(api: Api) -> None:
    await story(api)
    before = await versions(api)
    await api.ok("reportFact", report("tank", "weapon", {"text": "drone"}, "mfa", "CLAIMED",
                                      "2018-02-12T00:00:00Z"))
    after_report = await versions(api)
    assert after_report["tank"] > before["tank"]
    assert {e: v for e, v in after_report.items() if e != "tank"} == \
        {e: v for e, v in before.items() if e != "tank"}
    # A regrade moves every entry citing the source, and no other.
    cited = await api.scalar("SELECT array_agg(DISTINCT entry) FROM reports "
                             "WHERE timeline = 'khasham' AND (source = 'mfa' OR via = 'mfa')")
    await api.ok("gradeSource", {"source": "mfa", "reliability": "E"})
    after_grade = await versions(api)
    moved = {e for e in after_grade if after_grade[e] != after_report[e]}
    assert moved == set(cited)
    await api.ok("openEntry", {"timeline": "khasham", "id": "later", "title": "Later"})
    assert (await versions(api))["later"] > max(after_grade.values())


async def test_a_long_page_rendered_in_turns_keeps_its_order_and_its_facts(api: Api) -> None:
    await story(api)
    for n in range(60):
        await api.ok("openEntry", {"timeline": "khasham", "id": f"e{n:02}", "title": f"E{n}"})
        await api.ok("reportFact", report(f"e{n:02}", "weapon", {"text": f"weapon {n}"},
                                          "mfa", "CLAIMED", "2018-02-12T00:00:00Z"))
    query = """{ timeline(slug: "khasham") { entries(first: 100) {
      nodes { id facts { attribute value { ... on Text { text } } } } } } }"""
    for _ in range(2):  # rendered afresh, then spliced
        body = await api.post(query)
        nodes = body["data"]["timeline"]["entries"]["nodes"]
        page = await api.services.read_model.entries("khasham", 100)
        assert [node["id"] for node in nodes] == [row.id for row in page.entries]
        for node in nodes:
            if node["id"].startswith("e"):
                assert node["facts"] == [{"attribute": "weapon",
                                          "value": {"text": f"weapon {int(node['id'][1:])}"}}]


async def test_entry_versions_do_not_depend_on_how_the_log_was_batched(api: Api) -> None:
    """A rebuild folds the log in chunks of thousands, the appender in batches of a few:
    every entry's version comes out the same (a rendering's key names one content)."""
    await story(api)
    rng = random.Random(7)
    reports = 0
    for _ in range(40):
        reports = await random_change(api, rng, reports)
    before = await versions(api)
    await replay_read_model(api.services.store)
    assert await versions(api) == before
