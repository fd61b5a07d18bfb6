"""A graphql-ws client (npm, not ours) subscribed to one ``chronicle serve`` receives an
event appended through another ``chronicle serve`` on the same database."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.e2e.node_tools import Subscription
from tests.e2e.servers import Server, token

CREATE = ('mutation { createTimeline(input: {slug: "live", title: "Live"}) '
          "{ event { position } } }")
OPEN = ('mutation { openEntry(input: {timeline: "live", id: "e1", title: "One"}) '
        "{ event { position } } }")


def append(server: Server, mutation: str, bearer: str) -> int:
    response = httpx.post(server.url + "/graphql", json={"query": mutation},
                          headers={"authorization": f"Bearer {bearer}"}, timeout=30)
    body = response.json()
    assert "errors" not in body, body
    name = next(iter(body["data"]))
    position: int = body["data"][name]["event"]["position"]
    return position


def test_an_event_appended_through_one_process_reaches_a_subscriber_of_another(
        node_modules: Path, chronicle_env: dict[str, str]) -> None:
    reader, writer = Server(chronicle_env), Server(chronicle_env)
    try:
        bearer = token(chronicle_env)
        created = append(writer, CREATE, bearer)
        ws_url = reader.url.replace("http://", "ws://") + "/graphql"
        with Subscription(ws_url, "subscription($after: Int!) { events(after: $after) "
                          "{ position type stream } }", variables={"after": 0}, count=2,
                          authorization=f"Bearer {bearer}", timeout_ms=20_000) as log, \
                Subscription(ws_url, 'subscription { timelineChanged(slug: "live") '
                             "{ slug events { type position } } }", count=1,
                             timeout_ms=20_000) as changes:
            log.wait_connected()
            changes.wait_connected()
            backlog = log.next()
            assert backlog["data"]["events"] == {"position": created, "type":
                                                 "TimelineCreated", "stream": "timeline:live"}
            opened = append(writer, OPEN, bearer)
            live = log.next()
            assert live["data"]["events"]["position"] == opened
            change = changes.next()["data"]["timelineChanged"]
            assert change == {"slug": "live", "events": [{"type": "EntryOpened",
                                                          "position": opened}]}, \
                json.dumps(change)
            assert log.wait() == 0 and changes.wait() == 0
    finally:
        reader.stop()
        writer.stop()
