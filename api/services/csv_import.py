"""``chronicle import --csv``: the CSV export's columns back into commands, all or nothing.

Each row is one report. What it needs and the log lacks is made first: the timeline (titled
by its slug) and the entry (titled by ``entry_title``). A ``source`` or ``via`` id that is
neither known nor registered by an earlier row is registered only when the row names it in
``source_name``/``via_name`` (kind OTHER, graded by ``source_grade``/``via_grade``); without
a name the row is refused, so a misspelt id never becomes a new source. The name and grade
of a source that exists are not read. Then ``reportFact``, and the report's later life as
the row records it: ``status`` CORRECTED or RETRACTED (at ``changed_at``), and a ``rank``
other than NORMAL. ``role`` and ``best`` are what Chronicle concluded; they are not read.

The file is UTF-8, with or without the byte order mark spreadsheets write. Errors name the
line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from api.services.intake import CommandIntake, LineRefused
from api.services.ndjson_import import snake
from events.commands import Submission, parse_submission
from events.errors import BadInput, DomainError, NotFound
from events.postgres.read_model import ReadModel
from events.value_text import value_input

REQUIRED = ("timeline", "entry", "attribute", "kind", "value", "source", "stance",
            "reported_at")
IMPORTED_RANK_REASON = "ranked so in the imported spreadsheet"

Cell = Callable[[str], str]  # a column's text in the row being read, stripped


class _Known:
    """What exists, in the database or earlier in the file."""

    def __init__(self, timelines: set[str], entries: set[tuple[str, str]],
                 sources: set[str]) -> None:
        self.timelines = timelines
        self.entries = entries
        self.sources = sources


async def import_csv(intake: CommandIntake, read_model: ReadModel, path: Path, *,
                     actor: str, on_progress: Callable[[int], None] | None = None) -> int:
    """Import ``path`` in one transaction; returns the number of events stored."""
    known = _Known({t.slug for t in await read_model.timelines()},
                   await read_model.entry_ids(), {s.id for s in await read_model.sources()})
    submissions, lines = plan(path, known)
    return await intake.append_file(submissions, lines, actor=actor, on_progress=on_progress)


def plan(path: Path, known: _Known) -> tuple[list[Submission], list[int]]:
    """The commands of every row, and the line each came from."""
    submissions: list[Submission] = []
    lines: list[int] = []
    reader = csv.DictReader(io.StringIO(_text(path), newline=""))
    try:
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise LineRefused(1, BadInput(f"the header lacks {', '.join(missing)}"))
        for row in reader:
            try:
                for mutation, fields in _commands(row, known):
                    submissions.append(parse_submission(mutation, fields))
                    lines.append(reader.line_num)
            except DomainError as e:
                raise LineRefused(reader.line_num, e) from e
    except csv.Error as e:
        # csv counts a line once it has parsed it: the one it failed on is the next.
        raise LineRefused(reader.line_num + 1, BadInput(f"not CSV: {e}")) from e
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


def _commands(row: dict[str, str], known: _Known) -> list[tuple[str, dict[str, Any]]]:
    def cell(name: str) -> str:
        return (row.get(name) or "").strip()

    for name in REQUIRED:
        if not cell(name) and not (name == "value" and cell("kind") == "text"):
            raise BadInput(f"{name} is empty", field=name)
    timeline, entry, report = cell("timeline"), cell("entry"), cell("report")
    commands: list[tuple[str, dict[str, Any]]] = []
    if timeline not in known.timelines:
        commands.append(("createTimeline", {"slug": timeline, "title": timeline}))
        known.timelines.add(timeline)
    commands += _new_sources(cell, known)
    if (timeline, entry) not in known.entries:
        commands.append(("openEntry", {"timeline": timeline, "id": entry,
                                       "title": cell("entry_title") or entry}))
        known.entries.add((timeline, entry))
    value = value_input(cell("kind"), row.get("value") or "")
    reported = {"timeline": timeline, "entry": entry, "attribute": cell("attribute"),
                "value": value, "source": cell("source"), "stance": cell("stance"),
                "reported_at": cell("reported_at")}
    for optional in ("via", "quote", "url"):
        if cell(optional):
            reported[optional] = row[optional]
    if report:
        reported["id"] = report
    commands.append(("reportFact", reported))
    commands += _later_life(cell, timeline, report, value)
    return [(mutation, {snake(k): v for k, v in fields.items()})
            for mutation, fields in commands]


def _new_sources(cell: Cell, known: _Known) -> list[tuple[str, dict[str, Any]]]:
    """The commands registering the row's source and via source the log lacks, each by the
    name the row gives it."""
    commands: list[tuple[str, dict[str, Any]]] = []
    for column in ("source", "via"):
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


def _later_life(cell: Cell, timeline: str, report: str,
                value: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    status, rank = cell("status").upper() or "ACTIVE", cell("rank").upper() or "NORMAL"
    if (status != "ACTIVE" or rank != "NORMAL") and not report:
        raise BadInput(f"a {status.lower()} or ranked report needs its id in the report "
                       "column", field="report")
    when = cell("changed_at") or cell("reported_at")
    commands: list[tuple[str, dict[str, Any]]] = []
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
