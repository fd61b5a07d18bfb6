"""Tile paths and sizes as C2SP tlog-tiles defines them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.tiles import NotATile, Tile, bundle, parse_tile_path, tile_path

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("path", "tile"), [
    ("0/000", Tile(0, 0, 256)),
    ("0/x001/x234/067", Tile(0, 1234067, 256)),
    ("3/x001/000.p/17", Tile(3, 1000, 17)),
    ("entries/005", Tile(None, 5, 256)),
    ("entries/x001/x234/067.p/255", Tile(None, 1234067, 255)),
    ("63/000.p/1", Tile(63, 0, 1)),
])
def test_the_paths_of_the_specification(path: str, tile: Tile) -> None:
    assert parse_tile_path(path) == tile
    assert tile_path(tile) == path


@pytest.mark.parametrize("path", [
    "0", "00/000", "64/000", "-1/000", "a/000", "0/0", "0/0000", "0/001/002", "0/x01/002",
    "0/x000/001", "0/000.p/0", "0/000.p/256", "0/000.p/01", "0/000.p/", "entries/",
    "0/000.p", "0/x001", "0/000/extra",
])
def test_paths_that_name_no_tile(path: str) -> None:
    with pytest.raises(NotATile):
        parse_tile_path(path)


@given(level=st.one_of(st.none(), st.integers(0, 63)), index=st.integers(0, 10**12),
       width=st.integers(1, 256))
def test_every_tile_has_one_path_that_reads_back_as_it(level: int | None, index: int,
                                                       width: int) -> None:
    tile = Tile(level, index, width)
    assert parse_tile_path(tile_path(tile)) == tile


def exists(tile: Tile, size: int) -> bool:
    return size >= tile.leaves_needed()


def test_the_tiles_of_a_tree_of_70000_leaves_are_those_the_specification_lists() -> None:
    size = 70_000
    assert exists(Tile(0, 272, 256), size) and not exists(Tile(0, 273, 256), size)
    assert exists(Tile(0, 273, 112), size) and not exists(Tile(0, 273, 113), size)
    assert exists(Tile(1, 0, 256), size) and not exists(Tile(1, 1, 256), size)
    assert exists(Tile(1, 1, 17), size) and not exists(Tile(1, 1, 18), size)
    assert exists(Tile(2, 0, 1), size) and not exists(Tile(2, 0, 2), size)
    assert not exists(Tile(3, 0, 1), size)
    # "a tree of size 256 will be represented by a full level 0 tile and a partial level 1
    # tile of width 1"
    assert exists(Tile(0, 0, 256), 256) and exists(Tile(1, 0, 1), 256)


def test_an_entry_bundle_prefixes_each_entry_with_its_length() -> None:
    assert bundle([b"\x01" * 32, b"ab"]) == b"\x00\x20" + b"\x01" * 32 + b"\x00\x02ab"
