"""chronicle checkpoint and chronicle verify [--against]: the log checked against its Merkle
tree and its signed checkpoints, after what a superuser or an insider can do behind the
application's back. The commands run in-process with typer's runner (in a thread: each runs
its own event loop) against the database of the ``api`` fixture, signing with its key."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import text
from typer.testing import CliRunner

from api.cli.commands import app
from api.services.archive import verify_log
from api.services.log_audit import audit_log
from api.services.log_recompute import b64, recompute
from api.services.signed_notes import generate, open_checkpoint, sign_checkpoint, sign_note
from events.chain import Envelope, envelope_hash
from events.checkpoints import Checkpoint
from events.merkle import Frontier
from tests.integration.conftest import Api
from tests.integration.khasham import report, story
from tests.rfc6962 import mth

runner = CliRunner()
ORIGIN = "localhost/chronicle"
STORY = 12  # the events story() appends


async def chronicle(*args: str) -> Result:
    return await asyncio.to_thread(runner.invoke, app, list(args))


@pytest.fixture
async def log(api: Api, database_url: str, monkeypatch: pytest.MonkeyPatch,
              tmp_path: Path) -> Api:
    """The story told, and the command line pointed at its database and key."""
    await api.services.transparency.close()  # the test decides when checkpoints are signed
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("CHRONICLE_SIGNER_KEY", api.services.transparency.signer.text())
    monkeypatch.setenv("CHRONICLE_DATA_DIR", str(tmp_path / "data"))
    for name in ("CHRONICLE_LOG_ORIGIN", "CHRONICLE_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    assert api.services.transparency.origin == ORIGIN
    await story(api)
    assert await api.event_count() == STORY
    return api


async def grow(api: Api, count: int) -> None:
    """``count`` more events: reports of the strike's toll."""
    before = await api.event_count()
    for i in range(count):
        await api.ok("reportFact", report("strike", "killed", {"count": {"best": 5 + i}},
                                          "mfa", "CLAIMED", f"2018-02-{10 + i:02d}T12:00:00Z"))
    assert await api.event_count() == before + count


async def save_checkpoint(path: Path) -> Checkpoint:
    """What an auditor does: ``chronicle checkpoint > path``."""
    result = await chronicle("checkpoint")
    assert result.exit_code == 0, result.output
    await asyncio.to_thread(path.write_text, result.stdout, encoding="utf-8")
    return Checkpoint.parse(result.stdout[:result.stdout.index("\n\n") + 1])


async def as_superuser(api: Api, *statements: str,
                       rows: Mapping[str, list[dict[str, Any]]] | None = None) -> None:
    """Behind the application's back: the append-only triggers off, the change, back on."""
    tables = ("events", "idempotency_keys", "merkle_nodes", "log_checkpoints")
    async with api.engine.begin() as connection:
        for table in tables:
            await connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        for statement in statements:
            await connection.execute(text(statement))
        for statement, values in (rows or {}).items():
            await connection.execute(text(statement), values)
        for table in tables:
            await connection.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))


def failed(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    return result.stderr


async def test_a_kept_checkpoint_is_extended_by_later_events(log: Api, tmp_path: Path) -> None:
    saved = tmp_path / "saved.txt"
    checkpoint = await save_checkpoint(saved)
    stored = await log.services.transparency.checkpoints.latest()
    assert stored is not None and saved.read_text() == stored.note  # the note, exactly
    verifier = log.services.transparency.signer.verifier()
    assert open_checkpoint(saved.read_text(), [verifier]) == checkpoint
    assert (checkpoint.origin, checkpoint.size) == (ORIGIN, STORY)
    assert checkpoint.root == await log.services.transparency.tree.root(STORY)
    again = await chronicle("checkpoint")  # the log did not grow: the same checkpoint
    assert again.stdout == stored.note
    await grow(log, 3)

    result = await chronicle("verify", "--against", str(saved))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"the hash chain is intact: {STORY + 3} events",
        f"the stored Merkle tree matches the events ({STORY + 3})",
        f"the 1 stored checkpoint signed by {ORIGIN} matches the log",
        f"the log extends the checkpoint of {STORY} events (root {b64(checkpoint.root)}); "
        f"it now holds {STORY + 3}"]
    later = await save_checkpoint(tmp_path / "later.txt")
    assert later.size == STORY + 3
    key = verifier.text()
    result = await chronicle("verify", "--against", str(tmp_path / "later.txt"), "--key", key)
    assert result.exit_code == 0, result.output
    assert "the 2 stored checkpoints signed by" in result.stdout


@pytest.mark.parametrize("cleaned", ["events", "events and tree", "everything"])
async def test_a_log_cut_short_passes_the_chain_check_but_not_a_kept_checkpoint(
        log: Api, tmp_path: Path, cleaned: str) -> None:
    await grow(log, 4)
    saved = tmp_path / "saved.txt"
    checkpoint = await save_checkpoint(saved)
    assert checkpoint.size == STORY + 4
    keep = STORY
    statements = [f"DELETE FROM idempotency_keys WHERE position > {keep}",
                  f"DELETE FROM events WHERE position > {keep}"]
    if cleaned != "events":
        statements.append(f"DELETE FROM merkle_nodes WHERE (idx + 1) * (1::bigint << level)"
                          f" > {keep}")
    if cleaned == "everything":
        statements.append(f"DELETE FROM log_checkpoints WHERE tree_size > {keep}")
    await as_superuser(log, *statements)
    assert await log.event_count() == keep

    plain = await chronicle("verify")
    # The issue: the hash chain of what is left is intact.
    assert f"the hash chain is intact: {keep} events" in plain.stdout
    assert (await verify_log(log.services.store)).ok
    if cleaned == "events":  # the tree still holds the events that were deleted
        assert (f"merkle_nodes holds {STORY + 4} events, more than the {keep} of the log: "
                f"the log was cut short") in failed(plain)
    if cleaned == "events and tree":  # the checkpoint Chronicle stored says how long it was
        assert (f"of {STORY + 4} events (signed ") in failed(plain)
        assert (f"the log holds {keep} events, fewer than the {STORY + 4} of the checkpoint: "
                f"it was cut short") in plain.stderr
    if cleaned == "everything":  # nothing in the database remembers the longer log...
        assert plain.exit_code == 0, plain.output

    # ...but a checkpoint kept outside it does.
    against = await chronicle("verify", "--against", str(saved))
    assert (f"the log holds {keep} events, fewer than the {STORY + 4} of the checkpoint: it "
            f"was cut short") in failed(against).splitlines()


async def test_a_log_shorter_than_its_tree_refuses_writes_naming_why(
        log: Api, caplog: pytest.LogCaptureFixture) -> None:
    """Events deleted behind Chronicle's back while the tree still holds them: no append can
    follow the tree, so every write is refused, clearly, all of a group commit at once, and
    nothing is stored; reads and checks go on."""
    await grow(log, 4)
    await as_superuser(log, f"DELETE FROM idempotency_keys WHERE position > {STORY}",
                       f"DELETE FROM events WHERE position > {STORY}")
    write = report("strike", "killed", {"count": {"best": 9}}, "mfa", "CLAIMED",
                   "2018-02-20T12:00:00Z")
    mutation = ("mutation($input: ReportFactInput!) { reportFact(input: $input) "
                "{ event { position } } }")
    answers = await asyncio.gather(*(log.post(mutation, {"input": write}) for _ in range(3)))
    answers.append(await log.post(mutation, {"input": write}))
    for answer in answers:
        [error] = answer["errors"]
        assert error["extensions"]["code"] == "LOG_DAMAGED", error
        assert error["message"].startswith(f"the log holds {STORY} events but its Merkle "
                                           f"tree {STORY + 4}: ")
    assert await log.event_count() == STORY
    read = await log.post('{ timeline(slug: "khasham") { slug } }')
    assert read["data"]["timeline"]["slug"] == "khasham"
    assert await log.services.transparency.catch_up() == STORY + 4  # as at start: logged
    assert any("events committed to it were deleted" in r.getMessage()
               for r in caplog.records if r.levelname == "ERROR")


async def rewrite(api: Api, position: int,
                  change: Callable[[Mapping[str, Any]], dict[str, Any]]) -> None:
    """An insider's rewrite: one event's data changed, every hash from it on recomputed as
    the application would have, and the Merkle tree rebuilt to match."""
    store = api.services.store
    before = [e.hash for e in await store.read(0, position - 1)]
    after = [e async for chunk in store.chunks(after=position - 1) for e in chunk]
    prev_hash = after[0].prev_hash
    rewritten: list[Envelope] = []
    for envelope in after:
        envelope = replace(envelope, prev_hash=prev_hash,
                           data=change(envelope.data) if not rewritten else envelope.data)
        envelope = replace(envelope, hash=envelope_hash(envelope))
        rewritten.append(envelope)
        prev_hash = envelope.hash
    _, nodes = Frontier.empty().append([*before, *(e.hash for e in rewritten)])
    await as_superuser(api, "DELETE FROM merkle_nodes", rows={
        "UPDATE events SET data = CAST(:data AS jsonb), prev_hash = :prev_hash, hash = :hash "
        "WHERE position = :position": [
            {"data": json.dumps(e.data), "prev_hash": e.prev_hash, "hash": e.hash,
             "position": e.position} for e in rewritten],
        "INSERT INTO merkle_nodes (level, idx, hash) VALUES (:level, :idx, :hash)": [
            {"level": level, "idx": idx, "hash": digest} for (level, idx), digest in nodes]})


def regraded(data: Mapping[str, Any]) -> dict[str, Any]:
    assert data["reliability"] == "F", data
    return {**data, "reliability": "A"}


async def test_a_chain_recomputed_by_an_insider_passes_the_chain_but_not_the_roots(
        log: Api, tmp_path: Path) -> None:
    await grow(log, 4)
    saved = tmp_path / "saved.txt"
    checkpoint = await save_checkpoint(saved)  # kept by an auditor, and stored
    await grow(log, 4)
    size = STORY + 8
    hashes_before = [e.hash for e in await log.services.store.read(0, size)]
    await rewrite(log, 5, regraded)  # "several news outlets" graded A instead of F

    assert (await verify_log(log.services.store)).ok  # the chain alone sees nothing
    hashes = [e.hash for e in await log.services.store.read(0, size)]
    assert hashes[:4] == hashes_before[:4] and hashes[4] != hashes_before[4]
    leaves = [bytes.fromhex(h) for h in hashes]
    root_now = mth(leaves[:checkpoint.size])
    assert root_now != checkpoint.root
    plain = await chronicle("verify")
    assert f"the hash chain is intact: {size} events" in plain.stdout
    assert f"the stored Merkle tree matches the events ({size})" in plain.stdout
    stored = await log.services.transparency.checkpoints.latest()
    assert stored is not None
    assert (f"stored checkpoint {stored.id} of {checkpoint.size} events (signed "
            in failed(plain))
    assert (f"at size {checkpoint.size} the log's root is {b64(root_now)}, the checkpoint's is "
            f"{b64(checkpoint.root)}: events up to position {checkpoint.size} were changed"
            ) in plain.stderr

    # The insider holds the key too: the stored checkpoints replaced by one of the new log.
    await as_superuser(log, "DELETE FROM log_checkpoints")
    resigned = await save_checkpoint(tmp_path / "resigned.txt")
    assert (resigned.size, resigned.root) == (size, mth(leaves))
    plain = await chronicle("verify")
    assert plain.exit_code == 0, plain.output
    against = await chronicle("verify", "--against", str(saved))
    assert (f"at size {checkpoint.size} the log's root is {b64(root_now)}, the checkpoint's "
            f"is {b64(checkpoint.root)}: events up to position {checkpoint.size} were "
            f"changed") in failed(against).splitlines()
    assert f"the hash chain is intact: {size} events" in against.stdout


def edit_size(note: str) -> str:
    return note.replace(f"\n{STORY}\n", f"\n{STORY - 1}\n", 1)


def edit_root(note: str) -> str:
    origin, size, _, rest = note.split("\n", 3)
    return "\n".join([origin, size, base64.b64encode(bytes(32)).decode(), rest])


def other_key(note: str) -> str:
    return sign_checkpoint(Checkpoint.parse(note[:note.index("\n\n") + 1]), generate("other"))


OTHER = generate("other")


@pytest.mark.parametrize(("forge", "extra", "message"), [
    (edit_size, [], f"not a checkpoint signed by {ORIGIN} (KEY): the signature by {ORIGIN} "
                    f"does not verify"),
    (edit_root, [], f"the signature by {ORIGIN} does not verify"),
    (other_key, [], "the note has no signature by a known key: it is signed by other ("),
    (lambda note: "not a note", [], "malformed note: it does not end in a newline"),
    (lambda note: sign_checkpoint(Checkpoint("other", 3, bytes(32)), OTHER),
     ["--key", OTHER.verifier().text()],
     f"the checkpoint is of the log other, but this log is {ORIGIN}"),
    (lambda note: sign_note("hello\n", OTHER), ["--key", OTHER.verifier().text()],
     "the note signed by other (OTHER) is not a checkpoint: too few lines"),
    (lambda note: note, ["--key", "other+00000000+AAAA"], "--key is not a verifier key: "),
], ids=["size edited", "root edited", "another key", "not a note", "another log",
        "not a checkpoint", "bad key"])
async def test_a_forged_checkpoint_is_refused_in_one_line(
        log: Api, tmp_path: Path, forge: Callable[[str], str], extra: list[str],
        message: str) -> None:
    saved = tmp_path / "saved.txt"
    await save_checkpoint(saved)
    forged = tmp_path / "forged.txt"
    forged.write_text(forge(saved.read_text()), encoding="utf-8")
    result = await chronicle("verify", "--against", str(forged), *extra)
    key_id = f"{log.services.transparency.signer.key_id:08x}"
    expected = message.replace("KEY", key_id).replace("OTHER", f"{OTHER.key_id:08x}")
    assert result.stdout == ""
    assert failed(result).count("\n") == 1 and expected in result.stderr, result.stderr


@pytest.mark.parametrize(("tamper", "message"), [
    ("UPDATE merkle_nodes SET hash = sha256('forged') WHERE level = 1 AND idx = 2",
     "merkle_nodes holds {forged} for the node at level 1, index 2 (events 5 to 6), but the "
     "events give {real}"),
    ("DELETE FROM merkle_nodes WHERE level = 2 AND idx = 1",
     "merkle_nodes lacks the node at level 2, index 1 (events 5 to 8)"),
    ("INSERT INTO merkle_nodes VALUES (3, 5, sha256('forged'))",
     "merkle_nodes holds the node at level 3, index 5 (events 41 to 48), past the 12 events "
     "its leaves hold"),
], ids=["changed", "missing", "beyond"])
async def test_a_tampered_tree_is_caught_at_its_node(log: Api, tamper: str,
                                                     message: str) -> None:
    real = await log.scalar("SELECT hash FROM merkle_nodes WHERE level = 1 AND idx = 2")
    await as_superuser(log, tamper)
    forged = await log.scalar("SELECT sha256('forged')")
    result = await chronicle("verify")
    expected = message.format(forged=b64(forged), real=b64(real))
    assert expected in failed(result).splitlines(), result.stderr
    assert f"the hash chain is intact: {STORY} events" in result.stdout


async def test_a_tree_behind_the_log_is_caught_up_by_chronicle_checkpoint(log: Api) -> None:
    """As after the upgrade that added the tree: its nodes past an event are not there yet,
    which is no tampering."""
    await as_superuser(log, "DELETE FROM merkle_nodes WHERE (idx + 1) * (1::bigint << level)"
                            " > 5")
    result = await chronicle("verify")
    assert result.exit_code == 0, result.output
    assert f"matches the events it holds (5 of {STORY};" in result.stdout
    note = (await chronicle("checkpoint")).stdout
    assert note.startswith(f"{ORIGIN}\n{STORY}\n")
    result = await chronicle("verify")
    assert f"the stored Merkle tree matches the events ({STORY})" in result.stdout


async def test_stored_checkpoints_of_other_keys_are_not_checked_and_rows_must_match_notes(
        log: Api) -> None:
    transparency = log.services.transparency
    root = await transparency.tree.root(STORY)

    async def sign(size: int) -> tuple[bytes, str]:
        return root, sign_checkpoint(Checkpoint(ORIGIN, size, root), OTHER)

    await transparency.checkpoints.issue(STORY, OTHER.name, OTHER.key_id, sign)
    ours = await transparency.checkpoint()
    audit = await audit_log(transparency)
    assert audit.ok, audit.findings
    assert [f.message for f in audit.findings][2:] == [
        f"the 1 stored checkpoint signed by {ORIGIN} matches the log",
        f"1 stored checkpoint signed by other keys was not checked: other "
        f"({OTHER.key_id:08x})"]
    await as_superuser(log, f"UPDATE log_checkpoints SET root = sha256('x') "
                            f"WHERE id = {ours.id}")
    forged = await log.scalar("SELECT sha256('x')")
    audit = await audit_log(transparency)
    assert not audit.ok
    assert [f.message for f in audit.findings if not f.ok] == [
        f"stored checkpoint {ours.id} of {STORY} events (signed "
        f"{ours.signed_at:%Y-%m-%d %H:%M:%S%z}): its note is of {STORY} events (root "
        f"{b64(root)}), its row says {STORY} (root "
        f"{b64(forged)})"]


async def test_roots_at_every_size_asked_come_from_one_pass(log: Api) -> None:
    await grow(log, 9)
    hashes = [bytes.fromhex(e.hash) for e in await log.services.store.read(0, 100)]
    sizes = {0, 1, 2, 7, 8, 13, len(hashes)}
    done: list[int] = []
    recomputed = await recompute(log.services.store, sizes | {len(hashes) + 5},
                                 on_progress=done.append)
    assert recomputed.size == len(hashes) and done == [len(hashes)]
    assert recomputed.roots == {size: mth(hashes[:size]) for size in sizes}
    assert recomputed.mismatch(len(hashes) + 5, bytes(32)) == (
        f"the log holds {len(hashes)} events, fewer than the {len(hashes) + 5} of the "
        f"checkpoint: it was cut short")
