"""The CSV export carries a story's whole life: exported, then imported into an empty
database, it gives the same timeline, sources and facts, now and as of any REPORTED time.

Random stories are entered through the command intake (every command the services take:
sources with kinds and grades, entries, count, text and time reports with and without
``via``, corrections of value, stance and origin, retractions, ranks and merges), exported
from ``/export/{slug}.csv``, imported with ``chronicle import --csv`` into a fresh database,
and read back through GraphQL on both sides. Only the RECORDED clock differs (the import
records everything when it runs), so it is not compared.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from api.settings import Settings
from events.errors import DomainError
from tests.databases import Databases
from tests.integration.conftest import Api, running_api
from tests.integration.imports import import_path
from tests.strategies import printable

SLUG = "story"
SOURCES = ["s1", "s2", "s3"]
ENTRIES = ["e1", "e2", "e3"]
KINDS = ["GOVERNMENT", "MILITARY", "MEDIA", "NGO", "SOCIAL", "INDIVIDUAL", "OTHER"]
STANCES = ["CONFIRMED", "CLAIMED", "UNCONFIRMED", "DENIED"]
GRADES = ["A", "B", "C", "D", "E", "F"]
ATTRIBUTES = {"killed": "count", "weapon": "text", "occurred": "time"}
T0 = datetime(2018, 2, 7, tzinfo=UTC)

VALUE = ("__typename ... on Count { best low high } ... on Text { text } "
         "... on TimeSpan { start end precision } ... on Place { name lat lon } "
         "... on Flag { flag }")
READ = f"""query($asOf: DateTime, $axis: Axis! = RECORDED) {{
  timeline(slug: "{SLUG}", asOf: $asOf, axis: $axis) {{
    slug title description
    entries(first: 100) {{ totalCount nodes {{ id title
      reports {{ id entry attribute value {{ {VALUE} }} source {{ id }} via {{ id }} stance
                 reportedAt changedAt quote url status rank }}
      facts {{ attribute value {{ {VALUE} }} low high disputed status explanation
               reports {{ report {{ id }} weight role }}
               alternatives {{ value {{ {VALUE} }} weight reports {{ id }} }} }} }} }} }}
  sources {{ id name kind url reliability note }}
}}"""


# --- random stories ------------------------------------------------------------------------

def count_values() -> st.SearchStrategy[dict[str, Any]]:
    """Counts of every shape: a best, a range, a best within a range, "more than"."""
    ordered = st.lists(st.integers(0, 300), min_size=3, max_size=3).map(sorted)
    return st.one_of(
        st.integers(0, 300).map(lambda n: {"best": n}),
        ordered.map(lambda n: {"best": n[1], "low": n[0], "high": n[2]}),
        ordered.map(lambda n: {"low": n[0], "high": n[2]}),
        st.integers(0, 300).map(lambda n: {"low": n}),
    ).map(lambda count: {"count": count})


def time_values() -> st.SearchStrategy[dict[str, Any]]:
    days = st.integers(5, 9)
    return st.one_of(
        days.map(lambda d: {"start": f"2018-02-{d:02d}", "precision": "DAY"}),
        st.just({"start": "2018-02", "precision": "MONTH"}),
        days.map(lambda d: {"start": f"2018-02-{d:02d}", "end": f"2018-02-{d + 1:02d}",
                            "precision": "DAY"}),
        st.integers(0, 23).map(lambda h: {"start": f"2018-02-07T{h:02d}:00Z",
                                          "precision": "HOUR"}),
    ).map(lambda time: {"time": time})


# A few texts, so that reports agree as often as they differ; CSV's hard cases among them.
text_values = st.sampled_from(["jet", "drone", "a jet, or a drone", 'an "unknown" weapon',
                               "artillery\nand tanks", "Ракета"]).map(lambda t: {"text": t})
values_by_kind = st.fixed_dictionaries({"count": count_values(), "text": text_values,
                                        "time": time_values()})


@dataclass
class Story:
    title: str
    description: str | None
    sources: list[dict[str, Any]]
    grades: list[dict[str, Any]]
    entries: list[dict[str, Any]]
    steps: list[tuple[Any, ...]]


report_steps = st.tuples(
    st.just("report"), st.integers(0, len(ENTRIES) - 1), st.sampled_from(sorted(ATTRIBUTES)),
    values_by_kind, st.integers(0, len(SOURCES) - 1),
    st.one_of(st.none(), st.integers(0, len(SOURCES) - 1)), st.sampled_from(STANCES),
    st.integers(0, 240), st.one_of(st.none(), printable))
correction_steps = st.tuples(
    st.just("correct"), st.integers(0, 20), st.one_of(st.none(), values_by_kind),
    st.one_of(st.none(), st.sampled_from(STANCES)),
    st.one_of(st.none(), st.integers(0, len(SOURCES) - 1)), st.integers(0, 72))
retraction_steps = st.tuples(st.just("retract"), st.integers(0, 20), printable,
                             st.integers(-24, 72))
rank_steps = st.tuples(st.just("rank"), st.integers(0, 20),
                       st.sampled_from(["PREFERRED", "NORMAL", "DEPRECATED"]), printable)
merge_steps = st.tuples(st.just("merge"), st.integers(0, len(ENTRIES) - 1),
                        st.integers(0, len(ENTRIES) - 1))


@st.composite
def stories(draw: st.DrawFn) -> Story:
    sources = [{"id": s, "name": draw(printable), "kind": draw(st.sampled_from(KINDS))}
               | ({"url": f"https://example.org/{s}"} if draw(st.booleans()) else {})
               for s in SOURCES]
    grades = [{"source": s, "reliability": draw(st.sampled_from(GRADES))}
              | ({"note": draw(printable)} if draw(st.booleans()) else {})
              for s in SOURCES if draw(st.integers(0, 3))]
    entries = [{"timeline": SLUG, "id": e, "title": draw(printable)} for e in ENTRIES]
    steps = draw(st.lists(report_steps, min_size=2, max_size=4)) + draw(st.lists(
        st.one_of(report_steps, correction_steps, report_steps, correction_steps,
                  retraction_steps, rank_steps, merge_steps), min_size=3, max_size=12))
    return Story(draw(printable), draw(st.one_of(st.none(), printable)), sources, grades,
                 entries, steps)


# A story with one of everything, so that every run covers them whatever it draws.
FIXED = Story(
    "Khasham, February 2018", "The strike,\nand what was said of it", [
        {"id": "s1", "name": "Pentagon", "kind": "MILITARY", "url": "https://example.org/p"},
        {"id": "s2", "name": 'Outlets, "several"', "kind": "MEDIA"},
        {"id": "s3", "name": "Ministry", "kind": "GOVERNMENT"}],
    [{"source": "s1", "reliability": "B", "note": "party to it"},
     {"source": "s3", "reliability": "C"}],
    [{"timeline": SLUG, "id": e, "title": f"Entry {e}"} for e in ENTRIES],
    [("report", 0, "killed", {"count": {"count": {"best": 5}}}, 2, None, "CONFIRMED", 10, "q"),
     ("report", 0, "killed", {"count": {"count": {"low": 200}}}, 1, 0, "CLAIMED", 20, None),
     ("report", 1, "weapon", {"text": {"text": "jet"}}, 0, None, "CLAIMED", 30, None),
     ("report", 1, "weapon", {"text": {"text": "drone"}}, 1, 2, "UNCONFIRMED", 40, None),
     ("correct", 0, {"count": {"count": {"best": 9}}}, "CLAIMED", 1, 5),
     ("correct", 0, {"count": {"count": {"best": 5}}}, None, None, 8),
     ("correct", 3, None, None, 0, 2),
     ("retract", 1, "misread", 30),
     ("rank", 2, "PREFERRED", "the desk checked"),
     ("rank", 3, "PREFERRED", "on second thought"),
     ("report", 2, "occurred", {"time": {"time": {"start": "2018-02-07",
                                                  "precision": "DAY"}}}, 0, None,
      "CONFIRMED", 50, None),
     ("merge", 2, 0)])


@dataclass
class Told:
    """What a story's run stored: its reports (id, reported at), the sources it cited, the
    times its reports, corrections and retractions were dated, and what it stored of each
    kind of step."""

    reports: list[tuple[str, str, datetime]] = field(default_factory=list)
    cited: set[str] = field(default_factory=set)
    times: set[datetime] = field(default_factory=set)
    stored: dict[str, int] = field(default_factory=dict)


async def tell(api: Api, story: Story) -> Told:
    told = Told()

    async def submit(mutation: str, fields: dict[str, Any]) -> bool:
        try:
            await api.services.intake.submit(mutation, fields, actor="desk")
        except DomainError:
            return False  # refused: a correction that changes nothing, a merged entry, …
        told.stored[mutation] = told.stored.get(mutation, 0) + 1
        return True

    assert await submit("createTimeline", {"slug": SLUG, "title": story.title,
                                            "description": story.description})
    for source in story.sources:
        assert await submit("registerSource", source)
    for grade in story.grades:
        assert await submit("gradeSource", grade)
    for entry in story.entries:
        assert await submit("openEntry", entry)
    for step in story.steps:
        await _step(story, step, told, submit)
    return told


async def _step(story: Story, step: tuple[Any, ...], told: Told, submit: Any) -> None:
    kind, *rest = step
    if kind == "report":
        entry, attribute, values, source, via, stance, hours, quote = rest
        report_id = f"r{len(told.reports) + 1}"
        at = T0 + timedelta(hours=hours)
        fields = {"timeline": SLUG, "id": report_id, "entry": ENTRIES[entry],
                  "attribute": attribute, "value": values[ATTRIBUTES[attribute]],
                  "source": SOURCES[source], "stance": stance, "reported_at": at}
        if via is not None:
            fields["via"] = SOURCES[via]
        if quote is not None:
            fields["quote"] = quote
        if await submit("reportFact", fields):
            told.reports.append((report_id, attribute, at))
            told.cited |= {SOURCES[source]} | ({SOURCES[via]} if via is not None else set())
            told.times.add(at)
        return
    if not told.reports and kind != "merge":
        return
    if kind == "merge":
        await submit("mergeEntries", {"timeline": SLUG, "duplicate": ENTRIES[rest[0]],
                                      "survivor": ENTRIES[rest[1]]})
        return
    report_id, attribute, at = told.reports[rest[0] % len(told.reports)]
    if kind == "correct":
        values, stance, via, hours = rest[1:]
        fields = {"timeline": SLUG, "report": report_id,
                  "reported_at": at + timedelta(hours=hours)}
        if values is not None:
            fields["value"] = values[ATTRIBUTES[attribute]]
        if stance is not None:
            fields["stance"] = stance
        if via is not None:
            fields["via"] = SOURCES[via]
        if len(fields) > 3 and await submit("correctReport", fields):
            told.times.add(fields["reported_at"])
            told.cited |= {SOURCES[via]} if via is not None else set()
    elif kind == "retract":
        reason, hours = rest[1:]
        when = at + timedelta(hours=hours)
        if await submit("retractReport", {"timeline": SLUG, "report": report_id,
                                          "reason": reason, "reported_at": when}):
            told.times.add(when)
    else:
        rank, reason = rest[1:]
        await submit("rankReport", {"timeline": SLUG, "report": report_id, "rank": rank,
                                    "reason": reason})


# --- export, import, compare ---------------------------------------------------------------

@asynccontextmanager
async def fresh_api(databases: Databases) -> AsyncIterator[Api]:
    url = await databases.fresh()
    try:
        async with running_api(Settings(database_url=url, migrate_on_start=False)) as api:
            yield api
    finally:
        await databases.drop(url)


async def exported(api: Api, query: str = "") -> str:
    response = await api.client.get(f"/export/{SLUG}.csv{query}")
    assert response.status_code == 200, response.text
    return response.text


async def read(api: Api, **variables: Any) -> dict[str, Any]:
    body = await api.post(READ, variables)
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


def reported_times(told: Told) -> list[datetime]:
    """Before, at, between and after the times the story's reports were dated: at most
    twelve of them, the first and the last always."""
    times = sorted(told.times)
    moments = [times[0] - timedelta(hours=1), *times, times[-1] + timedelta(hours=1)]
    moments += [a + (b - a) / 2 for a, b in pairwise(times)]
    moments = sorted(set(moments))
    if len(moments) <= 12:
        return moments
    step = (len(moments) - 1) / 11
    return [moments[round(i * step)] for i in range(12)]


async def check_round_trip(databases: Databases, tmp_path: Path, story: Story) -> Told:
    async with fresh_api(databases) as original, fresh_api(databases) as copy:
        told = await tell(original, story)
        text = await exported(original)
        path = tmp_path / f"{SLUG}.csv"
        path.write_text(text, encoding="utf-8")
        await import_path(copy.services, path, spreadsheet=True, actor="csv")

        now, again = await read(original), await read(copy)
        assert again["timeline"] == now["timeline"], story
        assert again["sources"] == [s for s in now["sources"] if s["id"] in told.cited], story
        assert await exported(copy) == text, story
        for moment in reported_times(told) if told.times else []:
            as_of = {"asOf": moment.isoformat(), "axis": "REPORTED"}
            assert (await read(copy, **as_of))["timeline"] == \
                (await read(original, **as_of))["timeline"], (moment, story)
            query = f"?asOf={moment.isoformat().replace('+', '%2B')}&axis=REPORTED"
            assert await exported(copy, query) == await exported(original, query), \
                (moment, story)
    return told


async def test_a_story_with_one_of_everything_round_trips(
        databases: Databases, tmp_path: Path) -> None:
    told = await check_round_trip(databases, tmp_path, FIXED)
    # Every kind of step was stored, so the comparison above covered each of them.
    assert told.stored == {"createTimeline": 1, "registerSource": 3, "gradeSource": 2,
                           "openEntry": 3, "reportFact": 5, "correctReport": 3,
                           "retractReport": 1, "rankReport": 2, "mergeEntries": 1}


# No shrinking: each example takes two databases and a second or so, and shrinking a story
# takes minutes. A failure shows its story as drawn, and the seed that draws it again.
@settings(max_examples=15, deadline=None, database=None, phases=[Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(story=stories())
async def test_any_story_exported_and_imported_gives_the_same_facts(
        databases: Databases, tmp_path: Path, story: Story) -> None:
    await check_round_trip(databases, tmp_path, story)


async def test_an_export_names_what_each_row_is(databases: Databases, tmp_path: Path) -> None:
    async with fresh_api(databases) as api:
        await tell(api, FIXED)
        rows = list(csv.DictReader(io.StringIO(await exported(api))))
    kinds = [row["row"] for row in rows]
    assert kinds[:4] == ["timeline", "source", "source", "source"]
    assert kinds.count("report") == 5 and kinds.count("correction") == 3
    assert kinds.count("entry") == 3 and kinds.count("merge") == 1
    first = next(row for row in rows if row["report"] == "r1" and row["row"] == "report")
    # The report row reads as today (its value now) and keeps what it first said.
    assert (first["value"], first["stance"], first["via"], first["status"]) == \
        ("5", "CLAIMED", "s2", "CORRECTED")
    assert (first["original_value"], first["original_stance"], first["original_via"]) == \
        ("5", "CONFIRMED", "")
    corrections = [(r["value"], r["stance"], r["via"]) for r in rows
                   if r["row"] == "correction" and r["report"] == "r1"]
    assert corrections == [("9", "CLAIMED", "s2"), ("5", "", "")]
