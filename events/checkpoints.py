"""Checkpoints of the log's Merkle tree in the C2SP tlog-checkpoint format
(c2sp.org/tlog-checkpoint): the text of a signed note, the origin, the tree size and the
root hash, one a line, and the rules a log's name follows. Signing and opening the note
take an Ed25519 library, so they live with the key handling (api/services/signed_notes.py).
Pure: no I/O.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

ROOT_BYTES = 32
# Go's checkpoint readers hold the size in a uint64.
MAX_SIZE = 2**64 - 1
CANONICAL_DECIMAL = re.compile(r"0|[1-9][0-9]*")
DEFAULT_ORIGIN = "localhost/chronicle"


class CheckpointError(ValueError):
    """A checkpoint text that is malformed, or values that make none."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The tree head at ``size`` leaves of the log named ``origin``."""

    origin: str
    size: int
    root: bytes

    def __post_init__(self) -> None:
        _check_origin(self.origin)
        if not 0 <= self.size <= MAX_SIZE:
            raise CheckpointError(f"bad tree size {self.size}: not from 0 to {MAX_SIZE}")
        if len(self.root) != ROOT_BYTES:
            raise CheckpointError(f"bad root hash: {len(self.root)} bytes, not {ROOT_BYTES}")

    def body(self) -> str:
        """The note text: origin, size and base64 root hash, each on its line."""
        root = base64.b64encode(self.root).decode("ascii")
        return f"{self.origin}\n{self.size}\n{root}\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """A checkpoint from its note text. Extension lines are checked (non-empty) and
        dropped: they are opaque, and we write none."""
        if not text.endswith("\n"):
            raise CheckpointError("bad checkpoint text: it does not end in a newline")
        lines = text.removesuffix("\n").split("\n")
        if len(lines) < 3:
            raise CheckpointError(f"too few lines: a checkpoint has an origin, a tree size and "
                                  f"a root hash, this text has {len(lines)} lines")
        origin, size, root, *extensions = lines
        if "" in extensions:
            raise CheckpointError("bad extension line: it is empty")
        return cls(origin, _parse_size(size), _parse_root(root))


def _check_origin(origin: str) -> None:
    if not origin:
        raise CheckpointError("bad origin: it is empty")
    bad = next((c for c in origin if c < " "), None)
    if bad is not None:
        raise CheckpointError(f"bad origin {origin!r}: it contains the control character "
                              f"U+{ord(bad):04X}")


def _parse_size(line: str) -> int:
    if not CANONICAL_DECIMAL.fullmatch(line):
        raise CheckpointError(f"bad tree size {line!r}: not a decimal number without leading "
                              f"zeros")
    size = int(line)
    if size > MAX_SIZE:
        raise CheckpointError(f"bad tree size {line}: more than {MAX_SIZE}")
    return size


def _parse_root(line: str) -> bytes:
    try:
        root = base64.b64decode(line, validate=True) if line.isascii() else b""
    except binascii.Error:
        root = b""
    # Re-encoding refuses the spellings of the same bytes a strict reader would not take.
    if len(root) != ROOT_BYTES or base64.b64encode(root).decode("ascii") != line:
        raise CheckpointError(f"bad root hash {line!r}: not the base64 of {ROOT_BYTES} "
                              f"bytes")
    return root


def key_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a key (None when it can)."""
    if not name:
        return "it is empty"
    if "+" in name:
        return "it contains '+'"
    if any(c.isspace() for c in name):
        return "it contains a space"
    if any(c < " " for c in name):
        return "it contains a control character"
    if any("\ud800" <= c <= "\udfff" for c in name):
        return "it is not valid UTF-8"
    return None


def origin_of(public_url: str | None) -> str:
    """The log's default origin: the public URL without its scheme, query and trailing
    slash (``https://news.example/chronicle/`` → ``news.example/chronicle``)."""
    if not public_url:
        return DEFAULT_ORIGIN
    _, scheme, rest = public_url.partition("://")
    address = (rest if scheme else public_url).split("?", 1)[0].split("#", 1)[0]
    origin = address.rstrip("/")
    problem = "it is empty" if not origin else key_name_problem(origin)
    if problem is not None:
        raise CheckpointError(f"the public URL {public_url!r} gives the origin {origin!r}, "
                              f"which cannot name the log's key: {problem}")
    return origin
