"""Checkpoints in the C2SP tlog-checkpoint format: the exact text, strict parsing, signing,
and the log's default origin."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.services.signed_notes import (
    NoteError,
    generate,
    note_signatures,
    open_checkpoint,
    sign_checkpoint,
    sign_note,
)
from events.checkpoints import Checkpoint, CheckpointError, origin_of

ROOT = hashlib.sha256(b"the root").digest()
ROOT_TEXT = base64.b64encode(ROOT).decode()
SIGNER = generate("news.example/chronicle")
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def with_slack_bits(encoded: str) -> str:
    """The same 32 bytes spelled with a non-zero bit past them, which lenient decoders take."""
    last = ALPHABET[ALPHABET.index(encoded[-2]) ^ 1]
    spelled = encoded[:-2] + last + "="
    assert base64.b64decode(spelled) == base64.b64decode(encoded)
    return spelled


def test_the_body_is_origin_size_and_base64_root_one_a_line() -> None:
    checkpoint = Checkpoint("news.example/chronicle", 20852163, ROOT)
    assert checkpoint.body() == f"news.example/chronicle\n20852163\n{ROOT_TEXT}\n"
    assert len(ROOT_TEXT) == 44 and ROOT_TEXT.endswith("=")
    assert Checkpoint("o", 0, bytes(32)).body() == (
        "o\n0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")


def test_the_c2sp_example_body_parses() -> None:
    text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    checkpoint = Checkpoint.parse(text)
    assert checkpoint.origin == "example.com/behind-the-sofa"
    assert checkpoint.size == 20852163
    assert checkpoint.root == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert checkpoint.body() == text


sizes = st.integers(min_value=0, max_value=2**64 - 1)
origins = st.text(st.characters(codec="utf-8", min_codepoint=0x20), min_size=1, max_size=30)


@given(origins, sizes, st.binary(min_size=32, max_size=32))
def test_parse_reads_back_what_body_writes(origin: str, size: int, root: bytes) -> None:
    checkpoint = Checkpoint(origin, size, root)
    assert Checkpoint.parse(checkpoint.body()) == checkpoint


def test_extension_lines_are_accepted_and_dropped() -> None:
    body = Checkpoint("o", 5, ROOT).body()
    assert Checkpoint.parse(body + "ext one\next two\n") == Checkpoint("o", 5, ROOT)


@pytest.mark.parametrize(("text", "message"), [
    ("", "does not end in a newline"),
    (f"o\n5\n{ROOT_TEXT}", "does not end in a newline"),
    ("o\n5\n", "too few lines: .* this text has 2 lines"),
    ("o\n", "this text has 1 lines"),
    (f"\n5\n{ROOT_TEXT}\n", "bad origin: it is empty"),
    (f"o\x00\n5\n{ROOT_TEXT}\n", "bad origin 'o\\\\x00': it contains the control character "
                                 "U\\+0000"),
    (f"o\n05\n{ROOT_TEXT}\n", "bad tree size '05': not a decimal number"),
    (f"o\n00\n{ROOT_TEXT}\n", "bad tree size '00'"),
    (f"o\n+5\n{ROOT_TEXT}\n", "bad tree size '\\+5'"),
    (f"o\n-1\n{ROOT_TEXT}\n", "bad tree size '-1'"),
    (f"o\n 5\n{ROOT_TEXT}\n", "bad tree size ' 5'"),
    (f"o\n5 \n{ROOT_TEXT}\n", "bad tree size '5 '"),
    (f"o\n1_000\n{ROOT_TEXT}\n", "bad tree size '1_000'"),
    (f"o\n\u0665\n{ROOT_TEXT}\n", "bad tree size"),  # an Arabic-Indic five
    (f"o\n\n{ROOT_TEXT}\n", "bad tree size ''"),
    (f"o\n{2**64}\n{ROOT_TEXT}\n", f"bad tree size {2**64}: more than {2**64 - 1}"),
    ("o\n5\n" + base64.b64encode(ROOT[:31]).decode() + "\n", "bad root hash .*: not the "
                                                            "base64 of 32 bytes"),
    ("o\n5\n" + base64.b64encode(ROOT + b"!").decode() + "\n", "bad root hash"),
    (f"o\n5\n{ROOT_TEXT.rstrip('=')}\n", "bad root hash"),
    (f"o\n5\n{with_slack_bits(ROOT_TEXT)}\n", "bad root hash"),
    (f"o\n5\n{ROOT_TEXT[:10]} {ROOT_TEXT[10:]}\n", "bad root hash"),
    (f"o\n5\n{ROOT.hex()}\n", "bad root hash"),
    ("o\n5\n\n", "bad root hash ''"),
    (f"o\n5\n{ROOT_TEXT}\n\n", "bad extension line: it is empty"),
    (f"o\n5\n{ROOT_TEXT}\next\n\nmore\n", "bad extension line"),
])
def test_parse_is_strict(text: str, message: str) -> None:
    with pytest.raises(CheckpointError, match=message):
        Checkpoint.parse(text)


def test_a_checkpoint_holds_only_what_its_body_can_say() -> None:
    with pytest.raises(CheckpointError, match="bad origin: it is empty"):
        Checkpoint("", 1, ROOT)
    with pytest.raises(CheckpointError, match="control character U\\+000A"):
        Checkpoint("a\nb", 1, ROOT)
    with pytest.raises(CheckpointError, match="bad tree size -1"):
        Checkpoint("o", -1, ROOT)
    with pytest.raises(CheckpointError, match="bad root hash: 31 bytes, not 32"):
        Checkpoint("o", 1, ROOT[:31])


def test_a_signed_checkpoint_is_a_signed_note_by_the_origin_and_opens() -> None:
    checkpoint = Checkpoint("news.example/chronicle", 42, ROOT)
    note = sign_checkpoint(checkpoint, SIGNER)
    assert note.startswith(checkpoint.body() + "\n\u2014 news.example/chronicle ")
    [signature] = note_signatures(note)
    assert (signature.name, signature.key_id) == (SIGNER.name, SIGNER.key_id)
    assert open_checkpoint(note, [SIGNER.verifier()]) == checkpoint


def test_opening_refuses_other_keys_tampering_and_signed_non_checkpoints() -> None:
    note = sign_checkpoint(Checkpoint("news.example/chronicle", 42, ROOT), SIGNER)
    with pytest.raises(NoteError, match="no signature by a known key"):
        open_checkpoint(note, [generate("news.example/chronicle").verifier()])
    with pytest.raises(NoteError, match="does not verify"):
        open_checkpoint(note.replace("\n42\n", "\n43\n"), [SIGNER.verifier()])
    with pytest.raises(CheckpointError, match="too few lines"):
        open_checkpoint(sign_note("just a note\n", SIGNER), [SIGNER.verifier()])


@pytest.mark.parametrize(("url", "origin"), [
    (None, "localhost/chronicle"),
    ("", "localhost/chronicle"),
    ("https://news.example/chronicle/", "news.example/chronicle"),
    ("https://news.example/chronicle", "news.example/chronicle"),
    ("http://news.example", "news.example"),
    ("https://news.example/", "news.example"),
    ("https://news.example:8443/a/b//", "news.example:8443/a/b"),
    ("https://news.example/chronicle/?ref=x#top", "news.example/chronicle"),
    ("news.example/chronicle/", "news.example/chronicle"),
])
def test_the_default_origin_is_the_public_url_without_scheme(url: str | None,
                                                              origin: str) -> None:
    assert origin_of(url) == origin


@pytest.mark.parametrize(("url", "problem"), [
    ("https://news.example/a b/", "contains a space"),
    ("https://news.example/a+b", "contains '\\+'"),
    ("https://", "it is empty"),
    ("https:///", "it is empty"),
])
def test_an_origin_that_cannot_name_a_key_is_refused(url: str, problem: str) -> None:
    with pytest.raises(CheckpointError, match=f"the public URL .* gives the origin .*{problem}"):
        origin_of(url)
