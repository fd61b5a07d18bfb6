"""Tokens and aliases are counted as graphql-core sees them: tokens, comments included, by
its parser (stopped by strawberry's ``MaxTokensLimiter``), aliases on the parsed document
(strawberry's ``MaxAliasesLimiter``); whatever goes over is a ``QUERY_TOO_COMPLEX``
refusal."""

from __future__ import annotations

import functools

import pytest
import strawberry
from graphql import FieldNode, Visitor, parse, visit
from graphql.language import TokenKind
from graphql.language.lexer import Lexer
from graphql.language.source import Source
from strawberry.schema.exceptions import InvalidOperationTypeError

from api.graphql.limits import Limiter, QueryLimits
from api.graphql.schema import build_schema

DOCUMENTS = [
    "{ a0: __typename a1: x }",
    'query Q($a: Int = 3, $b: [String!]) { t(slug: "x: y", input: {a: b, c: {d: e}}) '
    "{ n: name @include(if: true) m: other(arg: ENUM) } }",
    '"""a: b "quoted" \\""" still""" query { a: b # c: d\n e: f }',
    "{ ...F } fragment F on T { x: y ... on U { z: w } }",
    "mutation { createTimeline(input: {slug: \"t\", title: \"T: 1\"}) { event { p: position } } }",
    "subscription { events(after: -1.5e3) { position } }",
]


class _Aliases(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def enter_field(self, node: FieldNode, *_: object) -> None:
        self.count += node.alias is not None


def aliases(document: str) -> int:
    counter = _Aliases()
    visit(parse(document), counter)
    return counter.count


def tokens(document: str) -> int:
    """The tokens of the document, comments included, as ``max_tokens`` counts them."""
    lexer = Lexer(Source(document))
    token = lexer.token  # <SOF>; the lexer links every token it reads, comments too
    while lexer.advance().kind is not TokenKind.EOF:
        pass
    count = 0
    while (token := token.next) is not None and token.kind is not TokenKind.EOF:
        count += 1
    return count


@functools.cache
def schema_with(limits: QueryLimits) -> strawberry.Schema:
    return build_schema(limits)


async def parsed(limits: QueryLimits, document: str) -> bool:
    """Whether the document gets past the parser. Nothing runs: no operation type is
    allowed, which strawberry checks right after parsing."""
    try:
        result = await schema_with(limits).execute(document, allowed_operation_types=())
    except InvalidOperationTypeError:
        return True
    assert result.errors is not None and len(result.errors) == 1
    error = result.errors[0]
    assert error.extensions == {"code": "QUERY_TOO_COMPLEX"}
    assert f"more than {limits.max_tokens} tokens" in error.message
    return False


@pytest.mark.parametrize("document", DOCUMENTS)
def test_aliases_are_counted_exactly(document: str) -> None:
    n = aliases(document)
    schema = schema_with(QueryLimits())._schema
    assert Limiter(QueryLimits(max_aliases=n)).refusal(schema, parse(document), None,
                                                       None) is None
    if n:
        refusal = Limiter(QueryLimits(max_aliases=n - 1)).refusal(schema, parse(document),
                                                                  None, None)
        assert refusal is not None
        assert refusal.message == f"The query has {n} aliases; at most {n - 1} are allowed."
        assert refusal.extensions == {"code": "QUERY_TOO_COMPLEX"}


@pytest.mark.parametrize("document", DOCUMENTS)
async def test_tokens_are_counted_as_the_parser_counts_them(document: str) -> None:
    n = tokens(document)
    assert await parsed(QueryLimits(max_tokens=n), document)
    # The parse cache is shared by every schema: a document parsed under a larger limit
    # must not be taken from it under a smaller one.
    assert not await parsed(QueryLimits(max_tokens=n - 1), document)
