"""Signed checkpoints of the log and the proofs that go with them (RFC 6962, C2SP).

A checkpoint is the tree's size and root, signed by this deployment's key as a C2SP
signed note (events/checkpoints.py). Every process keeps the tree caught up at start and
signs, while the log grows, a checkpoint at least every ``checkpoint_every_events`` events
or ``checkpoint_every_seconds`` seconds; any read that needs one signs it on demand.
Proofs are computed from the kept tree (events/postgres/merkle_tree.py) for sizes an
auditor can hold a signed root for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

from api.services.signed_notes import Signer, sign_checkpoint
from events.background import stopped
from events.checkpoints import Checkpoint
from events.errors import BadInput, LogDamaged
from events.postgres.log_checkpoints import LogCheckpoints, StoredCheckpoint
from events.postgres.log_feed import LogFeed
from events.postgres.merkle_tree import MerkleTree, catch_up
from events.postgres.store import PostgresEventStore
from events.tiles import Tile, bundle

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class InclusionProof:
    leaf_index: int
    tree_size: int
    hashes: list[bytes]


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    old: int
    new: int
    hashes: list[bytes]


class Transparency:
    def __init__(self, store: PostgresEventStore, signer: Signer, origin: str, *,
                 every_events: int, every_seconds: float) -> None:
        self.store = store
        self.signer = signer
        self.origin = origin
        self.every_events = every_events
        self.every_seconds = every_seconds
        self.tree = MerkleTree(store.engine)
        self.checkpoints = LogCheckpoints(store.engine)
        self._task: asyncio.Task[None] | None = None

    # -- the tree and its checkpoints -------------------------------------------------------

    async def catch_up(self) -> int:
        """Add to the tree the events appended before it existed; the tree's size. A log
        shorter than its tree is logged, not raised: it can still be read and verified,
        and every append says what is wrong."""
        try:
            async with self.store.session() as session:
                head = await session.head()
                driver = await session.driver()
                return (await catch_up(driver, head.position)).size
        except LogDamaged as e:
            log.error("%s", e.message)
            return await self.tree.size()

    async def checkpoint(self) -> StoredCheckpoint:
        """The latest checkpoint this key signed, signing one first when the tree has grown
        past it."""
        size = await self.tree.size()
        return await self.checkpoints.issue(size, self.signer.name, self.signer.key_id,
                                            self._sign)

    async def checkpoint_covering(self, size: int) -> StoredCheckpoint:
        """A checkpoint of at least ``size`` leaves (the latest, or one signed now)."""
        latest = await self.checkpoints.latest(self.signer.name, self.signer.key_id)
        if latest is not None and latest.tree_size >= size:
            return latest
        return await self.checkpoint()

    async def checkpoint_of_size(self, size: int) -> StoredCheckpoint | None:
        """The checkpoint of exactly ``size`` leaves this key signed, if any: the signed
        root an auditor checks a proof of that size against."""
        return await self.checkpoints.of_size(size, self.signer.name, self.signer.key_id)

    async def _sign(self, size: int) -> tuple[bytes, str]:
        root = await self.tree.root(size)
        return root, sign_checkpoint(Checkpoint(self.origin, size, root), self.signer)

    # -- tiles (C2SP tlog-tiles) -------------------------------------------------------------

    async def tile(self, tile: Tile) -> bytes | None:
        """A tile's bytes, or None while the tree is too small to hold it (immutable once
        it exists: its hashes are perfect subtrees, which never change)."""
        if await self.tree.size() < tile.leaves_needed():
            return None
        if tile.level is None:
            return bundle(await self.tree.leaf_data(tile.first(), tile.width))
        hashes = await self.tree.nodes_at(tile.tree_level(), tile.first(), tile.width)
        return b"".join(hashes) if len(hashes) == tile.width else None

    # -- proofs -----------------------------------------------------------------------------

    async def inclusion_proof(self, position: int, tree_size: int | None) -> InclusionProof:
        """That the event at ``position`` is leaf ``position - 1`` of the tree of
        ``tree_size`` leaves (by default the latest checkpoint's, signed now if the event is
        newer)."""
        if position < 1:
            raise BadInput("position must be at least 1", field="position")
        if tree_size is None:
            tree_size = (await self.checkpoint_covering(position)).tree_size
        await self._check_size(tree_size, "treeSize")
        if position > tree_size:
            raise BadInput(f"position {position} is not in a tree of {tree_size} events",
                           field="position")
        hashes = await self.tree.inclusion_proof(position - 1, tree_size)
        return InclusionProof(position - 1, tree_size, hashes)

    async def consistency_proof(self, old: int, new: int | None) -> ConsistencyProof:
        """That the tree of ``old`` leaves is a prefix of the tree of ``new`` (by default
        the latest checkpoint's)."""
        if old < 0:
            raise BadInput("from must not be negative", field="from")
        if new is None:
            new = (await self.checkpoint_covering(old)).tree_size
        await self._check_size(new, "to")
        if old > new:
            raise BadInput(f"from ({old}) must not be greater than to ({new})", field="from")
        return ConsistencyProof(old, new, await self.tree.consistency_proof(old, new))

    async def _check_size(self, size: int, field: str) -> None:
        if size < 0:
            raise BadInput(f"{field} must not be negative", field=field)
        known = await self.tree.size()
        if size > known:
            raise BadInput(f"{field} {size} is beyond the log, which holds {known} events",
                           field=field)

    # -- signing while the log grows ---------------------------------------------------------

    def start(self, feed: LogFeed) -> None:
        self._task = asyncio.create_task(self._keep_signing(feed), name="chronicle-checkpoints")

    async def close(self) -> None:
        await stopped(self._task)
        self._task = None

    async def _keep_signing(self, feed: LogFeed) -> None:
        while True:
            try:
                size = await self.tree.size()
                if size:  # an empty log has nothing worth signing yet
                    size = (await self.checkpoint()).tree_size
                await self._until_due(feed, size)
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be away a while: try again later
                log.exception("could not sign a checkpoint; trying again")
                await asyncio.sleep(self.every_seconds)

    async def _until_due(self, feed: LogFeed, size: int) -> None:
        """Wait until the log grows past ``size``, then until it has grown by
        ``every_events`` or ``every_seconds`` have passed, whichever comes first."""
        await feed.reached(size + 1)
        deadline = time.monotonic() + self.every_seconds
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(feed.reached(size + self.every_events),
                                   timeout=max(0.0, deadline - time.monotonic()))
