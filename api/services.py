"""What the delivery layer needs, wired once by ``create_app`` (the composition root)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from api.auth import TokenBook
from api.database import listen_dsn
from api.documents import Documents
from api.history_cache import HistoryCache
from api.live import TimelineChanges
from api.log_feed import LogFeed
from api.metrics import Metrics
from api.rate_limit import WriteLimiter
from api.settings import Settings
from events.appender import Appender
from events.projection import PostgresProjection
from events.read_model import ReadModel
from events.store import PostgresEventStore


@dataclass(slots=True)
class Services:
    settings: Settings
    engine: AsyncEngine
    store: PostgresEventStore
    appender: Appender
    read_model: ReadModel
    tokens: TokenBook
    histories: HistoryCache
    feed: LogFeed
    changes: TimelineChanges
    documents: Documents
    metrics: Metrics
    writes: WriteLimiter

    @classmethod
    def build(cls, settings: Settings, engine: AsyncEngine) -> Services:
        store = PostgresEventStore(engine)
        read_model = ReadModel(engine)
        metrics = Metrics()
        feed = LogFeed(store, listen_dsn(engine))
        return cls(settings=settings, engine=engine, store=store,
                   appender=Appender(store, PostgresProjection(), max_batch=settings.max_batch,
                                     on_batch=metrics.batch),
                   read_model=read_model, tokens=TokenBook(engine),
                   histories=HistoryCache(store), feed=feed,
                   changes=TimelineChanges(feed, read_model), documents=Documents(engine),
                   metrics=metrics,
                   writes=WriteLimiter(settings.write_rate, settings.write_burst))

    async def start(self) -> None:
        await self.feed.start()

    async def close(self) -> None:
        await self.changes.close()
        await self.feed.close()
        await self.appender.close()
        await self.engine.dispose()
