"""The signed checkpoints Chronicle issued (``log_checkpoints``, migration 0010): each a C2SP
signed note of the tree's size and root. The table only grows; a process signs under a
transaction-level advisory lock and only past the latest size it finds, so processes
signing at once never issue two checkpoints of one size with one key."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

# pg_advisory_xact_lock key for signing: the bytes of "chkpoint".
SIGNING_LOCK_KEY = int.from_bytes(b"chkpoint", "big") - (1 << 63)

_COLUMNS = "id, tree_size, root, key_name, key_id, note, signed_at"


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    id: int
    tree_size: int
    root: bytes
    key_name: str
    key_id: int
    note: str
    signed_at: datetime


Sign = Callable[[int], Awaitable[tuple[bytes, str]]]  # tree size → (root, signed note)


def _stored(row: object) -> StoredCheckpoint:
    fields = row._asdict()  # type: ignore[attr-defined]
    fields["root"] = bytes(fields["root"])
    return StoredCheckpoint(**fields)


class LogCheckpoints:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def latest(self, key_name: str | None = None,
                     key_id: int | None = None) -> StoredCheckpoint | None:
        """The latest checkpoint (signed by that key, when one is named)."""
        sql = f"SELECT {_COLUMNS} FROM log_checkpoints"  # noqa: S608 (constant)
        params: dict[str, object] = {}
        if key_name is not None:
            sql += " WHERE key_name = :name AND key_id = :id"
            params = {"name": key_name, "id": key_id}
        async with self.engine.connect() as connection:
            row = (await connection.execute(text(sql + " ORDER BY id DESC LIMIT 1"),
                                            params)).first()
        return None if row is None else _stored(row)

    async def of_size(self, size: int, key_name: str, key_id: int) -> StoredCheckpoint | None:
        """The checkpoint of exactly ``size`` leaves signed by that key, if there is one."""
        async with self.engine.connect() as connection:
            row = (await connection.execute(text(
                f"SELECT {_COLUMNS} FROM log_checkpoints WHERE tree_size = :size "  # noqa: S608
                "AND key_name = :name AND key_id = :id ORDER BY id DESC LIMIT 1"),
                {"size": size, "name": key_name, "id": key_id})).first()
        return None if row is None else _stored(row)

    async def page(self, first: int, after: int | None) -> tuple[list[StoredCheckpoint], bool]:
        """Checkpoints newest first, after the one with id ``after``; and whether more
        follow."""
        sql = f"SELECT {_COLUMNS} FROM log_checkpoints"  # noqa: S608 (constant)
        params: dict[str, object] = {"limit": first + 1}
        if after is not None:
            sql += " WHERE id < :after"
            params["after"] = after
        async with self.engine.connect() as connection:
            rows = [_stored(r) for r in await connection.execute(
                text(sql + " ORDER BY id DESC LIMIT :limit"), params)]
        return rows[:first], len(rows) > first

    async def every(self) -> list[StoredCheckpoint]:
        async with self.engine.connect() as connection:
            return [_stored(r) for r in await connection.execute(text(
                f"SELECT {_COLUMNS} FROM log_checkpoints ORDER BY id"))]  # noqa: S608

    async def issue(self, size: int, key_name: str, key_id: int,
                    sign: Sign) -> StoredCheckpoint:
        """The checkpoint of the tree at ``size`` leaves signed by this key: the latest one
        when it is already that big, else a new one made by ``sign``."""
        async with self.engine.begin() as connection:
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                     {"key": SIGNING_LOCK_KEY})
            row = (await connection.execute(text(
                f"SELECT {_COLUMNS} FROM log_checkpoints "  # noqa: S608 (constant)
                "WHERE key_name = :name AND key_id = :id ORDER BY id DESC LIMIT 1"),
                {"name": key_name, "id": key_id})).first()
            latest = None if row is None else _stored(row)
            if latest is not None and latest.tree_size >= size:
                return latest
            root, note = await sign(size)
            row = (await connection.execute(text(
                "INSERT INTO log_checkpoints (tree_size, root, key_name, key_id, note) "  # noqa: S608
                f"VALUES (:size, :root, :name, :id, :note) RETURNING {_COLUMNS}"),
                {"size": size, "root": root, "name": key_name, "id": key_id,
                 "note": note})).one()
            return _stored(row)
