"""What this process counts for Prometheus: one registry per app, served at ``/metrics``."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

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
        self.reads_by_source = Counter("chronicle_routed_reads",
                                       "Reads routed to each database, once standbys are "
                                       "configured (primary, or a standby's host:port/db)",
                                       ["source"], registry=self.registry)
        self.replica_up = Gauge("chronicle_replica_up",
                                "1 while a standby answers and is close enough to serve reads",
                                ["replica"], registry=self.registry)
        self.replica_lag_events = Gauge("chronicle_replica_lag_events",
                                        "Positions a standby is behind the primary",
                                        ["replica"], registry=self.registry)
        self.replica_lag_seconds = Gauge("chronicle_replica_lag_seconds",
                                         "Seconds since a lagging standby replayed a commit",
                                         ["replica"], registry=self.registry)
        self.pool_size = Gauge("chronicle_db_pool_size", "Database connections pooled",
                               registry=self.registry)
        self.pool_in_use = Gauge("chronicle_db_pool_in_use",
                                 "Database connections checked out", registry=self.registry)

    def batch(self, commands: int, events: int) -> None:
        self.batches.observe(commands)
        self.appended.inc(events)
