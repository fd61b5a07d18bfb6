"""Which selections under an entry may be rendered once per entry version, and what their
renderings are keyed by (api/graphql/fragments.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    OperationDefinitionNode,
    get_named_type,
    parse,
)

from api.graphql.admission import Turns
from api.graphql.fragments import (
    BEYOND_THE_ENTRY,
    ENTRY_FIELDS,
    EntryRenderings,
    Selection,
    entry_selection,
    render,
    variable_values,
)
from api.graphql.limits import QueryLimits
from api.graphql.schema import build_schema


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    limits = QueryLimits(max_depth=30, max_aliases=100, max_cost=10**9, max_tokens=10**6)
    return build_schema(limits, True, False)._schema


def reachable_fields(schema: GraphQLSchema, root: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    todo = [root]
    while todo:
        name = todo.pop()
        if name in found:
            continue
        named = schema.get_type(name)
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            found[name] = set(named.fields)
            todo.extend(get_named_type(f.type).name for f in named.fields.values())
        elif isinstance(named, GraphQLUnionType):
            found[name] = set()
            todo.extend(member.name for member in named.types)
    return found


def test_every_field_reachable_from_an_entry_is_classified(schema: GraphQLSchema) -> None:
    """A new field under Entry must be declared inside the entry (its value moves only with
    the entry's version) or beyond it: renderings would otherwise go stale unnoticed."""
    for type_name, fields in reachable_fields(schema, "Entry").items():
        inside = ENTRY_FIELDS.get(type_name, frozenset())
        beyond = BEYOND_THE_ENTRY.get(type_name, frozenset())
        assert not inside & beyond, type_name
        assert fields == inside | beyond, (type_name, fields ^ (inside | beyond))


def selection_of(schema: GraphQLSchema, document: str) -> Selection | None:
    parsed = parse(document)
    operation = next(d for d in parsed.definitions if isinstance(d, OperationDefinitionNode))
    fragments = {d.name.value: d for d in parsed.definitions
                 if isinstance(d, FragmentDefinitionNode)}
    node: Any = operation.selection_set.selections[0]
    while node.name.value != "entry":
        node = node.selection_set.selections[0]
    entry = schema.get_type("Entry")
    assert isinstance(entry, GraphQLObjectType) and isinstance(node, FieldNode)
    return entry_selection(schema, entry, [node], fragments)


def test_a_selection_inside_the_entry_names_its_text_fragments_and_variables(
        schema: GraphQLSchema) -> None:
    selection = selection_of(schema, """query($a: String!, $r: Boolean!, $unused: Int) {
      timeline(slug: "t") { entry(id: "e") { id ...more
        fact(attribute: $a) { value { __typename ... on Count { best } } }
        reports @include(if: $r) { id source { name } } } } }
      fragment more on Entry { title facts { attribute } }""")
    assert selection is not None
    assert selection.variables == ("a", "r")
    assert "fact(attribute: $a)" in selection.text
    assert "fragment more on Entry" in selection.text


@pytest.mark.parametrize("document", [
    # A directive the key cannot account for.
    'query { timeline(slug: "t") { entry(id: "e") { id @deprecated } } }',
    # A fragment that does not exist (validation refuses it before execution anyway).
    'query { timeline(slug: "t") { entry(id: "e") { ...missing } } }',
    # A field the schema does not have (validation refuses it before execution anyway).
    'query { timeline(slug: "t") { entry(id: "e") { nope } } }',
])
def test_a_selection_the_key_cannot_cover_is_never_kept(schema: GraphQLSchema,
                                                        document: str) -> None:
    assert selection_of(schema, document) is None


def test_a_field_beyond_the_entry_keeps_its_selection_out(
        schema: GraphQLSchema, monkeypatch: pytest.MonkeyPatch) -> None:
    document = 'query { timeline(slug: "t") { entry(id: "e") { reports { source { name } } } } }'
    assert selection_of(schema, document) is not None
    monkeypatch.setitem(ENTRY_FIELDS, "Source", ENTRY_FIELDS["Source"] - {"name"})
    assert selection_of(schema, document) is None


def test_variables_are_keyed_by_their_values() -> None:
    assert variable_values({"a": "killed", "b": [1, 2]}, ("a", "b")) == \
        variable_values({"b": [1, 2], "a": "killed", "c": 3}, ("a", "b"))
    assert variable_values({"a": "killed"}, ("a",)) != variable_values({"a": "weapon"}, ("a",))
    assert variable_values({}, ("a",)) == variable_values({"a": None}, ("a",))


def test_renderings_are_json_text_kept_least_recently_used_first_out() -> None:
    renderings = EntryRenderings(capacity=2)
    one, two, three = (render({"id": str(n)}) for n in range(3))
    assert one is not None and two is not None and three is not None
    renderings.put("one", one)
    renderings.put("two", two)
    assert renderings.get("one") is one  # now the most recently used
    renderings.put("three", three)
    assert renderings.get("two") is None and renderings.get("one") is one
    assert (renderings.hits, renderings.misses, len(renderings)) == (2, 1, 2)
    assert orjson.dumps({"entries": [one]}) == b'{"entries":[{"id":"0"}]}'
    assert render({"too big": 2**70}) is None


async def test_renderings_afresh_take_turns_with_the_rest_of_the_loop() -> None:
    turns = Turns(2)
    given = [turns.next() for _ in range(7)]
    assert given[:2] == [None, None]
    assert given[2] is given[3] and given[4] is given[5] and given[6] is not given[4]
    order: list[str] = []

    async def other_work() -> None:
        for step in range(6):
            order.append(f"other {step}")
            await asyncio.sleep(0)

    async def rendering(n: int, turn: asyncio.Future[None] | None) -> None:
        if turn is not None:
            await turn
        order.append(f"render {n}")

    await asyncio.gather(other_work(), *(rendering(n, t) for n, t in enumerate(given)))
    renders = [order.index(f"render {n}") for n in range(7)]
    assert renders == sorted(renders)  # in order
    # Other work gets in between two turns, never inside one.
    between = [o for o in order[renders[1]:renders[6]] if o.startswith("other")]
    assert len(between) >= 2
    for first, last in ((2, 3), (4, 5)):
        assert renders[last] - renders[first] == 1
