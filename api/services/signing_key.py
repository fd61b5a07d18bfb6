"""The key that signs the log's checkpoints, and the log's name in them.

The key is CHRONICLE_SIGNER_KEY when set; otherwise a key generated on first start and kept
in the data directory, so that a deployment signs with the same key across restarts.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from pathlib import Path

from api.services.signed_notes import NoteError, Signer, generate
from api.settings import Settings
from events.checkpoints import CheckpointError, key_name_problem, origin_of

log = logging.getLogger(__name__)

KEY_FILE = "checkpoint-signer.key"


def log_origin(settings: Settings) -> str:
    """The origin line of the log's checkpoints, also the name of the key signing them."""
    if settings.log_origin is not None:
        problem = key_name_problem(settings.log_origin)
        if problem is not None:
            raise ValueError(f"CHRONICLE_LOG_ORIGIN {settings.log_origin!r} cannot name the "
                             f"log: {problem}")
        return settings.log_origin
    try:
        return origin_of(settings.public_url)
    except CheckpointError as e:
        raise ValueError(f"{e}; set CHRONICLE_LOG_ORIGIN (for example news.example/chronicle)"
                         ) from None


def load_signer(settings: Settings) -> Signer:
    """The checkpoint signer: configured, or kept in the data directory (made on first
    start). Its verifier key is logged so that operators can publish it."""
    origin = log_origin(settings)
    if settings.signer_key is not None:
        signer = _configured(settings.signer_key)
    else:
        signer = _kept(settings.data_dir / KEY_FILE, origin)
    log.info("checkpoint verifier key: %s", signer.verifier().text())
    if signer.name != origin:
        log.warning("the checkpoint signer key is named %s but the log's origin is %s; "
                    "auditors expect them to be the same", signer.name, origin)
    return signer


def _configured(text: str) -> Signer:
    try:
        return Signer.from_text(text.strip())
    except NoteError as e:
        raise ValueError(f"CHRONICLE_SIGNER_KEY is not a signer key: {e}") from None


def _kept(path: Path, origin: str) -> Signer:
    if not path.exists():
        _create_once(path, generate(origin))
    try:
        return Signer.from_text(path.read_text(encoding="utf-8").strip())
    except NoteError as e:
        raise ValueError(f"{path} does not hold a signer key: {e} (remove it to make a new "
                         f"key, or set CHRONICLE_SIGNER_KEY)") from None


def _create_once(path: Path, signer: Signer) -> None:
    """Write the key unless a key is already there. The complete file is linked into
    place, so a process starting at the same time reads either no file or the whole key,
    and of two processes making a key at once, the first link wins and the other reads it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:  # mkstemp: mode 0600
            file.write(signer.text() + "\n")
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
            log.info("made a new checkpoint signer key in %s", path)
    finally:
        os.unlink(temporary)
