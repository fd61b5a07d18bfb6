"""What the delivery layer needs, wired once by ``create_app`` (the composition root)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from api.database import create_replica_engine, display_url, listen_dsn
from api.services.auth import TokenBook
from api.services.documents import Documents
from api.services.history_cache import HistoryCache
from api.services.intake import CommandIntake
from api.services.live import TimelineChanges
from api.services.metrics import Metrics
from api.services.rate_limit import WriteLimiter
from api.services.replicas import ReadSource, Replicas
from api.services.signing_key import load_signer, log_origin
from api.services.transparency import Transparency
from api.settings import Settings
from events.appender import Appender
from events.postgres.log_feed import LogFeed
from events.postgres.projection import PostgresProjection
from events.postgres.read_model import ReadModel
from events.postgres.store import PostgresEventStore


@dataclass(slots=True)
class Services:
    settings: Settings
    engine: AsyncEngine
    store: PostgresEventStore
    appender: Appender
    intake: CommandIntake
    read_model: ReadModel
    tokens: TokenBook
    histories: HistoryCache
    feed: LogFeed
    changes: TimelineChanges
    documents: Documents
    metrics: Metrics
    writes: WriteLimiter
    transparency: Transparency
    replicas: Replicas

    @classmethod
    def build(cls, settings: Settings, engine: AsyncEngine) -> Services:
        store = PostgresEventStore(engine, PostgresProjection())
        read_model = ReadModel(engine)
        metrics = Metrics()
        feed = LogFeed(store, listen_dsn(engine))
        appender = Appender(store, max_batch=settings.max_batch, on_batch=metrics.batch)
        writes = WriteLimiter(engine, settings.write_rate, settings.write_burst)
        return cls(settings=settings, engine=engine, store=store, appender=appender,
                   intake=CommandIntake(appender, writes),
                   read_model=read_model, tokens=TokenBook(engine),
                   histories=HistoryCache(store), feed=feed,
                   changes=TimelineChanges(feed, read_model), documents=Documents(engine),
                   metrics=metrics,
                   writes=writes,
                   transparency=Transparency(
                       store, load_signer(settings), log_origin(settings),
                       every_events=settings.checkpoint_every_events,
                       every_seconds=settings.checkpoint_every_seconds),
                   replicas=Replicas(
                       ReadSource("primary", engine, read_model, store, primary=True),
                       [_standby(url, settings) for url in settings.replica_urls],
                       primary_head=lambda: feed.head, wait=settings.replica_wait_seconds,
                       max_lag=settings.replica_max_lag, poll=settings.replica_poll_seconds,
                       served=lambda name: metrics.reads_by_source.labels(name).inc()))

    async def start(self) -> None:
        await self.feed.start()
        await self.transparency.catch_up()
        self.transparency.start(self.feed)
        await self.replicas.check_all()
        self.replicas.start()

    async def close(self) -> None:
        await self.transparency.close()
        await self.replicas.close()
        await self.histories.close()  # histories being written down finish first
        await self.changes.close()
        await self.feed.close()
        await self.appender.close()
        await self.engine.dispose()


def _standby(url: str, settings: Settings) -> ReadSource:
    engine = create_replica_engine(url, settings)
    return ReadSource(display_url(url), engine, ReadModel(engine), PostgresEventStore(engine))
