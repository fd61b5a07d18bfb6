"""A bounded fuzz of the whole path, from every intake to every read.

Random commands go through every intake: the GraphQL mutations over HTTP, the NDJSON import
and the CSV import. They are valid ones built from the domain's rules, and hostile variations
of them (lone surrogates, NUL, very long and blank strings, non-ASCII digits, trailing
newlines, instants that overflow or lie in the future, numbers past GraphQL's Int, extreme
coordinates and times, odd idempotency keys and versions, unknown fields). Each one is
answered with a result or a coded refusal: never a 500, a traceback, an INTERNAL or an
UNAVAILABLE error.

Then every read runs on what was accepted: in the process that wrote it, in a fresh process
(whose history caches are folded from the stored log), after ``chronicle replay`` and after
an export restored into a fresh database. No read may fail, and all four must agree.

The examples are collected first (the app is async; hypothesis drives a sync function) from
a seed the test prints: ``CHRONICLE_FUZZ_SEED=N`` replays a run.
"""

from __future__ import annotations

import csv
import json
import os
import random
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import pytest
from hypothesis import strategies as st

from api.graphql.errors import code_for
from api.services.archive import export_log, restore_log
from api.settings import Settings
from events.archive import header, trailer
from events.chain import GENESIS_HASH, event_hash
from events.errors import DomainError
from events.postgres.rebuild import replay_read_model
from events.value_text import value_cell
from events.values import Precision, parse_value
from tests.databases import Databases
from tests.integration.clean_answers import assert_clean
from tests.integration.conftest import Api, running_api
from tests.integration.imports import import_path
from tests.strategies import examples

pytestmark = pytest.mark.integration

T = TypeVar("T")

SEED = int(os.environ.get("CHRONICLE_FUZZ_SEED") or random.SystemRandom().randrange(2**32))
STEPS = 200
# Codes that mean the server failed, not that the input was refused.
FAILURES = {"INTERNAL", "UNAVAILABLE"}

# --- the world the commands are about: few names, so that they meet --------------------------

SLUGS = ("fz-a", "fz-b", "fz-c")
SOURCES = ("mod", "ap.wire", "ngo_1", "anon")
ENTRIES = ("e1", "e2", "e3", "e4", "e5", "e6")
REPORTS = tuple(f"r{n}" for n in range(1, 13))
ATTRIBUTE_KINDS = {"occurred": "time", "place": "place", "killed": "count", "weapon": "text",
                   "claimed": "flag"}
STANCES = ("CONFIRMED", "CLAIMED", "UNCONFIRMED", "DENIED")
GRADES = ("A", "B", "C", "D", "E", "F")
SOURCE_KINDS = ("GOVERNMENT", "MILITARY", "MEDIA", "NGO", "SOCIAL", "INDIVIDUAL", "OTHER")
RANKS = ("PREFERRED", "NORMAL", "DEPRECATED")
FAR_PAST, EPOCH = "0001-01-01T00:00:00Z", "1970-01-01T00:00:00Z"
FAR_FUTURE = "9999-12-31T23:59:59.999999Z"

# --- valid values, at their edges -------------------------------------------------------------

TEXTS = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1,
            max_size=30).filter(str.strip),
    st.sampled_from(["x" * 10_000, "  Zoë 🇸🇾 padded  ", "\u202eRTL\u202c", "a\u0301\u0301",
                     "٣٤ قتيلا", "two\nlines", "<script>alert(1)</script>", "\ufeffBOM"]))
MOMENTS = st.one_of(  # naive, read as UTC: the whole range a datetime has
    st.sampled_from([datetime.min, datetime(1, 1, 1, 0, 0, 0, 1), datetime(999, 12, 31, 23, 59),
                     datetime(2018, 2, 7, 20, 30), datetime(9999, 12, 31),
                     datetime.max]),
    st.datetimes())
COUNT_NUMBERS = st.one_of(st.sampled_from([0, 1, 200, 2**31 - 2, 2**31 - 1]),
                          st.integers(0, 2**31 - 1))
LATITUDES = st.one_of(st.sampled_from([-90.0, 90.0, -0.0, 5e-324, 35.123456789012345]),
                      st.floats(-90, 90))
LONGITUDES = st.one_of(st.sampled_from([-180.0, 180.0, -0.0, -5e-324]), st.floats(-180, 180))
OFFSET_MINUTES = st.sampled_from([0, 0, 60, -300, 330, 14 * 60, -12 * 60, 23 * 60 + 59])
URLS = st.sampled_from(["https://example.org/a", "http://news.example/é?q=1#top"])


def truncated(moment: datetime, precision: Precision, digits: int) -> str:
    """``moment`` written as a time of ``precision``; ``digits`` picks among the spellings
    a precision allows (``T14Z`` or ``T14:00Z``, 0 to 6 digits of a second)."""
    day = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
    clock = f"{moment.hour:02d}:{moment.minute:02d}"
    fraction = f"{moment.microsecond:06d}"[:digits]
    return {
        Precision.YEAR: day[:4], Precision.MONTH: day[:7], Precision.DAY: day,
        Precision.HOUR: f"{day}T{moment.hour:02d}" + (":00Z" if digits % 2 else "Z"),
        Precision.MINUTE: f"{day}T{clock}Z",
        Precision.EXACT: f"{day}T{clock}:{moment.second:02d}"
                         + (f".{fraction}" if fraction else "") + "Z",
    }[precision]


@st.composite
def time_values(draw: st.DrawFn) -> dict[str, Any]:
    precision = draw(st.sampled_from(Precision))
    start = draw(MOMENTS)
    digits = draw(st.integers(0, 6))  # the same for the end, so that it stays after the start
    time = {"start": truncated(start, precision, digits), "precision": precision.name}
    if draw(st.booleans()):
        end = draw(st.one_of(st.just(start), st.just(datetime.max),
                             st.datetimes(min_value=start)))
        time["end"] = truncated(end, precision, digits)
    return {"time": time}


@st.composite
def count_values(draw: st.DrawFn) -> dict[str, Any]:
    low, best, high = sorted(draw(st.lists(COUNT_NUMBERS, min_size=3, max_size=3)))
    parts = {"best": best, "low": low, "high": high}
    kept = draw(st.sets(st.sampled_from(sorted(parts)), min_size=1))
    return {"count": {name: parts[name] for name in sorted(kept)}}


@st.composite
def place_values(draw: st.DrawFn) -> dict[str, Any]:
    place: dict[str, Any] = {"name": draw(TEXTS)}
    if draw(st.booleans()):
        place |= {"lat": draw(LATITUDES), "lon": draw(LONGITUDES)}
    return {"place": place}


VALUES = {"time": time_values(), "count": count_values(), "place": place_values(),
          "text": TEXTS.map(lambda text: {"text": text}),
          "flag": st.booleans().map(lambda flag: {"flag": flag})}


def written(moment: datetime, offset_minutes: int, zulu: bool) -> str:
    """``moment`` (naive UTC) in ISO 8601, in a zone ``offset_minutes`` east of UTC where
    that stays within the years 1 to 9999."""
    utc = moment.replace(tzinfo=UTC)
    try:
        local = utc.astimezone(timezone(timedelta(minutes=offset_minutes)))
    except OverflowError:
        local = utc
    text = local.isoformat()
    return text.replace("+00:00", "Z") if zulu else text


def reported_ats(now: datetime) -> st.SearchStrategy[str]:
    """Instants a source may have spoken at: from the year 1 to a little after ``now``
    (within the clock skew a writer is allowed)."""
    latest = (now - timedelta(seconds=1)).replace(tzinfo=None)
    soon = (now + timedelta(minutes=4)).replace(tzinfo=None)
    moments = st.one_of(
        st.sampled_from([datetime.min, datetime(1, 1, 1, 0, 0, 0, 1), datetime(999, 12, 31),
                         datetime(2018, 2, 13, 15), latest, soon]),
        st.datetimes(max_value=latest))
    return st.builds(written, moments, OFFSET_MINUTES, st.booleans())


# --- hostile variations ---------------------------------------------------------------------

HOSTILE_STRINGS = ["", " ", "\t\n", "\u3000\u2003", "\ud800", "a\udc00b", "a\x00b",
                   "x" * 10_001, "y" * 60_000, "e1\n", "fz-a\n", " e1", "é1", "١٢", "E" * 101,
                   "FZ-A", "-a", "https://example.org/\n"]
HOSTILE_VALUES: list[object] = [
    {"count": {"best": 2**31}}, {"count": {"high": 10**12}}, {"count": {"low": 10**12 + 1}},
    {"count": {"best": -1}}, {"count": {"best": 1.5}}, {"count": {"best": "5"}},
    {"count": {"best": True}}, {"count": {}}, {"count": {"low": 5, "high": 3}},
    {"count": {"best": 2, "low": 3}}, {"count": {"median": 4}},
    {"text": ""}, {"text": "   "}, {"text": "\ud800"}, {"text": "a\x00"}, {"text": "z" * 10_001},
    {"time": {"start": "0000", "precision": "YEAR"}},
    {"time": {"start": "9999-12-31T24Z", "precision": "HOUR"}},
    {"time": {"start": "0000-12-31T23:59:59.999999Z", "precision": "EXACT"}},
    {"time": {"start": "2018-13", "precision": "MONTH"}},
    {"time": {"start": "2018-02-30", "precision": "DAY"}},
    {"time": {"start": "2018-02-10T14:05Z", "precision": "DAY"}},
    {"time": {"start": "2018\n", "precision": "YEAR"}},
    {"time": {"start": "٢٠١٨", "precision": "YEAR"}},
    {"time": {"start": "2018-02-10", "end": "2018-02-09", "precision": "DAY"}},
    {"time": {"start": "2018", "precision": "WEEK"}},
    {"time": {"start": 2018, "precision": "YEAR"}},
    {"time": {"start": "2018", "precision": "YEAR", "zone": "UTC"}},
    {"place": {"name": "x", "lat": 90.0000001, "lon": 0}},
    {"place": {"name": "x", "lat": 0, "lon": -180.5}},
    {"place": {"name": "x", "lat": float("nan"), "lon": 0}},
    {"place": {"name": "x", "lat": 0, "lon": float("inf")}},
    {"place": {"name": "x", "lat": 1e308, "lon": 0}},
    {"place": {"name": "x", "lat": 1}}, {"place": {"name": " "}},
    {"place": {"name": "x", "lat": "35", "lon": "40"}},
    {"flag": "yes"}, {"flag": 1}, {}, {"count": {"best": 1}, "text": "two"}, {"colour": "red"},
    "5", None,
]
HOSTILE_KEYS: list[object] = ["", "k" * 201, "\x00", "k\ud800", 42]
HOSTILE_VERSIONS: list[object] = [-1, 2**31, 10**12, 1.5, "1", True]
HOSTILE_ENUMS: list[object] = ["MAYBE", "confirmed", "", 1, None]
UNKNOWN_FIELDS = [{"bogus": 1}, {"actor": "mallory"}, {"recordedAt": "2018-02-13T15:00:00Z"}]


def hostile_instants(now: datetime) -> list[object]:
    return ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59.999999Z",
            "9999-12-31T23:59:59-01:00", "9999-12-31T24:00:00Z", "2018-02-13T15:00:00Z\n",
            "2018-02-13T15:00:00", "2018-02-13", "٢٠١٨-02-13T15:00:00Z",
            "2018-02-30T00:00:00Z", "yesterday", "", 1518534000, None,
            (now + timedelta(minutes=6)).isoformat(), (now + timedelta(days=1)).isoformat()]


def hostile_choices(field: str, now: datetime) -> list[object]:
    """What may replace ``field`` of an input to make it hostile."""
    by_field: dict[str, list[object]] = {
        "reportedAt": hostile_instants(now), "value": HOSTILE_VALUES,
        "idempotencyKey": HOSTILE_KEYS, "expectedVersion": HOSTILE_VERSIONS}
    if field in {"stance", "kind", "reliability", "rank"}:
        return HOSTILE_ENUMS
    return by_field.get(field, list(HOSTILE_STRINGS))


@st.composite
def spoiled(draw: st.DrawFn, fields: dict[str, Any], now: datetime) -> dict[str, Any]:
    """``fields`` with one thing made hostile: a field replaced, added or left out."""
    changed = dict(fields)
    what = draw(st.sampled_from([*sorted(fields), "idempotencyKey", "expectedVersion",
                                 "unknown field", "missing field"]))
    if what == "unknown field":
        changed |= draw(st.sampled_from(UNKNOWN_FIELDS))
    elif what == "missing field":
        del changed[draw(st.sampled_from(sorted(fields)))]
    else:
        changed[what] = draw(st.sampled_from(hostile_choices(what, now)))
    return changed


# --- commands --------------------------------------------------------------------------------

def optional(strategy: st.SearchStrategy[T]) -> st.SearchStrategy[T | None]:
    return st.one_of(st.none(), strategy)


def present(**fields: object) -> dict[str, Any]:
    """The fields that are set: an input leaves its optional fields out."""
    return {name: item for name, item in fields.items() if item is not None}


@st.composite
def report_fact(draw: st.DrawFn, now: datetime) -> dict[str, Any]:
    attribute = draw(st.sampled_from([*ATTRIBUTE_KINDS, "mixed"]))
    kind = ATTRIBUTE_KINDS.get(attribute) or draw(st.sampled_from(sorted(VALUES)))
    return present(
        timeline=draw(st.sampled_from(SLUGS)), entry=draw(st.sampled_from(ENTRIES)),
        attribute=attribute, value=draw(VALUES[kind]), source=draw(st.sampled_from(SOURCES)),
        via=draw(optional(st.sampled_from(SOURCES))), stance=draw(st.sampled_from(STANCES)),
        reportedAt=draw(reported_ats(now)), quote=draw(optional(TEXTS)),
        url=draw(optional(URLS)),
        id=draw(st.one_of(st.none(), st.none(), st.sampled_from(REPORTS))))


@st.composite
def correct_report(draw: st.DrawFn, now: datetime) -> dict[str, Any]:
    kind = draw(st.sampled_from(sorted(VALUES)))
    value, stance = draw(st.sampled_from([(True, False), (False, True), (True, True)]))
    return present(
        timeline=draw(st.sampled_from(SLUGS)), report=draw(st.sampled_from(REPORTS)),
        reportedAt=draw(reported_ats(now)), value=draw(VALUES[kind]) if value else None,
        stance=draw(st.sampled_from(STANCES)) if stance else None)


def commands(now: datetime) -> dict[str, st.SearchStrategy[dict[str, Any]]]:
    """A strategy of valid inputs for each mutation (valid in form: the log may still
    refuse them, as a duplicate or a reference to nothing)."""
    slugs, reports = st.sampled_from(SLUGS), st.sampled_from(REPORTS)
    entries = st.sampled_from(ENTRIES)
    return {
        "createTimeline": st.builds(present, slug=slugs, title=TEXTS,
                                    description=optional(TEXTS)),
        "registerSource": st.builds(present, id=st.sampled_from(SOURCES), name=TEXTS,
                                    kind=st.sampled_from(SOURCE_KINDS), url=optional(URLS)),
        "gradeSource": st.builds(present, source=st.sampled_from(SOURCES),
                                 reliability=st.sampled_from(GRADES), note=optional(TEXTS)),
        "openEntry": st.builds(present, timeline=slugs, title=TEXTS, id=optional(entries)),
        "reportFact": report_fact(now),
        "correctReport": correct_report(now),
        "retractReport": st.builds(present, timeline=slugs, report=reports, reason=TEXTS,
                                   reportedAt=reported_ats(now)),
        "rankReport": st.builds(present, timeline=slugs, report=reports,
                                rank=st.sampled_from(RANKS), reason=TEXTS),
        "mergeEntries": st.builds(present, timeline=slugs, duplicate=entries,
                                  survivor=entries),
    }


# Reports are what the reads have most to say about. (hypothesis favours the ends of a
# list, so the rarer choices sit in the middle.)
MUTATION_MIX = ["reportFact", "reportFact", "correctReport", "retractReport", "rankReport",
                "mergeEntries", "openEntry", "createTimeline", "registerSource", "gradeSource",
                "correctReport", "reportFact", "reportFact"]
INTAKE_MIX = ["graphql", "graphql", "ndjson", "csv", "ndjson", "graphql", "graphql"]
IDEMPOTENCY_KEYS = st.sampled_from(["retry-1", "retry-2", "k" * 200, "ключ" * 50, "🔁"])


@st.composite
def controls(draw: st.DrawFn) -> dict[str, Any]:
    """The optional idempotencyKey and expectedVersion, mostly absent."""
    return present(
        idempotencyKey=draw(st.one_of(st.none(), st.none(), IDEMPOTENCY_KEYS)),
        expectedVersion=draw(st.one_of(st.none(), st.none(), st.none(),
                                       st.sampled_from([0, 1, 4, 2**31 - 1]))))


@dataclass(frozen=True)
class Step:
    """One command for one intake; ``csv`` steps carry a spreadsheet row as their input."""

    intake: str
    mutation: str
    input: dict[str, Any]
    retried: bool = False

    def __str__(self) -> str:
        return f"{self.intake} {self.mutation} {json.dumps(self.input)[:2000]}"


CSV_HOSTILE_CELLS: dict[str, list[str]] = {
    "value": ["٣", "10000000000000", "2147483648", "5..3", "lots", "X @ 1.2.3,4", "X @ .,.",
              "X @ 91,0", "2018-02-07 DAY\n", "٢٠١٨ YEAR", "0000 YEAR", "2018-02-30 DAY",
              "maybe", ""],
    "reported_at": ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59Z", "2018-02-13", "soon"],
    "status": ["DELETED", "corrected"], "rank": ["TOP"], "source_grade": ["Z", "a"],
    "kind": ["number", ""], "stance": ["MAYBE", ""],
}


@st.composite
def csv_rows(draw: st.DrawFn, now: datetime) -> dict[str, str]:
    """A row of the CSV export's columns, as a newsroom's spreadsheet might hold it."""
    fields = draw(report_fact(now))
    kind, text = value_cell(parse_value(fields["value"]))

    def text_of(strategy: st.SearchStrategy[str]) -> str:
        return draw(optional(strategy)) or ""

    status = draw(st.sampled_from(["", "RETRACTED", "CORRECTED", "ACTIVE"]))
    rank = draw(st.sampled_from(["", "PREFERRED", "DEPRECATED", "NORMAL"]))
    # A report with a later life needs its id; ids of their own, so that few collide.
    later_life = status in {"RETRACTED", "CORRECTED"} or rank in {"PREFERRED", "DEPRECATED"}
    report_ids = st.integers(1, 200).map(lambda n: f"csv-{n}")
    row = {"timeline": fields["timeline"], "entry": fields["entry"],
           "entry_title": text_of(TEXTS), "attribute": fields["attribute"], "kind": kind,
           "value": text, "source": fields["source"], "source_name": text_of(TEXTS),
           "source_grade": text_of(st.sampled_from(GRADES)), "via": fields.get("via", ""),
           "stance": fields["stance"], "reported_at": fields["reportedAt"],
           "quote": fields.get("quote", ""), "url": fields.get("url", ""),
           "report": draw(report_ids) if later_life else text_of(report_ids),
           "status": status, "changed_at": text_of(reported_ats(now)),
           "retraction_reason": text_of(TEXTS), "rank": rank}
    if draw(st.integers(0, 2)) == 0:
        column = draw(st.sampled_from(sorted(row)))
        row[column] = draw(st.sampled_from(CSV_HOSTILE_CELLS.get(column, HOSTILE_STRINGS)))
    return row


@st.composite
def steps(draw: st.DrawFn, now: datetime) -> Step:
    """A random step: a row for the CSV import, or a command, a third of them hostile."""
    intake = draw(st.sampled_from(INTAKE_MIX))
    if intake == "csv":
        return Step("csv", "csv", draw(csv_rows(now)))
    mutation = draw(st.sampled_from(MUTATION_MIX))
    fields = draw(commands(now)[mutation]) | draw(controls())
    if draw(st.integers(0, 2)) == 0:
        fields = draw(spoiled(fields, now))
    return Step(intake, mutation, fields, retried=draw(st.integers(0, 9)) == 0)


def setup_steps() -> list[Step]:
    """The world the random steps are about, made through each intake."""
    made = [Step("graphql", "createTimeline", {"slug": "fz-a", "title": "Fuzz A",
                                               "description": "d" * 10_000}),
            Step("ndjson", "createTimeline", {"slug": "fz-b", "title": "Фазз Б"})]
    made += [Step("graphql" if n % 2 else "ndjson", "registerSource",
                  {"id": source, "name": source.upper(), "kind": SOURCE_KINDS[n]})
             for n, source in enumerate(SOURCES)]
    made += [Step("graphql", "gradeSource", {"source": "mod", "reliability": "B"}),
             Step("csv", "csv", {"timeline": "fz-c", "entry": "e1", "attribute": "killed",
                                 "kind": "count", "value": "2147483647", "source": "anon",
                                 "stance": "CLAIMED", "reported_at": "0001-01-01T00:00:00Z"})]
    made += [Step("graphql", "openEntry", {"timeline": slug, "id": entry, "title": entry})
             for slug in SLUGS for entry in ENTRIES if (slug, entry) != ("fz-c", "e1")]
    return made


def edge_steps(now: datetime) -> list[Step]:
    """Valid reports at every edge the values allow, so that each run stores and reads
    them all (the random steps reach them only now and then): times starting at the first
    and ending at the last instant of a datetime at every precision, counts and
    coordinates at their bounds, the longest text, the earliest and latest reportedAt."""
    soon = (now + timedelta(minutes=4)).isoformat()
    times = [{"start": truncated(datetime.min, p, 6), "precision": p.name} for p in Precision]
    times += [{"start": truncated(datetime(9999, 12, 31), p, 6),
               "end": truncated(datetime.max, p, 6), "precision": p.name} for p in Precision]
    values = [("occurred", {"time": time}) for time in times] + [
        ("killed", {"count": {"best": 2**31 - 1}}),
        ("killed", {"count": {"low": 0, "high": 2**31 - 1}}),
        ("killed", {"count": {"low": 2**31 - 1}}),
        ("place", {"place": {"name": "pole", "lat": -90, "lon": 180}}),
        ("place", {"place": {"name": "null island", "lat": -0.0, "lon": -0.0}}),
        ("place", {"place": {"name": "nearly", "lat": 5e-324, "lon": -180}}),
        ("weapon", {"text": "w" * 10_000}), ("claimed", {"flag": False})]
    instants = [FAR_PAST, "0001-01-01T00:00:00-00:01", soon]
    made = [Step("graphql" if n % 2 else "ndjson", "reportFact", {
        "timeline": "fz-a", "entry": ENTRIES[n % len(ENTRIES)], "attribute": attribute,
        "value": value, "source": SOURCES[n % len(SOURCES)], "stance": STANCES[n % 4],
        "reportedAt": instants[n % len(instants)], "id": f"edge-{n}"})
        for n, (attribute, value) in enumerate(values)]
    return [*made,
            Step("graphql", "correctReport", {"timeline": "fz-a", "report": "edge-0",
                                              "stance": "DENIED", "reportedAt": soon}),
            Step("ndjson", "retractReport", {"timeline": "fz-a", "report": "edge-3",
                                             "reason": "r" * 10_000, "reportedAt": FAR_PAST}),
            Step("graphql", "rankReport", {"timeline": "fz-a", "report": "edge-7",
                                           "rank": "PREFERRED", "reason": "the desk"}),
            # The last entry of fz-b, preferred to start at the last instant, among undated.
            Step("ndjson", "reportFact", {
                "timeline": "fz-b", "entry": ENTRIES[-1], "attribute": "occurred",
                "value": {"time": {"start": truncated(datetime.max, Precision.EXACT, 6),
                                   "precision": "EXACT"}},
                "source": "anon", "stance": "CLAIMED", "reportedAt": soon, "id": "edge-last"}),
            Step("graphql", "rankReport", {"timeline": "fz-b", "report": "edge-last",
                                           "rank": "PREFERRED", "reason": "the desk"})]


# --- the intakes -----------------------------------------------------------------------------

VALUE = ("__typename ... on Count { best low high } ... on Text { text } "
         "... on TimeSpan { start end precision } ... on Place { name lat lon } "
         "... on Flag { flag }")
REPORT_PAYLOAD = (f"event {{ position data }} report {{ id status rank value {{ {VALUE} }} }} "
                  f"fact {{ attribute low high disputed status explanation "
                  f"value {{ {VALUE} }} }}")
PAYLOADS = {
    "createTimeline": "timeline { slug title description version } event { position }",
    "registerSource": "source { id name kind url reliability } event { position }",
    "gradeSource": "source { id reliability note } event { position }",
    "openEntry": "entry { id title } event { position }",
    "reportFact": REPORT_PAYLOAD, "correctReport": REPORT_PAYLOAD,
    "retractReport": REPORT_PAYLOAD, "rankReport": REPORT_PAYLOAD,
    "mergeEntries": "entry { id title reports { id } facts { attribute } } event { position }",
}


def mutation_document(mutation: str) -> str:
    name = mutation[0].upper() + mutation[1:]
    return (f"mutation($input: {name}Input!) {{ {mutation}(input: $input) "
            f"{{ {PAYLOADS[mutation]} }} }}")


STORED = "stored"


class Intakes:
    """Sends steps through their intakes; checks each answer is a result or a coded
    refusal, and that a refusal stored nothing. ``outcomes`` counts, for each intake and
    mutation, what was stored and what was refused with which code."""

    def __init__(self, api: Api, folder: Path) -> None:
        self.api = api
        self.folder = folder
        self.outcomes: Counter[tuple[str, str, str]] = Counter()

    async def send(self, step: Step) -> str:
        """STORED, or the code the step was refused with."""
        if step.intake == "graphql":
            outcome = await self.graphql(step)
        else:
            outcome = await self.import_(step)
        self.outcomes[step.intake, step.mutation, outcome] += 1
        return outcome

    def stored(self, intake: str, mutation: str | None = None) -> int:
        return sum(count for (i, m, outcome), count in self.outcomes.items()
                   if i == intake and mutation in (None, m) and outcome == STORED)

    async def graphql(self, step: Step) -> str:
        outcome, payload = await self._post(step)
        if payload is not None and step.retried:
            _, again = await self._post(step)
            if "idempotencyKey" in step.input:
                assert again == payload, f"a retry was not answered from the first: {step}"
        return outcome

    async def _post(self, step: Step) -> tuple[str, dict[str, Any] | None]:
        # Encoded here, not by httpx: ASCII-escaped JSON carries lone surrogates ("\ud800")
        # and NaN gets through as the token Python's json writes.
        body = json.dumps({"query": mutation_document(step.mutation),
                           "variables": {"input": step.input}})
        response = await self.api.client.post("/graphql", content=body, headers={
            "content-type": "application/json", "authorization": f"Bearer {self.api.token}"})
        assert_clean(response)
        answer = response.json()
        codes = sorted({error["extensions"]["code"] for error in answer.get("errors") or []})
        assert not set(codes) & FAILURES, f"{step} was answered with {answer}"
        payload: dict[str, Any] | None = (answer.get("data") or {}).get(step.mutation)
        if payload is None:
            assert codes, f"{step} was neither answered nor refused: {answer}"
            return codes[0], None
        assert not codes, f"{step} was stored, but its payload did not read: {answer}"
        return STORED, payload

    async def import_(self, step: Step) -> str:
        path = self.folder / f"{sum(self.outcomes.values())}.{step.intake}"
        if step.intake == "csv":
            with path.open("w", newline="", encoding="utf-8", errors="surrogatepass") as out:
                writer = csv.DictWriter(out, fieldnames=list(step.input))
                writer.writeheader()
                writer.writerow(step.input)
        else:
            line = json.dumps({"mutation": step.mutation, "input": step.input})
            path.write_text(line + "\n", encoding="utf-8")
        before = await self.api.event_count()
        try:
            stored = await import_path(self.api.services, path,
                                       spreadsheet=step.intake == "csv", actor="fuzz-import")
        except DomainError as refusal:
            code = code_for(getattr(refusal, "error", refusal))
            assert code not in FAILURES, f"{step} was refused as a failure: {refusal!r}"
            assert await self.api.event_count() == before, f"{step} was refused, yet stored"
            return code
        except Exception as crash:
            raise AssertionError(f"{step} crashed the import") from crash
        assert await self.api.event_count() == before + stored
        return STORED


# --- the reads -------------------------------------------------------------------------------

AXES = ("RECORDED", "REPORTED")
FACT_FRAGMENTS = f"""
fragment value on Value {{ {VALUE} }}
fragment fact on Fact {{ nodeId attribute low high disputed status explanation
  value {{ ...value }} reports {{ weight role report {{ id }} }}
  alternatives {{ weight value {{ ...value }} reports {{ id }} }} }}
"""
REPORT_FRAGMENTS = """
fragment source on Source { nodeId id name kind url reliability note }
fragment report on Report { nodeId id entry attribute stance reportedAt recordedAt quote url
  status rank position changedAt value { ...value } source { ...source } via { ...source } }
"""
TIMELINE = """query($slug: String!, $asOf: DateTime, $axis: Axis!) {
  timeline(slug: $slug, asOf: $asOf, axis: $axis) { nodeId slug title description version
    entries(first: 80) { totalCount pageInfo { hasNextPage }
      nodes { nodeId id title occurred { start end precision } place { name lat lon }
        reports { ...report } facts { ...fact } } } } }""" + FACT_FRAGMENTS + REPORT_FRAGMENTS
HISTORY = """query($slug: String!, $asOf: DateTime, $axis: Axis!) {
  timeline(slug: $slug, asOf: $asOf, axis: $axis) { entries(first: 80) { nodes { id
    facts { attribute history { disputed status low high value { ...value }
      event { position type version data recordedAt } } } } } } }
fragment value on Value { """ + VALUE + " }"
ENTRY_PAGE = """query($slug: String!, $asOf: DateTime, $axis: Axis!, $after: String,
                      $from: DateTime, $to: DateTime) {
  timeline(slug: $slug, asOf: $asOf, axis: $axis) {
    entries(first: 2, after: $after, from: $from, to: $to) {
      totalCount pageInfo { hasNextPage endCursor } nodes { id } } } }"""
CHANGES = """query($slug: String!, $since: DateTime!, $until: DateTime, $axis: Axis!) {
  changes(slug: $slug, since: $since, until: $until, axis: $axis) { entry attribute
    before { ...fact } after { ...fact } } }""" + FACT_FRAGMENTS
EVENTS = """query($filter: EventFilter, $after: String) {
  events(filter: $filter, first: 500, after: $after) { pageInfo { hasNextPage endCursor }
    nodes { nodeId position stream version type schemaVersion data recordedAt actor
            idempotencyKey prevHash hash } } }"""
DIRECTORY = """{ timelines { slug title description version }
  sources { ...source } verifyLog { ok checked firstBadPosition } }
fragment source on Source { nodeId id name kind url reliability note }"""
NONCE = re.compile(r"nonce-[^']+'|nonce=\"[^\"]+\"")


async def answer(api: Api, query: str, **variables: Any) -> dict[str, Any]:
    body = await api.post(query, variables)
    assert "errors" not in body, f"{variables}: {body['errors']}"
    data: dict[str, Any] = body["data"]
    return data


async def entry_ids_page_by_page(api: Api, slug: str, as_of: str | None, axis: str,
                                 window: Mapping[str, str] | None = None) -> list[str]:
    ids: list[str] = []
    after = None
    while True:
        data = await answer(api, ENTRY_PAGE, slug=slug, asOf=as_of, axis=axis, after=after,
                            **(window or {}))
        page = data["timeline"]["entries"]
        ids += [node["id"] for node in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            return ids
        after = page["pageInfo"]["endCursor"]


async def whole_log(api: Api, filter: Mapping[str, Any] | None = None) -> list[Any]:
    nodes: list[Any] = []
    after = None
    while True:
        page = (await answer(api, EVENTS, filter=filter, after=after))["events"]
        nodes += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


def without_node_ids(item: Any) -> Any:
    """A node's id names the moment it was read at; the rest must not depend on it."""
    if isinstance(item, dict):
        return {k: without_node_ids(v) for k, v in item.items() if k != "nodeId"}
    if isinstance(item, list):
        return [without_node_ids(v) for v in item]
    return item


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def timeline_at(api: Api, query: str, slug: str, as_of: str | None, axis: str,
                      created: datetime) -> dict[str, Any] | None:
    """A read of the timeline as of a moment; None where, on Chronicle's own clock, the
    timeline was not recorded yet (and the answer says so: null, or NOT_FOUND on asOf)."""
    variables = {"slug": slug, "asOf": as_of, "axis": axis}
    if axis == "RECORDED" and as_of is not None and instant(as_of) < created:
        body = await api.post(query, variables)
        assert not (body.get("data") or {}).get("timeline"), body
        assert [(e["extensions"]["code"], e["extensions"].get("field"))
                for e in body.get("errors") or []] in ([], [("NOT_FOUND", "asOf")]), body
        return None
    return await answer(api, query, **variables)


async def read_timeline(api: Api, slug: str, moments: list[str]) -> dict[str, Any]:
    """Every GraphQL read of one timeline: now and as of each moment on both clocks."""
    log = await whole_log(api, {"stream": f"timeline:{slug}", "recordedFrom": FAR_PAST,
                                "recordedTo": FAR_FUTURE})
    created = instant(log[0]["recordedAt"])
    answers: dict[str, Any] = {f"{slug} events": log}
    views = [(None, "RECORDED"), *((m, axis) for m in moments for axis in AXES)]
    for as_of, axis in views:
        key = f"{slug} as of {as_of} {axis}"
        whole = await timeline_at(api, TIMELINE, slug, as_of, axis, created)
        if whole is None:
            continue
        answers[key] = whole
        answers[f"{key}: history"] = await answer(api, HISTORY, slug=slug, asOf=as_of,
                                                  axis=axis)
        entries = whole["timeline"]["entries"]
        assert not entries["pageInfo"]["hasNextPage"], f"{key}: more entries than one page"
        ids = [node["id"] for node in entries["nodes"]]
        assert await entry_ids_page_by_page(api, slug, as_of, axis) == ids, key
        answers[f"{key}: dated"] = await entry_ids_page_by_page(
            api, slug, as_of, axis, {"from": FAR_PAST, "to": FAR_FUTURE})
    # The read model now and the log replayed to the end of time are the same timeline.
    assert_same(without_node_ids(answers[f"{slug} as of None RECORDED"]),
                without_node_ids(answers[f"{slug} as of {FAR_FUTURE} RECORDED"]),
                f"{slug} now and as of the end of time")
    for axis in AXES:
        for since, until in [*pairwise(moments), (moments[2], None)]:
            if axis == "RECORDED" and until is not None and instant(until) < created:
                continue  # the timeline was not recorded yet: NOT_FOUND, rightly
            changed = await answer(api, CHANGES, slug=slug, since=since, until=until,
                                   axis=axis)
            # Until now: the nodes are named after the moment of reading.
            answers[f"{slug} changes {since}..{until} {axis}"] = (
                changed if until else without_node_ids(changed))
    return answers


async def read_pages(api: Api, slug: str, moments: list[str]) -> dict[str, str]:
    """The embed, the exports and oEmbed, now and as of a few moments."""
    here = quote(slug, safe="")
    embed_url = f"http://chronicle.test/embed/{here}"
    paths = ["/", "/oembed?" + urlencode({"url": embed_url, "maxwidth": 300})]
    for as_of, axis in [(None, None), (moments[0], "REPORTED"), (moments[-2], "RECORDED"),
                        (moments[-1], "REPORTED")]:
        query = "" if as_of is None else "?" + urlencode({"asOf": as_of, "axis": axis})
        paths += [f"/embed/{here}{query}", f"/export/{here}.csv{query}",
                  f"/export/{here}/timelinejs.json{query}"]
    pages: dict[str, str] = {}
    for path in paths:
        response = await api.client.get(path)
        assert response.status_code == 200, f"GET {path}: {response.status_code} " \
                                            f"{response.text[:1000]}"
        pages[f"GET {path}"] = NONCE.sub("nonce", response.text)
    return pages


async def read_everything(api: Api, moments: list[str]) -> dict[str, Any]:
    directory = await answer(api, DIRECTORY)
    check = directory["verifyLog"]
    assert check["ok"] and check["checked"] == await api.event_count(), check
    answers: dict[str, Any] = {"directory": directory, "log": await whole_log(api)}
    for source in directory["sources"]:
        found = await answer(api, "query($id: String!) { source(id: $id) { id } }",
                             id=source["id"])
        assert found["source"] == {"id": source["id"]}
    for timeline in directory["timelines"]:
        answers |= await read_timeline(api, timeline["slug"], moments)
        answers |= await read_pages(api, timeline["slug"], moments)
    return answers


def first_difference(expected: Any, actual: Any, path: str = "") -> str | None:
    """Where two answers first part, and how; None when they are equal."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted(expected.keys() | actual.keys(), key=str):
            found = first_difference(expected.get(key), actual.get(key), f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        for n, (left, right) in enumerate(zip(expected, actual, strict=True)):
            found = first_difference(left, right, f"{path}[{n}]")
            if found:
                return found
        return None
    if expected == actual:
        return None
    return f"{path}:\n  {str(expected)[:1000]}\n  {str(actual)[:1000]}"


def assert_same(expected: Any, actual: Any, when: str) -> None:
    difference = first_difference(expected, actual)
    assert difference is None, f"{when}, the reads differ at {difference}"


async def clock(api: Api) -> str:
    stamp: datetime = await api.scalar("SELECT clock_timestamp()")
    return stamp.isoformat()


# --- the test --------------------------------------------------------------------------------

async def test_every_intake_then_every_read(api: Api, databases: Databases,
                                            tmp_path: Path) -> None:
    print(f"fuzz seed {SEED}: CHRONICLE_FUZZ_SEED={SEED} replays this run")
    random_steps = examples(steps(datetime.now(UTC)), STEPS, from_seed=SEED)
    assert len(random_steps) > STEPS // 2
    intakes = Intakes(api, tmp_path)
    for step in [*setup_steps(), *edge_steps(datetime.now(UTC))]:
        assert await intakes.send(step) == STORED, f"the setup's {step} was refused"
    moments = [FAR_PAST, EPOCH]
    for number, step in enumerate(random_steps, start=1):
        await intakes.send(step)
        if number % 60 == 0:
            moments.append(await clock(api))
            for slug in SLUGS:  # as-of reads while writing: the kept histories catch up
                await answer(api, TIMELINE, slug=slug, asOf=moments[-1], axis="RECORDED")
    moments += [await clock(api), FAR_FUTURE]
    print("what each intake did:", *sorted(intakes.outcomes.items()), sep="\n  ")
    # Each intake stored more than the setup did, and the reads have reports to show.
    assert intakes.stored("graphql", "reportFact") and intakes.stored("ndjson") > 3
    assert intakes.stored("csv") > 1
    assert intakes.stored("graphql", "reportFact") + intakes.stored("ndjson", "reportFact") \
        + intakes.stored("csv") >= 10
    assert "BAD_INPUT" in {outcome for _, _, outcome in intakes.outcomes}

    written_by = await read_everything(api, moments)
    settings = api.services.settings
    async with running_api(settings) as fresh:
        assert_same(written_by, await read_everything(fresh, moments), "in a fresh process")
        await replay_read_model(fresh.services.store)
        assert_same(written_by, await read_everything(fresh, moments), "after a replay")
        archive = tmp_path / "log.ndjson"
        exported = await export_log(fresh.services.store, archive)
        assert exported == await fresh.event_count()
    restored_settings = Settings(database_url=await databases.fresh(), migrate_on_start=False)
    async with running_api(restored_settings) as restored:
        assert await restore_log(restored.services.store, archive) == exported
        assert_same(written_by, await read_everything(restored, moments), "after a restore")


# --- restore of exports that were written by earlier versions, or edited ---------------------

def report(entry: str, attribute: str, value: dict[str, Any], source: str, reported_at: str,
           **more: Any) -> dict[str, Any]:
    return {"timeline": "fz-old", "entry": entry, "attribute": attribute, "value": value,
            "source": source, "stance": "CLAIMED", "reportedAt": reported_at, **more}


# Years below 1000, times, counts and ids: what earlier versions wrote differently.
OLD_STORY: list[tuple[str, dict[str, Any]]] = [
    ("createTimeline", {"slug": "fz-old", "title": "Old"}),
    ("registerSource", {"id": "mod", "name": "MoD", "kind": "MILITARY",
                        "url": "https://mod.example/"}),
    ("registerSource", {"id": "wire", "name": "Wire", "kind": "MEDIA"}),
    ("openEntry", {"timeline": "fz-old", "id": "e1", "title": "One"}),
    ("openEntry", {"timeline": "fz-old", "id": "e2", "title": "Two"}),
    ("reportFact", report("e1", "killed", {"count": {"best": 5, "low": 2, "high": 9}}, "mod",
                          "0001-01-01T00:00:00Z", id="r1", idempotencyKey="old-key")),
    ("reportFact", report("e1", "killed", {"count": {"low": 3_000_000}}, "wire",
                          "0999-12-31T23:59:59Z", id="r2")),
    ("reportFact", report("e1", "occurred", {"time": {"start": "2018-02-07",
                                                      "precision": "DAY"}},
                          "mod", "2018-02-08T00:00:00Z", url="https://mod.example/r3")),
    ("reportFact", report("e2", "occurred", {"time": {"start": "0999-12", "end": "1000-01",
                                                      "precision": "MONTH"}},
                          "wire", "0500-06-15T12:00:00+05:00")),
    ("reportFact", report("e2", "occurred", {"time": {"start": "0999-12-31T23Z",
                                                      "precision": "HOUR"}},
                          "mod", "0999-01-01T00:00:00Z", id="r5")),
    ("correctReport", {"timeline": "fz-old", "report": "r1", "reportedAt": "0002-01-01T00:00:00Z",
                       "value": {"count": {"best": 7, "high": 2_000_000}}}),
    ("retractReport", {"timeline": "fz-old", "report": "r2", "reason": "unsourced",
                       "reportedAt": "0999-12-31T23:59:59.999999Z"}),
    ("rankReport", {"timeline": "fz-old", "report": "r5", "rank": "PREFERRED",
                    "reason": "the log says so"}),
    ("mergeEntries", {"timeline": "fz-old", "duplicate": "e2", "survivor": "e1"}),
]
OLD_SLUG, OLD_ENTRY = "fz-old\n", "e2\n"  # ids matched with `$`, which allows a final newline
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def as_first_written(record: dict[str, Any]) -> dict[str, Any]:
    """An exported event as Chronicle's first version wrote it: years below 1000 without
    their zeros ("1-01-01T..."), times in any Unicode digits or with a final newline, ids
    and URLs with a final newline, idempotency keys of any length."""
    data = record["data"]
    if record["stream"] == "timeline:fz-old":
        record["stream"] = "timeline:" + OLD_SLUG
    if record["type"] == "TimelineCreated":
        data["slug"] = OLD_SLUG
    for field in ("entry", "duplicate", "survivor"):
        if data.get(field) == "e2":
            data[field] = OLD_ENTRY
    if "reported_at" in data:
        data["reported_at"] = re.sub(r"^0+(?=\d)", "", data["reported_at"])
    if "url" in data:
        data["url"] += "\n"
    time = (data.get("value") or {}).get("time", {})
    for field in ("start", "end"):
        if field in time:
            time[field] = (time[field].translate(ARABIC_INDIC) if record["position"] % 2
                           else time[field] + "\n")
    if record["idempotency_key"] is not None:
        record["idempotency_key"] = "k" * 300
    return record


def counted_by_the_first_version(record: dict[str, Any]) -> dict[str, Any]:
    """Counts as the first version let them in (by CSV): up to 10^12."""
    value = record["data"].get("value") or {}
    if "count" in value:
        value["count"] = {name: min(n * 1000, 10**12) for name, n in value["count"].items()}
    return record


def records_of(archive: Path) -> list[dict[str, Any]]:
    """The envelopes of an export, as JSON objects."""
    return [json.loads(line) for line in archive.read_text(encoding="utf-8").splitlines()[1:-1]]


def chained(records: list[dict[str, Any]]) -> str:
    """An export of ``records`` with its hash chain and trailer made anew, as someone who
    knows the format would edit one."""
    lines = [header()]
    previous = GENESIS_HASH
    for record in records:
        record["prev_hash"] = previous
        fields = {name: record[name] for name in (
            "position", "stream", "version", "type", "schema_version", "data", "actor",
            "idempotency_key", "prev_hash")}
        recorded_at = datetime.strptime(record["recorded_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
        record["hash"] = previous = event_hash(recorded_at=recorded_at.replace(tzinfo=UTC),
                                               **fields)
        lines.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
    lines.append(trailer(len(records), previous))
    return "".join(lines)


@pytest.fixture(scope="module")
async def old_story(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> str:
    """OLD_STORY, exported: the lines of the file."""
    settings = Settings(database_url=await databases.fresh(), migrate_on_start=False)
    async with running_api(settings) as api:
        for mutation, fields in OLD_STORY:
            await api.ok(mutation, fields)
        archive = tmp_path_factory.mktemp("old-story") / "export.ndjson"
        await export_log(api.services.store, archive)
    return archive.read_text(encoding="utf-8")


def old_records(old_story: str, tmp_path: Path) -> list[dict[str, Any]]:
    archive = tmp_path / "export.ndjson"
    archive.write_text(old_story, encoding="utf-8")
    return records_of(archive)


async def restored_from(databases: Databases, archive: Path) -> Settings:
    """A fresh database holding the restored ``archive``."""
    settings = Settings(database_url=await databases.fresh(), migrate_on_start=False)
    async with running_api(settings) as restored:
        await restore_log(restored.services.store, archive)
    return settings


async def read_in_three_ways(settings: Settings) -> None:
    """Every read, in a process that just started, in another one and after a replay:
    none may fail, and all three agree."""
    async with running_api(settings) as first:
        moments = [FAR_PAST, EPOCH, await clock(first), FAR_FUTURE]
        answers = await read_everything(first, moments)
    async with running_api(settings) as second:
        assert_same(answers, await read_everything(second, moments), "in a second process")
        await replay_read_model(second.services.store)
        assert_same(answers, await read_everything(second, moments), "after a replay")


async def test_a_log_first_written_by_earlier_versions_restores_and_reads(
        old_story: str, databases: Databases, tmp_path: Path) -> None:
    archive = tmp_path / "first-version.ndjson"
    archive.write_text(chained([as_first_written(record)
                                for record in old_records(old_story, tmp_path)]))
    await read_in_three_ways(await restored_from(databases, archive))


async def test_counts_the_first_version_let_in_read(old_story: str, databases: Databases,
                                                    tmp_path: Path) -> None:
    archive = tmp_path / "first-version-counts.ndjson"
    archive.write_text(chained([counted_by_the_first_version(record)
                                for record in old_records(old_story, tmp_path)]))
    await read_in_three_ways(await restored_from(databases, archive))


def first_report(records: list[dict[str, Any]]) -> dict[str, Any]:
    return next(r for r in records if r["type"] == "FactReported")


EDITS: dict[str, Callable[[dict[str, Any]], object]] = {
    "an unknown event type": lambda r: r.update(type="FactInvented"),
    "a newer schema version": lambda r: r.update(schema_version=2),
    "a value of no kind": lambda r: r["data"].update(value={"colour": "red"}),
    "a count in words": lambda r: r["data"].update(value={"count": {"best": "many"}}),
    "a negative count": lambda r: r["data"].update(value={"count": {"best": -1}}),
    "a count past 10^12": lambda r: r["data"].update(value={"count": {"best": 10**13}}),
    "a time of no precision": lambda r: r["data"].update(value={"time": {"start": "2018"}}),
    "an instant without a zone": lambda r: r["data"].update(reported_at="2018-02-13T15:00"),
    "an unknown stance": lambda r: r["data"].update(stance="MAYBE"),
    "an unknown field": lambda r: r["data"].update(mood="grim"),
    "a field left out": lambda r: r["data"].pop("entry"),
    "a report on no entry": lambda r: r["data"].update(entry="ghost"),
    "a report by no source": lambda r: r["data"].update(source="ghost"),
    "a report relaying no source": lambda r: r["data"].update(via="ghost"),
    "a report on no timeline": lambda r: r.update(stream="timeline:ghost"),
    "a report on a source stream": lambda r: r.update(stream="source:ghost"),
    "a report whose kind clashes": lambda r: r["data"].update(attribute="occurred"),
    "a NUL in a quote": lambda r: r["data"].update(quote="a\x00b"),
    "data that is a list": lambda r: r.update(data=[1, 2]),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
async def test_an_edited_export_is_refused_or_reads(old_story: str, databases: Databases,
                                                    tmp_path: Path, edit: str) -> None:
    """An export whose chain was made anew after an edit: restore refuses it with a coded
    error and stores nothing, or takes it, and then every read works."""
    records = old_records(old_story, tmp_path)
    EDITS[edit](first_report(records))
    archive = tmp_path / "edited.ndjson"
    archive.write_text(chained(records), encoding="utf-8")
    settings = Settings(database_url=await databases.fresh(), migrate_on_start=False)
    async with running_api(settings) as restored:
        try:
            await restore_log(restored.services.store, archive)
        except DomainError as refusal:
            assert code_for(refusal) not in FAILURES, repr(refusal)
            assert await restored.event_count() == 0
            return
        except Exception as crash:
            raise AssertionError(f"{edit}: the restore crashed") from crash
    await read_in_three_ways(settings)


async def test_an_export_with_a_lone_surrogate_is_refused(old_story: str, databases: Databases,
                                                         tmp_path: Path) -> None:
    archive = tmp_path / "surrogate.ndjson"
    archive.write_text(old_story.replace('"title":"One"', '"title":"\\ud800"'),
                       encoding="utf-8")
    settings = Settings(database_url=await databases.fresh(), migrate_on_start=False)
    async with running_api(settings) as restored:
        with pytest.raises(DomainError) as refused:
            await restore_log(restored.services.store, archive)
        assert code_for(refused.value) not in FAILURES
        assert await restored.event_count() == 0
