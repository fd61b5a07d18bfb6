"""Checkpoints as a deployment issues them: signed while the log grows, one per size and
key however many processes sign at once, and a checkpoint covering any event on demand."""

from __future__ import annotations

import asyncio
import dataclasses

from api.services.signed_notes import generate, open_checkpoint
from api.services.transparency import Transparency
from events.postgres.log_checkpoints import LogCheckpoints
from tests.integration.conftest import Api, running_api
from tests.integration.khasham import story
from tests.rfc6962 import mth, verify_inclusion


async def event_leaves(api: Api) -> list[bytes]:
    async with api.engine.connect() as connection:
        rows = await connection.exec_driver_sql("SELECT hash FROM events ORDER BY position")
        return [bytes.fromhex(row.hash.strip()) for row in rows]


async def test_a_checkpoint_signs_the_root_of_the_whole_log(api: Api) -> None:
    await story(api)
    transparency = api.services.transparency
    signed = await transparency.checkpoint()
    leaves = await event_leaves(api)
    assert signed.tree_size == len(leaves)
    assert signed.root == mth(leaves)
    opened = open_checkpoint(signed.note, [transparency.signer.verifier()])
    assert (opened.origin, opened.size, opened.root) == (transparency.origin, len(leaves),
                                                        mth(leaves))
    assert await transparency.checkpoint() == signed  # nothing grew: the same one


async def test_processes_signing_at_once_issue_one_checkpoint_per_size(api: Api) -> None:
    await story(api)
    services = api.services
    mine = services.transparency
    others = [Transparency(services.store, mine.signer, mine.origin, every_events=1,
                           every_seconds=1) for _ in range(4)]
    signed = await asyncio.gather(*(t.checkpoint() for t in others))
    assert len({s.id for s in signed}) == 1
    stored = await LogCheckpoints(services.engine).every()
    assert len([s for s in stored if s.tree_size == signed[0].tree_size]) == 1


async def test_another_key_signs_its_own_checkpoints(api: Api) -> None:
    await story(api)
    services = api.services
    mine = await services.transparency.checkpoint()
    other = Transparency(services.store, generate("other.example/log"), "other.example/log",
                         every_events=1, every_seconds=1)
    theirs = await other.checkpoint()
    assert theirs.id != mine.id and theirs.key_name == "other.example/log"
    assert theirs.root == mine.root and theirs.tree_size == mine.tree_size


async def test_while_the_log_grows_checkpoints_follow(api: Api) -> None:
    settings = dataclasses.replace(api.services.settings, checkpoint_every_events=5,
                                   checkpoint_every_seconds=0.3)
    async with running_api(settings) as growing:
        await story(growing)  # a dozen events
        for _ in range(100):
            latest = await growing.services.transparency.checkpoints.latest()
            if latest is not None and latest.tree_size == await growing.event_count():
                break
            await asyncio.sleep(0.05)
        assert latest is not None and latest.tree_size == await growing.event_count()
        sizes = [c.tree_size for c in await growing.services.transparency.checkpoints.every()]
        assert sizes == sorted(sizes) and len(sizes) >= 2


async def test_a_proof_for_an_event_newer_than_every_checkpoint_signs_one(api: Api) -> None:
    await story(api)
    transparency = api.services.transparency
    first = await transparency.checkpoint()
    await api.ok("openEntry", {"timeline": "khasham", "id": "later", "title": "Later"})
    proof = await transparency.inclusion_proof(first.tree_size + 1, None)
    assert proof.tree_size == first.tree_size + 1
    latest = await transparency.checkpoints.latest()
    assert latest is not None and latest.tree_size == proof.tree_size
    leaves = await event_leaves(api)
    assert verify_inclusion(leaves[-1], proof.leaf_index, proof.tree_size, proof.hashes,
                            latest.root)
