"""A value that changes at increasing keys (positions or instants), kept whole."""

from __future__ import annotations

from bisect import bisect_right
from datetime import datetime
from typing import Generic, TypeVar

K = TypeVar("K", int, datetime)
V = TypeVar("V")


class Versions(Generic[K, V]):
    """A value that changes at increasing keys; ``at(k)`` is the value in force at ``k``."""

    __slots__ = ("keys", "values")

    def __init__(self) -> None:
        self.keys: list[K] = []
        self.values: list[V | None] = []

    def set(self, key: K, value: V | None) -> None:
        if self.values and self.values[-1] == value:
            return
        if self.keys and self.keys[-1] == key:
            self.values[-1] = value
        else:
            self.keys.append(key)
            self.values.append(value)

    def at(self, key: K) -> V | None:
        index = bisect_right(self.keys, key) - 1
        return self.values[index] if index >= 0 else None
