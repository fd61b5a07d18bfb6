"""Signed checkpoints of the log and their proofs, for auditors: ``checkpoint``,
``checkpoints``, ``inclusionProof`` and ``consistencyProof`` (api/services/transparency.py).

The log is an RFC 6962 Merkle tree: leaf i is the event at position i + 1, its data the
event's hash as 32 raw bytes. Hashes travel as standard base64, as in the checkpoint's note.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Protocol

import strawberry
from strawberry.types import Info

from api.graphql import cursors
from api.graphql.access import check_first, require_reader
from api.graphql.types import PageInfo
from api.services.transparency import Transparency

CURSOR_KIND = "checkpoint"


class StoredCheckpoint(Protocol):
    """What the services give for a checkpoint they stored."""

    @property
    def id(self) -> int: ...
    @property
    def tree_size(self) -> int: ...
    @property
    def root(self) -> bytes: ...
    @property
    def key_name(self) -> str: ...
    @property
    def key_id(self) -> int: ...
    @property
    def note(self) -> str: ...
    @property
    def signed_at(self) -> datetime: ...


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@strawberry.type(description="A checkpoint this deployment signed: the size and root hash "
                 "of the log's Merkle tree at one moment, as a C2SP signed note.")
class Checkpoint:
    tree_size: int = strawberry.field(
        description="How many events the tree held: the log's first `treeSize` events.")
    root_hash: str = strawberry.field(
        description="The tree's root hash (RFC 6962 §2.1), base64: what inclusion and "
        "consistency proofs of this size are checked against.")
    key_name: str = strawberry.field(description="The name of the key that signed it.")
    key_id: str = strawberry.field(
        description="The key's ID, 8 hex digits, as in its verifier key "
        "`<name>+<key ID>+<key>`: which of the log's keys to check the signature with.")
    note: str = strawberry.field(
        description="The signed note (C2SP tlog-checkpoint): origin, size and base64 root, "
        "a blank line, then `— <key name> <signature>`. Keep a copy: it commits the log to "
        "everything recorded up to it.")
    signed_at: datetime = strawberry.field(description="When it was signed.")

    @classmethod
    def from_stored(cls, stored: StoredCheckpoint) -> Checkpoint:
        return cls(tree_size=stored.tree_size, root_hash=b64(stored.root),
                   key_name=stored.key_name, key_id=f"{stored.key_id:08x}", note=stored.note,
                   signed_at=stored.signed_at)


@strawberry.type
class CheckpointEdge:
    cursor: str
    node: Checkpoint


@strawberry.type(description="The checkpoints signed so far, newest first.")
class CheckpointConnection:
    edges: list[CheckpointEdge]
    page_info: PageInfo

    @strawberry.field
    def nodes(self) -> list[Checkpoint]:
        return [edge.node for edge in self.edges]


@strawberry.type(description="An audit path (RFC 6962 §2.1.1): that one event is a leaf of "
                 "the tree of `treeSize` events.")
class InclusionProof:
    leaf_index: int = strawberry.field(
        description="The event's leaf: its position minus one. The leaf's data is the "
        "event's `hash` as 32 bytes.")
    tree_size: int = strawberry.field(
        description="The size of the tree the path leads up to: check it against the root "
        "of a checkpoint of this size.")
    hashes: list[str] = strawberry.field(
        description="The audit path, base64, from the leaf's sibling up to the root's "
        "child: hash the leaf with them (RFC 9162 §2.1.3.2) and compare with the root.")
    checkpoint: str | None = strawberry.field(
        description="The signed checkpoint note of exactly `treeSize` events, whose root "
        "the path must lead to; null when this deployment's key signed none of that size "
        "(ask without `treeSize` to get a proof for the latest checkpoint).")


@strawberry.type(description="A consistency proof (RFC 6962 §2.1.2): that the tree of "
                 "`from` events is a prefix of the tree of `to` events, so that nothing "
                 "recorded in the first was changed or removed.")
class ConsistencyProof:
    from_: int = strawberry.field(
        name="from", description="The size of the older tree (an older checkpoint's).")
    to: int = strawberry.field(description="The size of the newer tree.")
    hashes: list[str] = strawberry.field(
        description="The proof's hashes, base64: with both checkpoints' roots, check them "
        "as RFC 9162 §2.1.4.2 says. Empty when `from` is 0 or equals `to`.")


def transparency_of(info: Info) -> Transparency:
    transparency: Transparency = info.context.services.transparency
    return transparency


def _note(checkpoint: StoredCheckpoint | None) -> str | None:
    return None if checkpoint is None else checkpoint.note


def checkpoint_cursor(checkpoint_id: int) -> str:
    return cursors.encode(CURSOR_KIND, str(checkpoint_id))


def checkpoint_id(cursor: str) -> int:
    """The id of the checkpoint a cursor of ``checkpoints`` stands for."""
    return cursors.position(cursors.payload(cursor, CURSOR_KIND))


@strawberry.type
class TransparencyQuery:
    @strawberry.field(description="The latest signed checkpoint of the log, as a C2SP signed "
                      "note (signed now if the log has grown since the last one). Keep it: "
                      "with a consistency proof from its size, it shows later that nothing "
                      "recorded up to it was changed or removed. Also at `GET /checkpoint`.")
    async def checkpoint(self, info: Info) -> str:
        await require_reader(info)
        return (await transparency_of(info).checkpoint()).note

    @strawberry.field(description="Every checkpoint signed, newest first: the roots an "
                      "auditor can ask proofs against.")
    async def checkpoints(self, info: Info, first: int = 20,
                          after: str | None = None) -> CheckpointConnection:
        await require_reader(info)
        check_first(info, first)
        after_id = checkpoint_id(after) if after else None
        stored, more = await transparency_of(info).checkpoints.page(first, after_id)
        edges = [CheckpointEdge(cursor=checkpoint_cursor(s.id), node=Checkpoint.from_stored(s))
                 for s in stored]
        return CheckpointConnection(edges=edges, page_info=PageInfo(
            has_next_page=more, has_previous_page=after_id is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None))

    @strawberry.field(description="That the event at `position` is in the tree of `treeSize` "
                      "events (by default the latest checkpoint's, signed now if the event "
                      "is newer): an RFC 6962 §2.1.1 audit path from leaf `position - 1` to "
                      "the root.")
    async def inclusion_proof(
            self, info: Info,
            position: Annotated[int, strawberry.argument(
                description="The event's position in the log (1 for the first).")],
            tree_size: Annotated[int | None, strawberry.argument(
                description="The size of a signed checkpoint you hold; the position must "
                "be within it.")] = None) -> InclusionProof:
        await require_reader(info)
        transparency = transparency_of(info)
        proof = await transparency.inclusion_proof(position, tree_size)
        return InclusionProof(
            leaf_index=proof.leaf_index, tree_size=proof.tree_size,
            hashes=[b64(h) for h in proof.hashes],
            checkpoint=_note(await transparency.checkpoint_of_size(proof.tree_size)))

    @strawberry.field(description="That the tree of `from` events is a prefix of the tree of "
                      "`to` events (by default the latest checkpoint's): an RFC 6962 §2.1.2 "
                      "consistency proof between two checkpoints' roots.")
    async def consistency_proof(
            self, info: Info,
            from_: Annotated[int, strawberry.argument(
                name="from", description="The size of the older checkpoint you hold.")],
            to: Annotated[int | None, strawberry.argument(
                description="The size of the newer checkpoint; at least `from`.")] = None,
    ) -> ConsistencyProof:
        await require_reader(info)
        proof = await transparency_of(info).consistency_proof(from_, to)
        return ConsistencyProof(from_=proof.old, to=proof.new,
                                hashes=[b64(h) for h in proof.hashes])
