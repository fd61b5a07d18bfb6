"""A shorter path through graphql-core's executor for the commonest field of all: a plain
attribute holding a scalar or an enum.

A full-timeline read resolves about ten thousand fields, most of them leaves such as ``id``,
``best`` or ``status`` read straight off a row. graphql-core builds a resolve info, calls the
resolver through strawberry's wrapper and dispatches on the return type for each of them;
profiling a 200-entry read shows that bookkeeping, not our code, is most of its time. For a
field strawberry itself marks as basic (no resolver, no extensions, no arguments) whose type
is a scalar or an enum, the answer is the attribute, coerced by its type; this context
computes just that, and hands every other field, and every value that would need an error,
to the standard path, so answers and errors are the same as graphql-core's.

Why it stays: ``bench/plain_leaf.py`` (W1's full-timeline read, 200 entries × 5 facts, run
in-process with and without this module) measured 44 ms of CPU per read with graphql-core's
stock execution against 24.5 ms with this one: 1.8×, 44 % of a read's CPU saved.

This is a fork of graphql-core internals, and the only module of Chronicle that touches
them; it was written for, and checked against, graphql-core ``GRAPHQL_CORE_RANGE``
(>=3.3.0,<3.3.3; installed when written: 3.3.2, with strawberry-graphql 0.341.2), whose
internals change between patch releases. ``tests/unit/test_plain_leaf_execution.py`` fails
outside that range. What it depends on:

* ``Executor.execute_fields`` is overridden by a copy of graphql-core's own (its loop,
  ``settle_in_background`` on failure, ``gather_with_cancel`` for awaitables), with the
  short path added in the loop; its grouped field set holds ``FieldDetails`` (``.node``);
* ``_complete_plain_object`` repeats ``execute_field``'s error handling around
  ``collect_and_execute_subfields``, and calls ``handle_field_error`` as it does;
* ``execute_field``, ``is_awaitable`` and ``middleware_manager`` are used as they are;
* from strawberry: ``StrawberryGraphQLCoreExecutionContext``, the ``strawberry-definition``
  extension of fields and types, and the ``_is_default`` mark of its default resolver;
* ``collect_and_execute_subfields`` (its arguments, and that it completes an object value
  given its field details) is wrapped to reuse an entry's rendering (api/graphql/fragments.py).

Before widening the range: diff graphql-core's ``execution/executor.py`` for those
methods, run that test file, and re-run the benchmark.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLAbstractType,
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    GraphQLUnionType,
    is_leaf_type,
)
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField

from api.graphql.admission import RENDERS_PER_TURN, Turns
from api.graphql.fragments import (
    EntryRenderings,
    RenderingKey,
    Selection,
    entry_selection,
    render,
    variable_values,
)
from api.services.reading import then

# The graphql-core versions this fork was written for and checked against: [low, high).
GRAPHQL_CORE_RANGE = ((3, 3, 0), (3, 3, 3))

PLAIN_LEAF = "chronicle-plain-leaf"
PLAIN_OBJECT = "chronicle-plain-object"


def mark_plain_leaves(schema: GraphQLSchema, default_resolver: Callable[..., Any]) -> None:
    """Note, on each field that can take the short path, the attribute it reads, whether it
    may be null and how to coerce its value (in the field's ``extensions``, where
    graphql-core keeps such data). Basic fields read ``default_resolver(source, name)``;
    nothing is marked unless that is plain ``getattr``."""
    for named in schema.type_map.values():
        if isinstance(named, GraphQLUnionType):
            _resolve_members_by_class(named)
        if (default_resolver is not getattr or not isinstance(named, GraphQLObjectType)
                or named.name.startswith("__")):
            continue
        for field in named.fields.values():
            if (leaf := _plain_leaf(field)) is not None:
                field.extensions = {**field.extensions, PLAIN_LEAF: leaf}
            elif (plain := _plain_object(field)) is not None:
                field.extensions = {**field.extensions, PLAIN_OBJECT: plain}


def _resolve_members_by_class(union: GraphQLUnionType) -> None:
    """Name a union member straight from the Python class of the value when the class is one
    of the members'; strawberry's general resolution stays for anything else."""
    by_class: dict[type, str] = {}
    for member in union.types:
        definition = member.extensions.get("strawberry-definition")
        if isinstance(definition, StrawberryObjectDefinition) and not definition.is_graphql_generic:
            by_class[definition.origin] = member.name
    general = union.resolve_type
    if general is None or not by_class:
        return

    def resolve_type(value: Any, info: GraphQLResolveInfo[Any], union: GraphQLAbstractType) -> Any:
        name = by_class.get(type(value))
        return name if name is not None else general(value, info, union)

    union.resolve_type = resolve_type


@dataclass(frozen=True, slots=True)
class PlainLeaf:
    attribute: str
    nullable: bool
    coerce: Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class PlainObject:
    attribute: str
    nullable: bool
    # The object types the value may be, by Python class; only those graphql-core would
    # not ask ``is_type_of`` about.
    types: dict[type, GraphQLObjectType]


def _basic(field: GraphQLField) -> StrawberryField | None:
    """The strawberry field, when it is a plain attribute read (no resolver, no args)."""
    definition = field.extensions.get("strawberry-definition")
    if (field.args or not getattr(field.resolve, "_is_default", False)
            or not isinstance(definition, StrawberryField)):
        return None
    return definition


def _plain_object(field: GraphQLField) -> PlainObject | None:
    definition = _basic(field)
    if definition is None:
        return None
    nullable = not isinstance(field.type, GraphQLNonNull)
    named = field.type if nullable else field.type.of_type  # type: ignore[union-attr]
    members = ([named] if isinstance(named, GraphQLObjectType)
               else list(named.types) if isinstance(named, GraphQLUnionType) else [])
    types: dict[type, GraphQLObjectType] = {}
    for member in members:
        origin = member.extensions.get("strawberry-definition")
        if (member.is_type_of is None and isinstance(origin, StrawberryObjectDefinition)
                and not origin.is_graphql_generic):
            types[origin.origin] = member
    return PlainObject(definition.python_name, nullable, types) if types else None


def _plain_leaf(field: GraphQLField) -> PlainLeaf | None:
    definition = _basic(field)
    if definition is None:
        return None
    nullable = not isinstance(field.type, GraphQLNonNull)
    leaf = field.type if nullable else field.type.of_type  # type: ignore[union-attr]
    if not is_leaf_type(leaf):
        return None
    return PlainLeaf(definition.python_name, nullable, leaf.coerce_output_value)


class PlainLeafExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Strawberry always passes a manager, often an empty one; a middleware would wrap
        # every resolver, so the short path is taken only without one.
        manager = self.middleware_manager
        self._short_path = manager is None or not manager.middlewares
        renderings = getattr(self.context_value, "entry_renderings", None)
        self._renderings = renderings if isinstance(renderings, EntryRenderings) else None
        self._selections: dict[tuple[int, ...], Selection | None] = {}
        self._turns = Turns(RENDERS_PER_TURN)

    def execute_fields(self, parent_type: GraphQLObjectType, source_value: Any,
                       path: Path | None, grouped_field_set: Any,
                       position_context: Any) -> Any:
        """graphql-core's ``execute_fields``, but a plain leaf is read in place: no path,
        resolve info or completion for it unless its value needs the standard path."""
        if not self._short_path:
            return super().execute_fields(parent_type, source_value, path, grouped_field_set,
                                          position_context)
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        fields = parent_type.fields
        try:
            for response_name, field_details_list in grouped_field_set.items():
                node = field_details_list[0].node
                field = fields.get(node.name.value)
                plan = field.extensions.get(PLAIN_LEAF) if field is not None else None
                if plan is not None and not node.arguments:
                    value = _read_plain_leaf(plan, source_value)
                    if value is not _STANDARD_PATH:
                        results[response_name] = value
                        continue
                elif field is not None and not node.arguments and (
                        plain := field.extensions.get(PLAIN_OBJECT)) is not None:
                    value = getattr(source_value, plain.attribute, _STANDARD_PATH)
                    if value is None and plain.nullable:
                        results[response_name] = None
                        continue
                    runtime = plain.types.get(type(value))
                    if runtime is not None:
                        result = self._complete_plain_object(
                            field, runtime, field_details_list,
                            Path(path, response_name, parent_type.name), value,
                            position_context)
                        results[response_name] = result
                        if is_awaitable(result):
                            awaitable_fields.append(response_name)
                        continue
                result = self.execute_field(parent_type, source_value, field_details_list,
                                            Path(path, response_name, parent_type.name),
                                            position_context)
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            awaited = await gather_with_cancel(*(results[f] for f in awaitable_fields))
            results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()


    def _complete_plain_object(self, field: GraphQLField, runtime: GraphQLObjectType,
                               field_details_list: Any, path: Path, value: Any,
                               position_context: Any) -> Any:
        """What graphql-core's execute_field does once a plain attribute resolved to an
        object whose type is known: execute its selection, with the same error handling."""
        try:
            completed = self.collect_and_execute_subfields(runtime, field_details_list, path,
                                                           value, position_context)
        except Exception as raw_error:
            self.handle_field_error(raw_error, field.type, field_details_list, path)
            return None
        if not self.is_awaitable(completed):
            return completed

        async def await_completed() -> Any:
            try:
                return await completed
            except Exception as raw_error:
                self.handle_field_error(raw_error, field.type, field_details_list, path)
                return None

        return await_completed()


    def collect_and_execute_subfields(self, return_type: GraphQLObjectType,
                                      field_details_list: Any, path: Path, result: Any,
                                      position_context: Any) -> Any:
        """graphql-core's, but an object that names what it shows (``rendering_key``, as an
        entry does) is rendered once per key and selection, then reused as JSON text; and
        such objects rendered afresh take turns with the rest of the process (``_turns``)."""
        known = getattr(result, "rendering_key", None)
        if known is None:
            return super().collect_and_execute_subfields(return_type, field_details_list,
                                                         path, result, position_context)
        key = self._rendering_key(return_type, field_details_list, known)
        if key is not None and (rendering := self._kept(key)) is not None:
            return rendering

        def rendered() -> Any:
            errors_before = len(self.collected_errors.errors)
            completed = super(PlainLeafExecutionContext, self).collect_and_execute_subfields(
                return_type, field_details_list, path, result, position_context)
            if key is None:
                return completed

            def keep(value: Any) -> Any:
                return self._keep(key, path, errors_before, value)

            return then(completed, keep)

        turn = self._turns.next()
        if turn is None:
            return rendered()

        async def rendered_in_turn() -> Any:
            await turn
            completed = rendered()
            return await completed if self.is_awaitable(completed) else completed

        return rendered_in_turn()

    def _rendering_key(self, return_type: GraphQLObjectType, field_details_list: Any,
                       known: Callable[[], Any]) -> RenderingKey | None:
        if self._renderings is None:
            return None
        identity = known()
        selection = None if identity is None else self._selection(return_type,
                                                                  field_details_list)
        if selection is None:
            return None
        return (selection.text, variable_values(self.variable_values.coerced,
                                                selection.variables), identity)

    def _kept(self, key: RenderingKey) -> Any:
        assert self._renderings is not None
        return self._renderings.get(key)

    def _keep(self, key: RenderingKey, path: Path, errors_before: int, value: Any) -> Any:
        """The rendering of ``value``, kept, unless an error was raised under it (its
        rendering is then not the object's)."""
        assert self._renderings is not None
        prefix = path.as_list()
        if any((error.path or [])[:len(prefix)] == prefix
               for error in self.collected_errors.errors[errors_before:]):
            return value
        kept = render(value)
        if kept is None:
            return value
        self._renderings.put(key, kept)
        return kept

    def _selection(self, parent: GraphQLObjectType, field_details_list: Any) -> Selection | None:
        nodes = [details.node for details in field_details_list]
        known = tuple(id(node) for node in nodes)
        if known not in self._selections:
            self._selections[known] = entry_selection(
                self.schema, parent, nodes,
                {name: details.definition for name, details in self.fragments.items()})
        return self._selections[known]


_STANDARD_PATH = object()

def _read_plain_leaf(plan: PlainLeaf, source: Any) -> Any:
    """The field's answer, or ``_STANDARD_PATH`` when it needs graphql-core's own path: a
    missing attribute, a null where none is allowed, or a value its type will not take
    (the standard path then reports the error exactly as it would anyway)."""
    try:
        value = getattr(source, plan.attribute)
        if value is None:
            return None if plan.nullable else _STANDARD_PATH
        coerced = plan.coerce(value)
    except Exception:  # the standard path reports it
        return _STANDARD_PATH
    return _STANDARD_PATH if coerced is None or coerced is Undefined else coerced
