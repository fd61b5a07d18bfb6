"""The lexical pre-scan counts aliases and tokens as graphql-core's parser sees them."""

from __future__ import annotations

import pytest
from graphql import FieldNode, Visitor, parse, visit
from graphql.language import TokenKind
from graphql.language.lexer import Lexer
from graphql.language.source import Source

from api.graphql.limits import QueryLimits, prescan

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
    lexer, count = Lexer(Source(document)), 0
    while lexer.advance().kind is not TokenKind.EOF:
        count += 1
    return count


@pytest.mark.parametrize("document", DOCUMENTS)
def test_aliases_are_counted_exactly(document: str) -> None:
    n = aliases(document)
    assert prescan(document, QueryLimits(max_aliases=n)) is None
    if n:
        refusal = prescan(document, QueryLimits(max_aliases=n - 1))
        assert refusal is not None and "aliases" in refusal.message


@pytest.mark.parametrize("document", DOCUMENTS)
def test_tokens_are_counted_as_the_parser_counts_them(document: str) -> None:
    n = tokens(document)
    assert prescan(document, QueryLimits(max_tokens=n)) is None
    refusal = prescan(document, QueryLimits(max_tokens=n - 1))
    assert refusal is not None and "tokens" in refusal.message
    assert refusal.extensions == {"code": "QUERY_TOO_COMPLEX"}
