"""Rendered answers to timeline reads, reused while what they depend on is unchanged.

A read whose root fields are all ``timeline(...)`` is keyed by its document, its variables
(less ``asOf``) and, for each timeline it reads, what that answer depends on: the timeline's
version now; the position committed by T on the RECORDED clock; the log read so far and the
last moment an answer changes on the REPORTED clock. Nothing else can change the answer, so
a hit is always what executing the query would give (a test checks both paths agree).
Concurrent misses with the same key execute once (single_flight.py, composed by the view).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from datetime import datetime
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
    Visitor,
    parse,
    value_from_ast_untyped,
    visit,
)
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult

from api.graphql.context import Context
from events.as_of import Axis
from events.errors import DomainError

CAPACITY = 128
Key = tuple[Any, ...]


class EncodedResult(ExecutionResult):
    """A successful answer already encoded as the JSON body it is sent as. Kept encoded, a
    cached answer costs no encoding when it is served again, and it is one string rather
    than thousands of dictionaries for the cyclic garbage collector to walk."""

    def __init__(self, body: str, position: int = 0) -> None:
        super().__init__(data={}, errors=None)
        self.body = body
        # The log position the database it was made on held once it was made (0: not
        # measured, no standbys): an answer served again may be newer than the database
        # serving it, and its Chronicle-Position must say so.
        self.position = position


class ResponseCache:
    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._answers: OrderedDict[Key, EncodedResult] = OrderedDict()
        self.hits = 0

    def get(self, key: Key) -> EncodedResult | None:
        answer = self._answers.get(key)
        if answer is not None:
            self._answers.move_to_end(key)
            self.hits += 1
        return answer

    def put(self, key: Key, answer: EncodedResult) -> None:
        self._answers[key] = answer
        self._answers.move_to_end(key)
        while len(self._answers) > self.capacity:
            self._answers.popitem(last=False)


def is_cacheable(result: ExecutionResult) -> bool:
    """An answer worth keeping: data, and no error."""
    return not result.errors and result.data is not None


def is_encoded(result: ExecutionResult) -> bool:
    """An answer that was cached: the same for every request with its key, so requests
    waiting for the same execution may share it (api/graphql/single_flight.py)."""
    return isinstance(result, EncodedResult)


@lru_cache(maxsize=256)
def _timeline_reads(query: str, operation_name: str | None,
                    max_tokens: int) -> tuple[FieldNode, ...] | None:
    """The root ``timeline`` fields of a query that reads nothing else, or None."""
    try:
        document = parse(query, max_tokens=max_tokens)
    except GraphQLError:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1 or operations[0].operation is not OperationType.QUERY:
        return None
    fields = operations[0].selection_set.selections
    if not fields or not all(isinstance(f, FieldNode) and f.name.value == "timeline"
                             for f in fields):
        return None
    if _selects(document, BEYOND_THE_TIMELINE):
        return None
    return tuple(f for f in fields if isinstance(f, FieldNode))


# Fields a timeline read may select whose values move with other timelines too, so that
# the versions the key holds do not stand for them.
BEYOND_THE_TIMELINE = frozenset({"trackRecord"})


def _selects(document: DocumentNode, names: frozenset[str]) -> bool:
    """Whether any selection of the document (its fragments included) names a field in
    ``names``."""
    found = False

    class Finder(Visitor):
        def enter_field(self, node: FieldNode, *_: object) -> None:
            nonlocal found
            found = found or node.name.value in names

    visit(document, Finder())
    return found


def _argument(field: FieldNode, name: str, variables: dict[str, Any],
              used: set[str]) -> Any:
    for argument in field.arguments or ():
        if argument.name.value == name:
            if isinstance(argument.value, VariableNode):
                used.add(argument.value.name.value)
                return variables.get(argument.value.name.value)
            return value_from_ast_untyped(argument.value, variables)
    return None


async def cache_key(context: Context, query: str | None, operation_name: str | None,
                    variables: dict[str, Any] | None) -> Key | None:
    """The key of a cacheable timeline read, or None when it must simply be executed."""
    services = context.services
    if query is None or services.settings.require_read_token:
        return None
    fields = _timeline_reads(query, operation_name, services.settings.max_tokens)
    if fields is None:
        return None
    variables = variables or {}
    as_of_variables: set[str] = set()
    depends_on: list[Any] = []
    for field in fields:
        slug = _argument(field, "slug", variables, set())
        as_of = _argument(field, "asOf", variables, as_of_variables)
        axis = _argument(field, "axis", variables, set()) or Axis.RECORDED.value
        if not isinstance(slug, str) or axis not in (Axis.RECORDED.value, Axis.REPORTED.value):
            return None
        if as_of is None:
            row = await context.read_model.timeline(slug)
            depends_on.append((slug, "now", None if row is None else row.version))
            continue
        try:
            moment = datetime.fromisoformat(as_of)
        except (TypeError, ValueError):
            return None
        if moment.tzinfo is None:
            return None
        history = await context.history(slug)
        if axis == Axis.RECORDED.value:
            depends_on.append((slug, axis, history.position_at(moment)))
        else:
            depends_on.append((slug, axis, history.reported_epoch(moment)))
    rest = {k: v for k, v in variables.items() if k not in as_of_variables}
    return (query, operation_name, json.dumps(rest, sort_keys=True, default=str),
            tuple(depends_on))


async def request_key(context: Context, request_data: GraphQLRequestData) -> Key | None:
    """The key of a request that is a cacheable timeline read, or None (also when reading
    what it depends on fails: executing it gives the error its place)."""
    try:
        return await cache_key(context, request_data.query, request_data.operation_name,
                               request_data.variables)
    except DomainError:
        return None
