"""events.merkle, checked against an independent RFC 6962 verifier (tests/rfc6962.py) and
against the reference implementation's known answers: the tree the Frontier grows, the nodes
it keeps, and the inclusion and consistency proofs made from them."""

from __future__ import annotations

import hashlib
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.merkle import (
    EMPTY_ROOT,
    Frontier,
    Node,
    consistency_proof,
    consistency_ranges,
    inclusion_proof,
    inclusion_ranges,
    leaf_hash,
    node_hash,
    nodes_for,
    range_hash,
)
from tests import rfc6962

pytestmark = pytest.mark.unit

MAX_LEAVES = 300
EXHAUSTIVE = 48  # every index / old size of every tree up to this size, against the RFC


@st.composite
def event_hashes(draw: st.DrawFn, min_size: int = 0) -> list[str]:
    """Distinct event hashes (64 hex digits), as many as a log of up to MAX_LEAVES holds."""
    n = draw(st.integers(min_size, MAX_LEAVES))
    salt = draw(st.binary(max_size=4))
    return [hashlib.sha256(salt + i.to_bytes(4, "big")).hexdigest() for i in range(n)]


@st.composite
def chunkings(draw: st.DrawFn, n: int) -> list[int]:
    """Where to cut ``n`` appends into calls: 0, the cuts (some empty chunks), n."""
    cuts = draw(st.lists(st.integers(0, n), max_size=8))
    return [0, *sorted(cuts), n]


def data(hashes: list[str]) -> list[bytes]:
    return [bytes.fromhex(h) for h in hashes]


def grow(
    hashes: list[str], bounds: list[int]
) -> tuple[list[Frontier], list[list[tuple[Node, bytes]]]]:
    """The frontier after each chunk hashes[bounds[i]:bounds[i+1]], and what each added."""
    frontier = Frontier.empty()
    frontiers, added = [frontier], []
    for start, end in pairwise(bounds):
        frontier, nodes = frontier.append(hashes[start:end])
        frontiers.append(frontier)
        added.append(nodes)
    return frontiers, added


def kept_nodes(hashes: list[str]) -> dict[Node, bytes]:
    _, added = grow(hashes, [0, len(hashes)])
    return dict(added[0])


def flip(hashes: list[bytes], at: int) -> list[bytes]:
    return [h if i != at else bytes([h[0] ^ 1, *h[1:]]) for i, h in enumerate(hashes)]


# --- the tree the Frontier grows ----------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(event_hashes(), st.data())
def test_the_frontier_root_is_the_rfc_tree_hash_after_every_append(
    hashes: list[str], draw: st.DataObject
) -> None:
    bounds = draw.draw(chunkings(len(hashes)))
    frontiers, _ = grow(hashes, bounds)
    leaves = data(hashes)
    for bound, frontier in zip(bounds, frontiers, strict=True):
        assert frontier.size == bound
        assert frontier.root() == rfc6962.mth(leaves[:bound])
        assert [node for node, _ in frontier.nodes] == Frontier.of_size(bound)
        assert frontier.last_leaf == (hashes[bound - 1] if bound else None)


def test_the_empty_tree() -> None:
    assert Frontier.empty().root() == EMPTY_ROOT == rfc6962.mth([]) == hashlib.sha256().digest()
    frontier, added = Frontier.empty().append([])
    assert frontier == Frontier.empty() and added == []


@settings(max_examples=100, deadline=None)
@given(event_hashes(), st.data())
def test_append_adds_exactly_the_perfect_subtrees_it_completes(
    hashes: list[str], draw: st.DataObject
) -> None:
    bounds = draw.draw(chunkings(len(hashes)))
    _, added = grow(hashes, bounds)
    leaves = data(hashes)
    for (start, end), nodes in zip(pairwise(bounds), added, strict=True):
        # the perfect subtrees whose last leaf is in this chunk: completed by it, and no other
        completed = {(level, index) for level in range(end.bit_length())
                     for index in range(end >> level) if ((index + 1) << level) > start}
        assert [node for node, _ in nodes] == sorted(
            completed, key=lambda n: (((n[1] + 1) << n[0]), n[0]))  # leaf order, then up
    kept = [entry for nodes in added for entry in nodes]
    assert len({node for node, _ in kept}) == len(kept)  # no node is added twice
    for (level, index), digest in kept:
        assert digest == rfc6962.mth(leaves[index << level:(index + 1) << level])
    one_by_one = [entry for nodes in grow(hashes, list(range(len(hashes) + 1)))[1]
                  for entry in nodes]
    assert kept == one_by_one


# --- inclusion proofs -----------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(event_hashes(min_size=1), st.data())
def test_every_inclusion_proof_verifies_and_a_wrong_one_does_not(
    hashes: list[str], draw: st.DataObject
) -> None:
    leaves, kept = data(hashes), kept_nodes(hashes)
    size = draw.draw(st.integers(1, len(hashes)), label="size")
    index = draw.draw(st.integers(0, size - 1), label="index")
    root = rfc6962.mth(leaves[:size])

    # made from nothing but the nodes its ranges name, all of them in the tree of ``size``
    needed = nodes_for(inclusion_ranges(index, size))
    assert all(((i + 1) << level) <= size for level, i in needed)
    proof = inclusion_proof(index, size, {node: kept[node] for node in needed})
    assert rfc6962.verify_inclusion(leaves[index], index, size, proof, root)
    assert proof == inclusion_proof(index, size, kept)

    if size > 1:
        other = draw.draw(st.integers(0, size - 1).filter(lambda i: i != index), label="other")
        assert not rfc6962.verify_inclusion(leaves[index], other, size, proof, root)
        assert not rfc6962.verify_inclusion(leaves[other], other, size, proof, root)
        assert not rfc6962.verify_inclusion(leaves[other], index, size, proof, root)
    if proof:
        at = draw.draw(st.integers(0, len(proof) - 1), label="flipped")
        assert not rfc6962.verify_inclusion(leaves[index], index, size, flip(proof, at), root)
        assert not rfc6962.verify_inclusion(leaves[index], index, size, proof[:-1], root)
        assert not rfc6962.verify_inclusion(leaves[index], index, size, proof[1:], root)
    assert not rfc6962.verify_inclusion(leaves[index], index, size, [*proof, root], root)
    if len(hashes) > index + 1:  # (the root names the size: a proof may fit another shape)
        other_size = draw.draw(st.integers(index + 1, len(hashes)).filter(lambda s: s != size),
                               label="other size")
        assert not rfc6962.verify_inclusion(leaves[index], index, other_size, proof,
                                            rfc6962.mth(leaves[:other_size]))
    assert not rfc6962.verify_inclusion(leaves[index], index, size, proof, flip([root], 0)[0])


def test_inclusion_proofs_are_the_rfcs_audit_paths_for_every_small_tree() -> None:
    hashes = [hashlib.sha256(b"leaf %d" % i).hexdigest() for i in range(EXHAUSTIVE)]
    leaves, kept = data(hashes), kept_nodes(hashes)
    for size in range(1, EXHAUSTIVE + 1):
        root = rfc6962.mth(leaves[:size])
        for index in range(size):
            path = rfc6962.audit_path(index, leaves[:size])
            assert inclusion_proof(index, size, kept) == path, (index, size)
            assert rfc6962.verify_inclusion(leaves[index], index, size, path, root)


# --- consistency proofs ---------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(event_hashes(), st.data())
def test_every_consistency_proof_verifies_and_a_wrong_one_does_not(
    hashes: list[str], draw: st.DataObject
) -> None:
    leaves, kept = data(hashes), kept_nodes(hashes)
    new = draw.draw(st.integers(0, len(hashes)), label="new")
    old = draw.draw(st.integers(0, new), label="old")
    old_root, new_root = rfc6962.mth(leaves[:old]), rfc6962.mth(leaves[:new])

    needed = nodes_for(consistency_ranges(old, new))
    assert all(((i + 1) << level) <= new for level, i in needed)
    proof = consistency_proof(old, new, {node: kept[node] for node in needed})
    assert rfc6962.verify_consistency(old, new, old_root, new_root, proof)
    assert proof == consistency_proof(old, new, kept)
    assert (proof == []) == (old in (0, new))

    if proof:
        at = draw.draw(st.integers(0, len(proof) - 1), label="flipped")
        assert not rfc6962.verify_consistency(old, new, old_root, new_root, flip(proof, at))
        assert not rfc6962.verify_consistency(old, new, old_root, new_root, proof[:-1])
        assert not rfc6962.verify_consistency(old, new, old_root, new_root, proof[1:])
        assert not rfc6962.verify_consistency(old, new, new_root, old_root, proof)
    assert not rfc6962.verify_consistency(old, new, old_root, new_root, [*proof, new_root])
    if old:
        changed = draw.draw(st.integers(0, old - 1), label="changed leaf")
        forged = flip(leaves, changed)
        assert not rfc6962.verify_consistency(old, new, rfc6962.mth(forged[:old]), new_root,
                                              proof)
    else:
        assert not rfc6962.verify_consistency(old, new, flip([old_root], 0)[0], new_root, proof)
    others = [size for size in range(1, new) if size != old]
    if old and others:  # the proof is for old, not for another (real) prefix
        other = draw.draw(st.sampled_from(others), label="other old")
        assert not rfc6962.verify_consistency(other, new, rfc6962.mth(leaves[:other]),
                                              new_root, proof)
    if 0 < old < new:  # (the empty tree is a prefix of every tree)
        changed = draw.draw(st.integers(old, new - 1), label="changed new leaf")
        forged = flip(leaves, changed)
        assert not rfc6962.verify_consistency(old, new, old_root, rfc6962.mth(forged[:new]),
                                              proof)


def test_consistency_proofs_are_the_rfcs_proofs_for_every_small_tree() -> None:
    hashes = [hashlib.sha256(b"leaf %d" % i).hexdigest() for i in range(EXHAUSTIVE)]
    leaves, kept = data(hashes), kept_nodes(hashes)
    roots = [rfc6962.mth(leaves[:size]) for size in range(EXHAUSTIVE + 1)]
    for new in range(EXHAUSTIVE + 1):
        for old in range(new + 1):
            expected = rfc6962.consistency(old, leaves[:new])
            assert consistency_proof(old, new, kept) == expected, (old, new)
            assert rfc6962.verify_consistency(old, new, roots[old], roots[new], expected)


# --- impossible positions and sizes ---------------------------------------------------------


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 1), (5, 3), (-1, 4), (-1, 0)])
def test_no_inclusion_proof_for_a_leaf_outside_the_tree(index: int, size: int) -> None:
    kept = kept_nodes([hashlib.sha256(b"%d" % i).hexdigest() for i in range(8)])
    with pytest.raises(ValueError, match="not in a tree"):
        inclusion_proof(index, size, kept)


@pytest.mark.parametrize(("old", "new"), [(2, 1), (1, 0), (-1, 3), (-1, -1), (0, -1)])
def test_no_consistency_proof_for_a_tree_that_cannot_be_a_prefix(old: int, new: int) -> None:
    kept = kept_nodes([hashlib.sha256(b"%d" % i).hexdigest() for i in range(8)])
    with pytest.raises(ValueError, match="cannot be a prefix"):
        consistency_proof(old, new, kept)


# --- the verifier on malformed input --------------------------------------------------------

hash_lists = st.lists(st.binary(min_size=31, max_size=33) | st.binary(min_size=32, max_size=32),
                      max_size=12)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=40), st.integers(-3, 70), st.integers(-3, 70), hash_lists,
       st.binary(min_size=31, max_size=33))
def test_the_verifier_rejects_garbage_without_raising(
    leaf: bytes, a: int, b: int, proof: list[bytes], root: bytes
) -> None:
    assert rfc6962.verify_inclusion(leaf, a, b, proof, root) is False
    assert rfc6962.verify_consistency(a, b, root, root[::-1], proof) in {True, False}


@pytest.mark.parametrize(("old", "new", "old_root", "new_root", "proof", "ok"), [
    # sizes that need no proof: the same tree, or the empty one
    (0, 0, EMPTY_ROOT, EMPTY_ROOT, [], True),
    (0, 5, EMPTY_ROOT, b"\x07" * 32, [], True),
    (3, 3, b"\x07" * 32, b"\x07" * 32, [], True),
    (0, 0, b"\x07" * 32, b"\x07" * 32, [], False),  # the empty tree has one head
    (0, 5, b"\x07" * 32, b"\x08" * 32, [], False),
    (3, 3, b"\x07" * 32, b"\x08" * 32, [], False),
    # ... and then the proof must be empty
    (0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
    (0, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
    (1, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
    # sizes out of order, or an empty proof between different sizes
    (1, 0, EMPTY_ROOT, EMPTY_ROOT, [], False),
    (2, 1, EMPTY_ROOT, EMPTY_ROOT, [], False),
    (-1, 1, EMPTY_ROOT, EMPTY_ROOT, [], False),
    (1, 2, b"\x07" * 32, b"\x08" * 32, [], False),
    # a head that is no SHA-256 hash
    (3, 3, b"\x07" * 31, b"\x07" * 31, [], False),
])
def test_the_verifier_on_proofless_cases(old: int, new: int, old_root: bytes, new_root: bytes,
                                         proof: list[bytes], ok: bool) -> None:
    assert rfc6962.verify_consistency(old, new, old_root, new_root, proof) is ok


def test_a_one_leaf_tree_is_its_leaf() -> None:
    root = rfc6962.leaf_hash(b"data")
    assert rfc6962.verify_inclusion(b"data", 0, 1, [], root)
    assert not rfc6962.verify_inclusion(b"data", 0, 1, [], EMPTY_ROOT)
    assert not rfc6962.verify_inclusion(b"other", 0, 1, [], root)
    for index, size in [(0, 0), (1, 0), (1, 1), (2, 1), (-1, 1)]:
        assert not rfc6962.verify_inclusion(b"data", index, size, [], root)
        assert not rfc6962.verify_inclusion(b"data", index, size, [], EMPTY_ROOT)


# --- known answers: the reference implementation's test vectors ------------------------------
# From the RFC 6962 reference implementation's tests (certificate-transparency, now
# transparency-dev/merkle: testonly/constants.go and proof/verify_test.go). Its leaf numbers
# there are 1-based in the proof vectors; here they are leaf indexes (0-based).

LEAF_INPUTS = [bytes.fromhex(h) for h in [
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
]]

NODE_HASHES = [[bytes.fromhex(h) for h in level] for level in [
    ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
     "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
     "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
     "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
     "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
     "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
     "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
     "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"],
    ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
     "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
     "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"],
    ["d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
     "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
]]

ROOT_HASHES = [bytes.fromhex(h) for h in [  # by tree size, from the empty tree
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]]

INCLUSION_VECTORS = [  # (leaf index, tree size, audit path)
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (0, 1, []),
]

CONSISTENCY_VECTORS = [  # (old size, new size, proof)
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]

VECTOR_KEPT: dict[Node, bytes] = {
    (level, index): digest
    for level, digests in enumerate(NODE_HASHES) for index, digest in enumerate(digests)
}


def test_the_reference_tree_hashes() -> None:
    for size, root in enumerate(ROOT_HASHES):
        assert rfc6962.mth(LEAF_INPUTS[:size]) == root
        assert range_hash(0, size, VECTOR_KEPT) == root
        frontier = Frontier(size, tuple((node, VECTOR_KEPT[node])
                                        for node in Frontier.of_size(size)), None)
        assert frontier.root() == root
    for (level, index), digest in VECTOR_KEPT.items():
        assert rfc6962.mth(LEAF_INPUTS[index << level:(index + 1) << level]) == digest
        if level == 0:
            assert leaf_hash(LEAF_INPUTS[index]) == rfc6962.leaf_hash(LEAF_INPUTS[index]) == digest
        else:
            left, right = VECTOR_KEPT[level - 1, 2 * index], VECTOR_KEPT[level - 1, 2 * index + 1]
            assert node_hash(left, right) == rfc6962.node_hash(left, right) == digest


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION_VECTORS)
def test_the_reference_audit_paths(index: int, size: int, path: list[str]) -> None:
    proof, root = [bytes.fromhex(h) for h in path], ROOT_HASHES[size]
    assert rfc6962.audit_path(index, LEAF_INPUTS[:size]) == proof
    assert inclusion_proof(index, size, VECTOR_KEPT) == proof
    assert rfc6962.verify_inclusion(LEAF_INPUTS[index], index, size, proof, root)
    # the reference's corruptions of a good proof
    wrong: list[tuple[int, int, list[bytes], bytes, bytes]] = [
        (index - 1, size, proof, root, LEAF_INPUTS[index]),
        (index + 1, size, proof, root, LEAF_INPUTS[index]),
        (index ^ 2, size, proof, root, LEAF_INPUTS[index]),
        (index, size * 2, proof, root, LEAF_INPUTS[index]),
        (index, size // 2, proof, root, LEAF_INPUTS[index]),
        (index, size, proof, root, b"WrongLeaf"),
        (index, size, proof, EMPTY_ROOT, LEAF_INPUTS[index]),
        (index, size, [*proof, root], root, LEAF_INPUTS[index]),
        (index, size, [root, *proof], root, LEAF_INPUTS[index]),
        (index, size, [*proof, b""], root, LEAF_INPUTS[index]),
    ]
    wrong += [(index, size, flip(proof, at), root, LEAF_INPUTS[index])
              for at in range(len(proof))]
    if proof:
        wrong.append((index, size, proof[:-1], root, LEAF_INPUTS[index]))
    for i, n, p, r, leaf in wrong:
        assert not rfc6962.verify_inclusion(leaf, i, n, p, r), (i, n)


@pytest.mark.parametrize(("old", "new", "path"), CONSISTENCY_VECTORS)
def test_the_reference_consistency_proofs(old: int, new: int, path: list[str]) -> None:
    proof = [bytes.fromhex(h) for h in path]
    old_root, new_root = ROOT_HASHES[old], ROOT_HASHES[new]
    assert rfc6962.consistency(old, LEAF_INPUTS[:new]) == proof
    assert consistency_proof(old, new, VECTOR_KEPT) == proof
    assert rfc6962.verify_consistency(old, new, old_root, new_root, proof)
    if not proof:
        return
    wrong: list[tuple[int, int, bytes, bytes, list[bytes]]] = [
        (old - 1, new, old_root, new_root, proof),
        (old + 1, new, old_root, new_root, proof),
        (old ^ 2, new, old_root, new_root, proof),
        (old, new * 2, old_root, new_root, proof),
        (old, new // 2, old_root, new_root, proof),
        (old, new, EMPTY_ROOT, new_root, proof),
        (old, new, old_root, EMPTY_ROOT, proof),
        (old, new, new_root, old_root, proof),
        (old, new, old_root, new_root, []),
        (old, new, old_root, new_root, [*proof, old_root]),
        (old, new, old_root, new_root, [*proof, new_root]),
        (old, new, old_root, new_root, [old_root, *proof]),
        (old, new, old_root, new_root, [new_root, *proof]),
        (old, new, old_root, new_root, [proof[0], *proof]),
        (old, new, old_root, new_root, proof[:-1]),
    ]
    wrong += [(old, new, old_root, new_root, flip(proof, at)) for at in range(len(proof))]
    for o, n, r1, r2, p in wrong:
        assert not rfc6962.verify_consistency(o, n, r1, r2, p), (o, n)
