"""The log's Merkle tree in PostgreSQL (``merkle_nodes``, migration 0010; events/merkle.py).

Appends add the nodes their events complete in the append's own statement
(events/postgres/store.py), starting from the tree's frontier: the perfect subtrees of its
right edge, which the store keeps between appends (``TreeTip``) and reads back when another
process appended meanwhile. A log appended before the tree existed is caught up, under the
append lock, from the events' hashes (``catch_up``). Reads of roots and proofs fetch only
the kept nodes they need, in one query.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from events.chain import GENESIS_HASH, Envelope
from events.errors import LogDamaged
from events.merkle import (
    Frontier,
    Node,
    Range,
    consistency_ranges,
    inclusion_ranges,
    nodes_for,
    range_hash,
)

_NODES = ("SELECT level, idx, hash FROM merkle_nodes "
          "WHERE (level, idx) IN (SELECT * FROM unnest($1::smallint[], $2::bigint[]))")
_LEAVES = "SELECT coalesce(max(idx) + 1, 0) FROM merkle_nodes WHERE level = 0"
_LEVEL_RANGE = ("SELECT hash FROM merkle_nodes WHERE level = $1 AND idx BETWEEN $2 AND $3 "
                "ORDER BY idx")
_HASHES_AFTER = "SELECT hash FROM events WHERE position > $1 ORDER BY position LIMIT $2"
_LAST_HASH = "SELECT hash FROM events WHERE position = $1"
INSERT_NODES = ("INSERT INTO merkle_nodes (level, idx, hash) "
                "SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])")
CATCH_UP_CHUNK = 10_000


class MissingNodes(RuntimeError):
    """The tree lacks nodes a read needs: the log has events the tree does not hold yet."""


class TreeTip:
    """The frontier as the last append of this process left it: valid for the next append
    only if that append follows the same last event (no other process appended meanwhile,
    and the append it was made for was not rolled back)."""

    def __init__(self) -> None:
        self.frontier = Frontier.empty()

    def follows(self, first: Envelope) -> Frontier | None:
        frontier = self.frontier
        if frontier.size != first.position - 1:
            return None
        if frontier.size == 0:
            return frontier if first.prev_hash == GENESIS_HASH else None
        return frontier if frontier.last_leaf == first.prev_hash else None


def node_columns(nodes: Sequence[tuple[Node, bytes]]) -> list[list[int] | list[bytes]]:
    """Nodes as the three arrays ``INSERT_NODES`` takes."""
    return [[level for (level, _), _ in nodes], [index for (_, index), _ in nodes],
            [digest for _, digest in nodes]]


async def kept_nodes(driver: asyncpg.Connection, wanted: Iterable[Node]) -> dict[Node, bytes]:
    wanted = list(wanted)
    if not wanted:
        return {}
    rows = await driver.fetch(_NODES, [level for level, _ in wanted],
                              [index for _, index in wanted])
    return {(row["level"], row["idx"]): bytes(row["hash"]) for row in rows}


async def leaves(driver: asyncpg.Connection) -> int:
    """How many events the tree holds."""
    count: int = await driver.fetchval(_LEAVES)
    return count


async def frontier_at(driver: asyncpg.Connection, size: int) -> Frontier:
    """The tree's frontier at ``size`` leaves, read back; MissingNodes if it lacks any."""
    if size == 0:
        return Frontier.empty()
    wanted = Frontier.of_size(size)
    found = await kept_nodes(driver, wanted)
    if len(found) != len(wanted):
        raise MissingNodes(f"the tree holds fewer than {size} events")
    last: str = (await driver.fetchval(_LAST_HASH, size)).strip()
    return Frontier(size, tuple((node, found[node]) for node in wanted), last)


async def catch_up(driver: asyncpg.Connection, size: int) -> Frontier:
    """Add the nodes of events 1..``size`` the tree does not hold yet (under the append lock,
    inside the caller's transaction), and return the frontier at ``size``. LogDamaged when
    the tree holds more: only deleting committed events makes the log shorter than it."""
    held = await leaves(driver)
    if held > size:
        raise LogDamaged(
            f"the log holds {size} events but its Merkle tree {held}: events committed to "
            f"it were deleted since, so nothing more is appended until it is restored "
            f"(`chronicle verify` says what is missing); nothing was stored")
    frontier = await frontier_at(driver, held)
    while frontier.size < size:
        hashes = [row["hash"].strip() for row in await driver.fetch(
            _HASHES_AFTER, frontier.size, min(CATCH_UP_CHUNK, size - frontier.size))]
        frontier, added = frontier.append(hashes)
        await driver.execute(INSERT_NODES, *node_columns(added))
    return frontier


class MerkleTree:
    """Roots and proofs of the tree as committed, read from the kept nodes."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def size(self) -> int:
        async with self._driver() as driver:
            return await leaves(driver)

    async def root(self, size: int) -> bytes:
        return (await self._hashes([(0, size)], size))[0]

    async def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return await self._hashes(inclusion_ranges(index, size), size)

    async def consistency_proof(self, old: int, new: int) -> list[bytes]:
        return await self._hashes(consistency_ranges(old, new), new)

    async def nodes_at(self, level: int, first: int, count: int) -> list[bytes]:
        """The kept nodes ``first`` .. ``first + count - 1`` of one level, those there are."""
        async with self._driver() as driver:
            rows = await driver.fetch(_LEVEL_RANGE, level, first, first + count - 1)
        return [bytes(row["hash"]) for row in rows]

    async def leaf_data(self, first: int, count: int) -> list[bytes]:
        """The data of leaves ``first`` .. ``first + count - 1``: their events' hashes."""
        async with self._driver() as driver:
            rows = await driver.fetch(_HASHES_AFTER, first, count)
        return [bytes.fromhex(row["hash"].strip()) for row in rows]

    async def _hashes(self, ranges: Sequence[Range], size: int) -> list[bytes]:
        async with self._driver() as driver:
            kept = await kept_nodes(driver, nodes_for(ranges))
            if len(kept) != len(nodes_for(ranges)):
                raise MissingNodes(f"the tree holds fewer than {size} events")
        return [range_hash(start, end, kept) for start, end in ranges]

    @asynccontextmanager
    async def _driver(self) -> AsyncIterator[asyncpg.Connection]:
        async with self.engine.connect() as connection:
            raw = await connection.get_raw_connection()
            yield raw.driver_connection
