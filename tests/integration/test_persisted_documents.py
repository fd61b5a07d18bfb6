"""Automatic persisted queries (Apollo's protocol) and trusted documents."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from api.services.documents import parse_manifest
from api.settings import Settings
from events.errors import BadInput
from tests.integration.conftest import Api, running_api

QUERY = "query Sources { sources { id } }"
SHA = hashlib.sha256(QUERY.encode()).hexdigest()


def persisted(sha: str = SHA) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha}}


async def send(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.client.post("/graphql", json=body)
    result: dict[str, Any] = response.json()
    return result


def code(body: dict[str, Any]) -> str:
    result: str = body["errors"][0]["extensions"]["code"]
    return result


async def test_apq_round_trip_hash_then_document_then_hash(seeded: Api) -> None:
    first = await send(seeded, {"extensions": persisted()})
    assert code(first) == "PERSISTED_QUERY_NOT_FOUND"
    assert first["errors"][0]["message"] == "PersistedQueryNotFound"

    full = await send(seeded, {"query": QUERY, "extensions": persisted()})
    assert full["data"]["sources"] == [{"id": "business-insider"}, {"id": "pentagon"}]

    again = await send(seeded, {"extensions": persisted()})
    assert again == full


async def test_apq_over_get(seeded: Api) -> None:
    await send(seeded, {"query": QUERY, "extensions": persisted()})
    response = await seeded.client.get("/graphql", params={
        "extensions": json.dumps(persisted())})
    assert response.status_code == 200
    assert response.json()["data"]["sources"][0]["id"] == "business-insider"


async def test_a_hash_that_does_not_match_its_document_is_refused(api: Api) -> None:
    body = await send(api, {"query": QUERY, "extensions": persisted("0" * 64)})
    assert code(body) == "BAD_INPUT"
    assert "does not match" in body["errors"][0]["message"]
    malformed = await send(api, {"query": QUERY, "extensions": {
        "persistedQuery": {"version": 2, "sha256Hash": SHA}}})
    assert code(malformed) == "BAD_INPUT"


@pytest.fixture
async def trusted_only(database_url: str) -> AsyncIterator[Api]:
    settings = Settings(database_url=database_url, migrate_on_start=False,
                        trusted_documents_only=True)
    async with running_api(settings) as api:
        yield api


def manifest(tmp_path: Path, *documents: str) -> Path:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({
        "format": "apollo-persisted-query-manifest", "version": 1,
        "operations": [{"id": hashlib.sha256(d.encode()).hexdigest(), "body": d,
                        "name": f"op{i}", "type": "query"} for i, d in enumerate(documents)]}))
    return path


def register(database_url: str, path: Path) -> subprocess.CompletedProcess[str]:
    env = {"DATABASE_URL": database_url, "PATH": str(Path(sys.executable).parent)}
    return subprocess.run([str(Path(sys.executable).parent / "chronicle"), "documents",
                           "register", str(path)], env=env, capture_output=True, text=True,
                          timeout=120, check=False)


async def test_only_registered_documents_run_when_the_deployment_says_so(
        trusted_only: Api, database_url: str, tmp_path: Path) -> None:
    refused = await trusted_only.post(QUERY)
    assert code(refused) == "TRUSTED_DOCUMENT_REQUIRED"

    result = register(database_url, manifest(tmp_path, QUERY))
    assert result.returncode == 0, result.stderr
    assert "1 documents registered (1 new)" in result.stdout

    assert (await trusted_only.post(QUERY)) == {"data": {"sources": []}}
    by_hash = await send(trusted_only, {"extensions": persisted()})
    assert by_hash == {"data": {"sources": []}}
    other = await trusted_only.post("{ sources { name } }")
    assert code(other) == "TRUSTED_DOCUMENT_REQUIRED"


async def test_registering_again_is_harmless(api: Api, database_url: str,
                                             tmp_path: Path) -> None:
    path = manifest(tmp_path, QUERY, "{ timelines { slug } }")
    assert "2 documents registered (2 new)" in register(database_url, path).stdout
    assert "2 documents registered (0 new)" in register(database_url, path).stdout


def test_a_manifest_with_a_wrong_hash_is_refused_naming_the_entry(tmp_path: Path) -> None:
    bad = json.dumps({"operations": [{"id": SHA, "body": QUERY},
                                     {"id": SHA, "body": "{ timelines { slug } }"}]})
    with pytest.raises(BadInput, match="operation 2"):
        parse_manifest(bad)
    relay = parse_manifest(json.dumps({SHA: QUERY}))
    assert [d.sha256 for d in relay] == [SHA]
    with pytest.raises(BadInput, match="line 1"):
        parse_manifest("{not json")
