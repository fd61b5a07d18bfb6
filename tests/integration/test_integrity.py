"""The log admits only what it can always read back, and one bad write never fails another.

Each test writes through an intake, then reads on every path in a fresh process (whose
history caches are built from the stored log, not from what the writer kept in memory)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from api.services.archive import export_log, restore_log
from api.services.auth import Scope
from api.services.csv_import import import_csv
from api.services.intake import LineRefused
from api.services.ndjson_import import import_file
from api.settings import Settings
from events import vocabulary
from events.archive import ArchiveError
from events.chain import GENESIS_HASH, Envelope, event_hash, verify_chain
from events.commands import parse_submission
from events.errors import BadInput, DomainError
from events.postgres import facts
from events.postgres.rebuild import replay_read_model
from events.vocabulary import decode
from tests.databases import Databases
from tests.integration.conftest import Api, running_api
from tests.integration.every_read import read_every_path
from tests.strategies import well_formed_reports

SLUG = "derna"


def report(**overrides: Any) -> dict[str, Any]:
    fields = {"timeline": SLUG, "entry": "flood", "attribute": "killed",
              "value": {"count": {"best": 3958}}, "source": "ocha", "stance": "CONFIRMED",
              "reportedAt": "2023-09-20T00:00:00Z"}
    return fields | overrides


async def story(api: Api) -> None:
    await api.ok("createTimeline", {"slug": SLUG, "title": "Derna flood"})
    await api.ok("registerSource", {"id": "ocha", "name": "UN OCHA", "kind": "NGO"})
    await api.ok("openEntry", {"timeline": SLUG, "id": "flood", "title": "Dams burst"})


def code_of(body: dict[str, Any]) -> str:
    assert body.get("errors"), body
    code: str = body["errors"][0]["extensions"]["code"]
    return code


def settings_of(api: Api) -> Settings:
    return Settings(database_url=api.services.settings.database_url, migrate_on_start=False)


async def read_everywhere(api: Api, databases: Databases, tmp_path: Path) -> None:
    """Every path in a fresh process, after a replay, and after export → restore."""
    async with running_api(settings_of(api)) as fresh:
        before = await read_every_path(fresh, SLUG)
        await replay_read_model(fresh.services.store)
        assert await read_every_path(fresh, SLUG) == before
        archive = tmp_path / "log.ndjson"
        await export_log(fresh.services.store, archive)
    other = Settings(database_url=await databases.fresh(), migrate_on_start=False)
    async with running_api(other) as restored:
        await restore_log(restored.services.store, archive)
        assert await read_every_path(restored, SLUG) == before


async def test_the_first_year_is_written_with_four_digits_and_reads_everywhere(
        api: Api, databases: Databases, tmp_path: Path) -> None:
    await story(api)
    await api.ok("reportFact", report(reportedAt="0001-01-01T00:00:00Z"))
    await api.ok("reportFact", report(value={"count": {"low": 2300}},
                                      reportedAt="2023-09-12T00:00:00Z"))
    stored = await api.scalar("SELECT data->>'reported_at' FROM events "
                              "WHERE type = 'FactReported' ORDER BY position LIMIT 1")
    assert stored == "0001-01-01T00:00:00.000000Z"
    await read_everywhere(api, databases, tmp_path)


def unpadded(value: datetime) -> str:
    """How the earlier version wrote instants: strftime's %Y does not pad years < 1000."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def test_a_log_written_with_unpadded_years_still_reads_everywhere(
        api: Api, databases: Databases, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    await story(api)
    with monkeypatch.context() as old_version:
        old_version.setattr(vocabulary, "format_instant", unpadded)
        await api.ok("reportFact", report(reportedAt="0099-01-01T00:00:00Z"))
    stored = await api.scalar("SELECT data->>'reported_at' FROM events "
                              "WHERE type = 'FactReported'")
    assert stored.startswith("99-01-01T")  # really the earlier form, hash and all
    await api.ok("correctReport", {"timeline": SLUG, "report": "r1",
                                   "value": {"count": {"best": 4000}},
                                   "reportedAt": "2023-09-21T00:00:00Z"})
    await read_everywhere(api, databases, tmp_path)


async def test_a_report_from_the_future_is_refused_a_skewed_clock_is_not(api: Api) -> None:
    await story(api)
    far = await api.mutate("reportFact", report(reportedAt="9999-12-31T00:00:00Z"))
    assert code_of(far) == "BAD_INPUT"
    assert far["errors"][0]["extensions"]["field"] == "reportedAt"
    assert "in the future" in far["errors"][0]["message"]
    soon = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    await api.ok("reportFact", report(reportedAt=soon))
    retraction = await api.mutate("retractReport", {
        "timeline": SLUG, "report": "r1", "reason": "typo",
        "reportedAt": "9999-01-01T00:00:00Z"})
    assert code_of(retraction) == "BAD_INPUT"


async def test_times_out_of_the_calendar_are_refused_not_crashed_on(api: Api) -> None:
    await story(api)
    for instant in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"):
        body = await api.mutate("reportFact", report(reportedAt=instant))
        assert code_of(body) == "BAD_INPUT", body
    for start, precision in (("9999", "YEAR"), ("9999-12", "MONTH"), ("9999-12-31", "DAY"),
                             ("0001-01-01T00:00Z", "MINUTE")):
        await api.ok("reportFact", report(attribute="occurred", value={
            "time": {"start": start, "precision": precision}}))
    await read_every_path(api, SLUG)


async def test_a_lone_surrogate_fails_alone_among_concurrent_writes(api: Api) -> None:
    await story(api)

    async def write(n: int) -> dict[str, Any]:
        bad = n % 10 == 0
        quote = "broken \ud800 text" if bad else f"statement {n}"
        document = {"query": "mutation($input: ReportFactInput!) { reportFact(input: $input) "
                             "{ event { position } } }",
                    "variables": {"input": report(value={"count": {"best": n}}, quote=quote)}}
        # json.dumps escapes the surrogate as \ud800, as a browser's JSON.stringify does.
        response = await api.client.post(
            "/graphql", content=json.dumps(document),
            headers={"authorization": f"Bearer {api.token}",
                     "content-type": "application/json"})
        answer: dict[str, Any] = response.json()
        return answer

    answers = await asyncio.gather(*(write(n) for n in range(200)))
    refused = [a for n, a in enumerate(answers) if n % 10 == 0]
    accepted = [a for n, a in enumerate(answers) if n % 10 != 0]
    assert {code_of(a) for a in refused} == {"BAD_INPUT"}
    assert all(not a.get("errors") for a in accepted), [a for a in accepted if "errors" in a]
    assert await api.event_count() == 3 + 180
    await read_every_path(api, SLUG)


async def test_counts_have_one_range_on_every_intake(api: Api, tmp_path: Path) -> None:
    await story(api)
    body = await api.mutate("reportFact", report(value={"count": {"best": 3_000_000_000}}))
    assert code_of(body) == "BAD_INPUT"
    await api.ok("reportFact", report(value={"count": {"best": 2**31 - 1}}))
    ndjson = tmp_path / "big.ndjson"
    ndjson.write_text(json.dumps({"mutation": "reportFact", "input": report(
        value={"count": {"best": 3_000_000_000}})}) + "\n")
    with pytest.raises(LineRefused, match=r"line 1: value\.count\.best must be between"):
        await import_file(api.services.intake, ndjson, actor="desk")
    spreadsheet = tmp_path / "big.csv"
    spreadsheet.write_text("timeline,entry,attribute,kind,value,source,source_name,stance,"
                           "reported_at\n"
                           f"{SLUG},flood,killed,count,3000000000,ocha,UN OCHA,CLAIMED,"
                           "2023-09-20T00:00:00Z\n")
    with pytest.raises(LineRefused, match=r"line 2: value\.count\.best must be between"):
        await import_csv(api.services.intake, api.services.read_model, spreadsheet, actor="desk")
    assert await api.event_count() == 4
    await read_every_path(api, SLUG)


def handmade_archive(path: Path, datas: list[tuple[str, str, dict[str, Any]]]) -> None:
    """An export with a valid chain of the given (stream, type, data) events."""
    lines = [json.dumps({"format": "chronicle-log", "version": 1})]
    prev, versions = GENESIS_HASH, dict[str, int]()
    for position, (stream, type_, data) in enumerate(datas, start=1):
        versions[stream] = versions.get(stream, 0) + 1
        fields: dict[str, Any] = {
            "position": position, "stream": stream, "version": versions[stream],
            "type": type_, "schema_version": 1, "data": data,
            "recorded_at": datetime(2024, 1, 1, tzinfo=UTC), "actor": "desk",
            "idempotency_key": None, "prev_hash": prev}
        envelope = Envelope(**fields, hash=event_hash(**fields))
        lines.append(json.dumps(fields | {"recorded_at": "2024-01-01T00:00:00.000000Z",
                                          "hash": envelope.hash}))
        prev = envelope.hash
    lines.append(json.dumps({"end": {"events": len(datas), "head": prev}}))
    path.write_text("\n".join(lines) + "\n")


async def test_a_restore_refuses_an_unreadable_event_by_its_line(
        api: Api, tmp_path: Path) -> None:
    archive = tmp_path / "log.ndjson"
    handmade_archive(archive, [
        ("timeline:t", "TimelineCreated", {"slug": "t", "title": "T"}),
        ("timeline:t", "EntryOpened", {"entry": "e", "title": "E"}),
        ("timeline:t", "FactReported", {"report": "r1", "entry": "e", "attribute": "killed",
                                        "value": {"count": {"best": "many"}}, "source": "s",
                                        "stance": "CLAIMED",
                                        "reported_at": "2018-02-10T00:00:00.000000Z"})])
    with pytest.raises(ArchiveError) as caught:
        await restore_log(api.services.store, archive)
    assert caught.value.line == 4
    assert "position 3 cannot be read" in caught.value.message
    assert await api.event_count() == 0


async def test_a_restore_that_fails_midway_leaves_the_database_as_it_found_it(
        api: Api, databases: Databases, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    await story(api)
    await api.ok("reportFact", report())
    archive = tmp_path / "log.ndjson"
    await export_log(api.services.store, archive)
    other = Settings(database_url=await databases.fresh(), migrate_on_start=False)
    async with running_api(other) as restored:
        with monkeypatch.context() as broken:
            async def fail(*_: object) -> None:
                raise RuntimeError("the disk filled up while writing facts")
            broken.setattr(facts.FactWriter, "write_facts", fail)
            with pytest.raises(RuntimeError):
                await restore_log(restored.services.store, archive)
        assert await restored.event_count() == 0
        assert await restored.scalar("SELECT count(*) FROM reports") == 0
        assert await restore_log(restored.services.store, archive) == 4  # the rerun works
        await read_every_path(restored, SLUG)


def well_formed_examples(count: int) -> list[dict[str, Any]]:
    """Reports the gate mostly accepts, collected first (hypothesis drives sync code)."""
    made: list[dict[str, Any]] = []

    @settings(max_examples=count, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(well_formed_reports)
    def collect(fields: dict[str, Any]) -> None:
        made.append(fields)

    collect()
    return made


async def test_what_the_gate_accepts_is_stored_and_decoded_unchanged_by_postgresql(
        api: Api) -> None:
    for mutation, fields in (("createTimeline", {"slug": "t", "title": "T"}),
                             ("registerSource", {"id": "s", "name": "S", "kind": "MEDIA"}),
                             ("openEntry", {"timeline": "t", "id": "e", "title": "E"})):
        await api.services.appender.submit(parse_submission(mutation, fields).command,
                                           actor="desk")
    appended: dict[int, Any] = {}
    negative_zero = {"timeline": "t", "entry": "e", "source": "s", "stance": "CLAIMED",
                     "reported_at": "2020-01-01T00:00:00Z",  # numeric has no -0:
                     "value": {"place": {"name": "Null Island", "lat": -0.0, "lon": -0.0}}}
    for fields in [negative_zero, *well_formed_examples(80)]:
        kind = next(iter(fields["value"]))  # one attribute per kind: kinds never mix
        fields = {**fields, "attribute": f"about-{kind}", "expected_version": None}
        try:
            submission = parse_submission("reportFact", fields)
            result = await api.services.appender.submit(
                submission.command, actor="desk", idempotency_key=submission.idempotency_key)
        except DomainError:
            continue
        if not result.replayed:
            appended[result.envelope.position] = result.envelope
    assert len(appended) > 20 and 4 in appended
    stored = await api.services.store.read(0, 1000)
    assert verify_chain(stored).ok  # jsonb kept every value's text form exactly
    for envelope in stored:
        if envelope.position in appended:
            assert envelope.data == appended[envelope.position].data
            assert decode(envelope) == decode(appended[envelope.position])


async def test_a_token_name_is_text_the_log_can_hold_as_an_actor(api: Api) -> None:
    # A name from a shell whose bytes are not UTF-8 arrives with lone surrogates.
    with pytest.raises(BadInput, match="name must not contain lone UTF-16 surrogates"):
        await api.services.tokens.create("desk \udcff", Scope.WRITE)
