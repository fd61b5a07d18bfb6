"""``chronicle export``, ``restore`` and ``verify``: the log as a file, and its integrity."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from events.archive import envelope_line, header, read_archive, trailer
from events.chain import GENESIS_HASH, ChainCheck, ChainVerifier
from events.postgres.rebuild import restore_with_read_model
from events.postgres.store import PostgresEventStore

Progress = Callable[[int], None]  # told how many events are done so far


def _quiet(done: int) -> None:
    return None


async def export_log(store: PostgresEventStore, output: Path,
                     on_progress: Progress = _quiet) -> int:
    """Write the whole log, verbatim, streaming; returns the number of events."""
    count, head = 0, GENESIS_HASH
    with output.open("w", encoding="utf-8") as handle:
        handle.write(header())
        async for chunk in store.chunks():
            fingerprints = await store.fingerprints(chunk[0].position, chunk[-1].position)
            for envelope in chunk:
                handle.write(envelope_line(envelope, fingerprints.get(envelope.position)))
            count += len(chunk)
            head = chunk[-1].hash
            on_progress(count)
        handle.write(trailer(count, head if count else ""))
    return count


async def restore_log(store: PostgresEventStore, source: Path,
                      on_progress: Progress = _quiet) -> int:
    """Verify the file's chain first, then put the log back and rebuild the read model."""
    with source.open("rb") as handle:
        restored = read_archive(handle)
    return await restore_with_read_model(store, restored.envelopes, restored.keys,
                                         on_progress=on_progress)


async def verify_log(store: PostgresEventStore, on_progress: Progress = _quiet) -> ChainCheck:
    """Recompute the chain over the whole log, a chunk at a time (flat memory)."""
    verifier = ChainVerifier()
    async for chunk in store.chunks():
        for envelope in chunk:
            if not verifier.feed(envelope):
                return verifier.result()
        on_progress(chunk[-1].position)
    return verifier.result()
