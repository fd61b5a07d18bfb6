"""Every intake says where what it refuses went wrong, and stores nothing of it.

The NDJSON and CSV imports name the line (and, for broken JSON, the column, as an editor
counts it); GraphQL over HTTP answers a request it cannot read with a GraphQL error in JSON,
keeping the HTTP status.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.embed.exports import CSV_COLUMNS
from api.services.csv_import import import_csv
from api.services.intake import LineRefused
from api.services.ndjson_import import import_file
from events.errors import BadInput
from tests.integration.conftest import Api
from tests.integration.imports import import_path

BOM = "\ufeff"
GRAPHQL_RESPONSE = "application/graphql-response+json"
TIMELINE = {"mutation": "createTimeline", "input": {"slug": "k", "title": "K"}}
CSV_HEADER = "timeline,entry,attribute,kind,value,source,source_name,source_grade,via," \
             "via_name,stance,reported_at\n"


def ndjson(path: Path, *lines: str, ending: str = "\n", bom: bool = False) -> Path:
    path.write_text((BOM if bom else "") + "".join(f"{line}{ending}" for line in lines),
                    encoding="utf-8", newline="")
    return path


def csv_row(source: str, source_name: str = "", *, source_grade: str = "", via: str = "",
            via_name: str = "", value: str = "5") -> str:
    return (f"k,strike,killed,count,{value},{source},{source_name},{source_grade},{via},"
            f"{via_name},CLAIMED,2018-02-08T00:00:00Z\n")


async def refusal(api: Api, path: Path, *, spreadsheet: bool = False) -> LineRefused:
    with pytest.raises(LineRefused) as refused:
        await import_path(api.services, path, spreadsheet=spreadsheet)
    assert await api.event_count() == 0
    return refused.value


# --- NDJSON ------------------------------------------------------------------------------

@pytest.mark.parametrize(("title", "mutation", "key", "field", "problem"), [
    ("K\ud800", "createTimeline", None, "title", "must not contain lone UTF-16 surrogates"),
    ("K", "createTimeline\udfff", None, "mutation", "unknown mutation"),
    ("K", "createTimeline", "key-\ud800", "idempotencyKey",
     "must not contain lone UTF-16 surrogates"),
])
async def test_an_ndjson_line_with_a_lone_surrogate_is_refused_by_its_line(
        api: Api, tmp_path: Path, title: str, mutation: str, key: str | None, field: str,
        problem: str) -> None:
    fields: dict[str, Any] = {"slug": "k2", "title": title}
    if key is not None:
        fields["idempotencyKey"] = key
    # json.dumps writes a lone surrogate as its escape, \ud800: the file itself is UTF-8.
    line = json.dumps({"mutation": mutation, "input": fields})
    assert "\\ud" in line
    refused = await refusal(api, ndjson(tmp_path / "s.ndjson", json.dumps(TIMELINE), line))
    assert refused.line == 2 and refused.field == field
    assert refused.message.startswith("line 2: ") and problem in refused.message


BROKEN_LINES = [
    # (the line, where its JSON breaks: the text the column must point at, or None at its end)
    ('{"mutation": "createTimeline", "input": {"slug": "k2", "title": "K"}', None),
    ('{"mutation": "createTimeline", "input": {"slug": "k2" "title": "K"}}', '"title"'),
    ('  {"mutation": "createTimeline", "input": {"slug": "k2", "title": K}}', "K}}"),
    ('{"mutation": "createTimeline", "input": {}} trailing', "trailing"),
]


@pytest.mark.parametrize(("line", "at"), BROKEN_LINES)
@pytest.mark.parametrize("ending", ["\n", "\r\n"])
async def test_broken_json_is_named_by_its_line_and_the_column_an_editor_shows(
        api: Api, tmp_path: Path, line: str, at: str | None, ending: str) -> None:
    column = len(line) + 1 if at is None else line.index(at) + 1
    path = ndjson(tmp_path / "broken.ndjson", json.dumps(TIMELINE), "", line,
                  json.dumps(TIMELINE), ending=ending)
    refused = await refusal(api, path)
    assert refused.line == 3
    assert refused.message.startswith("line 3: not valid JSON (")
    assert refused.message.endswith(f" at column {column})")


async def test_a_byte_order_mark_opening_an_ndjson_file_is_read_and_not_counted_as_a_column(
        api: Api, tmp_path: Path) -> None:
    opened = {"mutation": "openEntry", "input": {"timeline": "k", "id": "e", "title": "E"}}
    path = ndjson(tmp_path / "bom.ndjson", json.dumps(TIMELINE), json.dumps(opened), bom=True)
    assert await import_file(api.services.intake, path, actor="test") == 2

    broken = ndjson(tmp_path / "broken.ndjson", '{"mutation": x}', bom=True)
    with pytest.raises(LineRefused) as refused:
        await import_file(api.services.intake, broken, actor="test")
    assert refused.value.message == "line 1: not valid JSON (Expecting value at column 14)"


async def test_bytes_that_are_not_utf8_are_named_by_their_line_and_column(
        api: Api, tmp_path: Path) -> None:
    path = tmp_path / "latin1.ndjson"
    path.write_bytes(json.dumps(TIMELINE).encode() + b'\n{"mutation": "caf\xe9"}\n')
    refused = await refusal(api, path)
    assert refused.message == "line 2: not valid UTF-8 (at column 18)"


@pytest.mark.parametrize(("line", "problem"), [
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"mutation": "createTimeline", "input": {"slug": "k2", "title": ' + "9" * 5000 + "}}",
     "digits"),
])
async def test_json_beyond_what_the_parser_takes_is_refused_by_its_line(
        api: Api, tmp_path: Path, line: str, problem: str) -> None:
    refused = await refusal(api, ndjson(tmp_path / "big.ndjson", json.dumps(TIMELINE), line))
    assert refused.line == 2
    assert problem in refused.message


# --- CSV ---------------------------------------------------------------------------------

async def test_a_csv_saved_by_a_spreadsheet_with_a_byte_order_mark_is_read(
        api: Api, tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_text(CSV_HEADER + csv_row("mfa", "Foreign Ministry"), encoding="utf-8-sig")
    assert path.read_bytes().startswith(BOM.encode())
    # a timeline, a source, an entry and a report
    assert await import_csv(api.services.intake, api.services.read_model, path, actor="test") == 4
    assert await api.scalar("SELECT name FROM sources WHERE id = 'mfa'") == "Foreign Ministry"


@pytest.mark.parametrize(("row", "column"), [
    (csv_row("mfaa"), "source"),
    (csv_row("mfa", via="ghost"), "via"),
    (csv_row("mfa", via="ghost", via_name="  "), "via"),
])
async def test_a_source_neither_known_nor_named_is_refused_by_its_line(
        api: Api, tmp_path: Path, row: str, column: str) -> None:
    path = tmp_path / "typo.csv"
    path.write_text(CSV_HEADER + csv_row("mfa", "Foreign Ministry") + row, encoding="utf-8")
    refused = await refusal(api, path, spreadsheet=True)
    assert refused.line == 3 and refused.field == column
    assert f"{column}_name" in refused.message
    assert await api.scalar("SELECT count(*) FROM sources") == 0


async def test_a_named_source_is_registered_once_and_a_known_one_needs_no_name(
        api: Api, tmp_path: Path) -> None:
    await api.ok("registerSource", {"id": "pentagon", "name": "Pentagon", "kind": "MILITARY"})
    path = tmp_path / "sources.csv"
    path.write_text(CSV_HEADER
                    + csv_row("pentagon", value="3")
                    + csv_row("outlets", "Several outlets", source_grade="C", via="pentagon")
                    + csv_row("outlets", value="7", via="wire", via_name="A wire service"),
                    encoding="utf-8")
    await import_csv(api.services.intake, api.services.read_model, path, actor="test")
    sources = [(s.id, s.name, s.kind, s.reliability)
               for s in await api.services.read_model.sources()]
    assert sources == [("outlets", "Several outlets", "OTHER", "C"),
                       ("pentagon", "Pentagon", "MILITARY", None),
                       ("wire", "A wire service", "OTHER", None)]
    assert await api.scalar("SELECT count(*) FROM reports") == 3


@pytest.mark.parametrize(("bad_row", "problem"), [
    (csv_row("mfa", "Minist\xe8re").encode("latin-1"), "not UTF-8"),
    (csv_row("mfa", "x" * 200_000).encode(), "field larger than field limit"),
])
async def test_a_row_that_cannot_be_read_is_refused_by_its_line(
        api: Api, tmp_path: Path, bad_row: bytes, problem: str) -> None:
    path = tmp_path / "unreadable.csv"
    path.write_bytes((CSV_HEADER + csv_row("mfa", "Foreign Ministry")
                      + csv_row("afp", "Agence France-Presse")).encode() + bad_row
                     + csv_row("mfa").encode())
    refused = await refusal(api, path, spreadsheet=True)
    assert refused.line == 4 and problem in refused.message


def story_csv(path: Path, *rows: dict[str, str]) -> Path:
    """A file of the whole-story layout (a `row` column), as the export writes it."""
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, CSV_COLUMNS, restval="")
        writer.writeheader()
        writer.writerows(rows)
    return path


STORY_ROWS = [
    {"row": "timeline", "timeline": "k", "timeline_title": "Khasham, February 2018",
     "timeline_description": "The strike,\nand what was said of it"},
    {"row": "source", "timeline": "k", "source": "mfa", "source_name": "Foreign Ministry",
     "source_kind": "GOVERNMENT", "source_url": "https://example.org/mfa",
     "source_grade": "C", "grade_note": "a party to it"},
    {"row": "entry", "timeline": "k", "entry": "strike", "entry_title": "The strike"},
    {"row": "report", "timeline": "k", "entry": "strike", "report": "r1",
     "attribute": "killed", "kind": "count", "value": "9", "source": "mfa",
     "stance": "CLAIMED", "reported_at": "2018-02-15T12:00:00+00:00", "status": "CORRECTED",
     "original_value": "5", "original_stance": "CONFIRMED"},
    {"row": "correction", "timeline": "k", "entry": "strike", "report": "r1",
     "attribute": "killed", "kind": "count", "value": "9", "stance": "CLAIMED",
     "reported_at": "2018-02-16T12:00:00+00:00"},
]


async def test_a_whole_story_csv_makes_the_timeline_and_sources_its_rows_describe(
        api: Api, tmp_path: Path) -> None:
    path = story_csv(tmp_path / "story.csv", *STORY_ROWS)
    # a timeline, a source and its grade, an entry, a report and its correction
    assert await import_path(api.services, path, spreadsheet=True) == 6
    timeline = await api.services.read_model.timeline("k")
    assert timeline and (timeline.title, timeline.description) == (
        "Khasham, February 2018", "The strike,\nand what was said of it")
    source, = await api.services.read_model.sources()
    assert (source.name, source.kind, source.url, source.reliability, source.grade_note) == (
        "Foreign Ministry", "GOVERNMENT", "https://example.org/mfa", "C", "a party to it")
    assert await api.scalar("SELECT value FROM reports WHERE id = 'r1'") == {
        "count": {"best": 9}}


async def test_a_whole_story_csv_is_refused_by_the_line_of_a_change_that_changes_nothing(
        api: Api, tmp_path: Path) -> None:
    again = STORY_ROWS[-1] | {"reported_at": "2018-02-17T12:00:00+00:00"}
    refused = await refusal(api, story_csv(tmp_path / "story.csv", *STORY_ROWS, again),
                            spreadsheet=True)
    # the timeline's description takes two lines of the file: the line is the file's
    assert refused.line == 8 and "already says that" in refused.message


async def test_a_whole_story_csv_whose_report_row_was_edited_alone_is_refused(
        api: Api, tmp_path: Path) -> None:
    edited = [*STORY_ROWS[:3], STORY_ROWS[3] | {"value": "12"}, STORY_ROWS[4]]
    refused = await refusal(api, story_csv(tmp_path / "story.csv", *edited),
                            spreadsheet=True)
    assert refused.line == 6 and refused.field == "value"  # the report row's
    assert "report 'r1' says value 12, but its rows make it 9" in refused.message


@pytest.mark.parametrize("spreadsheet", [False, True])
async def test_a_file_that_cannot_be_read_is_a_domain_error_not_an_os_error(
        api: Api, tmp_path: Path, spreadsheet: bool) -> None:
    with pytest.raises(BadInput, match=r"cannot read the file \(Is a directory\)"):
        await import_path(api.services, tmp_path, spreadsheet=spreadsheet)


# --- GraphQL over HTTP -------------------------------------------------------------------

JSON_BODY = {"content-type": "application/json"}
QUERY = '{"query": "{ __typename }"}'
MALFORMED = [
    # (method, body, headers, params, status, code)
    ("POST", "{not json", JSON_BODY, None, 400, "BAD_INPUT"),
    ("POST", '"a string"', JSON_BODY, None, 400, "BAD_INPUT"),
    ("POST", "null", JSON_BODY, None, 400, "BAD_INPUT"),
    ("POST", f"[{QUERY}]", JSON_BODY, None, 400, "BAD_INPUT"),
    ("POST", QUERY, {"content-type": "text/plain"}, None, 400, "BAD_INPUT"),
    ("POST", QUERY, {}, None, 400, "BAD_INPUT"),
    ("POST", "{}", JSON_BODY, None, 400, "BAD_INPUT"),
    ("POST", '{"query": 5}', JSON_BODY, None, 400, "BAD_INPUT"),
    ("POST", '{"query": "{ __typename }", "variables": [1]}', JSON_BODY, None, 400,
     "BAD_INPUT"),
    ("POST", '{"query": "{ __typename }", "operationName": {"x": 1}}', JSON_BODY, None, 400,
     "BAD_INPUT"),
    ("GET", "", {}, {"variables": "{}"}, 400, "BAD_INPUT"),
    ("GET", "", {}, {"query": 'mutation { createTimeline(input: {slug: "t", title: "T"}) '
                              "{ event { position } } }"}, 405, "METHOD_NOT_ALLOWED"),
    ("HEAD", "", {}, {"query": "{ __typename }"}, 405, "METHOD_NOT_ALLOWED"),
]


def assert_graphql_refusal(response: httpx.Response, status: int, code: str,
                           media_type: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0] == media_type
    if status == 405:
        assert response.headers["allow"] == "GET, POST"
    if response.request.method == "HEAD":
        return
    body = response.json()
    assert set(body) == {"errors"}
    [error] = body["errors"]
    assert error["message"] and error["extensions"] == {"code": code}


@pytest.mark.parametrize(("method", "body", "headers", "params", "status", "code"), MALFORMED)
@pytest.mark.parametrize("accept", ["application/json", GRAPHQL_RESPONSE, ""])
async def test_a_request_graphql_cannot_read_is_answered_with_a_graphql_error(
        api: Api, method: str, body: str, headers: dict[str, str],
        params: dict[str, str] | None, status: int, code: str, accept: str) -> None:
    response = await api.client.request(method, "/graphql", content=body.encode(),
                                        headers=headers | {"accept": accept}, params=params)
    media_type = GRAPHQL_RESPONSE if accept == GRAPHQL_RESPONSE else "application/json"
    assert_graphql_refusal(response, status, code, media_type)
    assert await api.event_count() == 0


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS"])
async def test_the_graphql_endpoint_refuses_other_methods_with_a_json_405(
        api: Api, method: str) -> None:
    response = await api.client.request(method, "/graphql", content=QUERY.encode(),
                                        headers=JSON_BODY | {"accept": GRAPHQL_RESPONSE})
    assert_graphql_refusal(response, 405, "METHOD_NOT_ALLOWED", GRAPHQL_RESPONSE)
