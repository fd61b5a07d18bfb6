"""Configuration from the environment; no I/O happens here."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "chronicle"


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything ``create_app`` needs. ``database_url`` None means the embedded server."""

    database_url: str | None = None
    data_dir: Path = field(default_factory=default_data_dir)
    migrate_on_start: bool = True
    require_read_token: bool = False
    max_batch: int = 500
    pool_size: int = 20
    max_subscriptions_per_connection: int = 20
    demo: bool = False

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        values: dict[str, object] = {
            "database_url": os.environ.get("DATABASE_URL") or None,
            "data_dir": Path(os.environ["CHRONICLE_DATA_DIR"])
            if os.environ.get("CHRONICLE_DATA_DIR") else default_data_dir(),
            "migrate_on_start": _flag("CHRONICLE_MIGRATE_ON_START", True),
            "require_read_token": _flag("CHRONICLE_REQUIRE_READ_TOKEN", False),
            "max_batch": int(os.environ.get("CHRONICLE_MAX_BATCH", "500")),
            "pool_size": int(os.environ.get("CHRONICLE_POOL_SIZE", "20")),
            "max_subscriptions_per_connection": int(
                os.environ.get("CHRONICLE_MAX_SUBSCRIPTIONS_PER_CONNECTION", "20")),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
