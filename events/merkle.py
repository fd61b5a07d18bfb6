"""The log as an RFC 6962 Merkle tree, so that anyone can check that it only ever grew.

Leaf ``i`` is the event at position ``i + 1``; its data is the event's ``hash`` as 32 raw
bytes. leaf hash = SHA-256(0x00 ‖ data), node hash = SHA-256(0x01 ‖ left ‖ right), and the
tree of ``n`` leaves splits at the largest power of two below ``n`` (RFC 6962 §2.1).

What is kept is every *perfect* subtree: node (level, index) covers leaves
``index·2^level .. (index+1)·2^level - 1``. Appending a leaf adds its own node and the
perfect subtrees it completes (two nodes per leaf on average), and never changes a node
already kept. Any subtree the RFC's algorithms need, for a root or a proof, is a handful
of perfect ones (``perfect_cover``), so a proof reads O(log² n) kept nodes at most and
hashes nothing else but the ragged right edge. Pure: no I/O, no clock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

Node = tuple[int, int]  # (level, index)
Range = tuple[int, int]  # leaves [start, end)

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def leaf_data(event_hash: str) -> bytes:
    """An event's hash (64 hex digits) as the 32 bytes its leaf holds."""
    return bytes.fromhex(event_hash)


def split(size: int) -> int:
    """The largest power of two smaller than ``size`` (``size`` > 1)."""
    return 1 << ((size - 1).bit_length() - 1)


def perfect_cover(start: int, end: int) -> list[Node]:
    """The perfect subtrees that together cover leaves [start, end), left to right, as the
    RFC's recursion splits a subtree that starts at ``start`` (a multiple of its split)."""
    nodes: list[Node] = []
    while start < end:
        level = (end - start).bit_length() - 1  # the biggest perfect subtree that fits...
        while start % (1 << level):  # ...and starts at ``start``
            level -= 1
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def range_hash(start: int, end: int, kept: Mapping[Node, bytes]) -> bytes:
    """MTH(D[start:end]) for a subtree the RFC's recursion reaches, from kept nodes."""
    if end - start == 0:
        return EMPTY_ROOT
    hashes = [kept[node] for node in perfect_cover(start, end)]
    right = hashes[-1]
    for left in reversed(hashes[:-1]):
        right = node_hash(left, right)
    return right


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The subtrees whose hashes make the audit path of leaf ``index`` in a tree of
    ``size`` leaves (RFC 6962 §2.1.1 PATH), leaf-side first."""
    ranges: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = split(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def consistency_ranges(old: int, new: int) -> list[Range]:
    """The subtrees whose hashes prove that the tree of ``old`` leaves is a prefix of the
    tree of ``new`` leaves (RFC 6962 §2.1.2 PROOF), in the RFC's order."""
    if old == 0 or old == new:
        return []
    ranges: list[Range] = []
    start, end, whole = 0, new, True
    while True:
        if old == end:
            if not whole:
                ranges.append((start, end))
            break
        k = split(end - start)
        if old <= start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
            whole = False
    ranges.reverse()
    return ranges


def nodes_for(ranges: Iterable[Range]) -> set[Node]:
    return {node for start, end in ranges for node in perfect_cover(start, end)}


@dataclass(frozen=True, slots=True)
class Frontier:
    """The perfect subtrees of a tree of ``size`` leaves that are nobody's child yet, one
    per set bit of ``size``, left (biggest) first: all an append and the root need."""

    size: int
    nodes: tuple[tuple[Node, bytes], ...]
    last_leaf: str | None  # the hash (hex) of the last event appended: names this tree

    @staticmethod
    def empty() -> Frontier:
        return Frontier(0, (), None)

    @staticmethod
    def of_size(size: int) -> list[Node]:
        """The nodes a frontier of ``size`` leaves holds, to read them back."""
        return perfect_cover(0, size)

    def root(self) -> bytes:
        if not self.nodes:
            return EMPTY_ROOT
        right = self.nodes[-1][1]
        for _, left in reversed(self.nodes[:-1]):
            right = node_hash(left, right)
        return right

    def append(self, event_hashes: Sequence[str]) -> tuple[Frontier, list[tuple[Node, bytes]]]:
        """The frontier after appending these events' leaves, and every node they add."""
        stack = list(self.nodes)
        added: list[tuple[Node, bytes]] = []
        size = self.size
        for event_hash in event_hashes:
            node: tuple[Node, bytes] = ((0, size), leaf_hash(leaf_data(event_hash)))
            added.append(node)
            while stack and stack[-1][0][0] == node[0][0]:
                (level, index), left = stack.pop()
                node = ((level + 1, index >> 1), node_hash(left, node[1]))
                added.append(node)
            stack.append(node)
            size += 1
        last = event_hashes[-1] if event_hashes else self.last_leaf
        return Frontier(size, tuple(stack), last), added


def inclusion_proof(index: int, size: int, kept: Mapping[Node, bytes]) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of ``size`` leaves, from kept nodes
    (``nodes_for(inclusion_ranges(index, size))`` at least)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    return [range_hash(start, end, kept) for start, end in inclusion_ranges(index, size)]


def consistency_proof(old: int, new: int, kept: Mapping[Node, bytes]) -> list[bytes]:
    """The proof that the tree of ``old`` leaves is a prefix of the tree of ``new``, from
    kept nodes (``nodes_for(consistency_ranges(old, new))`` at least)."""
    if not 0 <= old <= new:
        raise ValueError(f"a tree of {old} leaves cannot be a prefix of one of {new}")
    return [range_hash(start, end, kept) for start, end in consistency_ranges(old, new)]
