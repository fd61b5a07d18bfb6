"""``chronicle import --csv``: the CSV export's columns back into commands, all or nothing.

Each row is one report. What it needs and the log lacks is made first: the timeline (titled
by its slug), the entry (titled by ``entry_title``), the source and the ``via`` source
(named by ``source_name``/``via_name``, kind OTHER, graded by ``source_grade``/
``via_grade``). Then ``reportFact``, and the report's later life as the row records it:
``status`` CORRECTED or RETRACTED (at ``changed_at``), and a ``rank`` other than NORMAL.
``role`` and ``best`` are what Chronicle concluded; they are not read. Errors name the line.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from sqlalchemy import text

from api.importer import ImportError_, snake
from api.progress import progress as show_progress
from api.services import Services
from events.appender import BatchRefused, Submission
from events.commands import parse_command
from events.errors import BadInput, DomainError
from events.value_text import value_input

REQUIRED = ("timeline", "entry", "attribute", "kind", "value", "source", "stance",
            "reported_at")
IMPORTED_RANK_REASON = "ranked so in the imported spreadsheet"


class _Known:
    """What exists, in the database or earlier in the file."""

    def __init__(self, timelines: set[str], entries: set[tuple[str, str]],
                 sources: set[str]) -> None:
        self.timelines = timelines
        self.entries = entries
        self.sources = sources


async def import_csv(services: Services, path: Path, *, actor: str,
                     progress: bool = True) -> int:
    """Import ``path`` in one transaction; returns the number of events stored."""
    known = await _known(services)
    submissions, lines = plan(path, known)
    with show_progress("importing", len(submissions), progress) as advance:
        try:
            return await services.appender.append_all(submissions, actor=actor,
                                                      on_progress=advance)
        except BatchRefused as e:
            raise ImportError_(lines[e.index], e.error) from e


async def _known(services: Services) -> _Known:
    async with services.engine.connect() as connection:
        timelines = {r.slug for r in await connection.execute(text(
            "SELECT slug FROM timelines"))}
        entries = {(r.timeline, r.id) for r in await connection.execute(text(
            "SELECT timeline, id FROM entries"))}
        sources = {r.id for r in await connection.execute(text("SELECT id FROM sources"))}
    return _Known(timelines, entries, sources)


def plan(path: Path, known: _Known) -> tuple[list[Submission], list[int]]:
    """The commands of every row, and the line each came from."""
    submissions: list[Submission] = []
    lines: list[int] = []
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
            if missing:
                raise ImportError_(1, BadInput(f"the header lacks {', '.join(missing)}"))
            for row in reader:
                try:
                    for mutation, fields in _commands(row, known):
                        submissions.append(Submission(parse_command(mutation, fields)))
                        lines.append(reader.line_num)
                except DomainError as e:
                    raise ImportError_(reader.line_num, e) from e
    except UnicodeDecodeError as e:
        raise ImportError_(1, BadInput(f"not UTF-8 ({e.reason})")) from e
    except csv.Error as e:
        raise ImportError_(1, BadInput(f"not CSV: {e}")) from e
    return submissions, lines


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
    for source, name, grade in ((cell("source"), cell("source_name"), cell("source_grade")),
                                (cell("via"), cell("via_name"), cell("via_grade"))):
        if source and source not in known.sources:
            commands.append(("registerSource", {"id": source, "name": name or source,
                                                "kind": "OTHER"}))
            if grade:
                commands.append(("gradeSource", {"source": source, "reliability": grade}))
            known.sources.add(source)
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


def _later_life(cell: Any, timeline: str, report: str,
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
