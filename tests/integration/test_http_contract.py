"""What frontends and caches rely on over HTTP: limits, media types, ETags, CORS, sizes,
and a bounded number of SQL queries per read."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from graphql import build_client_schema, get_introspection_query
from sqlalchemy import event

from api.settings import Settings
from tests.integration.conftest import Api, running_api

GRAPHQL_RESPONSE = "application/graphql-response+json"


@pytest.fixture
async def strict(database_url: str) -> AsyncIterator[Api]:
    """Small limits, no introspection, one allowed origin."""
    settings = Settings(database_url=database_url, migrate_on_start=False, max_depth=4,
                        max_aliases=3, max_cost=100, max_tokens=200, max_body_bytes=2000,
                        introspection=False, cors_origins=("https://news.example",),
                        max_first=20)
    async with running_api(settings) as api:
        yield api


def code(body: dict[str, Any]) -> str:
    result: str = body["errors"][0]["extensions"]["code"]
    return result


async def test_a_depth_bomb_is_refused_before_it_runs(api: Api) -> None:
    bomb = "{ timelines { " + "entries { nodes { " * 20 + "id" + " } }" * 20 + " } }"
    body = await api.post(bomb)
    assert code(body) == "QUERY_TOO_COMPLEX"
    assert "deep" in body["errors"][0]["message"]
    assert body.get("data") is None


async def test_a_thousand_aliases_are_refused(api: Api) -> None:
    body = await api.post("{ " + " ".join(f"a{i}: __typename" for i in range(1000)) + " }")
    assert code(body) == "QUERY_TOO_COMPLEX"


async def test_too_many_tokens_and_too_much_nesting_are_refused_by_the_parser(
        api: Api, strict: Api) -> None:
    assert code(await strict.post("{ " + "a " * 300 + "}")) == "QUERY_TOO_COMPLEX"
    deep = "{ " + "a { " * 1000 + "}" * 1000 + " }"
    assert code(await api.post(deep)) == "QUERY_TOO_COMPLEX"


async def test_cost_multiplies_the_first_of_every_enclosing_connection(strict: Api) -> None:
    await strict.ok("createTimeline", {"slug": "t", "title": "T"})
    read = "query($n: Int) { timeline(slug: \"t\") { entries(first: $n) { nodes { id title } } } }"
    assert "errors" not in await strict.post(read, {"n": 10})
    assert code(await strict.post(read, {"n": 50})) == "QUERY_TOO_COMPLEX"
    literal = "{ timeline(slug: \"t\") { entries(first: 50) { nodes { id title } } } }"
    assert code(await strict.post(literal)) == "QUERY_TOO_COMPLEX"


async def test_limits_are_settings(strict: Api) -> None:
    assert code(await strict.post("{ a: __typename b: __typename c: __typename "
                                  "d: __typename }")) == "QUERY_TOO_COMPLEX"
    five = "{ timelines { entries { nodes { facts { attribute } } } } }"
    assert code(await strict.post(five)) == "QUERY_TOO_COMPLEX"


async def test_the_largest_page_is_a_setting(api: Api, strict: Api) -> None:
    await strict.ok("createTimeline", {"slug": "t", "title": "T"})
    page = "query($n: Int) { timeline(slug: \"t\") { entries(first: $n) { totalCount } } }"
    assert "errors" not in await strict.post(page, {"n": 20})
    refused = await strict.post(page, {"n": 21})
    assert code(refused) == "BAD_INPUT"
    assert refused["errors"][0]["extensions"]["field"] == "first"
    assert code(await api.post("{ events(first: 501) { nodes { position } } }")) == "BAD_INPUT"


async def test_a_cursor_past_any_position_is_bad_input(api: Api) -> None:
    await api.ok("createTimeline", {"slug": "t", "title": "T"})
    for query, cursor in [
            ('{{ events(after: "{}") {{ nodes {{ position }} }} }}', f"event:{2**63}"),
            ('{{ timeline(slug: "t") {{ entries(after: "{}") {{ totalCount }} }} }}',
             f"entry:2020-01-01T00:00:00+00:00|{2**63}")]:
        too_far = base64.urlsafe_b64encode(cursor.encode()).decode()
        assert code(await api.post(query.format(too_far))) == "BAD_INPUT", cursor


async def test_introspection_can_be_switched_off(api: Api, strict: Api) -> None:
    query = "{ __schema { queryType { name } } }"
    assert (await api.post(query))["data"]["__schema"]["queryType"]["name"] == "Query"
    refused = await strict.post(query)
    assert code(refused) == "BAD_INPUT"
    assert "introspection" in refused["errors"][0]["message"]


def standard_introspections() -> list[str]:
    """The introspection queries tools send: graphql-core's (as graphql-js's
    getIntrospectionQuery) with every option GraphiQL, code generators and schemathesis
    turn on, and a bare one."""
    everything = {"descriptions": True, "specified_by_url": True,
                  "directive_is_repeatable": True, "schema_description": True,
                  "input_value_deprecation": True}
    return [get_introspection_query(**everything), get_introspection_query()]


@pytest.mark.parametrize("which", [0, 1])
async def test_introspection_is_not_refused_by_the_limits_for_data(
        strict: Api, api: Api, which: int) -> None:
    query = standard_introspections()[which]
    body = await api.post(query)
    assert "errors" not in body, body["errors"]
    schema = build_client_schema(body["data"])
    assert schema.query_type is not None and "timeline" in schema.query_type.fields
    assert code(await strict.post(query)) == "BAD_INPUT"  # switched off stays off


async def test_an_introspection_nesting_the_schema_in_itself_is_refused(api: Api) -> None:
    nested = "{ __schema { types { " + "fields { type { " * 4 + "name" + " } }" * 4 + " } } }"
    body = await api.post(nested)
    assert code(body) == "QUERY_TOO_COMPLEX"
    assert "nests lists of the schema" in body["errors"][0]["message"]


async def test_graphql_response_json_answers_request_errors_with_400_and_no_data(
        api: Api) -> None:
    response = await api.client.post("/graphql", json={"query": "{ timelines { "},
                                     headers={"accept": GRAPHQL_RESPONSE})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert "data" not in response.json()
    legacy = await api.client.post("/graphql", json={"query": "{ timelines { "},
                                   headers={"accept": "application/json"})
    assert legacy.status_code == 200
    assert legacy.headers["content-type"].startswith("application/json")
    ok = await api.client.post("/graphql", json={"query": "{ __typename }"},
                               headers={"accept": f"{GRAPHQL_RESPONSE}, application/json;q=0.9"})
    assert ok.status_code == 200
    assert ok.headers["content-type"].startswith(GRAPHQL_RESPONSE)


async def test_an_operation_name_that_is_not_a_string_is_a_400(api: Api) -> None:
    response = await api.client.post("/graphql", json={"query": "{ __typename }",
                                                       "operationName": {"x": 1}})
    assert response.status_code == 400


async def test_get_reads_carry_an_etag_and_answer_304_until_the_timeline_changes(
        seeded: Api) -> None:
    params = {"query": "{ timeline(slug: \"khasham\") { version entries { totalCount } } }"}
    first = await seeded.client.get("/graphql", params=params)
    assert first.status_code == 200
    tag = first.headers["etag"]
    again = await seeded.client.get("/graphql", params=params, headers={"if-none-match": tag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == tag

    await seeded.ok("openEntry", {"timeline": "khasham", "id": "jets", "title": "Jets"})
    changed = await seeded.client.get("/graphql", params=params,
                                      headers={"if-none-match": tag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != tag
    assert changed.json()["data"]["timeline"]["entries"]["totalCount"] == 2


async def test_other_get_reads_are_tagged_by_the_log(seeded: Api) -> None:
    params = {"query": "{ sources { id } }"}
    tag = (await seeded.client.get("/graphql", params=params)).headers["etag"]
    assert (await seeded.client.get("/graphql", params=params,
                                    headers={"if-none-match": tag})).status_code == 304
    await seeded.ok("registerSource", {"id": "mfa", "name": "MFA", "kind": "GOVERNMENT"})
    assert (await seeded.client.get("/graphql", params=params,
                                    headers={"if-none-match": tag})).status_code == 200


async def test_mutations_over_get_are_refused_with_405(api: Api) -> None:
    response = await api.client.get("/graphql", params={
        "query": "mutation { createTimeline(input: {slug: \"t\", title: \"T\"}) "
                 "{ event { position } } }"})
    assert response.status_code == 405
    assert await api.event_count() == 0


async def test_bodies_over_the_limit_are_refused_whole(strict: Api) -> None:
    big = {"query": "{ __typename }", "variables": {"pad": "x" * 3000}}
    response = await strict.client.post("/graphql", json=big)
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "{ __typename }", "variables": {"pad": "'
        for _ in range(10):
            yield b"x" * 500
        yield b'"}}'

    chunked = await strict.client.post("/graphql", content=chunks(),
                                       headers={"content-type": "application/json"})
    assert chunked.status_code == 413
    small = await strict.client.post("/graphql", json={"query": "{ __typename }"})
    assert small.status_code == 200


async def test_cors_allows_the_configured_origins(strict: Api) -> None:
    preflight = await strict.client.options("/graphql", headers={
        "origin": "https://news.example", "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://news.example"
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    other = await strict.client.options("/graphql", headers={
        "origin": "https://elsewhere.example", "access-control-request-method": "POST"})
    assert "access-control-allow-origin" not in other.headers


LOG_FEED_TASK = "chronicle-log-feed"  # events/postgres/log_feed.py names its task so


@contextmanager
def counted_queries(api: Api) -> Iterator[list[str]]:
    """The statements the app sends meanwhile, less the log feed's: it reads the log in the
    background (one more, empty read after catching up), on its own schedule."""
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        task = asyncio.current_task()
        if task is None or task.get_name() != LOG_FEED_TASK:
            statements.append(statement)

    engine = api.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


FULL_READ = """{ timeline(slug: "khasham") { version entries(first: 500) { nodes { id title
  occurred { start } facts { attribute explanation reports { weight report { id source { id } } }
  alternatives { weight } } reports { id source { name } via { name } } } } } }"""


async def test_a_full_timeline_read_costs_the_same_queries_for_2_or_20_entries(
        seeded: Api) -> None:
    async def read() -> list[str]:
        await seeded.services.feed.reached(await seeded.event_count())
        with counted_queries(seeded) as statements:
            body = await seeded.post(FULL_READ)  # a new version each time: never cached
            assert "errors" not in body, body["errors"]
        return statements

    async def grow(entries: int) -> None:
        for i in range(entries):
            entry = f"e{i}-{await seeded.event_count()}"
            await seeded.ok("openEntry", {"timeline": "khasham", "id": entry, "title": entry})
            await seeded.ok("reportFact", {
                "timeline": "khasham", "entry": entry, "attribute": "killed",
                "value": {"count": {"best": i}}, "source": "pentagon", "stance": "CLAIMED",
                "reportedAt": "2018-02-08T12:00:00Z"})

    await grow(1)
    small = await read()
    await grow(19)
    statements = await read()
    assert len(statements) == len(small), (small, statements)


async def test_a_document_is_parsed_once_and_a_bad_one_every_time(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    import strawberry.schema.schema as executing

    parsed: list[str] = []
    parse = executing.parse

    def counting(source: Any, **options: Any) -> Any:
        parsed.append(str(source))
        return parse(source, **options)

    monkeypatch.setattr(executing, "parse", counting)
    query = "{ timelines { slug title } } # parsed once"
    for _ in range(3):
        assert "errors" not in await api.post(query)
    assert parsed.count(query) == 1
    for _ in range(2):
        assert code(await api.post("{ timelines { slug ")) == "BAD_INPUT"
    assert parsed.count("{ timelines { slug ") == 2
