"""How big a query may be: depth, aliases, cost and tokens, checked before it runs.

The cost of a query is one per field, multiplied by the ``first`` of every enclosing field
that takes one (its default when the query gives none): ``entries(first: 500) { nodes {
facts { reports { id } } } }`` costs about 500 × 4 and is refused long before it would be
executed 500 times over. Every refusal is a ``QUERY_TOO_COMPLEX`` error that says which
limit and by how much.

Introspection (an operation that selects only ``__schema``, ``__type`` and ``__typename``)
is bounded by the schema, not by these limits: GraphiQL's and graphql-js's own queries are
13 to 15 fields deep. What could make one expensive is a list of the schema nested in another
(``types { fields { type { fields { type { fields … } } } } }``), so that alone is capped.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)
from strawberry.extensions import ValidationCache

from api.graphql.errors import TOO_COMPLEX


@dataclass(frozen=True, slots=True)
class QueryLimits:
    max_depth: int = 12
    max_aliases: int = 50
    max_cost: int = 50_000
    max_tokens: int = 5_000


@dataclass(slots=True)
class _Measure:
    depth: int = 0
    aliases: int = 0
    cost: int = 0


def too_complex(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": TOO_COMPLEX})


def check(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None,
          variables: Mapping[str, Any] | None, limits: QueryLimits) -> GraphQLError | None:
    """The first limit the operation goes over, or None."""
    fragments = {d.name.value: d for d in document.definitions
                 if isinstance(d, FragmentDefinitionNode)}
    measure = _Measure()
    for operation in _operations(document, operation_name):
        if _introspection_only(operation.selection_set, fragments):
            refusal = _nested_schema_lists(operation.selection_set, fragments, 0, ())
            if refusal is not None:
                return refusal
            continue
        root = schema.get_root_type(operation.operation)
        walk = _Walk(schema, fragments, variables or {}, limits, measure)
        walk.selections(operation.selection_set, root.name if root else None, 1, 1, ())
        if walk.refusal is not None:
            return walk.refusal
    return None


def _operations(document: DocumentNode,
                name: str | None) -> Iterator[OperationDefinitionNode]:
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and (
                name is None or (definition.name is not None and definition.name.value == name)):
            yield definition


# The fields of __Schema, __Type and __Field that list parts of the schema.
_SCHEMA_LISTS = frozenset({"types", "directives", "fields", "inputFields", "interfaces",
                           "possibleTypes", "enumValues", "args"})
# The standard queries nest three (types → fields → args); one more is room for variants.
MAX_NESTED_SCHEMA_LISTS = 4


def _introspection_only(selection_set: SelectionSetNode,
                        fragments: Mapping[str, FragmentDefinitionNode]) -> bool:
    """True when every root field is a meta field (``__schema``, ``__type``, …)."""
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if not selection.name.value.startswith("__"):
                return False
        elif isinstance(selection, InlineFragmentNode):
            if not _introspection_only(selection.selection_set, fragments):
                return False
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is None or not _introspection_only(fragment.selection_set, fragments):
                return False
    return True


def _nested_schema_lists(selection_set: SelectionSetNode | None,
                         fragments: Mapping[str, FragmentDefinitionNode], nested: int,
                         spread: tuple[str, ...]) -> GraphQLError | None:
    if selection_set is None:
        return None
    for selection in selection_set.selections:
        inner, here, names = None, nested, spread
        if isinstance(selection, FieldNode):
            inner = selection.selection_set
            here = nested + (selection.name.value in _SCHEMA_LISTS)
            if here > MAX_NESTED_SCHEMA_LISTS:
                return too_complex(f"The introspection nests lists of the schema {here} deep; "
                                   f"at most {MAX_NESTED_SCHEMA_LISTS} are allowed.")
        elif isinstance(selection, InlineFragmentNode):
            inner = selection.selection_set
        elif isinstance(selection, FragmentSpreadNode) and (
                (name := selection.name.value) not in spread and name in fragments):
            inner, names = fragments[name].selection_set, (*spread, name)
        refusal = _nested_schema_lists(inner, fragments, here, names)
        if refusal is not None:
            return refusal
    return None


class _Walk:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode],
                 variables: Mapping[str, Any], limits: QueryLimits, measure: _Measure) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.limits = limits
        self.measure = measure
        self.refusal: GraphQLError | None = None

    def selections(self, selection_set: SelectionSetNode | None, type_name: str | None,
                   depth: int, multiplier: int, spread: tuple[str, ...]) -> None:
        """Measure a selection set whose fields sit ``depth`` deep and run ``multiplier``
        times; ``spread`` names the fragments being expanded (a cycle is not followed:
        validation reports it)."""
        if selection_set is None or self.refusal is not None:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                self.field(selection, type_name, depth, multiplier, spread)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                self.selections(selection.selection_set,
                                condition.name.value if condition else type_name,
                                depth, multiplier, spread)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in spread:
                    self.selections(fragment.selection_set, fragment.type_condition.name.value,
                                    depth, multiplier, (*spread, name))
            if self.refusal is not None:
                return

    def field(self, node: FieldNode, type_name: str | None, depth: int, multiplier: int,
              spread: tuple[str, ...]) -> None:
        measure, limits = self.measure, self.limits
        measure.depth = max(measure.depth, depth)
        measure.aliases += node.alias is not None
        measure.cost += multiplier
        if measure.depth > limits.max_depth:
            self.refusal = too_complex(f"The query is {measure.depth} fields deep; at most "
                                       f"{limits.max_depth} are allowed.")
        elif measure.aliases > limits.max_aliases:
            self.refusal = too_complex(f"The query has more than {limits.max_aliases} "
                                       f"aliases; at most {limits.max_aliases} are allowed.")
        elif measure.cost > limits.max_cost:
            self.refusal = too_complex(f"The query would cost more than {limits.max_cost} "
                                       "(one per field, times the `first` of each enclosing "
                                       "connection).")
        if self.refusal is not None or node.selection_set is None:
            return
        field_type, times = self._field_type(node, type_name)
        self.selections(node.selection_set, field_type, depth + 1, multiplier * times, spread)

    def _field_type(self, node: FieldNode, type_name: str | None) -> tuple[str | None, int]:
        """The named type the field returns, and how many times its selection runs."""
        parent = self.schema.get_type(type_name) if type_name else None
        definition = getattr(parent, "fields", {}).get(node.name.value)
        if definition is None:
            return None, 1
        named = definition.type
        while hasattr(named, "of_type"):
            named = named.of_type
        first = definition.args.get("first")
        if first is None:
            return named.name, 1
        given = next((a.value for a in node.arguments or () if a.name.value == "first"), None)
        value: Any = first.default_value
        if isinstance(given, IntValueNode):
            value = int(given.value)
        elif isinstance(given, VariableNode):
            value = self.variables.get(given.name.value, value)
        return named.name, value if isinstance(value, int) and value > 0 else 1


_LEXEME = re.compile(r"""
    (?P<skip>[\s,\ufeff]+|\#[^\n\r]*)
  | (?P<block>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\")
  | (?P<string>"(?:[^"\\\n\r]|\\.)*")
  | (?P<name>[_A-Za-z][_0-9A-Za-z]*)
  | (?P<open>\()
  | (?P<close>\))
  | (?P<colon>:)
  | (?P<other>\.\.\.|-?\d[\d.eE+-]*|[!$&\[\]{}=@|]|.)
""", re.VERBOSE)


def prescan(query: str, limits: QueryLimits) -> GraphQLError | None:
    """Tokens and aliases counted by one regular-expression pass, before the parser: a
    hostile document is refused for a fraction of what parsing it would cost. An alias is
    ``name: name`` outside any parentheses (inside them, ``name:`` is an argument)."""
    tokens = aliases = parens = 0
    previous: list[str | None] = [None, None]  # the last two token kinds
    for match in _LEXEME.finditer(query):
        kind = match.lastgroup
        if kind == "skip":
            continue
        tokens += 1
        if tokens > limits.max_tokens:
            return too_complex(f"The document has more than {limits.max_tokens} tokens.")
        if kind == "open":
            parens += 1
        elif kind == "close":
            parens = max(parens - 1, 0)
        elif kind == "name" and previous == ["name", "colon"] and parens == 0:
            aliases += 1
            if aliases > limits.max_aliases:
                return too_complex(f"The query has more than {limits.max_aliases} aliases; "
                                   f"at most {limits.max_aliases} are allowed.")
        previous = [previous[1], kind]
    return None


PARSED = 256  # documents kept parsed, across requests


class Guard(ValidationCache):
    """Parsing and validation, cached, behind the limits: a query over them is refused
    before it is even validated, let alone run."""

    # Shared by every request: a frontend sends the same few documents again and again.
    _parsed: ClassVar[OrderedDict[tuple[str, int], DocumentNode]] = OrderedDict()

    def __init__(self, limits: QueryLimits) -> None:
        super().__init__(maxsize=256)
        self.limits = limits

    def on_operation(self) -> Iterator[None]:
        self.execution_context.parse_options["max_tokens"] = self.limits.max_tokens
        yield

    def on_parse(self) -> Iterator[None]:
        """A document parsed before is not parsed again; only documents that parsed are
        kept, so a syntax error still comes from the parser, with its code."""
        context = self.execution_context
        key = (context.query or "", self.limits.max_tokens)
        if context.graphql_document is None and (known := self._parsed.get(key)) is not None:
            context.graphql_document = known
            self._parsed.move_to_end(key)
        yield
        if context.graphql_document is not None and key not in self._parsed:
            self._parsed[key] = context.graphql_document
            while len(self._parsed) > PARSED:
                self._parsed.popitem(last=False)

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None
        refusal = check(context.schema._schema, context.graphql_document,
                        context.operation_name, context.variables, self.limits)
        if refusal is not None:
            context.pre_execution_errors = [refusal]
            yield
            return
        yield from super().on_validate()
