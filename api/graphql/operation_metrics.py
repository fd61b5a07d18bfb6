"""Counts and times GraphQL operations into the app's ``Metrics``.

Operations are labelled by their root field (``timeline``, ``reportFact``…): names from the
schema, so a client cannot grow the label set; anything else is ``other``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from graphql import FieldNode, GraphQLSchema, OperationDefinitionNode
from strawberry.extensions import SchemaExtension


class OperationMetrics(SchemaExtension):
    """Counts and times every operation, on HTTP and WebSocket alike."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context
        services = getattr(context.context, "services", None)
        if services is None:
            return
        operation, kind = _root_field(context.graphql_document, context.operation_name)
        if operation not in _root_fields(context.schema._schema, kind):
            operation = "other"
        result = context.result
        outcome = "error" if getattr(result, "errors", None) else "ok"
        services.metrics.operations.labels(operation, kind, outcome).inc()
        services.metrics.latency.labels(operation, kind).observe(
            time.perf_counter() - started)


def _root_fields(schema: GraphQLSchema, kind: str) -> set[str]:
    root = {"query": schema.query_type, "mutation": schema.mutation_type,
            "subscription": schema.subscription_type}.get(kind)
    return set(root.fields) if root is not None else set()


def _root_field(document: object, name: str | None) -> tuple[str, str]:
    definitions = getattr(document, "definitions", None) or []
    operations = [d for d in definitions if isinstance(d, OperationDefinitionNode)
                  and (name is None or (d.name is not None and d.name.value == name))]
    if len(operations) != 1:
        return "other", "unknown"
    operation = operations[0]
    fields = [s for s in operation.selection_set.selections if isinstance(s, FieldNode)]
    root = fields[0].name.value if fields else "other"
    return root, operation.operation.value
