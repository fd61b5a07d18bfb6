from __future__ import annotations

from api.graphql.schema import schema_sdl
from tests.conftest import ROOT


def test_schema_graphql_is_current() -> None:
    written = (ROOT / "schema.graphql").read_text()
    assert written == schema_sdl(), (
        "schema.graphql is stale: run python -m api.graphql.export_schema > schema.graphql")


def test_the_contract_names_are_in_the_schema() -> None:
    sdl = schema_sdl()
    for name in ("createTimeline(input: CreateTimelineInput!)", "registerSource(", "gradeSource(",
                 "openEntry(", "reportFact(input: ReportFactInput!)", "correctReport(",
                 "retractReport(", "rankReport(", "mergeEntries(", "input ValueInput @oneOf",
                 "union Value = Count | Text | TimeSpan | Place | Flag",
                 "enum Stance", "enum Reliability", "enum Rank", "enum SourceKind",
                 "enum Precision"):
        assert name in sdl, name
