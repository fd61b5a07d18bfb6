"""``chronicle import``: NDJSON commands, one mutation per line, all or nothing.

Each line is ``{"mutation": "reportFact", "input": {...}}`` with the GraphQL input's field
names. Every line is parsed before anything is written; any bad line is reported with its
number and nothing is stored.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from api.progress import progress as show_progress
from api.services import Services
from events.appender import BatchRefused, Submission
from events.commands import parse_command
from events.errors import BadInput, DomainError


class ImportError_(DomainError):
    """A line of an import file was refused; ``line`` is 1-based."""

    def __init__(self, line: int, error: DomainError) -> None:
        super().__init__(f"line {line}: {error.message}", field=error.field)
        self.line = line
        self.error = error


@lru_cache(maxsize=1024)
def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def parse_line(text: str) -> Submission:
    try:
        record = json.loads(text)
    except json.JSONDecodeError as e:
        raise BadInput(f"not valid JSON ({e.msg} at column {e.colno})") from e
    if not isinstance(record, dict) or not isinstance(record.get("input"), dict):
        raise BadInput('each line must be {"mutation": NAME, "input": {...}}', field="input")
    unexpected = sorted(set(record) - {"mutation", "input"})
    if unexpected:
        raise BadInput(f"unexpected key {unexpected[0]!r}", field=unexpected[0])
    fields: dict[str, Any] = {snake(k): v for k, v in record["input"].items()}
    key = fields.pop("idempotency_key", None)
    expected_version = fields.pop("expected_version", None)
    if key is not None and not isinstance(key, str):
        raise BadInput("idempotencyKey must be a string", field="idempotencyKey")
    if expected_version is not None and (
            isinstance(expected_version, bool) or not isinstance(expected_version, int)):
        raise BadInput("expectedVersion must be a whole number", field="expectedVersion")
    command = parse_command(str(record.get("mutation")), fields)
    return Submission(command, key, expected_version)


def parse_file(path: Path) -> tuple[list[Submission], list[int]]:
    """Every command in the file and the line number each came from."""
    submissions: list[Submission] = []
    lines: list[int] = []
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                text = raw.decode("utf-8")
                if not text.strip():
                    continue
                submissions.append(parse_line(text))
            except DomainError as e:
                raise ImportError_(number, e) from e
            except UnicodeDecodeError as e:
                raise ImportError_(number, BadInput("not valid UTF-8")) from e
            lines.append(number)
    return submissions, lines


async def import_file(services: Services, path: Path, *, actor: str,
                      progress: bool = True) -> int:
    """Import ``path`` in one transaction; returns the number of events stored."""
    submissions, lines = parse_file(path)
    with show_progress("importing", len(submissions), progress) as advance:
        try:
            return await services.appender.append_all(submissions, actor=actor,
                                                      on_progress=advance)
        except BatchRefused as e:
            raise ImportError_(lines[e.index], e.error) from e
