"""GraphQL over HTTP conformance: graphql-http's server audits against ``chronicle serve``.

Every MUST and every SHOULD audit passes; MAY audits are reported but not required.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.e2e.node_tools import run_audit
from tests.e2e.servers import Server

REQUIRED = ("MUST", "SHOULD")


def failing(report: dict[str, Any], levels: tuple[str, ...]) -> list[dict[str, Any]]:
    return [f for f in report["failures"] if f["level"] in levels]


def test_every_must_and_should_audit_of_graphql_http_passes(
        node_modules: Path, chronicle_env: dict[str, str]) -> None:
    server = Server(chronicle_env)
    try:
        report = run_audit(server.url + "/graphql")
    finally:
        server.stop()
    assert report["total"] > 0, report
    for level in REQUIRED:
        assert sum(report["counts"][level].values()) > 0, f"no {level} audits ran: {report}"
    failures = failing(report, REQUIRED)
    summary = "\n".join(
        f"- {f['id']} {f['status']}: {f['name']}\n    {f['reason']}\n"
        f"    answered {json.dumps(f['response'])}" for f in failures)
    assert len(failures) == 0, (f"{len(failures)} MUST/SHOULD audits failed "
                          f"(counts {json.dumps(report['counts'])}):\n{summary}")
