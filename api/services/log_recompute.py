"""The log as its events give it, in one pass: the hash chain, and the RFC 6962 tree rebuilt
from the events' own hashes (events/merkle.py) with its root at every size asked about,
compared node by node with the tree ``merkle_nodes`` keeps, which is checked here, never
trusted. Memory stays flat: a chunk of events, the O(log n) frontier and one root per size
asked about. What the results mean is for api/services/log_audit.py to say.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine

from events.chain import ChainCheck, ChainVerifier
from events.merkle import Frontier, Node
from events.postgres.merkle_tree import kept_nodes
from events.postgres.store import PostgresEventStore

if TYPE_CHECKING:
    import asyncpg

Progress = Callable[[int], None]  # told the last position done so far

# The events the kept tree holds (its leaves), and, in the same snapshot, the first kept node
# that covers any leaf past them: none can, since appends add a leaf and the nodes it
# completes in one statement. Numeric, so a forged level cannot overflow the arithmetic.
_KEPT_TREE = """
WITH tree AS (SELECT coalesce(max(idx) + 1, 0) AS leaves FROM merkle_nodes WHERE level = 0)
SELECT tree.leaves, beyond.level, beyond.idx
FROM tree LEFT JOIN LATERAL (
    SELECT level, idx FROM merkle_nodes
    WHERE (idx + 1)::numeric * 2::numeric ^ level > tree.leaves
    ORDER BY idx::numeric * 2::numeric ^ level, level DESC
    LIMIT 1) AS beyond ON true
"""


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def events_under(node: Node) -> str:
    """The positions of the events a node covers, in words."""
    level, index = node
    first, last = (index << level) + 1, (index + 1) << level
    return f"event {first}" if first == last else f"events {first} to {last}"


def _covers_up_to(node: Node) -> int:
    level, index = node
    return (index + 1) << level


def _quiet(done: int) -> None:
    return None


class RootWalk:
    """The tree rebuilt from event hashes fed in position order, with its root taken at each
    of ``sizes`` as the walk passes it. Pure."""

    def __init__(self, sizes: Iterable[int]) -> None:
        self.frontier = Frontier.empty()
        self.roots: dict[int, bytes] = {}
        self._sizes = sorted({size for size in sizes if size >= 0})
        self._next = 0
        self._take_roots()

    @property
    def size(self) -> int:
        return self.frontier.size

    def append(self, event_hashes: Sequence[str]) -> list[tuple[Node, bytes]]:
        """Append these events' leaves; every node they complete, in the order made."""
        added: list[tuple[Node, bytes]] = []
        start = 0
        while start < len(event_hashes):
            end = len(event_hashes)
            if self._next < len(self._sizes):  # stop where a root is wanted
                end = min(end, start + self._sizes[self._next] - self.frontier.size)
            self.frontier, nodes = self.frontier.append(event_hashes[start:end])
            added.extend(nodes)
            start = end
            self._take_roots()
        return added

    def _take_roots(self) -> None:
        while self._next < len(self._sizes) and self._sizes[self._next] == self.frontier.size:
            self.roots[self.frontier.size] = self.frontier.root()
            self._next += 1


def node_difference(made: Sequence[tuple[Node, bytes]],
                    kept: Mapping[Node, bytes]) -> str | None:
    """How the kept nodes first differ from those made from the events (None: they agree)."""
    for node, digest in made:
        level, index = node
        where = f"the node at level {level}, index {index} ({events_under(node)})"
        stored = kept.get(node)
        if stored is None:
            return f"merkle_nodes lacks {where}"
        if stored != digest:
            return (f"merkle_nodes holds {b64(stored)} for {where}, but the events give "
                    f"{b64(digest)}")
    return None


@dataclass(frozen=True, slots=True)
class Recomputed:
    """The log as its events give it."""

    chain: ChainCheck
    size: int  # the events read
    roots: Mapping[int, bytes]  # the root at each size asked about, up to ``size``
    kept_size: int  # the events the kept tree holds
    tree_problem: str | None  # how the kept tree differs from the events (None: it does not)

    def mismatch(self, size: int, root: bytes) -> str | None:
        """How a checkpoint of ``size`` with ``root`` differs from the log (None: the log
        extends it)."""
        if size > self.size:
            return (f"the log holds {self.size} events, fewer than the {size} of the "
                    f"checkpoint: it was cut short")
        ours = self.roots[size]
        if ours != root:
            return (f"at size {size} the log's root is {b64(ours)}, the checkpoint's is "
                    f"{b64(root)}: events up to position {size} were changed")
        return None


async def recompute(store: PostgresEventStore, sizes: Iterable[int],
                    on_progress: Progress = _quiet) -> Recomputed:
    """One pass over the log: the chain, the tree from the events' hashes, its roots at
    ``sizes``, and the kept tree compared node by node."""
    chain, walk = ChainVerifier(), RootWalk(sizes)
    async with _driver(store.engine) as driver:
        row = await driver.fetchrow(_KEPT_TREE)
        kept_size: int = row["leaves"]
        problem = None
        if row["level"] is not None:
            node = (row["level"], row["idx"])
            problem = (f"merkle_nodes holds the node at level {node[0]}, index {node[1]} "
                       f"({events_under(node)}), past the {kept_size} events its leaves hold")
        async for chunk in store.chunks():
            for envelope in chunk:
                chain.feed(envelope)  # a no-op once broken: it names the first break
            made = walk.append([envelope.hash for envelope in chunk])
            if problem is None:
                # Nodes past the kept leaves are missing, not wrong: a log appended before
                # the tree existed is caught up by the next start (or chronicle checkpoint).
                made = [(node, h) for node, h in made if _covers_up_to(node) <= kept_size]
                problem = node_difference(made, await kept_nodes(
                    driver, [node for node, _ in made]))
            on_progress(chunk[-1].position)
    if problem is None and kept_size > walk.size:
        problem = (f"merkle_nodes holds {kept_size} events, more than the {walk.size} of the "
                   f"log: the log was cut short")
    return Recomputed(chain.result(), walk.size, walk.roots, kept_size, problem)


@asynccontextmanager
async def _driver(engine: AsyncEngine) -> AsyncIterator[asyncpg.Connection]:
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        yield raw.driver_connection
