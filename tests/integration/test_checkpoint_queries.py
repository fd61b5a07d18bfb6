"""Signed checkpoints and their proofs, as auditors get them (``checkpoint``, ``checkpoints``,
``inclusionProof``, ``consistencyProof`` and ``GET /checkpoint``), checked by code that
shares nothing with the code that made them: ``cryptography``'s Ed25519 for the signature,
the note parsed here, and ``tests/rfc6962.py`` for the tree."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import text

from api.services.auth import Scope
from api.settings import Settings
from tests.integration.conftest import Api, running_api
from tests.integration.khasham import story
from tests.rfc6962 import mth, verify_consistency, verify_inclusion

INCLUSION = """query($position: Int!, $treeSize: Int) {
  inclusionProof(position: $position, treeSize: $treeSize) {
    leafIndex treeSize hashes checkpoint } }"""
CONSISTENCY = """query($from: Int!, $to: Int) {
  consistencyProof(from: $from, to: $to) { from to hashes } }"""
CHECKPOINTS = """query($first: Int!, $after: String) {
  checkpoints(first: $first, after: $after) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes { treeSize rootHash keyName keyId note signedAt } } }"""


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    """The ``api`` of conftest, with the background signer an hour away: the checkpoints
    stored are the ones the tests ask for."""
    settings = Settings(database_url=database_url, migrate_on_start=False,
                        checkpoint_every_seconds=3600)
    async with running_api(settings) as running:
        yield running


@dataclass(frozen=True)
class Opened:
    origin: str
    size: int
    root: bytes


def opened(note: str, api: Api) -> Opened:
    """The checkpoint in ``note`` once its one signature, by this deployment's key, verifies
    (InvalidSignature otherwise), read as c2sp.org/signed-note and tlog-checkpoint say."""
    verifier = api.services.transparency.signer.verifier()
    blank = note.rindex("\n\n")
    body, signature_line = note[:blank + 1], note[blank + 2:]
    assert signature_line.endswith("\n") and signature_line.count("\n") == 1
    assert signature_line.startswith("\u2014 ")
    name, encoded = signature_line[2:-1].split(" ")
    assert name == verifier.name
    data = base64.b64decode(encoded, validate=True)
    assert len(data) == 4 + 64
    assert int.from_bytes(data[:4], "big") == verifier.key_id
    Ed25519PublicKey.from_public_bytes(verifier.public_key).verify(data[4:], body.encode())
    origin, size, root = body.removesuffix("\n").split("\n")
    return Opened(origin, int(size), base64.b64decode(root, validate=True))


async def leaves(api: Api) -> list[bytes]:
    """The tree's leaf data: every event's hash as 32 bytes, in position order."""
    async with api.engine.connect() as connection:
        rows = await connection.execute(text("SELECT hash FROM events ORDER BY position"))
        return [bytes.fromhex(row.hash.strip()) for row in rows]


async def data(api: Api, query: str, **variables: Any) -> Any:
    body = await api.post(query, variables)
    assert "errors" not in body, body["errors"]
    return body["data"]


async def signed_checkpoint(api: Api) -> str:
    note: str = (await data(api, "{ checkpoint }"))["checkpoint"]
    return note


async def more_events(api: Api, count: int) -> None:
    for i in range(count):
        await api.ok("openEntry", {"timeline": "khasham", "id": f"more{i}",
                                   "title": f"More {i}"})


def hashes(proof: dict[str, Any]) -> list[bytes]:
    return [base64.b64decode(h, validate=True) for h in proof["hashes"]]


async def test_the_checkpoint_signs_the_root_of_the_whole_log(api: Api) -> None:
    await story(api)
    note = await signed_checkpoint(api)
    response = await api.client.get("/checkpoint")
    assert response.status_code == 200
    assert response.text == note
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"

    checkpoint = opened(note, api)
    logged = await leaves(api)
    assert checkpoint.size == len(logged) == await api.event_count() == 12
    assert checkpoint.root == mth(logged)
    assert checkpoint.origin == api.services.transparency.origin
    forged = note.replace(f"\n{checkpoint.size}\n", f"\n{checkpoint.size + 1}\n")
    with pytest.raises(InvalidSignature):
        opened(forged, api)

    await more_events(api, 3)
    grown = opened((await api.client.get("/checkpoint")).text, api)
    assert grown.size == 15 and grown.root == mth(await leaves(api))
    assert await signed_checkpoint(api) == (await api.client.get("/checkpoint")).text


async def test_inclusion_proofs_lead_to_the_root_of_a_signed_checkpoint(api: Api) -> None:
    await story(api)
    first_note = await signed_checkpoint(api)
    first = opened(first_note, api)
    await more_events(api, 5)
    logged = await leaves(api)
    latest_note = await signed_checkpoint(api)
    latest = opened(latest_note, api)
    assert (first.size, latest.size) == (12, 17)

    for position in (1, latest.size // 2, first.size, latest.size):
        proof = (await data(api, INCLUSION, position=position))["inclusionProof"]
        assert proof["leafIndex"] == position - 1
        assert proof["treeSize"] == latest.size
        assert proof["checkpoint"] == latest_note
        assert verify_inclusion(logged[position - 1], position - 1, latest.size,
                                hashes(proof), latest.root), position
        assert not verify_inclusion(logged[position % latest.size], position - 1,
                                    latest.size, hashes(proof), latest.root)

    for position in (1, first.size // 2, first.size):
        proof = (await data(api, INCLUSION, position=position,
                            treeSize=first.size))["inclusionProof"]
        assert (proof["treeSize"], proof["checkpoint"]) == (first.size, first_note)
        assert verify_inclusion(logged[position - 1], position - 1, first.size,
                                hashes(proof), first.root), position

    # A size no checkpoint was signed at: the proof holds, there is no note to check it by.
    proof = (await data(api, INCLUSION, position=3, treeSize=14))["inclusionProof"]
    assert proof["checkpoint"] is None
    assert verify_inclusion(logged[2], 2, 14, hashes(proof), mth(logged[:14]))


async def test_a_consistency_proof_links_two_checkpoints_taken_at_different_times(
        api: Api) -> None:
    await story(api)
    older_note = await signed_checkpoint(api)
    await more_events(api, 7)
    newer_note = await signed_checkpoint(api)
    older, newer = opened(older_note, api), opened(newer_note, api)
    assert (older.size, newer.size) == (12, 19)

    for to in (newer.size, None):
        proof = (await data(api, CONSISTENCY, **{"from": older.size, "to": to})
                 )["consistencyProof"]
        assert (proof["from"], proof["to"]) == (older.size, newer.size)
        assert verify_consistency(older.size, newer.size, older.root, newer.root,
                                  hashes(proof))
        assert not verify_consistency(older.size, newer.size, mth([b"\0" * 32] * 12),
                                      newer.root, hashes(proof))
    for old in (0, newer.size):
        proof = (await data(api, CONSISTENCY, **{"from": old}))["consistencyProof"]
        assert (proof["from"], proof["to"], proof["hashes"]) == (old, newer.size, [])

    first_page = (await data(api, CHECKPOINTS, first=1))["checkpoints"]
    second_page = (await data(api, CHECKPOINTS, first=1,
                              after=first_page["pageInfo"]["endCursor"]))["checkpoints"]
    both = (await data(api, CHECKPOINTS, first=20))["checkpoints"]
    assert [n["note"] for n in first_page["nodes"]] == [newer_note]
    assert [n["note"] for n in second_page["nodes"]] == [older_note]
    assert both["nodes"] == first_page["nodes"] + second_page["nodes"]
    assert first_page["pageInfo"]["hasNextPage"] is True
    assert first_page["pageInfo"]["hasPreviousPage"] is False
    assert second_page["pageInfo"]["hasNextPage"] is False
    assert second_page["pageInfo"]["hasPreviousPage"] is True
    assert both["pageInfo"]["hasNextPage"] is False

    verifier = api.services.transparency.signer.verifier()
    for node, checkpoint in zip(both["nodes"], (newer, older), strict=True):
        assert node["treeSize"] == checkpoint.size
        assert base64.b64decode(node["rootHash"]) == checkpoint.root
        assert (node["keyName"], node["keyId"]) == (verifier.name, f"{verifier.key_id:08x}")
    newer_at, older_at = (datetime.fromisoformat(n["signedAt"]) for n in both["nodes"])
    assert older_at <= newer_at


def cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(("query", "variables", "field"), [
    (INCLUSION, {"position": 0}, "position"),
    (INCLUSION, {"position": -3}, "position"),
    (INCLUSION, {"position": 13, "treeSize": 12}, "position"),
    (INCLUSION, {"position": 13}, "position"),
    (INCLUSION, {"position": 1, "treeSize": 13}, "treeSize"),
    (INCLUSION, {"position": 1, "treeSize": -1}, "treeSize"),
    (CONSISTENCY, {"from": -1}, "from"),
    (CONSISTENCY, {"from": 5, "to": 4}, "from"),
    (CONSISTENCY, {"from": 13}, "from"),
    (CONSISTENCY, {"from": 1, "to": 13}, "to"),
    (CHECKPOINTS, {"first": 1, "after": "not a cursor"}, "after"),
    (CHECKPOINTS, {"first": 1, "after": cursor("event:1")}, "after"),
    (CHECKPOINTS, {"first": 1, "after": cursor("checkpoint:-1")}, "after"),
    (CHECKPOINTS, {"first": 1, "after": cursor("checkpoint:0")}, "after"),
    (CHECKPOINTS, {"first": 1, "after": cursor("checkpoint:" + "9" * 30)}, "after"),
    (CHECKPOINTS, {"first": 1, "after": base64.urlsafe_b64encode(b"\xff\xfe").decode()},
     "after"),
    (CHECKPOINTS, {"first": -1}, "first"),
    (CHECKPOINTS, {"first": 501}, "first"),
], ids=["position 0", "negative position", "position past treeSize", "position past the log",
        "treeSize past the log", "negative treeSize", "negative from", "from past to",
        "from past the log", "to past the log", "cursor not base64", "event cursor",
        "negative id", "id 0", "id past bigint", "cursor not UTF-8", "negative first",
        "first over the limit"])
async def test_impossible_sizes_positions_and_cursors_are_bad_input(
        api: Api, query: str, variables: dict[str, Any], field: str) -> None:
    await story(api)
    await signed_checkpoint(api)
    body = await api.post(query, variables)  # asserts a 200
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_INPUT", error
    assert error["extensions"]["field"] == field, error


async def test_a_deployment_that_requires_a_token_to_read_requires_one_for_checkpoints(
        api: Api) -> None:
    settings = dataclasses.replace(api.services.settings, require_read_token=True)
    async with running_api(settings) as private:
        refused = await private.client.get("/checkpoint")
        assert refused.status_code == 401
        for query in ("{ checkpoint }", "{ checkpoints { nodes { note } } }",
                      "{ inclusionProof(position: 1) { hashes } }",
                      "{ consistencyProof(from: 0) { hashes } }"):
            body = await private.post(query, token="")
            assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", query
        reader = await private.services.tokens.create("auditor", Scope.READ)
        allowed = await private.client.get("/checkpoint",
                                           headers={"authorization": f"Bearer {reader}"})
        assert allowed.status_code == 200
        assert allowed.text == (await private.post("{ checkpoint }",
                                                   token=reader))["data"]["checkpoint"]


async def test_a_get_answer_about_checkpoints_is_new_once_one_is_signed(api: Api) -> None:
    """Checkpoints are signed while the log stands still: the log's head alone would let a
    client keep an answer that no longer holds."""
    await story(api)
    params = {"query": "{ checkpoints { nodes { treeSize } } }"}
    before = await api.client.get("/graphql", params=params)
    assert before.json()["data"]["checkpoints"]["nodes"] == []
    await signed_checkpoint(api)  # the head has not moved
    after = await api.client.get("/graphql", params=params,
                                 headers={"if-none-match": before.headers["etag"]})
    assert after.status_code == 200
    assert after.json()["data"]["checkpoints"]["nodes"] == [{"treeSize": 12}]
    again = await api.client.get("/graphql", params=params,
                                 headers={"if-none-match": after.headers["etag"]})
    assert again.status_code == 304


async def test_the_embed_footer_links_the_signed_checkpoint(api: Api) -> None:
    await story(api)
    for path in ("/embed/khasham", "/embed/khasham?part=content"):
        page = (await api.client.get(path)).text
        footer = page.split("<footer>", 1)[1].split("</footer>", 1)[0]
        assert '<a href="http://chronicle.test/checkpoint">Signed checkpoint of the log</a>' \
            in footer, path
        assert "nothing recorded up to it was changed or removed" in " ".join(footer.split())
