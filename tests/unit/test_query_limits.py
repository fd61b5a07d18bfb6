"""Depth, aliases, cost and introspection limits, on Chronicle's schema: strawberry's rules
and Chronicle's cost, each refusal a ``QUERY_TOO_COMPLEX`` error saying which limit."""

from __future__ import annotations

import functools
from typing import Any

import pytest
import strawberry
from graphql import GraphQLError, build_client_schema, get_introspection_query, parse

from api.graphql.limits import (
    MAX_NESTED_SCHEMA_LISTS,
    MAX_NESTING,
    MAX_SELECTIONS,
    Limiter,
    QueryLimits,
)
from api.graphql.schema import build_schema
from api.settings import Settings

DEFAULT = QueryLimits()
STRICT = QueryLimits(max_depth=4, max_aliases=3, max_cost=100, max_tokens=5_000)
TOO_COMPLEX = {"code": "QUERY_TOO_COMPLEX"}


@functools.cache
def schema_with(limits: QueryLimits) -> strawberry.Schema:
    return build_schema(limits)


def refusal(document: str, limits: QueryLimits = DEFAULT,
            variables: dict[str, Any] | None = None,
            operation_name: str | None = None) -> GraphQLError | None:
    schema = schema_with(QueryLimits())._schema
    return Limiter(limits).refusal(schema, parse(document), operation_name, variables)


def refused(document: str, limits: QueryLimits = DEFAULT,
            variables: dict[str, Any] | None = None) -> str:
    error = refusal(document, limits, variables)
    assert error is not None, "not refused"
    assert error.extensions == TOO_COMPLEX
    return error.message


def nested(depth: int, leaf: str = "leaf") -> str:
    """A query ``depth`` fields deep, its leaf included."""
    return "{ " + "a { " * (depth - 1) + leaf + " }" * (depth - 1) + " }"


def introspection(lists: int) -> str:
    """An introspection nesting ``lists`` lists of the schema (types, then fields)."""
    inner = "fields { type { " * (lists - 1) + "name" + " } }" * (lists - 1)
    return "{ __schema { types { " + inner + " } } }"


def test_the_limits_keep_their_values_and_settings_name_them() -> None:
    assert QueryLimits() == QueryLimits(max_depth=12, max_aliases=50, max_cost=50_000,
                                        max_tokens=5_000)
    settings = Settings()
    assert QueryLimits() == QueryLimits(settings.max_depth, settings.max_aliases,
                                        settings.max_cost, settings.max_tokens)


@pytest.mark.parametrize("depth", [1, 4, 12])
def test_depth_counts_every_field_its_leaf_included(depth: int) -> None:
    limits = QueryLimits(max_depth=depth)
    assert refusal(nested(depth), limits) is None
    error = refusal(nested(depth + 1), limits)
    assert error is not None and error.extensions == TOO_COMPLEX
    assert error.message == (f"The query is more than {depth} fields deep; at most {depth} "
                             "are allowed.")
    assert error.nodes is not None and error.nodes[0].to_dict()["name"]["value"] == "leaf"


def test_depth_goes_through_fragments_and_counts_typename() -> None:
    document = ("{ a { ...F } } fragment F on Timeline { b { ... on Entry { c { d } } } }")
    assert refusal(document, QueryLimits(max_depth=4)) is None
    assert "more than 3 fields deep" in refused(document, QueryLimits(max_depth=3))
    assert refusal(nested(3, "__typename"), QueryLimits(max_depth=3)) is None
    assert "more than 2 fields deep" in refused(nested(3, "__typename"),
                                                 QueryLimits(max_depth=2))


def test_aliases_count_those_of_the_fragments_spread() -> None:
    document = "{ a: timelines { slug } ...F } fragment F on Query { b: sources { c: id } }"
    assert refusal(document, QueryLimits(max_aliases=3)) is None
    assert refused(document, QueryLimits(max_aliases=2)) == (
        "The query has 3 aliases; at most 2 are allowed.")


READ = "{ timeline(slug: \"t\") { entries(first: 10) { nodes { id title } } } }"


def test_cost_is_one_per_field_times_the_first_of_each_enclosing_connection() -> None:
    # timeline 1 + entries (1 + 10 × (nodes 1 + id 1 + title 1)) = 32
    assert refusal(READ, QueryLimits(max_cost=32)) is None
    assert refused(READ, QueryLimits(max_cost=31)) == (
        "The query would cost 32 (one per field, times the `first` of each enclosing "
        "connection); at most 31 is allowed.")


def test_cost_takes_first_from_variables_or_the_default() -> None:
    read = "query($n: Int) { timeline(slug: \"t\") { entries(first: $n) { nodes { id } } } }"
    assert "cost 102 " in refused(read, QueryLimits(max_cost=1), {"n": 50})
    assert "cost 202 " in refused(read, QueryLimits(max_cost=1))  # first: 100 by default


def test_cost_multiplies_a_fragment_by_where_it_is_spread() -> None:
    document = ("{ a: timeline(slug: \"a\") { entries(first: 10) { nodes { ...E } } } "
                "b: timeline(slug: \"b\") { entries(first: 2) { nodes { ...E } } } } "
                "fragment E on Entry { id title }")
    # 32 as READ, then 1 + (1 + 2 × 3) = 8
    assert "cost 40 " in refused(document, QueryLimits(max_cost=39))
    assert refusal(document, QueryLimits(max_cost=40)) is None


def test_cost_is_that_of_the_operation_that_runs() -> None:
    document = f"query Small {{ sources {{ id }} }} query Big {READ}"
    schema = schema_with(QueryLimits())._schema
    limiter = Limiter(QueryLimits(max_cost=31))
    assert limiter.refusal(schema, parse(document), "Small", None) is None
    assert limiter.refusal(schema, parse(document), "Big", None) is not None


def graphiql_introspection(type_depth: int = 9) -> str:
    """The introspection query as GraphiQL sends it: every option, and ``ofType`` nested
    ``type_depth`` deep (13 to 15 fields in all)."""
    return get_introspection_query(
        descriptions=True, specified_by_url=True, directive_is_repeatable=True,
        schema_description=True, input_value_deprecation=True, one_of=True,
        type_depth=type_depth)


@pytest.mark.parametrize("type_depth", [9, 12])
async def test_introspection_is_bounded_by_the_schema_not_by_the_limits(
        type_depth: int) -> None:
    query = graphiql_introspection(type_depth)
    assert refusal(query, STRICT) is None
    result = await schema_with(STRICT).execute(query)
    assert result.errors is None
    assert result.data is not None
    assert "timeline" in build_client_schema(result.data).query_type.fields


def test_introspection_caps_lists_of_the_schema_nested_in_one_another() -> None:
    assert refusal(introspection(MAX_NESTED_SCHEMA_LISTS), STRICT) is None
    assert refused(introspection(MAX_NESTED_SCHEMA_LISTS + 1), STRICT) == (
        f"The introspection nests lists of the schema {MAX_NESTED_SCHEMA_LISTS + 1} deep; "
        f"at most {MAX_NESTED_SCHEMA_LISTS} are allowed.")


def test_schema_lists_are_counted_through_fragments_and_beside_data() -> None:
    spread = ("{ __type(name: \"Query\") { ...L } } fragment L on __Type { fields { type { "
              "fields { type { fields { type { fields { type { fields { name } } } } } } } "
              "} } }")
    assert "lists of the schema 5 deep" in refused(spread)
    mixed = introspection(MAX_NESTED_SCHEMA_LISTS + 1).replace("{ __schema", "{ sources "
                                                                "{ id } __schema", 1)
    assert "lists of the schema" in refused(mixed)


async def test_every_refusal_comes_out_of_the_schema_coded() -> None:
    for query in (nested(5), "{ a: __typename b: __typename c: __typename d: __typename }",
                  READ.replace("10", "50"), introspection(MAX_NESTED_SCHEMA_LISTS + 1)):
        result = await schema_with(STRICT).execute(query)
        assert result.data is None
        assert result.errors is not None and len(result.errors) == 1, query
        assert result.errors[0].extensions == TOO_COMPLEX, query


def doubling(n: int, on: str = "Query", leaf: str = "__typename") -> str:
    """Fragments each spreading the next twice: ``2 ** n`` leaves once spread."""
    fragments = " ".join(f"fragment F{i} on {on} {{ ...F{i + 1} ...F{i + 1} }}"
                         for i in range(n))
    return f"{fragments} fragment F{n} on {on} {{ {leaf} }}"


def test_fragments_spread_into_too_many_selections_are_refused_before_the_rules_walk_them(
        ) -> None:
    # Strawberry's rules would walk every one of the 2 ** 16 leaves, and twice as many
    # spreads; the measure here takes each fragment once.
    message = refused("{ ...F0 } " + doubling(16))
    assert message == (f"Once its fragments are spread, the query has more than "
                       f"{MAX_SELECTIONS} selections; at most {MAX_SELECTIONS} are allowed.")
    # Below __schema nothing costs, and nothing nests lists: only this bounds it.
    introspecting = "{ __schema { types { ...F0 } } } " + doubling(16, "__Type", "name")
    assert "selections" in refused(introspecting)


def chain(n: int) -> str:
    """Fragments each spreading the next, ``n`` deep below the operation."""
    return "{ ...F0 } " + " ".join(f"fragment F{i} on Query {{ ...F{i + 1} }}"
                                   for i in range(n - 1)) + \
        f" fragment F{n - 1} on Query {{ __typename }}"


def test_fragments_nested_too_deep_for_the_rules_to_walk_are_refused() -> None:
    assert refusal(chain(MAX_NESTING - 1)) is None  # the operation's own set is one more
    assert refused(chain(MAX_NESTING + 5)) == (
        f"The query nests selections and fragments more than {MAX_NESTING} deep; at most "
        f"{MAX_NESTING} are allowed.")


@pytest.mark.parametrize("document", [
    "{ ...Nope }",
    "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }",
])
async def test_an_unknown_fragment_or_a_cycle_is_left_to_validation(document: str) -> None:
    assert refusal(document) is None
    result = await schema_with(QueryLimits()).execute(document)
    assert result.errors is not None
    assert result.errors[0].extensions == {"code": "BAD_INPUT"}
    assert "fragment" in result.errors[0].message.lower()
