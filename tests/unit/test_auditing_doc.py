"""The Python checks docs/auditing.md gives auditors, run as written: they accept the
checkpoints and proofs Chronicle makes, and refuse them once anything in them is changed."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any

import pytest

from api.services.signed_notes import generate, sign_checkpoint
from events.checkpoints import Checkpoint
from events.merkle import Frontier, consistency_proof, inclusion_proof
from tests.conftest import ROOT

pytestmark = pytest.mark.unit

PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)
SIZES = range(1, 34)


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    blocks = PYTHON_BLOCK.findall((ROOT / "docs" / "auditing.md").read_text())
    assert len(blocks) == 3
    for block in blocks:
        exec(compile(block, "docs/auditing.md", "exec"), namespace)
    return namespace


def event_hashes(count: int) -> list[str]:
    return [f"{i:064x}" for i in range(1, count + 1)]


def tree(size: int) -> tuple[dict[Any, bytes], str]:
    """The kept nodes of a tree of ``size`` events, and its root in base64."""
    frontier, nodes = Frontier.empty().append(event_hashes(size))
    return dict(nodes), b64(frontier.root())


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def flipped(encoded: str) -> str:
    raw = bytearray(base64.b64decode(encoded))
    raw[0] ^= 1
    return b64(bytes(raw))


def test_open_checkpoint_takes_a_note_chronicle_signed_and_refuses_a_changed_one(
        doc: dict[str, Any]) -> None:
    open_checkpoint: Callable[[str, str], tuple[str, int, str]] = doc["open_checkpoint"]
    signer, other = generate("news.example/chronicle"), generate("news.example/chronicle")
    root = bytes(range(32))
    note = sign_checkpoint(Checkpoint("news.example/chronicle", 1234, root), signer)
    verifier = signer.verifier().text()
    assert open_checkpoint(note, verifier) == ("news.example/chronicle", 1234, b64(root))
    for forged in (note.replace("\n1234\n", "\n1233\n"),
                   note.replace(b64(root), b64(bytes(32))),
                   sign_checkpoint(Checkpoint("news.example/chronicle", 1234, root), other)):
        with pytest.raises(ValueError):
            open_checkpoint(forged, verifier)
    with pytest.raises(ValueError, match="key ID"):
        open_checkpoint(note, other.verifier().text().replace(
            f"+{other.key_id:08x}+", f"+{signer.key_id:08x}+"))


def test_verify_inclusion_takes_every_proof_and_refuses_changed_ones(
        doc: dict[str, Any]) -> None:
    verify = doc["verify_inclusion"]
    for size in SIZES:
        kept, root = tree(size)
        hashes = event_hashes(size)
        for index in range(size):
            path = [b64(h) for h in inclusion_proof(index, size, kept)]
            assert verify(hashes[index], index, size, path, root), (index, size)
            assert not verify(hashes[index], index, size, path, flipped(root))
            assert not verify(f"{size + 1:064x}", index, size, path, root)
            if path:
                assert not verify(hashes[index], index, size, path[:-1], root)
                assert not verify(hashes[index], index, size, [flipped(path[0]), *path[1:]],
                                  root)
            if size > 1:
                other = (index + 1) % size
                assert not verify(hashes[index], other, size, path, root)
        assert not verify(hashes[0], size, size, [], root)


def test_verify_consistency_takes_every_proof_and_refuses_changed_ones(
        doc: dict[str, Any]) -> None:
    verify = doc["verify_consistency"]
    roots = {0: b64(Frontier.empty().root())} | {size: tree(size)[1] for size in SIZES}
    for new in SIZES:
        kept, _ = tree(new)
        for old in range(new + 1):
            proof = [b64(h) for h in consistency_proof(old, new, kept)]
            assert verify(old, new, roots[old], roots[new], proof), (old, new)
            if old:
                assert not verify(old, new, flipped(roots[old]), roots[new], proof)
            if 0 < old < new:
                assert not verify(old, new, roots[old], flipped(roots[new]), proof)
                assert not verify(old, new, roots[old], roots[new], proof[:-1])
                assert not verify(old, new, roots[old], roots[new],
                                  [flipped(proof[0]), *proof[1:]])
            if old < new:  # a changed event: the older tree is no longer the start
                changed = [*event_hashes(new)]
                changed[max(old - 1, 0)] = "f" * 64
                frontier, nodes = Frontier.empty().append(changed)
                if old:
                    assert not verify(old, new, roots[old], b64(frontier.root()),
                                      [b64(h) for h in consistency_proof(old, new,
                                                                         dict(nodes))])
        assert not verify(new, new - 1, roots[new], roots[new - 1], [])
