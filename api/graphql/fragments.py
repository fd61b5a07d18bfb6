"""Each entry of a timeline read rendered once per version, and spliced into later answers.

A timeline people follow changes many times a second, and each change used to mean
rendering the whole timeline again: 200 entries, about 12,000 fields, for a change to one
of them. The read model gives every entry a version that moves whenever anything the entry
shows changes (migrations/versions/0007_entry_versions.py), so an entry rendered under a
selection can be kept and reused, as JSON text, until its version moves:

- the key is the selection (its text, with the fragments it spreads), the values of the
  variables it uses, and the entry's (timeline, id, version);
- only selections that stay inside the entry are kept: every field they read is in
  ``ENTRY_FIELDS``, whose values change only with the entry's version. A field that reads
  beyond the entry (a source's record across timelines, say) belongs in
  ``BEYOND_THE_ENTRY``; a test makes every field reachable from ``Entry`` one or the other;
- only present reads are kept (as-of reads are answered from the response cache), and only
  renderings without errors;
- a rendering is kept as an ``orjson.Fragment``: encoding the answer copies its bytes, and
  the cyclic garbage collector has nothing to walk in it.

The renderings live in the answer's data, so they are used only where the answer is then
encoded with orjson (api/graphql/view.py turns it on for cacheable timeline reads, which it
encodes at once); orjson's fallback to ``json`` is for integers past 64 bits, which no
field in ``ENTRY_FIELDS`` can hold.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    SelectionNode,
    ValueNode,
    VariableNode,
    get_named_type,
    print_ast,
)

CAPACITY = 8192  # renderings kept per process: about 40 timelines of 200 entries

# Every field reachable from Entry whose value changes only when the entry's version moves:
# the entry's own rows, its facts and reports, the log events they came from, and the
# sources it cites (a regrade moves the version of every entry citing the source).
ENTRY_FIELDS: dict[str, frozenset[str]] = {
    "Entry": frozenset({"id", "nodeId", "title", "facts", "fact", "occurred", "place",
                        "reports"}),
    "Fact": frozenset({"nodeId", "attribute", "value", "low", "high", "highOpen", "disputed",
                       "status", "explanation", "reports", "alternatives", "history"}),
    "FactReport": frozenset({"report", "role", "weight"}),
    "Alternative": frozenset({"value", "weight", "reports"}),
    "FactVersion": frozenset({"value", "low", "high", "highOpen", "disputed", "status",
                              "event"}),
    "Report": frozenset({"nodeId", "id", "entry", "attribute", "value", "source", "via",
                         "stance", "reportedAt", "recordedAt", "quote", "url", "status",
                         "rank", "changedAt", "position"}),
    "Source": frozenset({"nodeId", "id", "name", "kind", "url", "reliability", "note"}),
    "Event": frozenset({"nodeId", "position", "stream", "version", "type", "schemaVersion",
                        "data", "recordedAt", "actor", "idempotencyKey", "prevHash", "hash"}),
    "Value": frozenset(),
    "Count": frozenset({"best", "low", "high"}),
    "Text": frozenset({"text"}),
    "TimeSpan": frozenset({"start", "end", "precision"}),
    "Place": frozenset({"name", "lat", "lon"}),
    "Flag": frozenset({"flag"}),
}
# Fields reachable from Entry that read beyond it: a selection with any of them is rendered
# afresh every time. A source's track record moves with reports on every timeline.
_COUNTS = frozenset({"reports", "retracted", "corrected", "outweighed", "upheld", "cited"})
BEYOND_THE_ENTRY: dict[str, frozenset[str]] = {
    "Source": frozenset({"trackRecord"}),
    "TrackRecord": _COUNTS | {"byTimeline"},
    "TimelineTrackRecord": _COUNTS | {"timeline"},
}

_KEPT_DIRECTIVES = frozenset({"include", "skip"})  # evaluated from the variables in the key


@dataclass(frozen=True, slots=True)
class Selection:
    """What an entry's rendering depends on besides the entry: the selection's text and the
    names of the variables it reads."""

    text: str
    variables: tuple[str, ...]


RenderingKey = tuple[str, bytes, Hashable]  # selection text, variables' values, entry key


class EntryRenderings:
    """Renderings of entries, by (selection, variables, entry key), least recently used
    first out."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._kept: OrderedDict[RenderingKey, orjson.Fragment] = OrderedDict()
        self._entries: dict[Hashable, int] = {}  # entry key → renderings kept of it
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._kept)

    def holds(self, entry: Hashable) -> bool:
        """Whether some rendering of the entry (under any selection) is kept: a reader can
        skip loading what only rendering the entry afresh would need."""
        return entry in self._entries

    def get(self, key: RenderingKey) -> orjson.Fragment | None:
        rendering = self._kept.get(key)
        if rendering is None:
            self.misses += 1
            return None
        self._kept.move_to_end(key)
        self.hits += 1
        return rendering

    def put(self, key: RenderingKey, rendering: orjson.Fragment) -> None:
        if key not in self._kept:
            self._entries[key[2]] = self._entries.get(key[2], 0) + 1
        self._kept[key] = rendering
        self._kept.move_to_end(key)
        while len(self._kept) > self.capacity:
            (_, _, entry), _ = self._kept.popitem(last=False)
            self._entries[entry] -= 1
            if not self._entries[entry]:
                del self._entries[entry]


def render(value: Any) -> orjson.Fragment | None:
    """A completed value as JSON text to splice into answers, or None if orjson cannot
    encode it (it is then served as it is, and not kept)."""
    try:
        return orjson.Fragment(orjson.dumps(value))
    except TypeError:
        return None


def variable_values(coerced: dict[str, Any], names: tuple[str, ...]) -> bytes:
    """The values of the variables a selection reads, as one hashable value. A variable
    used in a given place has one type, so its values compare alike as JSON text."""
    return orjson.dumps([coerced.get(name) for name in names], default=str)


def entry_selection(schema: GraphQLSchema, parent: GraphQLObjectType,
                    nodes: Iterable[FieldNode],
                    fragments: dict[str, FragmentDefinitionNode]) -> Selection | None:
    """The selection under these field nodes, if every field it reads stays inside the
    entry; None otherwise (or if it uses a directive other than @include and @skip)."""
    walk = _Walk(schema, fragments)
    texts = []
    for node in nodes:
        if node.selection_set is None or not walk.selections(
                node.selection_set.selections, parent):
            return None
        texts.append(print_ast(node.selection_set))
    texts.extend(print_ast(fragments[name]) for name in sorted(walk.spread))
    return Selection("\n".join(texts), tuple(sorted(walk.variables)))


class _Walk:
    def __init__(self, schema: GraphQLSchema,
                 fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.schema = schema
        self.fragments = fragments
        self.spread: set[str] = set()
        self.variables: set[str] = set()

    def selections(self, selections: Iterable[SelectionNode], parent: GraphQLNamedType) -> bool:
        return all(self._selection(selection, parent) for selection in selections)

    def _selection(self, selection: SelectionNode, parent: GraphQLNamedType) -> bool:
        for directive in selection.directives or ():
            if directive.name.value not in _KEPT_DIRECTIVES:
                return False
            self._arguments(argument.value for argument in directive.arguments or ())
        if isinstance(selection, FieldNode):
            return self._field(selection, parent)
        if isinstance(selection, InlineFragmentNode):
            condition = (parent if selection.type_condition is None
                         else self.schema.get_type(selection.type_condition.name.value))
            return condition is not None and self.selections(
                selection.selection_set.selections, condition)
        assert isinstance(selection, FragmentSpreadNode)
        if getattr(selection, "arguments", None):
            return False  # fragment arguments: variables of their own, not in the key
        name = selection.name.value
        fragment = self.fragments.get(name)
        condition = None if fragment is None else self.schema.get_type(
            fragment.type_condition.name.value)
        if fragment is None or condition is None:
            return False
        if name in self.spread:
            return True
        self.spread.add(name)
        return self.selections(fragment.selection_set.selections, condition)

    def _field(self, node: FieldNode, parent: GraphQLNamedType) -> bool:
        name = node.name.value
        if name == "__typename":
            return True
        if name not in ENTRY_FIELDS.get(parent.name, ()) or not isinstance(
                parent, GraphQLObjectType | GraphQLInterfaceType):
            return False
        field = parent.fields.get(name)
        if field is None:
            return False
        self._arguments(argument.value for argument in node.arguments or ())
        if node.selection_set is None:
            return True
        return self.selections(node.selection_set.selections, get_named_type(field.type))

    def _arguments(self, values: Iterable[ValueNode]) -> None:
        for value in values:
            if isinstance(value, VariableNode):
                self.variables.add(value.name.value)
            elif isinstance(value, ListValueNode):
                self._arguments(value.values)
            elif isinstance(value, ObjectValueNode):
                self._arguments(field.value for field in value.fields)
