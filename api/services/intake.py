"""The one command intake every entry point shares.

A GraphQL mutation, a line of ``chronicle import`` (NDJSON) and a row of ``chronicle import
--csv`` all become the same ``Submission`` through the domain's ``parse_submission``, and are
appended here: one command at a time through the group commit, or a whole file all or
nothing, with a refusal naming the file's line. The rules are the domain's, so they cannot
drift apart between intakes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from api.services.rate_limit import WriteLimiter
from events.appender import Appender, AppendResult, BatchRefused
from events.commands import Submission, parse_submission
from events.errors import DomainError


class LineRefused(DomainError):
    """A line of an imported file was refused; ``line`` is 1-based. Nothing was stored."""

    def __init__(self, line: int, error: DomainError) -> None:
        super().__init__(f"line {line}: {error.message}", field=error.field,
                         details=error.details)
        self.line = line
        self.error = error


class CommandIntake:
    def __init__(self, appender: Appender, writes: WriteLimiter) -> None:
        self.appender = appender
        self.writes = writes

    async def submit(self, mutation: str, fields: Mapping[str, Any], *,
                     actor: str) -> AppendResult:
        """One command, as a client sends it: rate-limited per actor, then group-committed."""
        await self.writes.take(actor)
        submission = parse_submission(mutation, fields)
        return await self.appender.submit(
            submission.command, actor=actor, idempotency_key=submission.idempotency_key,
            expected_version=submission.expected_version)

    async def append_file(self, submissions: Sequence[Submission], lines: Sequence[int], *,
                          actor: str, on_progress: Callable[[int], None] | None = None) -> int:
        """Every command of a file in one transaction, or none; ``lines[i]`` is the line
        command ``i`` came from. Returns the number of events stored."""
        try:
            return await self.appender.append_all(submissions, actor=actor,
                                                  on_progress=on_progress)
        except BatchRefused as e:
            raise LineRefused(lines[e.index], e.error) from e
