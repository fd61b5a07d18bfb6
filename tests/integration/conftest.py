from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from api.app import create_app
from api.services.auth import Scope
from api.services.wiring import Services
from api.settings import Settings
from tests.databases import Databases


@pytest.fixture(scope="session")
async def databases() -> AsyncIterator[Databases]:
    dbs = Databases()
    yield dbs
    await dbs.drop_all()


@pytest.fixture
async def database_url(databases: Databases) -> AsyncIterator[str]:
    """A fresh, migrated database of the test's own, dropped after it (and after every
    fixture using it)."""
    url = await databases.fresh()
    yield url
    await databases.drop(url)


class Api:
    """An in-process Chronicle app with an HTTP client and helpers for tests."""

    def __init__(self, client: httpx.AsyncClient, services: Services, app: Starlette) -> None:
        self.client = client
        self.services = services
        self.app = app
        self.token = ""

    @property
    def engine(self) -> AsyncEngine:
        return self.services.engine

    async def post(self, query: str, variables: dict[str, Any] | None = None,
                   token: str | None = None) -> dict[str, Any]:
        headers = {}
        bearer = self.token if token is None else token
        if bearer:
            headers["authorization"] = f"Bearer {bearer}"
        response = await self.client.post("/graphql", json={"query": query,
                                                            "variables": variables or {}},
                                          headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def mutate(self, mutation: str, input: dict[str, Any], selection: str = "event "
                     "{ position }", token: str | None = None) -> dict[str, Any]:
        name = mutation[0].upper() + mutation[1:]
        return await self.post(
            f"mutation($input: {name}Input!) {{ {mutation}(input: $input) {{ {selection} }} }}",
            {"input": input}, token=token)

    async def ok(self, mutation: str, input: dict[str, Any],
                 selection: str = "event { position }") -> dict[str, Any]:
        body = await self.mutate(mutation, input, selection)
        assert "errors" not in body, body["errors"]
        result: dict[str, Any] = body["data"][mutation]
        return result

    async def scalar(self, sql: str) -> Any:
        async with self.engine.connect() as connection:
            return (await connection.execute(text(sql))).scalar()

    async def event_count(self) -> int:
        return int(await self.scalar("SELECT count(*) FROM events"))


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with running_api(Settings(database_url=database_url, migrate_on_start=False)) as a:
        yield a


class running_api:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def __aenter__(self) -> Api:
        self.app = create_app(self.settings)
        self.lifespan = self.app.router.lifespan_context(self.app)
        await self.lifespan.__aenter__()
        services: Services = self.app.state.services
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app),
                                        base_url="http://chronicle.test")
        api = Api(self.client, services, self.app)
        api.token = await services.tokens.create("tester", Scope.WRITE)
        return api

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()
        await self.lifespan.__aexit__(None, None, None)


DEMO_SETUP: list[tuple[str, dict[str, Any]]] = [
    ("createTimeline", {"slug": "khasham", "title": "Khasham, February 2018"}),
    ("registerSource", {"id": "pentagon", "name": "Pentagon", "kind": "MILITARY"}),
    ("registerSource", {"id": "business-insider", "name": "Business Insider",
                        "kind": "MEDIA"}),
    ("openEntry", {"timeline": "khasham", "id": "tank", "title": "Tank destroyed"}),
]


@pytest.fixture
async def seeded(api: Api) -> Api:
    for mutation, input in DEMO_SETUP:
        await api.ok(mutation, input)
    return api
