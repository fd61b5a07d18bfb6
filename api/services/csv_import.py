"""``chronicle import --csv``: the CSV export back into commands, all or nothing.

Two layouts are read (docs/csv.md):

- **The whole story** (a ``row`` column; what ``/export/{slug}.csv`` writes). Rows are
  commands in file order: ``timeline`` (slug, ``timeline_title``, ``timeline_description``),
  ``source`` (``source_name``, ``source_kind``, ``source_url``, ``source_grade``,
  ``grade_note``), ``entry``, ``report``, ``correction``, ``retraction``, ``rank`` and
  ``merge``. A ``report`` row reports what the source first said: ``original_value``,
  ``original_stance`` and ``original_via`` when ``original_stance`` is filled (the report was
  corrected), else its ``value``, ``stance`` and ``via``. Its other cells (``status``,
  ``changed_at``, ``retraction_reason``, ``rank``, ``rank_reason``, ``role``, ``best``)
  restate what its own rows and Chronicle made of it and are not read; but once every row is
  planned, a report whose rows do not end at the value, stance and via its row shows (nor
  at its status or rank, where the row gives them) is refused by its line, so an edit that
  would be lost is never imported silently. A row with an empty ``row`` cell is a report.
- **One row per report** (no ``row`` column; what earlier versions exported, or a
  spreadsheet made by hand). Each row reports its ``value`` and ``stance``; ``status``
  CORRECTED or RETRACTED (at ``changed_at``) and a ``rank`` other than NORMAL are recorded
  after it. Such a file lacks what a corrected report first said, so its report is stored
  as saying its corrected value, and a correction that restates it is refused as already
  said; this is as far as these files go, and they import as they always did.

In both, what a row needs and the log lacks is made first: the timeline (titled by its slug)
and the entry (titled by ``entry_title``). A ``source`` or ``via`` id that is neither known
nor registered by an earlier row is registered only when the row names it in
``source_name``/``via_name`` (kind OTHER, graded by ``source_grade``/``via_grade``); without
a name the row is refused, so a misspelt id never becomes a new source. A timeline, source
or entry that exists is not changed: its row is skipped. ``role`` and ``best`` are what
Chronicle concluded; they are not read.

The file is UTF-8, with or without the byte order mark spreadsheets write. Errors name the
line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.services.intake import CommandIntake, LineRefused
from api.services.ndjson_import import snake
from events.commands import (
    Command,
    CorrectReport,
    RankReport,
    ReportFact,
    RetractReport,
    Submission,
    parse_submission,
)
from events.errors import BadInput, DomainError, NotFound
from events.postgres.read_model import ReadModel
from events.value_text import value_cell, value_input
from events.values import Value, parse_enum, parse_value
from events.vocabulary import Stance

REQUIRED = ("timeline", "entry", "attribute", "kind", "value", "source", "stance",
            "reported_at")
ROW_KINDS = ("timeline", "source", "entry", "report", "correction", "retraction", "rank",
             "merge")
IMPORTED_RANK_REASON = "ranked so in the imported spreadsheet"

Cell = Callable[[str], str]  # a column's text in the row being read, stripped
Commands = list[tuple[str, dict[str, Any]]]


class Known:
    """What exists, in the database or earlier in the file."""

    def __init__(self, timelines: set[str], entries: set[tuple[str, str]],
                 sources: set[str]) -> None:
        self.timelines = timelines
        self.entries = entries
        self.sources = sources


async def import_csv(intake: CommandIntake, read_model: ReadModel, path: Path, *,
                     actor: str, on_progress: Callable[[int], None] | None = None) -> int:
    """Import ``path`` in one transaction; returns the number of events stored."""
    known = Known({t.slug for t in await read_model.timelines()},
                  await read_model.entry_ids(), {s.id for s in await read_model.sources()})
    submissions, lines = plan(path, known)
    return await intake.append_file(submissions, lines, actor=actor, on_progress=on_progress)


def plan(path: Path, known: Known) -> tuple[list[Submission], list[int]]:
    """The commands of every row of the file at ``path``, and the line each came from."""
    return plan_text(_text(path), known)


def plan_text(text: str, known: Known) -> tuple[list[Submission], list[int]]:
    """The commands of every row of a CSV file's text, and the line each came from.
    Pure: ``known`` is what exists already, and grows with what the file makes."""
    submissions: list[Submission] = []
    lines: list[int] = []
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        story = "row" in (reader.fieldnames or [])
        required = ("row", "timeline") if story else REQUIRED
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise LineRefused(1, BadInput(f"the header lacks {', '.join(missing)}"))
        sheet = _Story(known)
        for row in reader:
            try:
                commands = sheet.commands(row, reader.line_num) if story else \
                    _commands(row, known)
                for mutation, fields in commands:
                    submission = parse_submission(mutation, {snake(k): v
                                                             for k, v in fields.items()})
                    submissions.append(submission)
                    lines.append(reader.line_num)
                    sheet.follow(submission.command)
            except DomainError as e:
                raise LineRefused(reader.line_num, e) from e
    except csv.Error as e:
        # csv counts a line once it has parsed it: the one it failed on is the next.
        raise LineRefused(reader.line_num + 1, BadInput(f"not CSV: {e}")) from e
    sheet.check()
    return submissions, lines


def _text(path: Path) -> str:
    """The file's text, without the byte order mark a spreadsheet saves at its start."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise BadInput(f"cannot read the file ({e.strerror})") from e
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise LineRefused(line, BadInput(f"not UTF-8 ({e.reason})")) from e


def _cells(row: dict[str, str]) -> tuple[Cell, Cell]:
    """A row's cell, stripped; and the same, refusing an empty one by its column."""
    def cell(name: str) -> str:
        return (row.get(name) or "").strip()

    def required(name: str) -> str:
        if not (text := cell(name)):
            raise BadInput(f"{name} is empty", field=name)
        return text

    return cell, required


def _open_timeline(known: Known, timeline: str) -> Commands:
    """The timeline a row needs and the log lacks, titled by its slug."""
    if timeline in known.timelines:
        return []
    known.timelines.add(timeline)
    return [("createTimeline", {"slug": timeline, "title": timeline})]


def _open(cell: Cell, known: Known, timeline: str, entry: str) -> Commands:
    """Whatever a report needs and the log lacks: its timeline, its entry."""
    commands = _open_timeline(known, timeline)
    if (timeline, entry) not in known.entries:
        commands.append(("openEntry", {"timeline": timeline, "id": entry,
                                       "title": cell("entry_title") or entry}))
        known.entries.add((timeline, entry))
    return commands


# --- one row per report (the earlier layout) -----------------------------------------------

def _commands(row: dict[str, str], known: Known) -> Commands:
    cell, _ = _cells(row)
    for name in REQUIRED:
        if not cell(name) and not (name == "value" and cell("kind") == "text"):
            raise BadInput(f"{name} is empty", field=name)
    timeline, entry, report = cell("timeline"), cell("entry"), cell("report")
    commands = _open_timeline(known, timeline) + _new_sources(cell, known)
    commands += _open(cell, known, timeline, entry)
    value = value_input(cell("kind"), row.get("value") or "")
    reported = _reported(row, cell, value, cell("stance"), cell("via"))
    commands.append(("reportFact", reported))
    commands += _later_life(cell, timeline, report, value)
    return commands


def _reported(row: dict[str, str], cell: Cell, value: dict[str, Any], stance: str,
              via: str) -> dict[str, Any]:
    """The ``reportFact`` of a report row saying ``value`` with ``stance`` (citing ``via``)."""
    reported = {"timeline": cell("timeline"), "entry": cell("entry"),
                "attribute": cell("attribute"), "value": value, "source": cell("source"),
                "stance": stance, "reported_at": cell("reported_at")}
    if via:
        reported["via"] = via
    for optional in ("quote", "url"):
        if cell(optional):
            reported[optional] = row[optional]
    if cell("report"):
        reported["id"] = cell("report")
    return reported


def _new_sources(cell: Cell, known: Known, columns: tuple[str, ...] = ("source", "via"),
                 ) -> Commands:
    """The commands registering the row's source and via source the log lacks, each by the
    name the row gives it."""
    commands: Commands = []
    for column in columns:
        source = cell(column)
        if not source or source in known.sources:
            continue
        name = cell(f"{column}_name")
        if not name:
            raise NotFound(f"no source {source!r}; to register it, give its name in "
                           f"{column}_name", field=column)
        commands.append(("registerSource", {"id": source, "name": name, "kind": "OTHER"}))
        if grade := cell(f"{column}_grade"):
            commands.append(("gradeSource", {"source": source, "reliability": grade}))
        known.sources.add(source)
    return commands


def _later_life(cell: Cell, timeline: str, report: str, value: dict[str, Any]) -> Commands:
    status, rank = cell("status").upper() or "ACTIVE", cell("rank").upper() or "NORMAL"
    if (status != "ACTIVE" or rank != "NORMAL") and not report:
        raise BadInput(f"a {status.lower()} or ranked report needs its id in the report "
                       "column", field="report")
    when = cell("changed_at") or cell("reported_at")
    commands: Commands = []
    if status == "CORRECTED":
        commands.append(("correctReport", {"timeline": timeline, "report": report,
                                           "value": value, "stance": cell("stance"),
                                           "reported_at": when}))
    elif status == "RETRACTED":
        commands.append(("retractReport", {"timeline": timeline, "report": report,
                                           "reason": cell("retraction_reason") or "retracted",
                                           "reported_at": when}))
    elif status != "ACTIVE":
        raise BadInput(f"status {status!r} must be ACTIVE, CORRECTED or RETRACTED",
                       field="status")
    if rank != "NORMAL":
        commands.append(("rankReport", {"timeline": timeline, "report": report,
                                        "rank": rank, "reason": IMPORTED_RANK_REASON}))
    return commands


# --- the whole story (a `row` column) -------------------------------------------------------

@dataclass(slots=True)
class _Report:
    """A report of the file: where its row is, what that row says it says now, and what
    the rows planned so far make it say."""

    line: int
    value: Value
    stance: Stance
    via: str | None
    status: str = "ACTIVE"
    rank: str = "NORMAL"
    said: tuple[Value, Stance, str | None, str, str] | None = None  # its row's, once read


class _Story:
    """The rows of a file in the whole-story layout, each into its commands."""

    def __init__(self, known: Known) -> None:
        self.known = known
        self.reports: dict[str, _Report] = {}
        self._said: tuple[Value, Stance, str | None, str, str] | None = None
        self._line = 0
        # What the file made before its own row came: a row for it must come first.
        self.implied: set[tuple[str, str]] = set()

    def commands(self, row: dict[str, str], line: int) -> Commands:
        cell, required = _cells(row)
        kind = cell("row").lower() or "report"
        if kind not in ROW_KINDS:
            raise BadInput(f"row {kind[:40]!r} must be one of {', '.join(ROW_KINDS)}",
                           field="row")
        self._said, self._line = None, line
        if kind == "source":  # sources are shared by every timeline
            return self._source(cell, required, row)
        timeline = required("timeline")
        if kind == "timeline":
            return self._timeline(cell, timeline, row)
        if kind == "entry":
            return self._entry(cell, timeline, required("entry"))
        if kind == "report":
            return self._report(row, cell, required, timeline)
        if kind == "correction":
            return self._correction(row, cell, required, timeline)
        if kind == "retraction":
            return [("retractReport", {"timeline": timeline, "report": required("report"),
                                       "reason": required("retraction_reason"),
                                       "reported_at": required("reported_at")})]
        if kind == "rank":
            return [("rankReport", {"timeline": timeline, "report": required("report"),
                                    "rank": required("rank").upper(),
                                    "reason": cell("rank_reason") or IMPORTED_RANK_REASON})]
        return [("mergeEntries", {"timeline": timeline, "duplicate": required("entry"),
                                  "survivor": required("merged_into")})]

    def _first(self, what: str, name: str) -> None:
        if (what, name) in self.implied:
            raise BadInput(f"the {what} row of {name!r} must come before the rows that use "
                           "it", field="row")

    def _timeline(self, cell: Cell, timeline: str, row: dict[str, str]) -> Commands:
        self._first("timeline", timeline)
        if timeline in self.known.timelines:
            return []
        self.known.timelines.add(timeline)
        created = {"slug": timeline, "title": cell("timeline_title") or timeline}
        if cell("timeline_description"):
            created["description"] = row["timeline_description"]
        return [("createTimeline", created)]

    def _source(self, cell: Cell, required: Cell, row: dict[str, str]) -> Commands:
        source = required("source")
        self._first("source", source)
        if source in self.known.sources:
            return []
        registered = {"id": source, "name": required("source_name"),
                      "kind": cell("source_kind").upper() or "OTHER"}
        if cell("source_url"):
            registered["url"] = row["source_url"]
        commands: Commands = [("registerSource", registered)]
        if grade := cell("source_grade"):
            graded = {"source": source, "reliability": grade.upper()}
            if cell("grade_note"):
                graded["note"] = row["grade_note"]
            commands.append(("gradeSource", graded))
        self.known.sources.add(source)
        return commands

    def _entry(self, cell: Cell, timeline: str, entry: str) -> Commands:
        self._first("entry", f"{timeline}/{entry}")
        self._imply_timeline(timeline)
        return _open(cell, self.known, timeline, entry)

    def _imply_timeline(self, timeline: str) -> None:
        if timeline not in self.known.timelines:
            self.implied.add(("timeline", timeline))

    def _imply_sources(self, cell: Cell, columns: tuple[str, ...]) -> None:
        for column in columns:
            if (source := cell(column)) and source not in self.known.sources:
                self.implied.add(("source", source))

    def _report(self, row: dict[str, str], cell: Cell, required: Cell,
                timeline: str) -> Commands:
        for name in REQUIRED:
            if name != "value" or cell("kind") != "text":
                required(name)
        entry, kind = cell("entry"), cell("kind")
        self._imply_timeline(timeline)
        if (timeline, entry) not in self.known.entries:
            self.implied.add(("entry", f"{timeline}/{entry}"))
        self._imply_sources(cell, ("source", "via"))
        commands = _open_timeline(self.known, timeline) + _new_sources(cell, self.known)
        commands += _open(cell, self.known, timeline, entry)
        now = value_input(kind, row.get("value") or "")
        if cell("original_stance"):
            first = value_input(kind, row.get("original_value") or "")
            commands.append(("reportFact", _reported(row, cell, first, cell("original_stance"),
                                                     cell("original_via"))))
            if cell("original_via") and cell("original_via") not in self.known.sources:
                raise NotFound(f"original_via: source {cell('original_via')!r} needs a "
                               "source row before this one", field="original_via")
        else:
            commands.append(("reportFact", _reported(row, cell, now, cell("stance"),
                                                     cell("via"))))
        self._said = (parse_value(now, "value"), parse_enum(Stance, cell("stance"), "stance"),
                      cell("via") or None, cell("status").upper(), cell("rank").upper())
        return commands

    def _correction(self, row: dict[str, str], cell: Cell, required: Cell,
                    timeline: str) -> Commands:
        report = required("report")
        corrected: dict[str, Any] = {"timeline": timeline, "report": report,
                                     "reported_at": required("reported_at")}
        if cell("value"):
            corrected["value"] = value_input(required("kind"), row["value"])
        if cell("stance"):
            corrected["stance"] = cell("stance")
        if cell("via"):
            corrected["via"] = cell("via")
        self._imply_sources(cell, ("via",))
        return [*_new_sources(cell, self.known, ("via",)), ("correctReport", corrected)]

    def follow(self, command: Command) -> None:
        """Keep what the file's reports say after ``command``, one of the row just read."""
        if isinstance(command, ReportFact):
            if command.id is not None and self._said is not None:
                self.reports[command.id] = _Report(self._line, command.value, command.stance,
                                                   command.via, said=self._said)
            return
        report = self.reports.get(getattr(command, "report", ""))
        if report is None:
            return
        if isinstance(command, CorrectReport):
            report.value = command.value if command.value is not None else report.value
            report.stance = command.stance if command.stance is not None else report.stance
            report.via = command.via if command.via is not None else report.via
            report.status = "CORRECTED"
        elif isinstance(command, RetractReport):
            report.status = "RETRACTED"
        elif isinstance(command, RankReport):
            report.rank = command.rank.value

    def check(self) -> None:
        """Refuse a report whose row says it now says what its rows do not make it say."""
        for report_id, report in self.reports.items():
            if report.said is None:
                continue
            for column, said, made in self._compared(report):
                if said != made:
                    raise LineRefused(report.line, BadInput(
                        f"report {report_id!r} says {column} {said or 'nothing'}, but its "
                        f"rows make it {made or 'nothing'}: a report row gives what its "
                        "source first said in original_value, original_stance and "
                        "original_via, and each later change in a row of its own",
                        field=column))

    @staticmethod
    def _compared(report: _Report) -> Iterator[tuple[str, str, str]]:
        assert report.said is not None
        value, stance, via, status, rank = report.said
        yield "value", value_cell(value)[1], value_cell(report.value)[1]
        yield "stance", stance.value, report.stance.value
        yield "via", via or "", report.via or ""
        if status:
            yield "status", status, report.status
        if rank:
            yield "rank", rank, report.rank
