"""The demo timeline: the Khasham 2018 article as reports, loaded once into an empty log."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import text

from api.services.ndjson_import import import_file
from api.services.wiring import Services

log = logging.getLogger(__name__)

DEMO_ACTOR = "demo"


def demo_path() -> Path:
    """The demo file: in the checkout beside the package, or in the working directory when
    the package was installed elsewhere (the Docker image runs from /app)."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "examples" / "khasham-2018.ndjson",
                      Path.cwd() / "examples" / "khasham-2018.ndjson"):
        if candidate.exists():
            return candidate
    raise FileNotFoundError("examples/khasham-2018.ndjson is missing")


DEMO_LOCK_KEY = 0x6368726F6E64656D  # "chrondem": several API processes start at once


async def load_demo_once(services: Services) -> None:
    async with services.engine.connect() as guard:
        # The check and the import under one lock: of several workers starting together,
        # one imports and the others find the log no longer empty.
        await guard.execute(text("SELECT pg_advisory_lock(:key)"), {"key": DEMO_LOCK_KEY})
        try:
            if await services.store.read(after=0, limit=1):
                log.info("the log is not empty; the demo is not imported again")
                return
            log.info("importing the demo timeline (the battle of Khasham, February 2018)")
            count = await import_file(services.intake, demo_path(), actor=DEMO_ACTOR)
            log.info("imported the demo timeline: %d events", count)
        finally:
            await guard.execute(text("SELECT pg_advisory_unlock(:key)"),
                                {"key": DEMO_LOCK_KEY})
            await guard.commit()
