"""``chronicle serve --workers 2``: several API processes on one port and one database."""

from __future__ import annotations

from tests.e2e.servers import DEMO_QUERY, Server


def test_two_workers_start_together_and_import_the_demo_once(
        chronicle_env: dict[str, str]) -> None:
    server = Server(chronicle_env, "--demo", "--workers", "2")
    try:
        answers = [server.graphql(DEMO_QUERY) for _ in range(8)]
        counts = {a["data"]["timeline"]["entries"]["totalCount"]  # type: ignore[index]
                  for a in answers}
        assert counts == {9}
        events = server.graphql("{ events(first: 500) { nodes { position } } }")
        positions = [n["position"] for n in events["data"]["events"]["nodes"]]  # type: ignore[index]
        assert positions == list(range(1, 101))  # the 100 demo commands, imported once
    finally:
        server.stop()
