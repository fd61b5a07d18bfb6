"""Requests answered with an error before GraphQL parses them, in GraphQL's error shape.

A request refused by HTTP (a body that is not a JSON object, a content type or method it
does not take, no query) keeps its 4xx status but is answered as a GraphQL error
(``BAD_INPUT``, or ``METHOD_NOT_ALLOWED`` with ``Allow``), not plain text. One refused
before parsing (a NUL, an unknown persisted query, too many tokens) is a ``Refused``.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

ALLOWED_METHODS = "GET, POST"
# The code of a request refused before it reaches GraphQL, by its HTTP status.
REFUSAL_CODES = {400: "BAD_INPUT", 405: "METHOD_NOT_ALLOWED"}


class Refused(Exception):
    """A request answered with an error before it is parsed or executed."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.error = GraphQLError(message, extensions={"code": code})


def refusal_body(status: int, reason: str) -> dict[str, Any]:
    """The GraphQL answer to a request HTTP refused with ``status``."""
    error = {"message": reason, "extensions": {"code": REFUSAL_CODES.get(status, "BAD_REQUEST")}}
    return {"errors": [error]}


def refusal_headers(status: int) -> dict[str, str] | None:
    """``Allow`` on a 405; nothing else."""
    return {"allow": ALLOWED_METHODS} if status == 405 else None
