"""Frontend GraphQL clients from npm, run by Node against a real ``chronicle serve``: Apollo
Client and urql with Graphcache keep a timeline query in their normalized cache, and a
``timelineChanged`` subscription updates it after a write, with the configuration README.md's
"Clients" section shows (and not without it).

The scripts are tests/e2e/node/apollo_cache.mjs and urql_cache.mjs; the config README.md shows
is the block between ``// README: <name>`` and ``// README: end`` in each, word for word.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    build_schema,
)

from tests.e2e.node_tools import NODE_DIR, client_cache_check
from tests.e2e.servers import Server, token

ROOT = Path(__file__).resolve().parents[2]

SEED = [
    'mutation { createTimeline(input: {slug: "clients", title: "Clients"}) '
    "{ event { position } } }",
    'mutation { registerSource(input: {id: "ministry", name: "Ministry", kind: GOVERNMENT}) '
    "{ event { position } } }",
    'mutation { registerSource(input: {id: "observatory", name: "Observatory", kind: NGO}) '
    "{ event { position } } }",
    'mutation { gradeSource(input: {source: "observatory", reliability: A}) '
    "{ event { position } } }",
    'mutation { openEntry(input: {timeline: "clients", id: "strike", title: "Strike"}) '
    "{ event { position } } }",
    'mutation { reportFact(input: {timeline: "clients", entry: "strike", attribute: "killed", '
    'value: {count: {best: 5}}, source: "ministry", stance: CLAIMED, '
    'reportedAt: "2018-02-08T06:00:00Z", id: "ministry-5"}) { event { position } } }',
]

# What the clients' configured client sends: an A-graded source confirms 40 killed.
REPORT = {"timeline": "clients", "entry": "strike", "attribute": "killed",
          "value": {"count": {"best": 40}}, "source": "observatory", "stance": "CONFIRMED",
          "reportedAt": "2018-02-09T12:00:00Z", "id": "observatory-40"}

BEFORE = {"best": 5, "disputed": False, "status": "SINGLE_SOURCE",
          "reports": {"ministry-5": "SUPPORTS"}}
# 40 (weight 1.0) outweighs 5 (ungraded F 0.5 x claimed 0.7 = 0.35), which still disputes it.
AFTER = {"best": 40, "disputed": True, "status": "CONTESTED",
         "reports": {"ministry-5": "CONTRADICTS", "observatory-40": "SUPPORTS"}}


@pytest.fixture
def seeded(chronicle_env: dict[str, str]) -> Iterator[tuple[Server, str]]:
    """A server with the timeline "clients": one entry, one fact from one report; and a
    write token."""
    server = Server(chronicle_env)
    try:
        bearer = token(chronicle_env)
        for mutation in SEED:
            body = server.graphql(mutation, bearer)
            assert "errors" not in body, body
        yield server, bearer
    finally:
        server.stop()


def check(script: str, seeded: tuple[Server, str]) -> dict[str, Any]:
    server, bearer = seeded
    return client_cache_check(
        script, http_url=server.url + "/graphql",
        ws_url=server.url.replace("http://", "ws://") + "/graphql", token=bearer,
        timeline="clients", entry="strike", attribute="killed", report=REPORT)


def summary(fact: dict[str, Any]) -> dict[str, Any]:
    return {"best": fact["value"]["best"], "disputed": fact["disputed"],
            "status": fact["status"],
            "reports": {r["report"]["id"]: r["role"] for r in fact["reports"]}}


def assert_the_subscription_updated_only_the_configured_cache(seen: dict[str, Any]) -> None:
    configured, default = seen["configured"], seen["default"]
    before = configured["before"]
    assert summary(before) == BEFORE
    pushed = configured["pushed"]
    assert summary(pushed) == AFTER
    # The payload's fact is the query's fact by its global id: that is what caches key on.
    assert pushed["nodeId"] == before["nodeId"]
    assert configured["cached"] == pushed, "the subscription's fact did not reach the cache"
    assert configured["watched"] == pushed
    # The same payload, with the library's default keys, leaves the cached query stale.
    assert summary(default["pushed"]) == AFTER
    assert default["before"] == before
    assert default["cached"] == before


def schema() -> GraphQLSchema:
    return build_schema((ROOT / "schema.graphql").read_text())


def node_types(sdl: GraphQLSchema) -> list[str]:
    node = sdl.type_map["Node"]
    assert isinstance(node, GraphQLInterfaceType)
    return sorted(t.name for t in sdl.get_possible_types(node))


def value_types(sdl: GraphQLSchema) -> list[str]:
    value = sdl.type_map["Value"]
    assert isinstance(value, GraphQLUnionType)
    return sorted(t.name for t in sdl.get_possible_types(value))


def test_apollo_client_cache_follows_timeline_changed(
        node_modules: Path, seeded: tuple[Server, str]) -> None:
    seen = check("apollo_cache.mjs", seeded)
    assert_the_subscription_updated_only_the_configured_cache(seen)
    assert seen["configured"]["cacheId"] == seen["configured"]["before"]["nodeId"]
    assert seen["default"]["cacheId"] is None  # Apollo's default: a Fact has no `id`
    sdl = schema()
    assert {k: sorted(v) for k, v in seen["possibleTypes"].items()} == {
        "Node": node_types(sdl), "Value": value_types(sdl)}
    assert seen["dev"] is True, "Apollo ran its production build, which warns about nothing"
    assert seen["warnings"] == []


def test_urql_graphcache_follows_timeline_changed(
        node_modules: Path, seeded: tuple[Server, str]) -> None:
    seen = check("urql_cache.mjs", seeded)
    assert_the_subscription_updated_only_the_configured_cache(seen)
    sdl = schema()
    nodes = set(node_types(sdl))
    objects = [t for name, t in sdl.type_map.items()
               if isinstance(t, GraphQLObjectType) and not name.startswith("__")]
    assert seen["keys"] == {t.name: "nodeId" if t.name in nodes else None for t in objects}
    assert seen["warnings"]["configured"] == []
    assert any("Invalid key" in w and "`Fact`" in w for w in seen["warnings"]["default"]), \
        seen["warnings"]["default"]


def readme_clients_section() -> str:
    readme = (ROOT / "README.md").read_text()
    found = re.search(r"^## Clients\n(.*?)(?=^## )", readme, re.S | re.M)
    assert found, "README.md has no '## Clients' section"
    return found.group(1)


def marked_blocks(script: Path) -> dict[str, str]:
    return dict(re.findall(r"^// README: (\S+)\n(.*?)^// README: end\n", script.read_text(),
                           re.S | re.M))


@pytest.mark.parametrize("script", ["apollo_cache.mjs", "urql_cache.mjs"])
def test_readme_shows_the_config_the_client_tests_run(script: str) -> None:
    blocks = marked_blocks(NODE_DIR / script)
    assert blocks, f"{script} marks no README block"
    section = readme_clients_section()
    for name, block in blocks.items():
        assert block in section, (f"README.md's Clients section no longer shows the {name} "
                                  f"block of tests/e2e/node/{script} word for word")
