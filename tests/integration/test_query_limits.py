"""Every way a document reaches the schema goes through the same limits: a query over HTTP,
an automatic persisted query, a trusted document, an operation over WebSocket."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from api.graphql.limits import MAX_NESTING
from api.services.documents import TrustedDocument
from api.settings import Settings
from tests.integration.conftest import Api, running_api
from tests.integration.ws import GraphQLWs, served

GRAPHQL_RESPONSE = "application/graphql-response+json"
TOO_COMPLEX = "QUERY_TOO_COMPLEX"

# Over the limits of ``small`` by one each.
DEEP = "{ timelines { entries { nodes { facts { attribute } } } } }"
ALIASED = "{ a: __typename b: __typename c: __typename d: __typename }"
COSTLY = "{ timeline(slug: \"t\") { entries(first: 50) { nodes { id title } } } }"


def padded(comments: int) -> str:
    """A cheap query of ``3 + comments`` tokens: the parser counts comments too."""
    return "{ __typename" + " # padding\n" * comments + "}"


LONG = padded(198)


LIMITS: dict[str, Any] = {"max_depth": 4, "max_aliases": 3, "max_cost": 100,
                          "max_tokens": 200}


@pytest.fixture
async def small(database_url: str) -> AsyncIterator[Api]:
    settings = Settings(database_url=database_url, migrate_on_start=False, **LIMITS)
    async with running_api(settings) as api:
        yield api


@pytest.fixture
async def trusted_only(database_url: str) -> AsyncIterator[Api]:
    settings = Settings(database_url=database_url, migrate_on_start=False,
                        trusted_documents_only=True, **LIMITS)
    async with running_api(settings) as api:
        yield api


def refusal(body: dict[str, Any]) -> dict[str, Any]:
    assert body.get("data") is None, body
    assert len(body["errors"]) == 1, body["errors"]
    error: dict[str, Any] = body["errors"][0]
    assert error["extensions"]["code"] == TOO_COMPLEX, error
    return error


async def test_each_limit_is_refused_over_http_saying_which_and_by_how_much(
        small: Api) -> None:
    assert refusal(await small.post(DEEP))["message"] == (
        "The query is more than 4 fields deep; at most 4 are allowed.")
    assert refusal(await small.post(ALIASED))["message"] == (
        "The query has 4 aliases; at most 3 are allowed.")
    assert "would cost 152 " in refusal(await small.post(COSTLY))["message"]
    assert "more than 200 tokens" in refusal(await small.post(LONG))["message"]
    # Exactly at the limits, the same shapes run.
    await small.ok("createTimeline", {"slug": "t", "title": "T"})
    for query in ("{ timelines { entries(first: 1) { nodes { id } } } }",
                  ALIASED.replace(" d: __typename", ""), COSTLY.replace("50", "30"),
                  padded(197)):
        body = await small.post(query)
        assert "errors" not in body, (query, body["errors"])


async def test_a_refusal_is_a_request_error_for_graphql_response_clients(small: Api) -> None:
    for query in (DEEP, LONG):
        response = await small.client.post("/graphql", json={"query": query},
                                           headers={"accept": GRAPHQL_RESPONSE})
        assert response.status_code == 400
        assert "data" not in response.json()
        assert response.json()["errors"][0]["extensions"]["code"] == TOO_COMPLEX


def persisted(document: str) -> dict[str, Any]:
    sha = hashlib.sha256(document.encode()).hexdigest()
    return {"persistedQuery": {"version": 1, "sha256Hash": sha}}


@pytest.mark.parametrize("document", [DEEP, ALIASED, COSTLY, LONG])
async def test_a_persisted_query_is_held_to_the_limits_sent_whole_or_by_hash(
        small: Api, document: str) -> None:
    whole = await small.client.post("/graphql", json={"query": document,
                                                      "extensions": persisted(document)})
    refusal(whole.json())
    by_hash = await small.client.post("/graphql", json={"extensions": persisted(document)})
    refusal(by_hash.json())


@pytest.mark.parametrize("document", [DEEP, ALIASED, COSTLY, LONG])
async def test_a_trusted_document_is_held_to_the_limits_too(trusted_only: Api,
                                                            document: str) -> None:
    sha = hashlib.sha256(document.encode()).hexdigest()
    await trusted_only.services.documents.register([TrustedDocument(sha, document)])
    refusal(await trusted_only.post(document))
    by_hash = await trusted_only.client.post("/graphql",
                                             json={"extensions": persisted(document)})
    refusal(by_hash.json())


async def test_an_untrusted_document_is_refused_as_untrusted_whatever_its_size(
        trusted_only: Api) -> None:
    body = await trusted_only.post(DEEP)
    assert body["errors"][0]["extensions"]["code"] == "TRUSTED_DOCUMENT_REQUIRED"


SUBSCRIPTIONS = {
    "deep": "subscription { timelineChanged(slug: \"t\") { facts { reports { report "
            "{ id } } } } }",
    "aliased": "subscription { events(after: 0) { a: position b: position c: position "
               "d: position } }",
}


async def test_subscriptions_and_operations_over_websocket_are_held_to_the_limits(
        small: Api) -> None:
    async with served(small.app) as url, GraphQLWs(url) as client:
        for id, document in [*SUBSCRIPTIONS.items(), ("query", ALIASED), ("long", LONG)]:
            await client.subscribe(id, document)
            message = await client.receive(id)
            assert message["type"] == "error", message
            assert message["payload"][0]["extensions"]["code"] == TOO_COMPLEX, message
        await client.subscribe("fine", "{ a: __typename }")
        assert (await client.next_data("fine")) == {"a": "Query"}


async def test_fragments_nested_almost_as_deep_as_allowed_run_on_a_real_stack(
        api: Api) -> None:
    """The rules recurse for each fragment: up to the nesting limit, Python's stack holds."""
    def chain(n: int) -> str:
        return "{ ...F0 } " + " ".join(f"fragment F{i} on Query {{ ...F{i + 1} }}"
                                       for i in range(n - 1)) + \
            f" fragment F{n - 1} on Query {{ __typename }}"

    assert await api.post(chain(MAX_NESTING - 1)) == {"data": {"__typename": "Query"}}
    refusal(await api.post(chain(MAX_NESTING + 1)))
