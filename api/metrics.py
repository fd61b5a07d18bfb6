"""``/metrics`` in Prometheus's text format, one registry per app.

Operations are labelled by their root field (``timeline``, ``reportFact``…): names from the
schema, so a client cannot grow the label set; anything else is ``other``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from graphql import FieldNode, GraphQLSchema, OperationDefinitionNode
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import Response
from strawberry.extensions import SchemaExtension

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.operations = Counter(
            "chronicle_graphql_operations", "GraphQL operations answered, by root field, "
            "kind and outcome (ok, error)", ["operation", "kind", "outcome"],
            registry=self.registry)
        self.latency = Histogram(
            "chronicle_graphql_operation_seconds", "Time to answer a GraphQL operation "
            "(a subscription: to set it up)", ["operation", "kind"],
            buckets=LATENCY_BUCKETS, registry=self.registry)
        self.appended = Counter("chronicle_appended_events",
                                "Events this process appended to the log",
                                registry=self.registry)
        self.batches = Histogram("chronicle_append_batch_commands",
                                 "Commands per group commit", buckets=BATCH_BUCKETS,
                                 registry=self.registry)
        self.subscriptions = Gauge("chronicle_subscriptions", "Open GraphQL subscriptions",
                                   registry=self.registry)
        self.lag = Gauge("chronicle_projection_lag_events",
                         "Log positions the read model has not applied yet",
                         registry=self.registry)
        self.pool_size = Gauge("chronicle_db_pool_size", "Database connections pooled",
                               registry=self.registry)
        self.pool_in_use = Gauge("chronicle_db_pool_in_use",
                                 "Database connections checked out", registry=self.registry)

    def batch(self, commands: int, events: int) -> None:
        self.batches.observe(commands)
        self.appended.inc(events)


async def metrics_endpoint(request: Request) -> Response:
    services = request.app.state.services
    metrics: Metrics = services.metrics
    pool = services.engine.pool
    metrics.pool_size.set(pool.size())
    metrics.pool_in_use.set(pool.checkedout())
    metrics.lag.set(await projection_lag(services.engine))
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


async def projection_lag(engine: object) -> int:
    async with engine.connect() as connection:  # type: ignore[attr-defined]
        lag = (await connection.execute(text(
            "SELECT (SELECT coalesce(max(position), 0) FROM events) "
            "- (SELECT coalesce(max(position), 0) FROM checkpoints)"))).scalar_one()
    return max(int(lag), 0)


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
