"""Versions of a fact whose values are worked out when first read.

A ``TimelineHistory`` knows, for every fact, the keys (log positions, or instants on the
REPORTED clock) at which it may have changed; what it was there is resolved by the policy
only when a read lands on that key, then kept. ``FactVersions`` shows such a fact with the
shape ``events.versions.Versions`` has (``keys``, ``values``, ``at``), for readers that walk
a fact's versions (events/report_changes.py). Pure: no I/O, no clock.
"""

from __future__ import annotations

import json
import zlib
from bisect import bisect_right
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import overload

from events.rows import FactRow

RowAt = Callable[[int], FactRow | None]  # the fact as it stood at one of its keys


class FactRows(Sequence[FactRow | None]):
    """The fact at each of its keys, resolved when read."""

    __slots__ = ("_keys", "_row_at")

    def __init__(self, keys: Sequence[int], row_at: RowAt) -> None:
        self._keys = keys
        self._row_at = row_at

    def __len__(self) -> int:
        return len(self._keys)

    @overload
    def __getitem__(self, index: int) -> FactRow | None: ...
    @overload
    def __getitem__(self, index: slice) -> list[FactRow | None]: ...

    def __getitem__(self, index: int | slice) -> FactRow | list[FactRow | None] | None:
        if isinstance(index, slice):
            return [self._row_at(key) for key in self._keys[index]]
        return self._row_at(self._keys[index])


class FactVersions:
    """One fact's keys, and its value at each (``values``), resolved when read."""

    __slots__ = ("keys", "values")

    def __init__(self, keys: Sequence[int], row_at: RowAt) -> None:
        self.keys = keys
        self.values = FactRows(keys, row_at)

    def at(self, key: int) -> FactRow | None:
        index = bisect_right(self.keys, key) - 1
        return self.values[index] if index >= 0 else None


class FactVersionsView(Mapping[tuple[str, str], FactVersions]):
    """Every fact's versions, made when asked for (a fact's keys as they are then)."""

    def __init__(self, keys: Callable[[], Sequence[tuple[str, str]]],
                 versions: Callable[[tuple[str, str]], FactVersions | None]) -> None:
        self._keys = keys
        self._versions = versions

    def __getitem__(self, key: tuple[str, str]) -> FactVersions:
        found = self._versions(key)
        if found is None:
            raise KeyError(key)
        return found

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())


Stored = tuple[int, int]  # a document read back, not decoded yet: its span in ``Documents``
Kept = FactRow | Stored | None  # what a fact was at one key, once worked out (None: no fact)
UNKNOWN: Kept = (-1, -1)  # not worked out yet (compared by identity)


class Documents:
    """The fact documents a persisted history was read back with: each decoded when a read
    first shows it, then kept as a row in its place. They arrive compressed and are
    inflated when first needed (or beforehand, by ``unpacked``, on any thread)."""

    __slots__ = ("_data", "_packed", "decoded", "size", "slug")

    def __init__(self, slug: str) -> None:
        self.slug = slug
        self._data = b""
        self._packed: bytes | None = None
        self.size = 0  # how many bytes they inflate to
        self.decoded = 0  # rows decoded or resolved since the history was made

    def pack(self, packed: bytes, size: int) -> None:
        self._data, self._packed, self.size = b"", packed, size

    @property
    def data(self) -> bytes:
        if self._packed is not None:
            self.unpacked(inflated(self._packed, self.size))
        return self._data

    def unpacked(self, data: bytes) -> None:
        """The documents, inflated (``inflated``) beforehand."""
        if self._packed is not None:
            self._data, self._packed = data, None

    def release(self) -> None:
        """Every document is decoded: let go of the bytes."""
        self._data, self._packed, self.size = b"", None, 0

    def row(self, key: tuple[str, str], kept: Kept, rows: dict[int, Kept],
            at: int) -> FactRow | None:
        """``kept`` (what ``rows`` holds at ``at``) as a row, decoding it once."""
        if not isinstance(kept, tuple):
            return kept
        start, end = kept
        rows[at] = row = FactRow(self.slug, key[0], key[1], json.loads(self.data[start:end]))
        self.decoded += 1
        return row

    def decode_all(self, rows: Mapping[tuple[str, str], dict[int, Kept]]) -> Iterator[None]:
        """Decode every document ``rows`` hold undecoded, one per step (rows dropped or
        decoded meanwhile are left alone)."""
        for key, kept in list(rows.items()):
            for at, row in list(kept.items()):
                if isinstance(row, tuple) and row is not UNKNOWN and kept.get(at) is row:
                    self.row(key, row, kept, at)
                    yield


class Unreadable(ValueError):
    """A persisted history that cannot be used: another format or policy, another timeline,
    or damaged (events/history_codec.py). The caller folds the log instead."""


def inflated(packed: bytes, size: int) -> bytes:
    """Compressed documents inflated, checked to be as long as written (zlib's checksum
    refuses damaged ones)."""
    try:
        data = zlib.decompress(packed)
    except zlib.error as e:
        raise Unreadable(f"damaged documents: {e}") from e
    if len(data) != size:
        raise Unreadable("documents of another length than written")
    return data
