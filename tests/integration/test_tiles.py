"""The log served as C2SP tlog-tiles, checked by a client written from that specification
and RFC 6962 alone: it rebuilds the checkpoint's root from the tiles and the entry bundles,
never from Chronicle's API."""

from __future__ import annotations

import asyncio
import base64
import hashlib

import pytest

from events.commands import CreateTimeline, OpenEntry
from tests.integration.conftest import Api

TILE = 256


def tile_index(n: int) -> str:
    """A tile index as path elements: 3 digits each, all but the last marked x."""
    digits = f"{n:03d}"
    digits = "0" * (-len(digits) % 3) + digits
    elements = [digits[k:k + 3] for k in range(0, len(digits), 3)]
    return "/".join([*("x" + e for e in elements[:-1]), elements[-1]])


def root_of(leaf_hashes: list[bytes]) -> bytes:
    """RFC 6962 §2.1's MTH, from leaf hashes."""
    if len(leaf_hashes) == 1:
        return leaf_hashes[0]
    k = 1 << ((len(leaf_hashes) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + root_of(leaf_hashes[:k]) + root_of(leaf_hashes[k:])).digest()


async def get(api: Api, path: str) -> bytes:
    response = await api.client.get(path)
    assert response.status_code == 200, (path, response.status_code, response.text)
    return response.content


async def level_hashes(api: Api, kind: str, size: int) -> list[bytes]:
    """Every hash of one level (or every entry) a tree of ``size`` items holds."""
    full, rest = divmod(size, TILE)
    found = []
    for n in range(full):
        found.append(await get(api, f"/tile/{kind}/{tile_index(n)}"))
    if rest:
        found.append(await get(api, f"/tile/{kind}/{tile_index(full)}.p/{rest}"))
    return found


def hashes_of(tile: bytes) -> list[bytes]:
    assert len(tile) % 32 == 0
    return [tile[k:k + 32] for k in range(0, len(tile), 32)]


def entries_of(bundle: bytes) -> list[bytes]:
    entries, at = [], 0
    while at < len(bundle):
        length = int.from_bytes(bundle[at:at + 2], "big")
        entries.append(bundle[at + 2:at + 2 + length])
        at += 2 + length
    return entries


@pytest.fixture
async def grown(api: Api) -> Api:
    """A log of 600 events: two full level-0 tiles and a partial one, a partial level-1."""
    appender = api.services.appender
    await appender.submit(CreateTimeline("tiles", "Tiles"), actor="desk")
    await asyncio.gather(*(appender.submit(OpenEntry("tiles", id=f"e{i}", title=f"E{i}"),
                                           actor="desk") for i in range(599)))
    return api


async def test_a_client_of_the_specification_rebuilds_the_checkpoint_from_the_tiles(
        grown: Api) -> None:
    note = (await get(grown, "/checkpoint")).decode()
    _, size_line, root_line = note.split("\n")[:3]
    size, root = int(size_line), base64.b64decode(root_line)
    assert size == 600
    leaf_hashes = [h for tile in await level_hashes(grown, "0", size) for h in hashes_of(tile)]
    entries = [e for bundle in await level_hashes(grown, "entries", size)
               for e in entries_of(bundle)]
    assert len(leaf_hashes) == len(entries) == size
    assert all(hashlib.sha256(b"\x00" + e).digest() == h
               for e, h in zip(entries, leaf_hashes, strict=True))
    assert root_of(leaf_hashes) == root
    # Level 1: each hash the root of a full level-0 tile.
    level_1 = hashes_of(await get(grown, "/tile/1/000.p/2"))
    assert level_1 == [root_of(leaf_hashes[k * TILE:(k + 1) * TILE]) for k in range(2)]


async def test_tiles_are_immutable_and_only_those_the_log_holds_exist(grown: Api) -> None:
    response = await grown.client.get("/tile/0/000")
    assert response.headers["content-type"] == "application/octet-stream"
    assert "immutable" in response.headers["cache-control"]
    assert len(response.content) == 32 * TILE
    for missing in ("/tile/0/002", "/tile/0/002.p/89", "/tile/1/000", "/tile/2/000.p/1",
                    "/tile/entries/003.p/1"):
        assert (await grown.client.get(missing)).status_code == 404, missing
    for malformed in ("/tile/00/000", "/tile/0/2", "/tile/64/000", "/tile/0/000.p/256",
                      "/tile/entries/x000/001"):
        response = await grown.client.get(malformed)
        assert response.status_code == 404 and "not a tile" in response.text, malformed
