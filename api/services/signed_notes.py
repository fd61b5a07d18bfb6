"""C2SP signed notes (c2sp.org/signed-note) with Ed25519 keys, in the key formats of Go's
golang.org/x/mod/sumdb/note, so that auditors check what we sign with tools nobody here wrote.

A signed note is its text (ending in a newline), a blank line, then signature lines
``— <key name> <base64(4-byte big-endian key ID || signature)>``. A verifier key is
``<name>+<8 hex key ID>+<base64(0x01 || public key)>``; a signer key is
``PRIVATE+KEY+<name>+<8 hex key ID>+<base64(0x01 || private seed)>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from events.checkpoints import Checkpoint, key_name_problem

ED25519 = 0x01
KEY_BYTES = 32
SIGNATURE_PREFIX = "\u2014 "
PRIVATE_KEY_PREFIX = "PRIVATE+KEY+"
# The spec asks verifiers to bound the signatures they read (at least 16); Go's reader
# takes up to 100.
MAX_SIGNATURES = 100
KEY_ID_HEX = re.compile(r"[0-9a-fA-F]{8}")


class NoteError(ValueError):
    """A key or a note that is malformed, or a note that does not verify."""


class NoteSignature(NamedTuple):
    name: str
    key_id: int
    signature: bytes  # without the key ID


def check_key_name(name: str) -> str:
    problem = key_name_problem(name)
    if problem is not None:
        raise NoteError(f"{name!r} cannot name a key: {problem}")
    return name


def key_id(name: str, public_key: bytes) -> int:
    """The spec's key ID of an Ed25519 key: the first 4 bytes, big-endian, of
    SHA-256(name || 0x0A || 0x01 || public key)."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


@dataclass(frozen=True, slots=True)
class Verifier:
    """A public key that checks signatures by ``name``."""

    name: str
    public_key: bytes
    key_id: int = field(init=False)
    _key: Ed25519PublicKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if len(self.public_key) != KEY_BYTES:
            raise NoteError(f"an Ed25519 public key has {KEY_BYTES} bytes, "
                            f"not {len(self.public_key)}")
        object.__setattr__(self, "key_id", key_id(self.name, self.public_key))
        object.__setattr__(self, "_key", Ed25519PublicKey.from_public_bytes(self.public_key))

    @classmethod
    def from_text(cls, text: str) -> Verifier:
        parts = text.split("+", 2)
        if len(parts) != 3:
            raise NoteError("a verifier key reads <name>+<key ID>+<key>")
        name, declared_id, encoded = parts
        verifier = cls(check_key_name(name), _key_data(encoded, "verifier"))
        _check_declared_id(declared_id, verifier.key_id, name)
        return verifier

    def text(self) -> str:
        return f"{self.name}+{self.key_id:08x}+{_encode_key(self.public_key)}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether ``signature`` (without its key ID) signs ``message`` with this key."""
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True, slots=True)
class Signer:
    """A private key that signs as ``name``. Its text is a secret: keep it out of logs."""

    name: str
    seed: bytes = field(repr=False)
    key_id: int = field(init=False)
    _key: Ed25519PrivateKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if len(self.seed) != KEY_BYTES:
            raise NoteError(f"an Ed25519 private key has {KEY_BYTES} bytes, "
                            f"not {len(self.seed)}")
        private = Ed25519PrivateKey.from_private_bytes(self.seed)
        object.__setattr__(self, "_key", private)
        object.__setattr__(self, "key_id",
                           key_id(self.name, private.public_key().public_bytes_raw()))

    @classmethod
    def from_text(cls, text: str) -> Signer:
        """Parse a signer key; errors never quote the key, which is a secret."""
        if not text.startswith(PRIVATE_KEY_PREFIX):
            raise NoteError("a signer key starts with PRIVATE+KEY+")
        parts = text[len(PRIVATE_KEY_PREFIX):].split("+", 2)
        if len(parts) != 3:
            raise NoteError("a signer key reads PRIVATE+KEY+<name>+<key ID>+<key>")
        name, declared_id, encoded = parts
        signer = cls(check_key_name(name), _key_data(encoded, "signer"))
        _check_declared_id(declared_id, signer.key_id, name)
        return signer

    def text(self) -> str:
        return f"{PRIVATE_KEY_PREFIX}{self.name}+{self.key_id:08x}+{_encode_key(self.seed)}"

    def verifier(self) -> Verifier:
        return Verifier(self.name, self._key.public_key().public_bytes_raw())

    def sign(self, message: bytes) -> bytes:
        """The 4-byte big-endian key ID followed by the 64-byte signature of ``message``."""
        return self.key_id.to_bytes(4, "big") + self._key.sign(message)


def generate(name: str) -> Signer:
    """A new random key named ``name``."""
    check_key_name(name)
    return Signer(name, Ed25519PrivateKey.generate().private_bytes_raw())


def _encode_key(key: bytes) -> str:
    return base64.b64encode(bytes([ED25519]) + key).decode("ascii")


def _strict_b64decode(encoded: str) -> bytes:
    """Standard base64 with padding, nothing else (binascii.Error otherwise)."""
    if not encoded.isascii():
        raise binascii.Error("not ASCII")
    return base64.b64decode(encoded, validate=True)


def _key_data(encoded: str, kind: str) -> bytes:
    try:
        data = _strict_b64decode(encoded)
    except binascii.Error:
        raise NoteError(f"the {kind} key's key data is not base64") from None
    if not data or data[0] != ED25519:
        raise NoteError(f"the {kind} key is not an Ed25519 key (its algorithm byte is not 0x01)")
    if len(data) != 1 + KEY_BYTES:
        raise NoteError(f"the {kind} key's key data has {len(data) - 1} bytes after the "
                        f"algorithm byte, not {KEY_BYTES}")
    return data[1:]


def _check_declared_id(declared: str, computed: int, name: str) -> None:
    if not KEY_ID_HEX.fullmatch(declared):
        raise NoteError(f"the key ID of key {name} is not 8 hexadecimal digits: {declared!r}")
    if int(declared, 16) != computed:
        raise NoteError(f"the key ID of key {name} is {declared}, but its name and key give "
                        f"{computed:08x}")


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be a note's text, or a note (None when it can)."""
    if not text:
        return "it is empty"
    if not text.endswith("\n"):
        return "it does not end in a newline"
    for c in text:
        if c < " " and c != "\n":
            return f"it contains the control character U+{ord(c):04X}"
        if "\ud800" <= c <= "\udfff":
            return "it is not valid UTF-8 (a lone surrogate)"
    return None


def sign_note(text: str, signer: Signer) -> str:
    """The signed note of ``text`` (which ends in a newline) with one signature."""
    problem = text_problem(text)
    if problem is not None:
        raise NoteError(f"cannot sign this note text: {problem}")
    signature = base64.b64encode(signer.sign(text.encode())).decode("ascii")
    return f"{text}\n{SIGNATURE_PREFIX}{signer.name} {signature}\n"


def _split(note: str) -> tuple[str, str]:
    problem = text_problem(note)
    if problem is not None:
        raise NoteError(f"malformed note: {problem}")
    blank = note.rfind("\n\n")
    if blank < 0:
        raise NoteError("malformed note: no blank line between the text and the signatures")
    text, signatures = note[:blank + 1], note[blank + 2:]
    if not signatures:
        raise NoteError("malformed note: no signature lines after the last blank line")
    return text, signatures


def _signature(line: str, number: int) -> NoteSignature:
    def malformed(why: str) -> NoteError:
        return NoteError(f"malformed note: signature line {number} {why}")

    if not line.startswith(SIGNATURE_PREFIX):
        raise malformed("does not start with an em dash and a space")
    name, space, encoded = line[len(SIGNATURE_PREFIX):].partition(" ")
    problem = key_name_problem(name)
    if problem is not None:
        raise malformed(f"has a bad key name: {problem}")
    if not space or not encoded:
        raise malformed("has no signature after the key name")
    try:
        data = _strict_b64decode(encoded)
    except binascii.Error:
        raise malformed("has a signature that is not base64") from None
    if len(data) < 5:
        raise malformed("has a signature too short to hold a key ID and a signature")
    return NoteSignature(name, int.from_bytes(data[:4], "big"), data[4:])


def _parse(note: str) -> tuple[str, list[NoteSignature]]:
    text, block = _split(note)
    lines = block.removesuffix("\n").split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"malformed note: more than {MAX_SIGNATURES} signatures")
    return text, [_signature(line, number) for number, line in enumerate(lines, 1)]


def note_signatures(note: str) -> list[NoteSignature]:
    """The signatures of ``note``, unverified."""
    return _parse(note)[1]


def _describe(keys: Iterable[tuple[str, int]]) -> str:
    return ", ".join(f"{name} ({key:08x})" for name, key in keys) or "none"


def open_note(note: str, verifiers: Sequence[Verifier]) -> str:
    """The text of ``note`` once a signature by one of ``verifiers`` (same name and key ID)
    verifies. Signatures by other keys are ignored; one by a known key that fails to verify
    refuses the whole note, as the spec recommends."""
    text, signatures = _parse(note)
    known = {(verifier.name, verifier.key_id): verifier for verifier in verifiers}
    message = text.encode()
    verified = False
    for signature in signatures:
        verifier = known.get((signature.name, signature.key_id))
        if verifier is None:
            continue
        if not verifier.verify(message, signature.signature):
            raise NoteError(f"the signature by {signature.name} does not verify")
        verified = True
    if not verified:
        raise NoteError(
            f"the note has no signature by a known key: it is signed by "
            f"{_describe((s.name, s.key_id) for s in signatures)}; the known keys are "
            f"{_describe(known)}")
    return text


def sign_checkpoint(checkpoint: Checkpoint, signer: Signer) -> str:
    """The signed note of ``checkpoint``."""
    return sign_note(checkpoint.body(), signer)


def open_checkpoint(note: str, verifiers: Sequence[Verifier]) -> Checkpoint:
    """The checkpoint in ``note`` once a known key's signature verifies (NoteError
    otherwise; CheckpointError when the signed text is not a checkpoint)."""
    return Checkpoint.parse(open_note(note, verifiers))
