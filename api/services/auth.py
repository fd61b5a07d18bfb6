"""Bearer tokens: created by the CLI, stored as SHA-256 digests, checked per request."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from events.errors import BadInput, Forbidden, Unauthenticated
from events.values import parse_text

TOKEN_PREFIX = "chr_"  # noqa: S105 (a visible prefix, not a secret)


class Scope(Enum):
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: the token's name becomes the actor of the events it writes."""

    name: str
    scope: Scope


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the authorization header must be 'Bearer <token>'")
    return token.strip()


class TokenBook:
    """Tokens in the database, with recently seen ones remembered for ``ttl`` seconds so a
    busy writer does not cost a lookup per request. A token deleted from the table is
    therefore refused by every process within ``ttl`` seconds; one never seen valid is
    looked up again on every request."""

    def __init__(self, engine: AsyncEngine, ttl: float = 30.0, capacity: int = 1024) -> None:
        self.engine = engine
        self.ttl = ttl
        self.capacity = capacity
        self._seen: dict[str, tuple[float, Principal]] = {}

    async def create(self, name: str, scope: Scope) -> str:
        """Store a new token's digest and return the token itself (shown once)."""
        if not isinstance(name, str) or not name.strip():
            raise BadInput("a token needs a name", field="name")
        name = parse_text(name, "name")  # it becomes the actor of every event it writes
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        async with self.engine.begin() as connection:
            await connection.execute(text(
                "INSERT INTO tokens (token_hash, name, scope, created_at) "
                "VALUES (:hash, :name, :scope, now())"),
                {"hash": digest(token), "name": name, "scope": scope.value})
        return token

    def remembered(self, token: str) -> Principal | None:
        """The token's principal when it was found valid less than ``ttl`` seconds ago, with
        no round trip; None when it must be looked up (``principal``)."""
        seen = self._seen.get(digest(token))
        if seen is not None and time.monotonic() - seen[0] < self.ttl:
            return seen[1]
        return None

    async def principal(self, token: str) -> Principal:
        if (known := self.remembered(token)) is not None:
            return known
        wanted = digest(token)
        async with self.engine.connect() as connection:
            row = (await connection.execute(text(
                "SELECT token_hash, name, scope FROM tokens WHERE token_hash = :hash"),
                {"hash": wanted})).first()
        # The lookup is by digest; compare again in constant time so timing reveals nothing.
        if row is None or not hmac.compare_digest(row.token_hash, wanted):
            raise Unauthenticated("the token is not valid")
        principal = Principal(row.name, Scope(row.scope))
        if len(self._seen) >= self.capacity:
            self._seen.clear()
        self._seen[wanted] = (time.monotonic(), principal)
        return principal


def require_writer(principal: Principal | None) -> Principal:
    if principal is None:
        raise Unauthenticated("writing needs a token: send 'authorization: Bearer <token>' "
                              "(create one with chronicle token create --scope write)")
    if principal.scope not in (Scope.WRITE, Scope.ADMIN):
        raise Forbidden(f"token {principal.name!r} has scope {principal.scope.value}; "
                        "writing needs write or admin")
    return principal
