"""``chronicle import`` as the tests drive it: either format, through the services."""

from __future__ import annotations

from pathlib import Path

from api.services.csv_import import import_csv
from api.services.ndjson_import import import_file
from api.services.wiring import Services


async def import_path(services: Services, path: Path, *, spreadsheet: bool,
                      actor: str = "test") -> int:
    """Import ``path`` (CSV when ``spreadsheet``, else NDJSON); returns the events stored."""
    if spreadsheet:
        return await import_csv(services.intake, services.read_model, path, actor=actor)
    return await import_file(services.intake, path, actor=actor)
