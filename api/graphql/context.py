"""Per-request context: the services, who is asking, and per-request caches."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from api.graphql.fragments import EntryRenderings
from api.services.auth import Principal, bearer_token
from api.services.reading import PresentView, SnapshotView, TimelineView
from api.services.replicas import LogReader, ReadSource
from api.services.track_records import SourceRecord, track_records
from api.services.wiring import Services
from events.as_of import Axis, Moment
from events.history_index import TimelineHistory
from events.postgres.read_model import ReadModel
from events.rows import SourceRow
from events.values import parse_instant


@dataclass(slots=True)
class Context:
    services: Services
    authorization: str | None
    request: Any = None
    response: Any = None
    # Set by the graphql-transport-ws handler from connection_init's payload.
    connection_params: dict[str, Any] | None = None
    # Set by the view for a read whose answer it encodes at once (api/graphql/fragments.py).
    entry_renderings: EntryRenderings | None = None
    _principal: asyncio.Future[Principal | None] | None = None
    _sources: asyncio.Future[dict[str, SourceRow]] | None = field(default=None)
    _histories: dict[str, TimelineHistory] = field(default_factory=dict)
    _track_records: dict[Moment, asyncio.Future[dict[str, SourceRecord]]] = field(
        default_factory=dict)

    # Where this request reads (api/services/replicas.py): a standby for a query the view
    # routed there, else the primary (mutations, subscriptions).
    source: ReadSource | None = None
    # The last position a mutation of this request appended (its answer carries it).
    appended: int = 0

    def read_from(self, source: ReadSource) -> None:
        """Read from ``source`` from now on, forgetting what was loaded from another."""
        self.source = source
        self._sources = None
        self._track_records = {}

    @property
    def read_source(self) -> ReadSource:
        return self.source or self.services.replicas.primary

    @property
    def read_model(self) -> ReadModel:
        return self.read_source.read_model

    @property
    def read_store(self) -> LogReader:
        """The log as this request reads it (the primary's store appends)."""
        return self.read_source.store

    async def principal(self) -> Principal | None:
        """The token's principal, None without a token; a bad token raises UNAUTHENTICATED.
        Looked up once per request: resolvers that ask at the same time all wait for that
        one answer (none sees "no token" while the lookup is under way). A token the
        process remembers as valid is answered at once, without a task for its lookup."""
        if self._principal is None:
            self._principal = self._look_up_principal()
        return await self._principal

    def _look_up_principal(self) -> asyncio.Future[Principal | None]:
        token = bearer_token(self._authorization())
        known = None if token is None else self.services.tokens.remembered(token)
        if token is not None and known is None:
            return asyncio.ensure_future(self._principal_of(token))
        answered: asyncio.Future[Principal | None] = asyncio.get_running_loop().create_future()
        answered.set_result(known)
        return answered

    async def _principal_of(self, token: str) -> Principal | None:
        return await self.services.tokens.principal(token)

    def _authorization(self) -> str | None:
        """Over WebSocket, ``connectionParams.authorization`` (browsers cannot set headers
        there); otherwise the Authorization header."""
        given = (self.connection_params or {}).get("authorization")
        return given if isinstance(given, str) else self.authorization

    async def timeline_view(self, slug: str, as_of: datetime | None,
                            axis: Axis) -> TimelineView:
        """The timeline now, or as it stood at ``as_of`` on ``axis``."""
        if as_of is None:
            return PresentView(self.read_model, self.read_store, slug)
        moment = parse_instant(as_of, "asOf")
        return SnapshotView(await self.history(slug), self.services.store, moment, axis)

    async def history(self, slug: str) -> TimelineHistory:
        """A timeline's kept history, caught up once per request (the response cache and
        the read both ask for it)."""
        if slug not in self._histories:
            self._histories[slug] = await self.services.histories.get(slug)
        return self._histories[slug]

    async def sources(self) -> dict[str, SourceRow]:
        """Every source, loaded once per request (a newsroom has tens, not millions)."""
        if self._sources is None:
            self._sources = asyncio.ensure_future(self._load_sources())
        return await self._sources

    async def _load_sources(self) -> dict[str, SourceRow]:
        return {s.id: s for s in await self.read_model.sources()}

    async def track_records(self, moment: Moment) -> dict[str, SourceRecord]:
        """Every source's track record at ``moment``, worked out once per request for all
        the sources it shows."""
        if moment not in self._track_records:
            self._track_records[moment] = asyncio.ensure_future(
                track_records(self.read_model, self.history, moment))
        return await self._track_records[moment]
