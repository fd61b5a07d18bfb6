"""``chronicle import``: NDJSON commands, one mutation per line, all or nothing.

Each line is ``{"mutation": "reportFact", "input": {...}}`` with the GraphQL input's field
names. Every line is parsed before anything is written; any bad line is reported with its
number (and, for broken JSON, the column) and nothing is stored. A byte order mark opening
the file is accepted.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from api.services.intake import CommandIntake, LineRefused
from events.commands import Submission, parse_submission
from events.errors import BadInput, DomainError


@lru_cache(maxsize=1024)
def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def parse_line(text: str) -> Submission:
    """One line's command; ``text`` is the line without its line ending."""
    record = _json(text)
    if not isinstance(record, dict) or not isinstance(record.get("input"), dict):
        raise BadInput('each line must be {"mutation": NAME, "input": {...}}', field="input")
    unexpected = sorted(set(record) - {"mutation", "input"})
    if unexpected:
        raise BadInput(f"unexpected key {unexpected[0]!r}", field=unexpected[0])
    fields: dict[str, Any] = {snake(k): v for k, v in record["input"].items()}
    return parse_submission(str(record.get("mutation")), fields)


def _json(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise BadInput(f"not valid JSON ({e.msg} at column {e.colno})") from e
    except RecursionError:
        raise BadInput("not valid JSON (nested too deeply)") from None
    except ValueError:  # json.loads raises nothing else but int()'s refusal of long numbers
        raise BadInput(f"not valid JSON (a number of more than "
                       f"{sys.get_int_max_str_digits()} digits)") from None


def parse_file(path: Path) -> tuple[list[Submission], list[int]]:
    """Every command in the file and the line number each came from."""
    try:
        with path.open("rb") as handle:
            return _parse_lines(handle)
    except OSError as e:
        raise BadInput(f"cannot read the file ({e.strerror})") from e


def _parse_lines(raw_lines: Iterable[bytes]) -> tuple[list[Submission], list[int]]:
    submissions: list[Submission] = []
    lines: list[int] = []
    for number, raw in enumerate(raw_lines, start=1):
        try:
            text = _line_text(raw, opens_file=number == 1)
            if text.strip():
                submissions.append(parse_line(text))
                lines.append(number)
        except DomainError as e:
            raise LineRefused(number, e) from e
    return submissions, lines


def _line_text(raw: bytes, *, opens_file: bool) -> str:
    """The line without its line ending, so that JSON's columns count from the line's start
    and an error at its end is not placed on a line after it. A byte order mark opening
    the file is dropped, as editors do."""
    encoding = "utf-8-sig" if opens_file else "utf-8"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as e:
        column = len(raw[:e.start].decode(encoding, errors="replace")) + 1
        raise BadInput(f"not valid UTF-8 (at column {column})") from e
    return text.rstrip("\r\n")


async def import_file(intake: CommandIntake, path: Path, *, actor: str,
                      on_progress: Callable[[int], None] | None = None) -> int:
    """Import ``path`` in one transaction; returns the number of events stored."""
    submissions, lines = parse_file(path)
    return await intake.append_file(submissions, lines, actor=actor, on_progress=on_progress)
