"""``/healthz``: the process is up. ``/readyz``: it can serve — the database answers, the
schema is at the newest migration, and the read model has applied the whole log. A load
balancer sends traffic only to ready processes; when the database goes away they turn
unready (503) and come back by themselves once it returns."""

from __future__ import annotations

import asyncio
from dataclasses import asdict

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from api.database import current_revision, head_revision

CHECK_SECONDS = 2.0


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


async def readyz(request: Request) -> Response:
    services = getattr(request.app.state, "services", None)
    if services is None:
        return JSONResponse({"ready": False, "database": "starting"}, status_code=503)
    try:
        async with asyncio.timeout(CHECK_SECONDS):
            revision = await current_revision(services.engine)
            lag = await services.read_model.projection_lag()
    except Exception as e:
        return JSONResponse({"ready": False, "database": f"unreachable ({type(e).__name__})"},
                            status_code=503)
    head = head_revision()
    checks = {"database": "ok",
              "migrations": "ok" if revision == head else f"at {revision}, not {head}",
              "projection": "ok" if lag == 0 else f"{lag} events behind"}
    ready = all(value == "ok" for value in checks.values())
    # A standby that is down or behind never makes the process unready: reads go elsewhere.
    replicas = {"replicas": [asdict(s) for s in services.replicas.lag()]} \
        if services.replicas.configured else {}
    return JSONResponse({"ready": ready, **checks, **replicas},
                        status_code=200 if ready else 503)
