"""``/metrics`` in Prometheus's text format."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import Response

from api.services.metrics import Metrics


async def metrics_endpoint(request: Request) -> Response:
    services = request.app.state.services
    metrics: Metrics = services.metrics
    pool = services.engine.pool
    metrics.pool_size.set(pool.size())
    metrics.pool_in_use.set(pool.checkedout())
    metrics.lag.set(await services.read_model.projection_lag())
    for standby in services.replicas.lag():
        metrics.replica_up.labels(standby.replica).set(1 if standby.serving else 0)
        metrics.replica_lag_events.labels(standby.replica).set(standby.lag_positions)
        metrics.replica_lag_seconds.labels(standby.replica).set(
            float("nan") if standby.lag_seconds is None else standby.lag_seconds)
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
