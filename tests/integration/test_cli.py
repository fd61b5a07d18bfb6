"""The chronicle command, run in-process with typer's runner against a test database."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import asyncpg
import pytest
from typer.testing import CliRunner

from api.cli.commands import app
from api.database import head_revision
from tests.conftest import ROOT
from tests.databases import Databases

runner = CliRunner()


@pytest.fixture
def cli_db(databases: Databases, monkeypatch: pytest.MonkeyPatch) -> str:
    # The commands run their own event loop (asyncio.run), so these tests are synchronous.
    url = asyncio.run(databases.empty())
    monkeypatch.setenv("DATABASE_URL", url)
    return url


async def _count(url: str, sql: str) -> int:
    connection = await asyncpg.connect(Databases.plain(url))
    try:
        return int(await connection.fetchval(sql))
    finally:
        await connection.close()


def count(url: str, sql: str) -> int:
    return asyncio.run(_count(url, sql))


def test_db_upgrade_then_token_create_prints_the_token_last(cli_db: str) -> None:
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert f"revision {head_revision()}" in result.output
    result = runner.invoke(app, ["token", "create", "--scope", "write", "--name", "desk"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("chr_") and len(token) > 40
    assert count(cli_db, "SELECT count(*) FROM tokens WHERE name = 'desk' AND scope = 'write'") == 1


def test_the_demo_imports_with_every_entry_report_and_source(cli_db: str) -> None:
    demo = ROOT / "examples" / "khasham-2018.ndjson"
    result = runner.invoke(app, ["import", str(demo)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in demo.read_text().splitlines() if line.strip()]
    assert count(cli_db, "SELECT count(*) FROM events") == len(lines)
    assert count(cli_db, "SELECT count(*) FROM entries") >= 8
    assert count(cli_db, "SELECT count(*) FROM reports") >= 25
    assert count(cli_db, "SELECT count(DISTINCT source) FROM reports") >= 8
    assert count(cli_db, "SELECT count(*) FROM reports WHERE via IS NOT NULL") >= 1


def test_a_bad_line_names_its_number_and_nothing_is_imported(cli_db: str,
                                                             tmp_path: Path) -> None:
    good = {"mutation": "createTimeline", "input": {"slug": "k", "title": "K"}}
    bad_value = {"mutation": "reportFact", "input": {
        "timeline": "k", "entry": "e", "attribute": "killed",
        "value": {"count": {"low": 300, "high": 200}}, "source": "s", "stance": "CLAIMED",
        "reportedAt": "2018-02-13T15:00:00Z"}}
    cases = {
        "not json": (["{not json"], 1),
        "bad value": ([json.dumps(good), "", json.dumps(bad_value)], 3),
        "unknown entry": ([json.dumps(good), json.dumps({
            "mutation": "openEntry", "input": {"timeline": "k", "id": "e", "title": "E"}}),
            json.dumps({**bad_value, "input": {**bad_value["input"], "entry": "ghost",
                                                "value": {"count": {"best": 5}}}})], 3),
        "bad utf-8": ([json.dumps(good), "\udcff"], 2),
        "lone surrogate": ([json.dumps(good), json.dumps(
            {**good, "input": {"slug": "k2", "title": "K\ud800"}})], 2),
        "too deep": ([json.dumps(good), "[" * 100_000], 2),
        "too long a number": ([json.dumps(good), "9" * 5000], 2),
        "broken at the end": (["\ufeff" + json.dumps(good)[:-1], json.dumps(good)], 1),
    }
    for name, (lines, line_number) in cases.items():
        path = tmp_path / f"{name}.ndjson"
        path.write_bytes("\n".join(lines).encode("utf-8", "surrogateescape"))
        result = runner.invoke(app, ["import", str(path)])
        assert result.exit_code == 1, (name, result.output)
        # The command's own exit, not an exception escaping it (that would be a traceback).
        assert isinstance(result.exception, SystemExit), (name, result.exception)
        assert f"{path}: line {line_number}: " in result.output, (name, result.output)
        assert "nothing was imported" in result.output
    assert count(cli_db, "SELECT count(*) FROM events") == 0


async def _tamper(url: str, sql: str) -> None:
    connection = await asyncpg.connect(Databases.plain(url))
    try:
        await connection.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
        await connection.execute(sql)
        await connection.execute("ALTER TABLE events ENABLE TRIGGER events_append_only")
    finally:
        await connection.close()


def test_verify_export_and_restore_from_the_command_line(cli_db: str, databases: Databases,
                                                         tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    demo = ROOT / "examples" / "khasham-2018.ndjson"
    assert runner.invoke(app, ["import", str(demo)]).exit_code == 0
    result = runner.invoke(app, ["verify"])
    assert result.exit_code == 0 and "100 events" in result.output, result.output
    archive = tmp_path / "log.ndjson"
    result = runner.invoke(app, ["export", "--output", str(archive)])
    assert result.exit_code == 0 and "exported 100 events" in result.output, result.output
    other = asyncio.run(databases.empty())
    monkeypatch.setenv("DATABASE_URL", other)
    result = runner.invoke(app, ["restore", str(archive)])
    assert result.exit_code == 0, result.output
    assert count(other, "SELECT count(*) FROM facts") == count(cli_db, "SELECT count(*) FROM facts")
    result = runner.invoke(app, ["restore", str(archive)])
    assert result.exit_code == 1 and "empty database" in result.output
    asyncio.run(_tamper(other, "UPDATE events SET actor = 'mallory' WHERE position = 12"))
    result = runner.invoke(app, ["verify"])
    assert result.exit_code == 1
    assert "broken at position 12" in result.output
    archive.write_text("\n".join(archive.read_text().splitlines()[:20]) + "\n")
    third = asyncio.run(databases.empty())
    monkeypatch.setenv("DATABASE_URL", third)
    result = runner.invoke(app, ["restore", str(archive)])
    assert result.exit_code == 1 and "line 20" in result.output and "truncated" in result.output


def test_import_csv_from_the_command_line_names_a_bad_row(cli_db: str, tmp_path: Path) -> None:
    header = "timeline,entry,entry_title,attribute,kind,value,source,source_name,stance," \
             "reported_at\n"
    good = "k,strike,The strike,killed,count,5,mfa,Foreign Ministry,CONFIRMED," \
           "2018-02-15T12:00:00Z\n"
    path = tmp_path / "reports.csv"
    path.write_text(header + good + good.replace(",5,", ",7 (5..,"), encoding="utf-8")
    result = runner.invoke(app, ["import", "--csv", str(path)])
    assert result.exit_code == 1, result.output
    assert "line 3:" in result.output and "nothing was imported" in result.output
    assert count(cli_db, "SELECT count(*) FROM events") == 0

    path.write_text(header + good + good.replace(",5,", ",200..,").replace(
        "mfa,Foreign Ministry", "outlets,Several outlets"), encoding="utf-8")
    result = runner.invoke(app, ["import", "--csv", str(path)])
    assert result.exit_code == 0, result.output
    # a timeline, two sources, an entry and two reports
    assert count(cli_db, "SELECT count(*) FROM events") == 6
    assert count(cli_db, "SELECT count(*) FROM sources WHERE kind = 'OTHER'") == 2


def test_import_csv_reads_a_spreadsheet_s_byte_order_mark_and_refuses_a_misspelt_source(
        cli_db: str, tmp_path: Path) -> None:
    header = "timeline,entry,attribute,kind,value,source,source_name,stance,reported_at\n"
    row = "k,strike,killed,count,{value},{source},{name},CLAIMED,2018-02-15T12:00:00Z\n"
    path = tmp_path / "excel.csv"
    path.write_text(header + row.format(value=5, source="mfa", name="Foreign Ministry")
                    + row.format(value=7, source="mfaa", name=""), encoding="utf-8-sig")
    result = runner.invoke(app, ["import", "--csv", str(path)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert f"{path}: line 3: no source 'mfaa'" in result.output
    assert "source_name" in result.output and "nothing was imported" in result.output
    assert count(cli_db, "SELECT count(*) FROM events") == 0

    path.write_text(header + row.format(value=5, source="mfa", name="Foreign Ministry")
                    + row.format(value=7, source="mfa", name=""), encoding="utf-8-sig")
    result = runner.invoke(app, ["import", "--csv", str(path)])
    assert result.exit_code == 0, result.output
    assert count(cli_db, "SELECT count(*) FROM reports") == 2
