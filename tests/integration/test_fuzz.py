"""Hostile and random input: generated operations (hypothesis-graphql, valid and invalid)
and malformed requests never get a 500, a stack trace or SQL back, and always a code."""

from __future__ import annotations

import base64
import json
from datetime import UTC

import pytest
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, nodes

from api.graphql.schema import schema_sdl
from tests.integration.clean_answers import assert_clean
from tests.integration.conftest import Api
from tests.strategies import examples

SCALARS = {
    "DateTime": st.datetimes().map(lambda d: nodes.String(d.isoformat() + "Z")),
    "JSON": st.just(nodes.String("{}")),
}
EXAMPLES = 60

# Opaque ids and cursors a client sends back: the API's own shapes, holding anything.
texts = st.text(max_size=30)
numbers = (st.sampled_from([-1, 0, 1, 2**31, 2**63 - 1, 2**63, 2**70])
           | st.integers(min_value=-1, max_value=2**70)).map(str)
instants = st.datetimes(timezones=st.none() | st.just(UTC)).map(lambda d: d.isoformat())
anything = st.recursive(st.none() | st.booleans() | st.integers() | texts
                        | st.integers(min_value=2**62, max_value=2**80).map(str),
                        lambda inner: st.lists(inner, max_size=3), max_leaves=6)
moments = st.one_of(st.none(), st.lists(st.sampled_from(["RECORDED", "REPORTED"]) | texts
                                        | instants | anything, max_size=3), anything)
node_ids = st.tuples(
    st.sampled_from(["Timeline", "Entry", "Source", "Event", "Report", "Fact"]) | texts,
    st.lists(st.sampled_from(["khasham", "strike", "pentagon", "killed", "1"]) | texts
             | numbers, max_size=3) | anything,
    st.sampled_from([None, "khasham"]) | anything, moments,
).map(lambda parts: base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode())
cursor_payloads = numbers | texts | st.tuples(st.just("") | instants | texts, numbers | texts
                                              ).map("|".join)
cursors = st.tuples(st.sampled_from(["entry", "event", "checkpoint"]) | texts,
                    cursor_payloads).map(
    lambda c: base64.urlsafe_b64encode(f"{c[0]}:{c[1]}".encode()).decode())
READS_WITH_OPAQUE_INPUT = {
    "id": "query($v: ID!) { node(id: $v) { __typename nodeId } }",
    "entries": 'query($v: String) { timeline(slug: "khasham") '
               "{ entries(after: $v) { totalCount } } }",
    "events": "query($v: String) { events(after: $v) { nodes { position } } }",
    "checkpoints": "query($v: String) { checkpoints(after: $v) { edges { cursor } } }",
}


def generated(mode: Mode, count: int = EXAMPLES) -> list[str]:
    """Operations hypothesis-graphql makes from our schema."""
    return examples(from_schema(schema_sdl(), custom_scalars=SCALARS, mode=mode,
                                allow_x00=False), count)


@pytest.mark.parametrize("mode", [Mode.POSITIVE, Mode.NEGATIVE])
async def test_generated_operations_get_answers_or_coded_errors(seeded: Api, mode: Mode) -> None:
    queries = generated(mode)
    assert len(queries) >= EXAMPLES // 2
    for query in queries:
        response = await seeded.client.post(
            "/graphql", json={"query": query},
            headers={"authorization": f"Bearer {seeded.token}"})
        assert_clean(response)


@pytest.mark.parametrize("read", list(READS_WITH_OPAQUE_INPUT))
async def test_forged_ids_and_cursors_get_answers_or_coded_errors(seeded: Api,
                                                                  read: str) -> None:
    """Ids and cursors of the API's own shape (base64 of JSON, or of ``kind:payload``)
    holding anything: never an INTERNAL error, whatever reaches the query."""
    values = examples(node_ids if read == "id" else cursors, EXAMPLES * 2)
    for value in values:
        response = await seeded.client.post(
            "/graphql", json={"query": READS_WITH_OPAQUE_INPUT[read], "variables": {"v": value}},
            headers={"authorization": f"Bearer {seeded.token}"})
        assert_clean(response)


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("mode", [Mode.POSITIVE, Mode.NEGATIVE])
async def test_many_more_generated_operations(seeded: Api, mode: Mode) -> None:
    """The same, at length (pytest -m slow)."""
    for query in generated(mode, count=1500):
        response = await seeded.client.post(
            "/graphql", json={"query": query},
            headers={"authorization": f"Bearer {seeded.token}"})
        assert_clean(response)


BAD_BODIES: list[tuple[str, bytes | str]] = [
    ("not json", b"{not json"),
    ("invalid utf-8", b'{"query": "{ timelines { slug } }", "x": "\xff\xfe"}'.replace(
        b"\\xff\\xfe", bytes([0xFF, 0xFE]))),
    ("raw invalid utf-8", bytes([0x7B, 0xFF, 0xFE, 0x7D])),
    ("array", b"[1, 2, 3]"),
    ("query not a string", json.dumps({"query": 42})),
    ("variables not an object", json.dumps({"query": "{ __typename }", "variables": [1]})),
    ("huge string", json.dumps({"query": '{ timeline(slug: "' + "x" * 200_000 + '") { slug } }'})),
    ("number out of range", json.dumps({"query": "{ events(first: 99999999999999999999) "
                                        "{ nodes { position } } }"})),
    ("int overflow variable", json.dumps({
        "query": "query($n: Int) { events(first: $n) { nodes { position } } }",
        "variables": {"n": 2**40}})),
    ("nul in a string", json.dumps({"query": '{ timeline(slug: "a\u0000b") { slug } }'})),
    ("escaped nul in an argument", json.dumps({"query": '{ timeline(slug: "a'
                                               + "\\" + 'u0000b") { slug } }'})),
    ("escaped nul in an idempotency key", json.dumps({"query": 'mutation { createTimeline('
                                                      'input: {slug: "n", title: "N", '
                                                      'idempotencyKey: "k' + "\\"
                                                      + 'u0000"}) { event { position } } }'})),
    ("sql injection", json.dumps({"query": '{ timeline(slug: "x\' OR 1=1; DROP TABLE '
                                  'events; --") { slug } source(id: "\"; DELETE FROM '
                                  'events") { id } }'})),
]


@pytest.mark.parametrize(("name", "body"), BAD_BODIES, ids=[n for n, _ in BAD_BODIES])
async def test_malformed_requests_get_coded_refusals(seeded: Api, name: str,
                                                      body: bytes | str) -> None:
    events = await seeded.event_count()
    response = await seeded.client.post("/graphql", content=body, headers={
        "content-type": "application/json", "authorization": f"Bearer {seeded.token}"})
    assert_clean(response)
    assert await seeded.event_count() == events  # inert: nothing written, nothing dropped


@pytest.mark.parametrize("path", ["/embed/a%00b", "/embed/a%00b/live", "/export/a%00b.csv",
                                  "/export/a%00b/timelinejs.json",
                                  "/oembed?url=http%3A%2F%2Fchronicle.test%2Fembed%2Fa%2500b"])
async def test_nul_in_a_path_is_refused_not_a_500(api: Api, path: str) -> None:
    response = await api.client.get(path)
    assert response.status_code in (400, 404)
