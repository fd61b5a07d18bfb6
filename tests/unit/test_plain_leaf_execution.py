"""The short path for plain leaves answers exactly as graphql-core's standard path does:
the same data, the same errors at the same paths, fields in the same order; and it is a
fork of graphql-core internals, so it runs only on the graphql-core versions it was
written for, and nothing else in Chronicle touches those internals."""

from __future__ import annotations

import ast
import asyncio
import enum
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import graphql
import pytest
import strawberry
from graphql import GraphQLObjectType
from graphql.version import VersionInfo
from strawberry.extensions import SchemaExtension

from api.graphql.execution import (
    GRAPHQL_CORE_RANGE,
    PLAIN_LEAF,
    PLAIN_OBJECT,
    PlainLeafExecutionContext,
    mark_plain_leaves,
)

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
FORK = ROOT / "api" / "graphql" / "execution.py"


# --- the graphql-core versions the fork was written for -----------------------------------

def written_for(version: VersionInfo) -> bool:
    """Whether ``version`` is a release in ``GRAPHQL_CORE_RANGE`` (no pre-release: those
    of the lower bound come before it and have other internals)."""
    low, high = GRAPHQL_CORE_RANGE
    return (version.releaselevel == "final"
            and low <= (version.major, version.minor, version.micro) < high)


def _dotted(version: tuple[int, ...]) -> str:
    return ".".join(map(str, version))


def test_graphql_core_is_a_version_the_fork_was_written_for() -> None:
    low, high = GRAPHQL_CORE_RANGE
    installed = graphql.version_info
    assert str(installed) == graphql.__version__
    assert written_for(installed), (
        f"graphql-core {installed} is installed, but api/graphql/execution.py forks "
        f"graphql-core's executor as it is in >={_dotted(low)},<{_dotted(high)}: re-check the "
        f"fork against graphql-core {installed} (diff execution/executor.py for the methods "
        "its docstring lists, run this file, re-run bench/plain_leaf.py), then widen "
        "GRAPHQL_CORE_RANGE there and graphql-core's range in pyproject.toml")


@pytest.mark.parametrize(("version", "expected"), [
    ("3.2.6", False), ("3.3.0a9", False), ("3.3.0", True), ("3.3.1", True), ("3.3.2", True),
    ("3.3.3rc1", False), ("3.3.3", False), ("3.4.0", False), ("4.0.0", False),
])
def test_the_range_takes_only_the_releases_it_names(version: str, expected: bool) -> None:
    assert written_for(VersionInfo.from_str(version)) is expected


def _internal_imports(path: Path) -> list[str]:
    """What ``path`` imports of graphql-core's execution, or of strawberry's executor."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules = [(alias.name, alias.name.rsplit(".", 1)[-1]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules = [(node.module, alias.name) for alias in node.names]
        else:
            continue
        for module, name in modules:
            if (module.startswith(("graphql.execution", "strawberry.schema.schema",
                                   "strawberry.schema._graphql_core"))
                    or (name in {"Executor", "ExecutionContext", "IncrementalExecutor"}
                        and module.startswith("graphql"))):
                found.append(f"{module}.{name}")
    return found


def test_no_other_module_touches_graphql_cores_executor() -> None:
    assert _internal_imports(FORK)  # what the check looks for is there
    elsewhere = {str(path.relative_to(ROOT)): found
                 for package in ("api", "events")
                 for path in sorted((ROOT / package).rglob("*.py"))
                 if path != FORK and (found := _internal_imports(path))}
    assert not elsewhere, ("graphql-core's execution internals belong in "
                           f"api/graphql/execution.py alone: {elsewhere}")


# --- the same answers -------------------------------------------------------------------


@strawberry.enum
class Mood(enum.Enum):
    CALM = "calm"
    TENSE = "tense"


@strawberry.type
class Count:
    best: int | None


@strawberry.type
class Text:
    text: str


Value = Annotated[Count | Text, strawberry.union("Value")]


@strawberry.type
class Place:
    name: str  # None on some places: a non-null violation one level down

    @strawberry.field
    def checked(self) -> str:
        """A non-null leaf whose resolver raises on unnamed places."""
        return checked_name(self)

    @strawberry.field
    async def checked_later(self) -> str:
        """The same, awaited: the error reaches the place's field once awaited."""
        await asyncio.sleep(0)
        return checked_name(self)


def checked_name(place: Place) -> str:
    if place.name is None:
        raise ValueError("an unnamed place")
    return place.name


@strawberry.type
class Item:
    where: Place | None
    origin: Place
    name: str
    rank: int | None
    mood: Mood
    at: datetime | None
    missing: str  # holds None on some items: a non-null violation
    value: Value
    tags: list[str]

    @strawberry.field
    def shout(self, times: int = 1) -> str:
        return self.name.upper() * times

    # Leaves with resolvers, beside the plain ones: their errors, and null bubbling.
    @strawberry.field
    def boom(self) -> str | None:
        if self.name == "b":
            raise ValueError("boom on b")
        return self.name

    @strawberry.field
    def sure(self) -> str:
        if self.name == "b":
            raise ValueError("not sure about b")
        return self.name

    @strawberry.field
    def void(self) -> str:
        return None if self.name == "c" else self.name  # type: ignore[return-value]

    @strawberry.field
    async def later(self) -> str | None:
        await asyncio.sleep(0)
        if self.name == "a":
            raise ValueError("later on a")
        return self.name

    @strawberry.field
    async def surely_later(self) -> str:
        await asyncio.sleep(0)
        if self.name == "c":
            raise ValueError("not surely c")
        return self.name


class Exploding(Item):
    """An item whose ``rank`` raises when read; ``broken()`` also loses its ``mood``."""

    @property
    def rank(self) -> int | None:
        raise RuntimeError("rank exploded")

    @rank.setter
    def rank(self, _: int | None) -> None:
        pass


def broken() -> list[Item | None]:
    first, second = (Exploding(**{**vars(item), "rank": None}) for item in items()[:2])
    del second.mood
    return [first, second]


def items() -> list[Item]:
    return [
        Item(where=Place(name="Khasham"), origin=Place(name="Deir ez-Zor"), name="a", rank=1,
             mood=Mood.CALM, at=datetime(2018, 2, 7, tzinfo=UTC),
             missing="here", value=Count(best=5), tags=["x"]),
        Item(where=None, origin=Place(name=None),  # type: ignore[arg-type]
             name="b", rank=None, mood=Mood.TENSE, at=None, missing=None,  # type: ignore[arg-type]
             value=Text(text="jets"), tags=[]),
        Item(where=Place(name=None), origin=Place(name="Raqqa"),  # type: ignore[arg-type]
             name="c", rank=2**40, mood="sad", at="not a time",  # type: ignore[arg-type]
             missing="here", value=Count(best=None), tags=["y", "z"]),
    ]


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return items()

    @strawberry.field
    def item(self, index: int) -> Item | None:
        return items()[index]

    @strawberry.field
    def broken(self) -> list[Item | None]:
        return broken()

    @strawberry.field
    async def later_items(self) -> list[Item | None]:
        await asyncio.sleep(0)
        found: list[Item | None] = [*items()]
        return found


class Upper(SchemaExtension):
    """A middleware: it must see every field, so the short path must stand aside."""

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        result = _next(root, info, *args, **kwargs)
        return result.upper() if isinstance(result, str) else result


def schemas(extensions: list[Any]) -> tuple[strawberry.Schema, strawberry.Schema]:
    standard = strawberry.Schema(query=Query, extensions=extensions)
    short = strawberry.Schema(query=Query, extensions=extensions,
                              execution_context_class=PlainLeafExecutionContext)
    mark_plain_leaves(short._schema, short.config.default_resolver)
    return standard, short


QUERIES = [
    "{ items { name rank mood at value { ... on Count { best } ... on Text { text } } } }",
    "{ items { missing name } }",
    "{ items { shout(times: 2) tags name } }",
    "{ item(index: 1) { missing } }",
    "{ items { where { name } } }",
    "{ a: item(index: 0) { where { name } origin { name } } b: item(index: 1) { origin { name } }"
    " c: item(index: 2) { where { name } name } }",
    "{ item(index: 2) { rank } }",
    "{ items { __typename n: name name r1: rank r2: rank } }",
    "{ items { ...F } }\n"
    "fragment F on Item { mood at name @skip(if: true) rank @include(if: true) }",
]


def answer(schema: strawberry.Schema, query: str) -> tuple[Any, list[tuple[str, Any]]]:
    result = schema.execute_sync(query)
    errors = sorted((e.message, e.path) for e in result.errors or [])
    return result.data, errors


@pytest.mark.parametrize("query", QUERIES)
def test_short_path_answers_like_the_standard_path(query: str) -> None:
    standard, short = schemas([])
    expected = answer(standard, query)
    got = answer(short, query)
    assert got == expected
    assert list(_keys(got[0])) == list(_keys(expected[0]))


# Errors raised or returned by leaf resolvers and by plain attributes, and the nulls they
# bubble up to, next to plain leaves; the first ones run without awaiting.
ERROR_QUERIES = [
    "{ items { name boom rank } }",
    "{ a: item(index: 0) { name sure } b: item(index: 1) { name sure mood } }",
    "{ items { name void } }",
    "{ item(index: 2) { rank void name } }",
    "{ a: item(index: 0) { where { name checked } origin { checked } }"
    " c: item(index: 2) { where { checked name } mood } }",
    "{ broken { name rank mood at } }",
    "{ broken { name mood where { name } } }",
]
AWAITING_QUERIES = [
    "{ laterItems { name later rank mood } }",
    "{ laterItems { name surelyLater mood at where { name checked } } }",
    "{ items { later name surelyLater } }",
    "{ laterItems { sure name } items { name later } }",
    "{ a: item(index: 2) { where { checkedLater } origin { checkedLater } name }"
    " b: item(index: 1) { name origin { name checkedLater } } }",
]


def full(result: Any) -> tuple[Any, list[dict[str, Any]]]:
    """The data, and every error as a client sees it (message, locations, path), in order."""
    return result.data, [error.formatted for error in result.errors or []]


@pytest.mark.parametrize("query", QUERIES + ERROR_QUERIES)
def test_errors_are_the_standard_paths_in_full_and_in_order(query: str) -> None:
    standard, short = schemas([])
    expected = full(standard.execute_sync(query))
    assert full(short.execute_sync(query)) == expected
    if query in ERROR_QUERIES:
        assert expected[1], "this query is meant to fail somewhere"


@pytest.mark.parametrize("query", QUERIES + ERROR_QUERIES + AWAITING_QUERIES)
async def test_the_short_path_answers_alike_when_resolvers_await(query: str) -> None:
    standard, short = schemas([])
    expected = full(await standard.execute(query))
    got = full(await short.execute(query))
    assert got == expected
    assert list(_keys(got[0])) == list(_keys(expected[0]))
    if query in AWAITING_QUERIES:
        assert expected[1], "this query is meant to fail somewhere"


def test_errors_bubble_up_to_the_nearest_nullable_field() -> None:
    """What the queries above compare, spelled out once for the short path."""
    _, short = schemas([])
    data, errors = full(short.execute_sync(
        "{ a: item(index: 1) { name sure } b: item(index: 2) { where { checked } name }"
        " c: item(index: 1) { origin { name } } }"))
    assert data == {"a": None, "b": {"where": None, "name": "c"}, "c": None}
    assert [(e["message"], e["path"]) for e in errors] == [
        ("not sure about b", ["a", "sure"]),
        ("an unnamed place", ["b", "where", "checked"]),
        ("Cannot return null for non-nullable field Place.name.", ["c", "origin", "name"]),
    ]


@pytest.mark.parametrize("query", QUERIES[:3])
def test_a_middleware_still_sees_every_field(query: str) -> None:
    standard, short = schemas([Upper])
    assert answer(short, query) == answer(standard, query)


def test_errors_come_from_the_standard_path() -> None:
    _, short = schemas([])
    assert answer(short, "{ b: item(index: 1) { name missing } c: item(index: 2) { rank } }") \
        == ({"b": None, "c": {"rank": None}}, [
            ("Cannot return null for non-nullable field Item.missing.", ["b", "missing"]),
            ("Int cannot represent non 32-bit signed integer value: 1099511627776",
             ["c", "rank"])])


def test_only_plain_scalar_and_enum_fields_take_the_short_path() -> None:
    _, short = schemas([])
    fields = item_type(short).fields
    marked = {name for name, field in fields.items() if PLAIN_LEAF in field.extensions}
    assert marked == {"name", "rank", "mood", "at", "missing"}
    objects = {name for name, field in fields.items() if PLAIN_OBJECT in field.extensions}
    assert objects == {"where", "origin", "value"}


def item_type(schema: strawberry.Schema) -> GraphQLObjectType:
    item = schema._schema.type_map["Item"]
    assert isinstance(item, GraphQLObjectType)
    return item


def _keys(data: Any) -> Any:
    """Every key of a response, depth first, in order."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield key
            yield from _keys(value)
    elif isinstance(data, list):
        for value in data:
            yield from _keys(value)


def test_plain_leaves_are_read_without_their_resolver() -> None:
    _, short = schemas([])

    def unused(*_: Any, **__: Any) -> Any:
        raise AssertionError("the standard path ran")

    item_type(short).fields["name"].resolve = unused
    assert answer(short, "{ items { name } }") == (
        {"items": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}, [])
