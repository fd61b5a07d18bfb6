"""How big a query may be: tokens, depth, aliases and cost, checked before it is validated.

Tokens are counted by graphql-core's parser, which strawberry's ``MaxTokensLimiter`` stops
at ``max_tokens``. Depth and aliases are strawberry's ``QueryDepthLimiter`` and
``MaxAliasesLimiter`` rules, run on their own ahead of validation, so that whatever they
report is a refusal. Depth counts fields, leaves included: ``{ a { b } }`` is 2 deep.

The cost of a query is one per field, multiplied by the ``first`` of every enclosing field
that takes one (its default when the query gives none): ``entries(first: 500) { nodes {
facts { reports { id } } } }`` costs about 500 × 4 and is refused long before it would be
executed 500 times over. Every refusal is a ``QUERY_TOO_COMPLEX`` error that says which
limit and by how much.

Introspection (``__schema`` and ``__type``, and all below them) is bounded by the schema,
not by these limits: GraphiQL's and graphql-js's own queries are 13 to 15 fields deep, and
strawberry's depth rule does not descend into them, nor does the cost. What could make one
expensive is a list of the schema nested in another (``types { fields { type { fields {
type { fields … } } } } }``), so that alone is capped.

Strawberry's rules expand every fragment spread anew, so ``fragment A on Query { ...B ...B }
fragment B on Query { ...C ...C } …`` would take them exponential time. One pass here, which
measures each fragment once, comes first and bounds what they walk: how many selections the
document has once its fragments are spread, and how deep selections and fragments nest.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    Node,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    validate,
)
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter, ValidationCache

from api.graphql.errors import TOO_COMPLEX


@dataclass(frozen=True, slots=True)
class QueryLimits:
    max_depth: int = 12
    max_aliases: int = 50
    max_cost: int = 50_000
    max_tokens: int = 5_000


# The fields of __Schema, __Type and __Field that list parts of the schema.
_SCHEMA_LISTS = frozenset({"types", "directives", "fields", "inputFields", "interfaces",
                           "possibleTypes", "enumValues", "args"})
# The standard queries nest three (types → fields → args); one more is room for variants.
MAX_NESTED_SCHEMA_LISTS = 4
# The fields introspection hangs from; all below them is bounded by the schema.
_INTROSPECTION = frozenset({"__schema", "__type"})
# What strawberry's rules may be given to walk: selection sets and fragments nested in one
# another (they recurse once or more per level), and selections once fragments are spread.
MAX_NESTING = 100
MAX_SELECTIONS = 10_000
# A cost from here on is shown as "at least" (without a bound, each fragment spread in
# another can double it).
_SHOWN_COST = 10**12


def too_complex(message: str, nodes: Node | list[Node] | None = None) -> GraphQLError:
    return GraphQLError(message, nodes, extensions={"code": TOO_COMPLEX})


class Limiter:
    """The limits of one schema. Strawberry's depth and alias rules are built here once,
    not by a limiter extension per request (each limiter makes new rule classes), and run
    on their own, ahead of validation: what they report is a refusal, given its code and a
    message in Chronicle's terms here."""

    def __init__(self, limits: QueryLimits) -> None:
        self.limits = limits
        # Strawberry's depth is the number of fields above the deepest leaf; Chronicle's
        # counts the leaf too.
        self.depth_rules: tuple[type[ASTValidationRule], ...] = tuple(
            QueryDepthLimiter(max_depth=limits.max_depth - 1).validation_rules)
        self.alias_rules: tuple[type[ASTValidationRule], ...] = tuple(
            MaxAliasesLimiter(max_alias_count=limits.max_aliases).validation_rules)
        self._walked: OrderedDict[
            int, tuple[DocumentNode, list[GraphQLError], list[GraphQLError]]] = OrderedDict()

    def _depth_and_aliases(self, schema: GraphQLSchema, document: DocumentNode,
                           ) -> tuple[list[GraphQLError], list[GraphQLError]]:
        """What strawberry's depth and alias rules find in the document: the same for every
        request that sends it (they read no variable), so walked once per document while
        it stays parsed (``Guard`` keeps the parsed documents, so the same object comes
        back; the document is kept beside its answer, so its id cannot be reused)."""
        known = self._walked.get(id(document))
        if known is not None and known[0] is document:
            self._walked.move_to_end(id(document))
            return known[1], known[2]
        found = (validate(schema, document, self.depth_rules),
                 validate(schema, document, self.alias_rules))
        self._walked[id(document)] = (document, *found)
        while len(self._walked) > PARSED:
            self._walked.popitem(last=False)
        return found

    def refusal(self, schema: GraphQLSchema, document: DocumentNode,
                operation_name: str | None,
                variables: Mapping[str, Any] | None) -> GraphQLError | None:
        """The first limit the document goes over, or None; also None for a document that
        spreads an unknown fragment or fragments in a cycle, which validation refuses."""
        limits = self.limits
        try:
            measure = _Survey(schema, document, variables or {},
                              _cap(limits.max_cost)).measure(operation_name)
        except _Invalid:
            return None
        except _TooNested:
            measure = None
        if measure is None or measure.nesting > MAX_NESTING:
            return too_complex(f"The query nests selections and fragments more than "
                               f"{MAX_NESTING} deep; at most {MAX_NESTING} are allowed.")
        if measure.selections > MAX_SELECTIONS:
            return too_complex(f"Once its fragments are spread, the query has more than "
                               f"{MAX_SELECTIONS} selections; at most {MAX_SELECTIONS} "
                               "are allowed.")
        too_deep, too_many = self._depth_and_aliases(schema, document)
        if too_deep:
            return too_complex(f"The query is more than {limits.max_depth} fields deep; at "
                               f"most {limits.max_depth} are allowed.", too_deep[0].nodes)
        if too_many:
            # Strawberry's message starts with the count ("60 aliases found. Allowed: 50").
            found = re.match(r"(\d+) aliases", too_many[0].message)
            count = found.group(1) if found else f"more than {limits.max_aliases}"
            return too_complex(f"The query has {count} aliases; at most "
                               f"{limits.max_aliases} are allowed.")
        if measure.lists > MAX_NESTED_SCHEMA_LISTS:
            return too_complex(f"The introspection nests lists of the schema "
                               f"{measure.lists} deep; at most {MAX_NESTED_SCHEMA_LISTS} "
                               "are allowed.")
        if measure.cost > limits.max_cost:
            shown = (f"{measure.cost}" if measure.cost < _cap(limits.max_cost)
                     else f"at least {_cap(limits.max_cost)}")
            return too_complex(f"The query would cost {shown} (one per field, times the "
                               "`first` of each enclosing connection); at most "
                               f"{limits.max_cost} is allowed.")
        return None


def _cap(max_cost: int) -> int:
    return max(_SHOWN_COST, max_cost + 1)


@dataclass(frozen=True, slots=True)
class _Measure:
    cost: int = 0  # with a multiplier of one
    selections: int = 0  # once every fragment is spread
    lists: int = 0  # schema lists nested in one another, under __schema and __type
    nesting: int = 0  # selection sets and fragments nested in one another


class _Invalid(Exception):
    """An unknown fragment, or fragments spread in a cycle."""


class _TooNested(Exception):
    pass


class _Survey:
    """One pass over a document that measures each fragment once: linear in its size."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode,
                 variables: Mapping[str, Any], cap: int) -> None:
        self.schema = schema
        self.document = document
        self.variables = variables
        self.cap = cap  # costs and selections saturate there
        self.fragments = {d.name.value: d for d in document.definitions
                          if isinstance(d, FragmentDefinitionNode)}
        self.measured: dict[tuple[str, bool], _Measure] = {}
        self.open: set[str] = set()

    def measure(self, operation_name: str | None) -> _Measure:
        """Selections and nesting of every operation (strawberry's rules walk them all);
        cost and schema lists of those that may run."""
        cost = selections = lists = nesting = 0
        for definition in self.document.definitions:
            if not isinstance(definition, OperationDefinitionNode):
                continue
            root = self.schema.get_root_type(definition.operation)
            measure = self.selections(definition.selection_set, root.name if root else None,
                                      False, 1)
            selections = min(self.cap, selections + measure.selections)
            nesting = max(nesting, measure.nesting)
            if operation_name is None or (definition.name is not None
                                          and definition.name.value == operation_name):
                cost = min(self.cap, cost + measure.cost)
                lists = max(lists, measure.lists)
        return _Measure(cost, selections, lists, nesting)

    def selections(self, selection_set: SelectionSetNode, type_name: str | None,
                   introspection: bool, level: int) -> _Measure:
        """A selection set ``level`` deep, on ``type_name``; ``introspection`` below
        ``__schema`` or ``__type``. Its cost is that of running it once."""
        if level > MAX_NESTING:
            raise _TooNested
        cost = selections = lists = nesting = 0
        for selection in selection_set.selections:
            inner, own_cost, own_lists = _Measure(), 0, 0
            if isinstance(selection, FieldNode):
                name = selection.name.value
                below = introspection or name in _INTROSPECTION
                times = 1
                if selection.selection_set is not None:
                    field_type, times = (None, 1) if below else self._field_type(
                        selection, type_name)
                    inner = self.selections(selection.selection_set, field_type, below,
                                            level + 1)
                own_cost = 0 if below else 1 + times * inner.cost
                own_lists = int(introspection and name in _SCHEMA_LISTS)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.selections(selection.selection_set,
                                        condition.name.value if condition else type_name,
                                        introspection, level + 1)
                own_cost = inner.cost
            elif isinstance(selection, FragmentSpreadNode):
                inner = self._fragment(selection.name.value, introspection, level + 1)
                own_cost = inner.cost
            cost = min(self.cap, cost + own_cost)
            selections = min(self.cap, selections + 1 + inner.selections)
            lists = max(lists, own_lists + inner.lists)
            nesting = max(nesting, inner.nesting)
        return _Measure(cost, selections, lists, nesting + 1)

    def _fragment(self, name: str, introspection: bool, level: int) -> _Measure:
        """A fragment, measured the first time it is spread (in either mode)."""
        fragment = self.fragments.get(name)
        if fragment is None or name in self.open:
            raise _Invalid
        key = (name, introspection)
        if key not in self.measured:
            self.open.add(name)
            self.measured[key] = self.selections(
                fragment.selection_set, fragment.type_condition.name.value, introspection,
                level)
            self.open.discard(name)
        return self.measured[key]

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
            try:
                value = int(given.value)
            except ValueError:  # more digits than Python converts: beyond any limit
                value = self.cap
        elif isinstance(given, VariableNode):
            value = self.variables.get(given.name.value, value)
        if not isinstance(value, int) or value < 1:
            return named.name, 1
        return named.name, min(value, self.cap)


PARSED = 256  # documents kept parsed, across requests


class Guard(ValidationCache):
    """Parsing and validation, cached, behind the limits: a query over them is refused
    before it is even validated, let alone run."""

    # Shared by every request: a frontend sends the same few documents again and again.
    _parsed: ClassVar[OrderedDict[tuple[str, int], DocumentNode]] = OrderedDict()

    def __init__(self, limiter: Limiter) -> None:
        super().__init__(maxsize=256)
        self.limiter = limiter

    def on_parse(self) -> Iterator[None]:
        """A document parsed before is not parsed again; only documents that parsed are
        kept, so a syntax error still comes from the parser, with its code. The key holds
        the token limit the document was parsed under."""
        context = self.execution_context
        key = (context.query or "", self.limiter.limits.max_tokens)
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
        refusal = self.limiter.refusal(context.schema._schema, context.graphql_document,
                                       context.operation_name, context.variables)
        if refusal is not None:
            context.pre_execution_errors = [refusal]
            yield
            return
        yield from super().on_validate()
