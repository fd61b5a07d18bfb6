"""Signed notes and their keys, against the C2SP spec and the Go reference implementation's
published test vector (golang.org/x/mod/sumdb/note), checked independently of our parser."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given
from hypothesis import strategies as st

from api.services.signed_notes import (
    NoteError,
    Signer,
    Verifier,
    generate,
    key_id,
    note_signatures,
    open_note,
    sign_note,
)

# The example key pair and note of golang.org/x/mod/sumdb/note: Ed25519 signatures are
# deterministic, so signing its text with its key must give its note byte for byte.
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = ("If you think cryptography is the answer to your problem,\n"
           "then you don't know what your problem is.\n")
GO_NOTE = (GO_TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1"
           "FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n")

# The example of c2sp.org/signed-note: its text holds an empty line of its own.
C2SP_TEXT = ("Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\n"
             "ed \u00e8 subito sera.\n")
C2SP_NOTE = (C2SP_TEXT + "\n\u2014 quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ"
             "2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n")

SIGNER = generate("example.com/log")
VERIFIER = SIGNER.verifier()


def spec_key_id(name: str, public_key: bytes) -> int:
    digest = hashlib.sha256(name.encode() + b"\x0a\x01" + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def signature_line(note: str) -> tuple[str, bytes]:
    """The last signature line's key name and decoded signature, read without our parser."""
    line = note.rstrip("\n").rsplit("\n", 1)[1]
    dash, name, encoded = line.split(" ")
    assert dash == "\u2014"
    return name, base64.b64decode(encoded)


def resign(note: str, signature: bytes) -> str:
    name, _ = signature_line(note)
    head = note.rstrip("\n").rsplit("\n", 1)[0]
    return f"{head}\n\u2014 {name} {base64.b64encode(signature).decode()}\n"


def test_keys_round_trip_through_their_text() -> None:
    assert Signer.from_text(SIGNER.text()) == SIGNER
    assert Verifier.from_text(VERIFIER.text()) == VERIFIER
    assert SIGNER.text().startswith("PRIVATE+KEY+example.com/log+")
    assert VERIFIER.name == "example.com/log" and VERIFIER.key_id == SIGNER.key_id
    assert generate("example.com/log") != SIGNER


def test_the_key_text_formats_are_the_go_ones() -> None:
    name, declared, encoded = VERIFIER.text().split("+", 2)
    assert name == "example.com/log"
    assert declared == f"{spec_key_id(name, VERIFIER.public_key):08x}"
    assert base64.b64decode(encoded) == b"\x01" + VERIFIER.public_key
    private, key, *rest = SIGNER.text().split("+", 4)
    assert (private, key) == ("PRIVATE", "KEY")
    assert rest[:2] == [name, declared]
    assert base64.b64decode(rest[2]) == b"\x01" + SIGNER.seed


def test_the_key_id_is_the_specs_formula() -> None:
    assert SIGNER.key_id == VERIFIER.key_id == spec_key_id("example.com/log",
                                                           VERIFIER.public_key)
    assert key_id("example.com/log", VERIFIER.public_key) == VERIFIER.key_id
    assert Verifier.from_text(GO_VERIFIER).key_id == 0xC74F20A3


def test_the_go_reference_vector_signs_and_opens_byte_for_byte() -> None:
    signer = Signer.from_text(GO_SIGNER)
    assert signer.verifier().text() == GO_VERIFIER
    assert signer.text() == GO_SIGNER
    assert sign_note(GO_TEXT, signer) == GO_NOTE
    assert open_note(GO_NOTE, [Verifier.from_text(GO_VERIFIER)]) == GO_TEXT


def test_the_signature_verifies_with_cryptography_directly() -> None:
    text = "example.com/log\n7\nsome text\n"
    note = sign_note(text, SIGNER)
    assert note.startswith(text + "\n")
    name, signature = signature_line(note)
    assert name == "example.com/log"
    assert int.from_bytes(signature[:4], "big") == spec_key_id(name, VERIFIER.public_key)
    assert len(signature) == 4 + 64
    # Raises InvalidSignature if it does not verify.
    Ed25519PublicKey.from_public_bytes(VERIFIER.public_key).verify(signature[4:],
                                                                   text.encode())
    assert SIGNER.sign(text.encode()) == signature


def test_tampered_text_is_refused() -> None:
    note = sign_note("example.com/log\n7\nroot\n", SIGNER)
    with pytest.raises(NoteError, match=r"the signature by example\.com/log does not verify"):
        open_note(note.replace("\n7\n", "\n8\n"), [VERIFIER])


def test_a_tampered_signature_is_refused() -> None:
    note = sign_note("some text\n", SIGNER)
    _, signature = signature_line(note)
    for index in (4, 40, len(signature) - 1):
        flipped = bytearray(signature)
        flipped[index] ^= 0x01
        with pytest.raises(NoteError, match=r"signature by example\.com/log does not verify"):
            open_note(resign(note, bytes(flipped)), [VERIFIER])


def test_a_wrong_key_of_the_same_name_is_another_key() -> None:
    other = generate("example.com/log").verifier()
    note = sign_note("some text\n", SIGNER)
    with pytest.raises(NoteError, match="no signature by a known key") as refused:
        open_note(note, [other])
    message = str(refused.value)
    assert f"example.com/log ({SIGNER.key_id:08x})" in message
    assert f"example.com/log ({other.key_id:08x})" in message


def test_only_unknown_keys_are_refused_naming_them() -> None:
    note = sign_note("some text\n", generate("elsewhere.example/log"))
    with pytest.raises(NoteError, match=r"signed by elsewhere\.example/log \([0-9a-f]{8}\); "
                                        r"the known keys are example\.com/log"):
        open_note(note, [VERIFIER])
    with pytest.raises(NoteError, match="the known keys are none"):
        open_note(note, [])


def test_signatures_by_unknown_keys_are_ignored_beside_a_known_one() -> None:
    text = "some text\n"
    ours = sign_note(text, SIGNER)
    # A signature with our name and someone else's ID, and one with a garbage signature.
    impostor = generate("example.com/log")
    theirs = sign_note(text, impostor).rsplit("\n\n", 1)[1]
    bogus = "\u2014 witness.example " + base64.b64encode(b"\x00" * 68).decode() + "\n"
    note = ours + theirs + bogus
    assert [s.name for s in note_signatures(note)] == ["example.com/log", "example.com/log",
                                                       "witness.example"]
    assert open_note(note, [VERIFIER]) == text
    assert open_note(note, [impostor.verifier()]) == text


def test_a_known_key_whose_signature_fails_refuses_the_whole_note() -> None:
    text = "some text\n"
    good = sign_note(text, SIGNER)
    bad = sign_note("other text\n", SIGNER).rsplit("\n\n", 1)[1]
    with pytest.raises(NoteError, match=r"signature by example\.com/log does not verify"):
        open_note(good + bad, [VERIFIER])


@pytest.mark.parametrize(("note", "message"), [
    ("", "malformed note: it is empty"),
    ("some text\n\u2014 example.com/log AAAA\n", "no blank line"),
    ("some text\n\n", "no signature lines"),
    ("some text\n\n\u2014 example.com/log AAAAAAA=", "does not end in a newline"),
    ("some\ttext\n\n\u2014 example.com/log AAAAAAA=\n", "control character U\\+0009"),
    ("some text\r\n\n\u2014 example.com/log AAAAAAA=\n", "control character U\\+000D"),
    ("some \ud800text\n\n\u2014 example.com/log AAAAAAA=\n", "not valid UTF-8"),
    ("some text\n\n- example.com/log AAAAAAA=\n", "line 1 does not start with an em dash"),
    ("some text\n\n\u2014 example.com/log AAAAAAA=\n\u2014 example.com/log\n",
     "line 2 has no signature"),
    ("some text\n\n\u2014 example.com/log not-base64!\n", "line 1 has a signature that is "
                                                          "not base64"),
    ("some text\n\n\u2014 example.com/log AAAAAAA\n", "not base64"),
    ("some text\n\n\u2014 example.com/log AAAAAA==\n", "too short"),
    ("some text\n\n\u2014 a+b AAAAAAA=\n", "bad key name: it contains '\\+'"),
    ("some text\n\n\u2014  AAAAAAA=\n", "bad key name: it is empty"),
    ("some text\n\n" + "\u2014 example.com/log AAAAAAA=\n" * 101, "more than 100 signatures"),
])
def test_malformed_notes_are_refused_saying_what(note: str, message: str) -> None:
    with pytest.raises(NoteError, match=message):
        open_note(note, [VERIFIER])


def test_a_hundred_signatures_are_read() -> None:
    note = sign_note("some text\n", SIGNER)
    extra = "\u2014 example.com/log AAAAAAA=\n" * 99
    assert len(note_signatures(note + extra)) == 100
    assert open_note(note + extra, [VERIFIER]) == "some text\n"


@pytest.mark.parametrize(("text", "message"), [
    ("", "is empty"),
    ("no final newline", "does not end in a newline"),
    ("a\x00b\n", "control character U\\+0000"),
    ("a\x1bb\n", "control character U\\+001B"),
    ("\ud83d\n", "not valid UTF-8"),
])
def test_sign_note_refuses_what_no_note_can_hold(text: str, message: str) -> None:
    with pytest.raises(NoteError, match=f"cannot sign this note text: it .*{message}"):
        sign_note(text, SIGNER)


def test_the_c2sp_example_parses_and_its_text_ends_at_the_last_blank_line() -> None:
    [signature] = note_signatures(C2SP_NOTE)
    assert signature.name == "quasimodo.example/salvatore"
    encoded = C2SP_NOTE.rsplit(" ", 1)[1]
    assert signature.key_id == int.from_bytes(base64.b64decode(encoded)[:4], "big")
    assert len(signature.signature) == 64
    with pytest.raises(NoteError, match=r"signed by quasimodo\.example/salvatore \("):
        open_note(C2SP_NOTE, [VERIFIER])
    # Its key is not published: our own key of that name signs the same text.
    signer = generate("quasimodo.example/salvatore")
    ours = sign_note(C2SP_TEXT, signer)
    assert ours.rsplit("\n\u2014 ", 1)[0] == C2SP_NOTE.rsplit("\n\u2014 ", 1)[0]
    assert open_note(ours, [signer.verifier()]) == C2SP_TEXT


@pytest.mark.parametrize("name", ["", "has space", "a+b", "tab\there", "nbsp\u00a0here",
                                  "line\u2028sep", "nul\x00"])
def test_bad_key_names_are_refused(name: str) -> None:
    with pytest.raises(NoteError, match="cannot name a key"):
        generate(name)


def test_every_mangling_of_a_verifier_key_is_refused() -> None:
    # As the Go package's own test does: every proper substring, and every one-character
    # change, of a good key.
    Verifier.from_text(GO_VERIFIER)
    for start in range(len(GO_VERIFIER)):
        for end in range(start + 1, len(GO_VERIFIER) + 1):
            if (start, end) != (0, len(GO_VERIFIER)):
                with pytest.raises(NoteError):
                    Verifier.from_text(GO_VERIFIER[start:end])
    for index, character in enumerate(GO_VERIFIER):
        mangled = GO_VERIFIER[:index] + chr(ord(character) + 1) + GO_VERIFIER[index + 1:]
        with pytest.raises(NoteError):
            Verifier.from_text(mangled)


def test_key_texts_are_checked_part_by_part() -> None:
    name, declared, _ = GO_VERIFIER.split("+", 2)
    public = Verifier.from_text(GO_VERIFIER).public_key
    seed = Signer.from_text(GO_SIGNER).seed
    cases = {
        "PeterNeumann+c74f20a3": "reads <name>\\+<key ID>\\+<key>",
        f"{name}+{declared}+" + base64.b64encode(b"\x02" + public).decode():
            "not an Ed25519 key",
        f"{name}+{declared}+" + base64.b64encode(b"\x01" + public[:31]).decode():
            "31 bytes after the algorithm byte, not 32",
        f"{name}+{declared}+": "not an Ed25519 key",
        f"{name}+{declared}+AR!c": "not base64",
        f"{name}+C74F20A4+" + GO_VERIFIER.split("+", 2)[2]:
            "key ID of key PeterNeumann is C74F20A4, but its name and key give c74f20a3",
        f"{name}+0xc74f20+" + GO_VERIFIER.split("+", 2)[2]: "not 8 hexadecimal digits",
        f"Peter Neumann+{declared}+" + GO_VERIFIER.split("+", 2)[2]: "contains a space",
    }
    for text, message in cases.items():
        with pytest.raises(NoteError, match=message):
            Verifier.from_text(text)
    assert Verifier.from_text(f"{name}+C74F20A3+" + GO_VERIFIER.split("+", 2)[2]).public_key \
        == public
    signer_cases = {
        GO_SIGNER.removeprefix("PRIVATE+"): "starts with PRIVATE\\+KEY\\+",
        "PRIVATE+KEY+PeterNeumann+c74f20a3": "reads PRIVATE\\+KEY\\+<name>",
        f"PRIVATE+KEY+{name}+{declared}+" + base64.b64encode(b"\x02" + seed).decode():
            "not an Ed25519 key",
        f"PRIVATE+KEY+{name}+{declared}+" + base64.b64encode(b"\x01" + seed + b"!").decode():
            "33 bytes after the algorithm byte",
        f"PRIVATE+KEY+Other+{declared}+" + GO_SIGNER.split("+", 4)[4]: "key ID of key Other",
    }
    for text, message in signer_cases.items():
        with pytest.raises(NoteError, match=message) as refused:
            Signer.from_text(text)
        assert GO_SIGNER.split("+", 4)[4] not in str(refused.value)


def test_a_signer_never_shows_its_secret() -> None:
    # The key data is base64, whose alphabet includes "+": split on the first four only.
    secret = SIGNER.text().split("+", 4)[4]
    assert secret not in repr(SIGNER) and SIGNER.seed.hex() not in repr(SIGNER)


# Everything but the ASCII controls other than newline: DEL, C1 controls, empty lines and
# characters outside the BMP are all allowed in a note.
CONTROLS = [chr(code) for code in range(0x20) if chr(code) != "\n"]
note_texts = st.text(st.characters(codec="utf-8", exclude_characters=CONTROLS)
                     ).map(lambda text: text + "\n")


@given(note_texts)
def test_any_valid_text_signs_and_opens_to_itself(text: str) -> None:
    note = sign_note(text, SIGNER)
    assert open_note(note, [VERIFIER]) == text
    [signature] = note_signatures(note)
    assert (signature.name, signature.key_id) == (VERIFIER.name, VERIFIER.key_id)


key_names = st.text(st.characters(codec="utf-8", exclude_characters=[*CONTROLS, "\n", "+"]),
                    min_size=1, max_size=40).filter(lambda name: not any(
                        c.isspace() for c in name))


@given(key_names)
def test_any_valid_name_makes_keys_that_round_trip(name: str) -> None:
    signer = Signer(name, SIGNER.seed)
    assert Signer.from_text(signer.text()) == signer
    assert Verifier.from_text(signer.verifier().text()) == signer.verifier()
    assert signer.key_id == spec_key_id(name, VERIFIER.public_key)
