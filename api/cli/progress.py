"""Progress bars for long CLI work, drawn only on a terminal (quiet in pipes and CI)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import Progress

Advance = Callable[[int], None]


@contextmanager
def progress(label: str, total: int | None, enabled: bool = True) -> Iterator[Advance]:
    """Yields ``advance(done)``, which sets how many of ``total`` are done."""
    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield lambda done: None
        return
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda done: bar.update(task, completed=done)
