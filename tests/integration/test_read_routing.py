"""Read-your-writes plumbing, without a standby of its own (tests/e2e/test_replicas.py runs
against a real one): every mutation's answer names its position; reads name the position
they reflect once standbys are configured; a standby that does not answer costs no read,
shows in /readyz and /metrics, and a read naming a position no standby holds is answered
by the primary."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from sqlalchemy import event

from tests.integration.conftest import Api, running_api

READ = "{ timelines { slug version } }"


async def post(api: Api, query: str, headers: dict[str, str] | None = None,
               variables: dict[str, object] | None = None):  # type: ignore[no-untyped-def]
    return await api.client.post("/graphql", json={"query": query, "variables": variables or {}},
                                 headers={"authorization": f"Bearer {api.token}",
                                          **(headers or {})})


async def test_a_mutation_answer_names_the_position_it_committed(api: Api) -> None:
    response = await post(api, 'mutation { createTimeline(input: {slug: "t", title: "T"}) '
                               '{ event { position } } }')
    body = response.json()
    position = body["data"]["createTimeline"]["event"]["position"]
    assert body["extensions"]["position"] == position
    assert response.headers["chronicle-position"] == str(position)


async def test_a_min_position_that_is_not_one_is_refused(api: Api) -> None:
    for bad in ("-1", "soon", "1e3", "9" * 30):
        response = await post(api, READ, {"chronicle-min-position": bad})
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_INPUT", bad
    response = await api.client.get("/embed/none", headers={"chronicle-min-position": "x"})
    assert response.status_code == 400


async def test_a_standby_holding_the_position_serves_and_names_it(api: Api) -> None:
    """The primary's own database, named as a standby: it holds every position."""
    settings = dataclasses.replace(api.services.settings,
                                   replica_urls=(api.services.settings.database_url or "",))
    async with running_api(settings) as routed:
        done = await routed.ok("createTimeline", {"slug": "t", "title": "T"})
        position = done["event"]["position"]
        response = await post(routed, READ, {"chronicle-min-position": str(position)})
        assert response.json()["data"]["timelines"] == [{"slug": "t", "version": position}]
        assert int(response.headers["chronicle-position"]) >= position
        ready = (await routed.client.get("/readyz")).json()
        [standby] = ready["replicas"]
        assert standby["up"] and standby["serving"] and ready["ready"]
        metrics = (await routed.client.get("/metrics")).text
        assert 'chronicle_replica_up{replica="' in metrics
        standby_reads = [line for line in metrics.splitlines()
                         if line.startswith("chronicle_routed_reads_total{")
                         and 'source="primary"' not in line]
        assert standby_reads and float(standby_reads[0].split()[-1]) >= 1


async def test_a_standby_that_does_not_answer_costs_no_read(api: Api) -> None:
    settings = dataclasses.replace(api.services.settings,
                                   replica_urls=("postgresql://postgres@127.0.0.1:1/none",),
                                   replica_wait_seconds=0.2)
    async with running_api(settings) as routed:
        done = await routed.ok("createTimeline", {"slug": "t", "title": "T"})
        started = time.monotonic()
        response = await post(routed, READ,
                              {"chronicle-min-position": str(done["event"]["position"])})
        assert response.json()["data"]["timelines"][0]["slug"] == "t"
        assert time.monotonic() - started < 5
        assert (await post(routed, READ)).json()["data"]["timelines"]
        ready = (await routed.client.get("/readyz")).json()
        assert ready["ready"] and ready["replicas"][0]["up"] is False
        metrics = (await routed.client.get("/metrics")).text
        assert 'chronicle_replica_up{replica="127.0.0.1:1/none"} 0.0' in metrics
        assert 'chronicle_routed_reads_total{source="primary"} 2.0' in metrics


async def test_a_cached_read_from_a_standby_costs_one_statement(api: Api) -> None:
    """A cached answer knows the position it was made at: serving it again asks the standby
    only for the timeline's version (its cache key), not for its head as well."""
    settings = dataclasses.replace(api.services.settings,
                                   replica_urls=(api.services.settings.database_url or "",))
    async with running_api(settings) as routed:
        done = await routed.ok("createTimeline", {"slug": "t", "title": "T"})
        position = done["event"]["position"]
        read = '{ timeline(slug: "t") { slug version } }'
        first = await post(routed, read, {"chronicle-min-position": str(position)})
        made_at = int(first.headers["chronicle-position"])
        assert made_at >= position
        [standby] = routed.services.replicas.standbys
        statements: list[str] = []

        def seen(*args: Any) -> None:
            statement = args[2]
            if "pg_last_xact_replay_timestamp" not in statement:  # the health poll
                statements.append(statement)

        event.listen(standby.source.engine.sync_engine, "before_cursor_execute", seen)
        try:
            again = await post(routed, read, {"chronicle-min-position": str(position)})
        finally:
            event.remove(standby.source.engine.sync_engine, "before_cursor_execute", seen)
        assert again.json() == first.json()
        assert len(statements) == 1 and "timelines" in statements[0], statements
        assert int(again.headers["chronicle-position"]) == made_at
