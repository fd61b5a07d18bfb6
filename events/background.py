"""Background tasks a process keeps (the group commit, the log feed, checkpoint signing,
watching standbys), stopped the one way."""

from __future__ import annotations

import asyncio
import contextlib


async def stopped(task: asyncio.Task[None] | None) -> None:
    """Cancel ``task`` (if any) and wait until it has ended."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
