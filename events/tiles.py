"""The log's tree as C2SP tlog-tiles: static resources from which generic transparency-log
clients compute any root or proof without Chronicle's API.

A tile at level ``L`` and index ``N`` holds up to 256 hashes: hash ``i`` is the Merkle Tree
Hash of leaves ``(N·256 + i)·256^L`` .. ``(N·256 + i + 1)·256^L - 1``, which is the perfect
subtree kept at tree level ``8·L``, index ``N·256 + i`` (events/merkle.py). Level 0 holds
the leaf hashes. A full tile has 256; the rightmost tiles are partial (``.p/<W>``, 1 to 255
hashes). Entry bundles (``tile/entries/<N>``) hold the leaves' data, each a big-endian
uint16 length then the bytes: for Chronicle, each event's hash as 32 bytes. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

WIDTH = 256
MAX_LEVEL = 63
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_ELEMENT = re.compile(r"[0-9]{3}")


class NotATile(ValueError):
    """A path that names no tile or entry bundle."""


@dataclass(frozen=True, slots=True)
class Tile:
    level: int | None  # None: an entry bundle
    index: int
    width: int  # 256 for a full tile

    @property
    def partial(self) -> bool:
        return self.width < WIDTH

    def tree_level(self) -> int:
        """The level, in events/merkle.py's terms, of the subtrees its hashes are."""
        return 8 * (self.level or 0)

    def first(self) -> int:
        """The index, at ``tree_level``, of its first hash (or its first leaf)."""
        return self.index * WIDTH

    def leaves_needed(self) -> int:
        """How many leaves the tree must hold for this tile to exist."""
        leaves: int = (self.first() + self.width) * WIDTH ** (self.level or 0)
        return leaves


def parse_tile_path(path: str) -> Tile:
    """``<L>/<N>[.p/<W>]`` or ``entries/<N>[.p/<W>]`` (what follows ``tile/``)."""
    parts = path.split("/")
    if len(parts) < 2:
        raise NotATile("a tile path is <level>/<index> or entries/<index>")
    head, rest = parts[0], parts[1:]
    level = None if head == "entries" else _decimal(head, "level")
    if level is not None and level > MAX_LEVEL:
        raise NotATile(f"level {level} is above {MAX_LEVEL}")
    width = WIDTH
    if len(rest) >= 2 and rest[-2].endswith(".p"):
        width = _decimal(rest[-1], "width")
        if not 1 <= width < WIDTH:
            raise NotATile("a partial tile's width is from 1 to 255")
        rest = [*rest[:-2], rest[-2].removesuffix(".p")]
    return Tile(level, _index(rest), width)


def tile_path(tile: Tile) -> str:
    """The path (after ``tile/``) of a tile: the inverse of ``parse_tile_path``."""
    digits = f"{tile.index:03d}"
    digits = "0" * (-len(digits) % 3) + digits
    elements = [digits[k:k + 3] for k in range(0, len(digits), 3)]
    path = "/".join([*("x" + e for e in elements[:-1]), elements[-1]])
    head = "entries" if tile.level is None else str(tile.level)
    suffix = f".p/{tile.width}" if tile.partial else ""
    return f"{head}/{path}{suffix}"


def bundle(leaf_data: list[bytes]) -> bytes:
    """An entry bundle: each entry as a big-endian uint16 length, then its bytes."""
    return b"".join(len(data).to_bytes(2, "big") + data for data in leaf_data)


def _decimal(text: str, what: str) -> int:
    if not _DECIMAL.fullmatch(text):
        raise NotATile(f"the {what} {text!r} is not a decimal without leading zeros")
    return int(text)


def _index(elements: list[str]) -> int:
    """``x001/x234/067`` → 1234067: 3-digit elements, all but the last marked ``x``."""
    digits = []
    for k, element in enumerate(elements):
        last = k == len(elements) - 1
        if not last:
            if not element.startswith("x"):
                raise NotATile("every element of an index but the last begins with x")
            element = element[1:]
        if not _ELEMENT.fullmatch(element):
            raise NotATile(f"index element {element!r} is not three digits")
        digits.append(element)
    if len(digits) > 1 and digits[0] == "000":
        raise NotATile("an index has no leading zero elements")
    return int("".join(digits))
