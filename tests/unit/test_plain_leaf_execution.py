"""The short path for plain leaves answers exactly as graphql-core's standard path does:
the same data, the same errors at the same paths, fields in the same order."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Annotated, Any

import pytest
import strawberry
from strawberry.extensions import SchemaExtension

from api.graphql.execution import (
    PLAIN_LEAF,
    PLAIN_OBJECT,
    PlainLeafExecutionContext,
    mark_plain_leaves,
)


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
    fields = short._schema.type_map["Item"].fields  # type: ignore[union-attr]
    marked = {name for name, field in fields.items() if PLAIN_LEAF in field.extensions}
    assert marked == {"name", "rank", "mood", "at", "missing"}
    objects = {name for name, field in fields.items() if PLAIN_OBJECT in field.extensions}
    assert objects == {"where", "origin", "value"}


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

    short._schema.type_map["Item"].fields["name"].resolve = unused  # type: ignore[union-attr]
    assert answer(short, "{ items { name } }") == (
        {"items": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}, [])
