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


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from None


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {raw!r}") from None


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
    # Reads executing at once in a process (api/graphql/admission.py); writes never wait.
    read_concurrency: int = 4
    max_first: int = 500
    max_depth: int = 12
    max_aliases: int = 50
    max_cost: int = 50_000
    max_tokens: int = 5_000
    max_body_bytes: int = 1_048_576
    introspection: bool = True
    cors_origins: tuple[str, ...] = ("*",)
    trusted_documents_only: bool = False
    write_rate: float = 500.0  # writes a second per token; 0: no limit
    write_burst: int = 1000
    embed_frame_ancestors: tuple[str, ...] = ("*",)
    public_url: str | None = None
    demo: bool = False
    # Checkpoints (events/checkpoints.py): the Ed25519 signer key text (None: a key generated
    # once in data_dir; a secret, so out of repr), the log's name in them (None: from
    # public_url), and how often they are signed.
    signer_key: str | None = field(default=None, repr=False)
    log_origin: str | None = None
    checkpoint_every_events: int = 1000
    checkpoint_every_seconds: float = 60.0
    # Standbys reads may use (api/services/replicas.py): their URLs (secrets: out of repr),
    # how long a read waits for one to reach its client's position, how far behind the
    # primary one may be and still serve, and how often each is asked where it is.
    replica_urls: tuple[str, ...] = field(default=(), repr=False)
    replica_wait_seconds: float = 0.5
    replica_max_lag: int = 10_000
    replica_poll_seconds: float = 0.5

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        values: dict[str, object] = {
            "database_url": os.environ.get("DATABASE_URL") or None,
            "data_dir": Path(os.environ["CHRONICLE_DATA_DIR"])
            if os.environ.get("CHRONICLE_DATA_DIR") else default_data_dir(),
            "migrate_on_start": _flag("CHRONICLE_MIGRATE_ON_START", True),
            "require_read_token": _flag("CHRONICLE_REQUIRE_READ_TOKEN", False),
            "max_batch": _int("CHRONICLE_MAX_BATCH", 500),
            "pool_size": _int("CHRONICLE_POOL_SIZE", 20),
            "max_subscriptions_per_connection": _int("CHRONICLE_MAX_SUBSCRIPTIONS_PER_CONNECTION",
                                                     20),
            "read_concurrency": _int("CHRONICLE_READ_CONCURRENCY", 4),
            "max_first": _int("CHRONICLE_MAX_FIRST", 500),
            "max_depth": _int("CHRONICLE_MAX_DEPTH", 12),
            "max_aliases": _int("CHRONICLE_MAX_ALIASES", 50),
            "max_cost": _int("CHRONICLE_MAX_COST", 50_000),
            "max_tokens": _int("CHRONICLE_MAX_TOKENS", 5_000),
            "max_body_bytes": _int("CHRONICLE_MAX_BODY_BYTES", 1_048_576),
            "introspection": _flag("CHRONICLE_INTROSPECTION", True),
            "cors_origins": tuple(o.strip() for o in os.environ.get(
                "CHRONICLE_CORS_ORIGINS", "*").split(",") if o.strip()),
            "trusted_documents_only": _flag("CHRONICLE_TRUSTED_DOCUMENTS_ONLY", False),
            "write_rate": float(os.environ.get("CHRONICLE_WRITE_RATE", "500")),
            "write_burst": _int("CHRONICLE_WRITE_BURST", 1000),
            "embed_frame_ancestors": tuple(os.environ.get(
                "CHRONICLE_EMBED_FRAME_ANCESTORS", "*").split()),
            "public_url": os.environ.get("CHRONICLE_PUBLIC_URL") or None,
            "demo": _flag("CHRONICLE_DEMO", False),
            "signer_key": os.environ.get("CHRONICLE_SIGNER_KEY") or None,
            "log_origin": os.environ.get("CHRONICLE_LOG_ORIGIN") or None,
            "checkpoint_every_events": _int("CHRONICLE_CHECKPOINT_EVERY_EVENTS", 1000),
            "checkpoint_every_seconds": _float("CHRONICLE_CHECKPOINT_EVERY_SECONDS", 60.0),
            "replica_urls": tuple(u.strip() for u in os.environ.get(
                "CHRONICLE_REPLICA_URLS", "").split(",") if u.strip()),
            "replica_wait_seconds": _int("CHRONICLE_REPLICA_WAIT_MS", 500) / 1000,
            "replica_max_lag": _int("CHRONICLE_REPLICA_MAX_LAG", 10_000),
            "replica_poll_seconds": _int("CHRONICLE_REPLICA_POLL_MS", 500) / 1000,
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
