"""An RFC 6962 Merkle tree verifier for the tests, written from the RFCs' text alone.

It imports nothing from ``events`` or ``api``, so the proofs ``events.merkle`` makes are
checked by code that shares nothing with the code that made them. Where each part comes from:

- ``leaf_hash``, ``node_hash``, ``mth``: the Merkle Tree Hash of RFC 6962 §2.1 (restated in
  RFC 9162 §2.1.1): MTH({}) = SHA-256(), MTH({d(0)}) = SHA-256(0x00 || d(0)), and for n > 1
  MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])) with k the largest power of two
  smaller than n. Recursive, as written there: for small trees only.
- ``audit_path``: PATH(m, D[n]) of RFC 6962 §2.1.1 (RFC 9162 §2.1.3.1), a reference to compare
  generated proofs with.
- ``consistency``: PROOF(m, D[n]) = SUBPROOF(m, D[n], true) of RFC 6962 §2.1.2 (RFC 9162
  §2.1.4.1), likewise.
- ``verify_inclusion``: RFC 9162 §2.1.3.2 "Verifying an Inclusion Proof", step by step.
- ``verify_consistency``: RFC 9162 §2.1.4.2 "Verifying Consistency between Two Tree Heads",
  step by step, for 0 < first < second. The two cases that algorithm leaves out: equal sizes
  (RFC 9162 §2.1.4.1: SUBPROOF(m, D[m], true) = {}, so the proof is empty and the heads must
  be equal) and an empty first tree (nothing to prove, so the proof is empty, and the first
  head must be MTH({}) = SHA-256()).

The verifiers return False, never raise, on malformed input: negative or out-of-order sizes,
an index outside the tree, a proof of the wrong length, a hash that is not 32 bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # MTH({})


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def leaf_hash(data: bytes) -> bytes:
    """MTH({d(0)}) = SHA-256(0x00 || d(0))."""
    return _sha256(b"\x00" + data)


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return _sha256(b"\x01" + left + right)


def _k(n: int) -> int:
    """The largest power of two smaller than n (n > 1): the RFC's k."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) for the leaf data ``leaves`` (RFC 6962 §2.1)."""
    n = len(leaves)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hash(leaves[0])
    k = _k(n)
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def audit_path(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) (RFC 6962 §2.1.1), for 0 <= m < n."""
    n = len(leaves)
    if not 0 <= m < n:
        raise ValueError(f"PATH({m}, D[{n}]) is not defined")
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*audit_path(m, leaves[:k]), mth(leaves[k:])]
    return [*audit_path(m - k, leaves[k:]), mth(leaves[:k])]


def _subproof(m: int, leaves: Sequence[bytes], whole: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) (RFC 6962 §2.1.2), for 0 < m <= n."""
    n = len(leaves)
    if m == n:
        return [] if whole else [mth(leaves)]
    k = _k(n)
    if m <= k:
        return [*_subproof(m, leaves[:k], whole), mth(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), mth(leaves[:k])]


def consistency(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) (RFC 6962 §2.1.2): empty for m == 0 (nothing to prove) and m == n."""
    if not 0 <= m <= len(leaves):
        raise ValueError(f"PROOF({m}, D[{len(leaves)}]) is not defined")
    return [] if m == 0 else _subproof(m, leaves, True)


def _well_formed(hashes: Sequence[bytes]) -> bool:
    return all(isinstance(h, bytes) and len(h) == HASH_SIZE for h in hashes)


def verify_inclusion(
    leaf_data: bytes, index: int, size: int, path: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``path`` proves that leaf ``index`` of the tree of ``size`` leaves whose head
    is ``root`` holds ``leaf_data`` (RFC 9162 §2.1.3.2)."""
    if not _well_formed([*path, root]):
        return False
    # 1. If leaf_index >= tree_size, fail (and a negative index is no leaf either).
    if not 0 <= index < size:
        return False
    # 2. fn = leaf_index, sn = tree_size - 1.
    fn, sn = index, size - 1
    # 3. r = hash (the leaf's hash).
    r = leaf_hash(leaf_data)
    # 4. For each p in inclusion_path:
    for p in path:
        # a. If sn is 0, fail (the path is too long).
        if sn == 0:
            return False
        # b. If LSB(fn) is set, or fn == sn:
        if fn & 1 or fn == sn:
            # i. r = HASH(0x01 || p || r)
            r = node_hash(p, r)
            # ii. If LSB(fn) is not set, right-shift fn and sn equally until either LSB(fn)
            #     is set or fn is 0.
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            # Otherwise: r = HASH(0x01 || r || p)
            r = node_hash(r, p)
        # c. Right-shift fn and sn one time.
        fn >>= 1
        sn >>= 1
    # 5. Succeed if sn is 0 (the path was long enough) and r is the root.
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether ``proof`` proves that the tree of ``old_size`` leaves with head ``old_root`` is
    a prefix of the tree of ``new_size`` leaves with head ``new_root`` (RFC 9162 §2.1.4.2)."""
    if not _well_formed([*proof, old_root, new_root]):
        return False
    if not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:  # §2.1.4.1: PROOF(m, D[m]) = {}; the same tree has one head
        return not proof and old_root == new_root and (old_size > 0 or old_root == EMPTY_ROOT)
    if old_size == 0:  # every tree extends the empty one: nothing to prove
        return not proof and old_root == EMPTY_ROOT
    # 1. If consistency_path is empty, fail.
    if not proof:
        return False
    path = list(proof)
    # 2. If first is an exact power of 2, prepend first_hash to consistency_path.
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    # 3. fn = first - 1, sn = second - 1.
    fn, sn = old_size - 1, new_size - 1
    # 4. If LSB(fn) is set, right-shift fn and sn equally until LSB(fn) is not set.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # 5. fr = sr = the first value of consistency_path.
    fr = sr = path[0]
    # 6. For each subsequent value c of consistency_path:
    for c in path[1:]:
        # a. If sn is 0, fail (the proof is too long).
        if sn == 0:
            return False
        # b. If LSB(fn) is set, or fn == sn:
        if fn & 1 or fn == sn:
            # i. fr = HASH(0x01 || c || fr); ii. sr = HASH(0x01 || c || sr)
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            # iii. If LSB(fn) is not set, right-shift fn and sn equally until either LSB(fn)
            #      is set or fn is 0.
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            # Otherwise: sr = HASH(0x01 || sr || c)
            sr = node_hash(sr, c)
        # c. Right-shift fn and sn one time.
        fn >>= 1
        sn >>= 1
    # 7. Succeed if fr is first_hash, sr is second_hash and sn is 0.
    return fr == old_root and sr == new_root and sn == 0
