"""The parts the GraphQL view is composed of, without a server: content negotiation, ETags
and conditional requests, encoding, refusals, persisted queries and WebSocket admission."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from graphql import GraphQLError
from starlette.responses import Response
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult

from api.graphql.encoding import encode_json
from api.graphql.etags import (
    NOT_MODIFIED,
    caching_headers,
    entity_tag,
    if_none_match_tags,
    log_key,
    not_modified,
    read_entity_tag,
    reads_checkpoints,
    tag_response,
)
from api.graphql.negotiation import (
    GRAPHQL_RESPONSE,
    JSON,
    is_bad_request,
    is_request_error,
    media_type,
)
from api.graphql.refusals import Refused, refusal_body, refusal_headers
from api.graphql.response_cache import EncodedResult, is_cacheable
from api.graphql.trusted import with_persisted_query
from api.graphql.websocket_auth import admit_connection
from api.services.documents import sha256_of
from events.errors import BadInput, Unauthenticated

# --- content negotiation -----------------------------------------------------------------


@pytest.mark.parametrize(("accept", "expected"), [
    (None, JSON),
    ("", JSON),
    ("application/json", JSON),
    (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
    # Wildcards rank nothing: the client is sent what every client understands.
    ("*/*", JSON),
    ("application/*", JSON),
    ("*/*, application/graphql-response+json;q=0.1", GRAPHQL_RESPONSE),
    ("text/html, application/graphql-response+json;q=0.1", GRAPHQL_RESPONSE),
    # q-values: the higher wins; a tie goes to application/graphql-response+json.
    (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
    (f"application/json, {GRAPHQL_RESPONSE};q=0.9", JSON),
    (f"application/json;q=0.5, {GRAPHQL_RESPONSE};q=0.5", GRAPHQL_RESPONSE),
    (f"{GRAPHQL_RESPONSE};q=0.5, application/json", JSON),
    (f"{GRAPHQL_RESPONSE};q=0.8, application/json;q=0.3", GRAPHQL_RESPONSE),
    # q=0 means "not this"; an unreadable q counts as 0.
    (f"{GRAPHQL_RESPONSE};q=0", JSON),
    (f"{GRAPHQL_RESPONSE};q=0, application/json;q=0", JSON),
    (f"{GRAPHQL_RESPONSE};q=high", JSON),
    # Media types are compared case-insensitively; spaces and other parameters are ignored.
    ("Application/GraphQL-Response+JSON", GRAPHQL_RESPONSE),
    (f" {GRAPHQL_RESPONSE} ; charset=utf-8", GRAPHQL_RESPONSE),
    (f"{GRAPHQL_RESPONSE} ; q = 0.7 , application/json ; q=0.6", GRAPHQL_RESPONSE),
])
def test_the_media_type_follows_the_accept_header(accept: str | None, expected: str) -> None:
    assert media_type(accept) == expected


def error(path: list[str | int] | None = None) -> GraphQLError:
    return GraphQLError("no", path=path)


@pytest.mark.parametrize(("result", "expected"), [
    (ExecutionResult(data=None, errors=[error()]), True),  # parse, validation, variables
    (ExecutionResult(data=None, errors=[error(), error()]), True),
    (ExecutionResult(data=None, errors=[error(["timeline"])]), False),  # a field failed
    (ExecutionResult(data=None, errors=[error(), error(["timeline"])]), False),
    (ExecutionResult(data={"timeline": None}, errors=[error()]), False),
    (ExecutionResult(data={"timeline": None}, errors=None), False),
    (ExecutionResult(data=None, errors=None), False),
    (ExecutionResult(data=None, errors=[]), False),
])
def test_a_request_error_is_one_that_never_reached_execution(result: ExecutionResult,
                                                             expected: bool) -> None:
    assert is_request_error(result) is expected


def test_only_graphql_response_json_answers_a_request_error_with_400() -> None:
    failed = ExecutionResult(data=None, errors=[error()])
    executed = ExecutionResult(data=None, errors=[error(["timeline"])])
    assert is_bad_request(GRAPHQL_RESPONSE, failed)
    assert not is_bad_request(JSON, failed)
    assert not is_bad_request(GRAPHQL_RESPONSE, executed)


# --- ETags and conditional requests ------------------------------------------------------


@pytest.mark.parametrize(("header", "tags"), [
    (None, set()),
    ("", set()),
    ('"abc"', {'"abc"'}),
    ('W/"abc"', {'"abc"'}),  # a weak tag matches as its strong form
    ('"a", W/"b" ,  "c"', {'"a"', '"b"', '"c"'}),
    ('"a","a",W/"a"', {'"a"'}),
    ('"a,b"', {'"a', 'b"'}),  # split on every comma, as the tags sent here have none
    ("*", {"*"}),  # taken as a tag like any other (see below)
])
def test_if_none_match_is_read_as_a_set_of_tags(header: str | None, tags: set[str]) -> None:
    assert if_none_match_tags(header) == tags


def test_a_client_holding_the_tag_has_the_answer_already() -> None:
    tag = entity_tag(("log", 3), JSON)
    assert not_modified(tag, tag)
    assert not_modified(tag, f"W/{tag}")
    assert not_modified(tag, f'"other", {tag}')
    assert not_modified(tag, f'W/"other", W/{tag}')
    assert not not_modified(tag, None)
    assert not not_modified(tag, "")
    assert not not_modified(tag, '"other"')
    assert not not_modified(tag, tag.strip('"'))  # an unquoted tag is another tag
    assert not not_modified(tag, "*")  # no wildcard: a 304 only for a tag sent here


def test_an_entity_tag_is_a_quoted_digest_of_the_key_and_the_media_type() -> None:
    tag = entity_tag(("log", 3, "{ a }"), JSON)
    assert tag.startswith('"') and tag.endswith('"') and len(tag) == 34
    int(tag.strip('"'), 16)
    assert entity_tag(("log", 3, "{ a }"), JSON) == tag
    assert entity_tag(("log", 4, "{ a }"), JSON) != tag
    assert entity_tag(("log", 3, "{ a }"), GRAPHQL_RESPONSE) != tag


def test_the_log_key_stands_for_everything_a_read_depends_on() -> None:
    key = log_key(7, "{ a }", "Q", {"b": 1, "a": [2]})
    assert key == ("log", 7, "{ a }", "Q", json.dumps({"a": [2], "b": 1}))
    assert log_key(7, "{ a }", "Q", {"a": [2], "b": 1}) == key  # variables in any order
    assert log_key(7, "{ a }", None, None) == log_key(7, "{ a }", None, {})
    assert log_key(8, "{ a }", "Q", {"b": 1, "a": [2]}) != key


async def test_a_read_without_a_cache_key_is_tagged_by_the_head_of_the_log() -> None:
    async def head_position() -> int:
        return 12

    context: Any = SimpleNamespace(read_store=SimpleNamespace(head_position=head_position))
    data = GraphQLRequestData(query="{ a }", variables={"x": 1}, operation_name=None,
                              extensions=None)
    assert await read_entity_tag(context, None, data, JSON) == \
        entity_tag(log_key(12, "{ a }", None, {"x": 1}), JSON)
    assert await read_entity_tag(context, ("cached",), data, JSON) == \
        entity_tag(("cached",), JSON)


@pytest.mark.parametrize(("query", "reads"), [
    ("{ checkpoint }", True), ("{ latest: checkpoints { nodes { note } } }", True),
    ("{ inclusionProof(position: 1) { hashes } }", True),
    ("query($from: Int!) { p: consistencyProof(from: $from) { to } }", True),
    ("{ events { nodes { hash } } }", False), (None, False)])
def test_reads_of_checkpoints_are_told_by_the_names_of_their_fields(
        query: str | None, reads: bool) -> None:
    assert reads_checkpoints(query) is reads


async def test_a_read_that_may_show_checkpoints_is_tagged_by_the_latest_one_too() -> None:
    latest: list[Any] = [None]

    async def head_position() -> int:
        return 12

    async def latest_checkpoint() -> Any:
        return latest[0]

    context: Any = SimpleNamespace(
        read_store=SimpleNamespace(head_position=head_position),
        services=SimpleNamespace(transparency=SimpleNamespace(
            checkpoints=SimpleNamespace(latest=latest_checkpoint))))
    data = GraphQLRequestData(query="{ checkpoints { nodes { note } } }", variables=None,
                              operation_name=None, extensions=None)
    tags = []
    for signed in (None, SimpleNamespace(id=4), SimpleNamespace(id=5)):
        latest[0] = signed
        tags.append(await read_entity_tag(context, None, data, JSON))
    assert len(set(tags)) == 3  # the head stood at 12 all along
    assert entity_tag(log_key(12, data.query, None, None), JSON) not in tags


@pytest.mark.parametrize(("private", "cache_control"), [
    (False, "no-cache"), (True, "private, no-cache")])
def test_tagged_answers_are_revalidated_and_private_when_reading_needs_a_token(
        private: bool, cache_control: str) -> None:
    assert caching_headers('"t"', private=private) == {
        "etag": '"t"', "cache-control": cache_control, "vary": "Accept, Authorization"}


def test_tagging_a_response_sets_its_headers_and_304_when_the_client_has_it() -> None:
    fresh = Response()
    tag_response(fresh, '"t"', '"old"', private=False)
    assert fresh.status_code == 200
    assert fresh.headers["etag"] == '"t"'
    assert fresh.headers["cache-control"] == "no-cache"
    assert fresh.headers["vary"] == "Accept, Authorization"
    held = Response()
    tag_response(held, '"t"', 'W/"t"', private=True)
    assert held.status_code == NOT_MODIFIED == 304
    assert held.headers["cache-control"] == "private, no-cache"


# --- encoding ----------------------------------------------------------------------------


def test_answers_are_encoded_as_compact_json_text() -> None:
    data = {"data": {"timeline": {"title": "Crise à Paris", "n": [1, 2.5, None, True]}}}
    encoded = encode_json(data)
    assert isinstance(encoded, str)
    assert encoded == '{"data":{"timeline":{"title":"Crise à Paris","n":[1,2.5,null,true]}}}'
    assert json.loads(encoded) == data


def test_what_orjson_cannot_take_is_encoded_by_json() -> None:
    big = 2**70
    assert encode_json({"n": big}) == json.dumps({"n": big}, separators=(",", ":"))
    assert json.loads(encode_json({"n": big})) == {"n": big}


def test_a_cached_answer_is_sent_as_it_was_encoded() -> None:
    body = '{"data":{"timeline":null}}'
    assert encode_json(EncodedResult(body)) is body


def test_only_answers_with_data_and_no_error_are_cached() -> None:
    assert is_cacheable(ExecutionResult(data={"a": 1}, errors=None))
    assert is_cacheable(ExecutionResult(data={"a": 1}, errors=[]))
    assert not is_cacheable(ExecutionResult(data={"a": None}, errors=[error(["a"])]))
    assert not is_cacheable(ExecutionResult(data=None, errors=None))


# --- refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "code"), [
    (400, "BAD_INPUT"), (405, "METHOD_NOT_ALLOWED"), (415, "BAD_REQUEST")])
def test_a_request_refused_by_http_is_answered_as_a_graphql_error(status: int,
                                                                  code: str) -> None:
    assert refusal_body(status, "no") == {
        "errors": [{"message": "no", "extensions": {"code": code}}]}


def test_a_405_says_which_methods_are_allowed() -> None:
    assert refusal_headers(405) == {"allow": "GET, POST"}
    assert refusal_headers(400) is None
    assert refusal_headers(415) is None


def test_a_refused_request_carries_its_graphql_error() -> None:
    refused = Refused("TOO_COMPLEX", "too many tokens")
    assert str(refused) == "too many tokens"
    assert refused.error.message == "too many tokens"
    assert refused.error.extensions == {"code": "TOO_COMPLEX"}
    assert refused.error.path is None


# --- persisted queries -------------------------------------------------------------------

QUERY = "{ timelines { slug } }"
SHA = sha256_of(QUERY)


class Documents:
    """What persisted queries need of the documents service."""

    def __init__(self, known: dict[str, str] | None = None) -> None:
        self.known = dict(known or {})
        self.remembered: list[tuple[str, str]] = []

    async def find(self, sha: str) -> str | None:
        return self.known.get(sha)

    def remember(self, sha: str, document: str) -> None:
        self.remembered.append((sha, document))


def request(query: str | None, extensions: Any) -> GraphQLRequestData:
    return GraphQLRequestData(query=query, variables=None, operation_name=None,
                              extensions=extensions)


def persisted(sha: Any = SHA, version: Any = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha}}


async def resolve(documents: Any, data: GraphQLRequestData) -> GraphQLRequestData:
    return await with_persisted_query(documents, data)


@pytest.mark.parametrize("extensions", [None, {}, {"other": 1}, "not an object"])
async def test_a_request_without_a_persisted_query_is_left_as_it_is(extensions: Any) -> None:
    data = request(QUERY, extensions)
    assert await resolve(Documents(), data) is data


async def test_a_hash_alone_is_answered_with_its_document() -> None:
    resolved = await resolve(Documents({SHA: QUERY}), request(None, persisted()))
    assert resolved.query == QUERY
    assert resolved.extensions == persisted()


async def test_an_unknown_hash_is_not_found() -> None:
    with pytest.raises(Refused) as refused:
        await resolve(Documents(), request(None, persisted()))
    assert refused.value.error.extensions == {"code": "PERSISTED_QUERY_NOT_FOUND"}
    assert refused.value.error.message == "PersistedQueryNotFound"


async def test_a_hash_with_its_document_is_checked_then_remembered() -> None:
    documents = Documents()
    data = request(QUERY, persisted())
    assert await resolve(documents, data) is data
    assert documents.remembered == [(SHA, QUERY)]
    with pytest.raises(Refused, match="provided sha does not match query") as refused:
        await resolve(documents, request(QUERY + " ", persisted()))
    assert refused.value.error.extensions == {"code": "BAD_INPUT"}
    assert documents.remembered == [(SHA, QUERY)]


@pytest.mark.parametrize("extensions", [
    persisted(version=2), persisted(version="1"), persisted(sha=SHA.upper()),
    persisted(sha=SHA[:-1]), persisted(sha=None), persisted(sha=1),
    {"persistedQuery": "abc"}, {"persistedQuery": [SHA]}])
async def test_a_malformed_persisted_query_is_bad_input(extensions: Any) -> None:
    with pytest.raises(Refused, match="needs version 1 and a sha256Hash") as refused:
        await resolve(Documents({SHA: QUERY}), request(None, extensions))
    assert refused.value.error.extensions == {"code": "BAD_INPUT"}


# --- WebSocket admission -----------------------------------------------------------------


def connection(principal: Any, *, require_read_token: bool) -> Any:
    async def look_up() -> Any:
        if isinstance(principal, Exception):
            raise principal
        return principal

    return SimpleNamespace(principal=look_up, services=SimpleNamespace(
        settings=SimpleNamespace(require_read_token=require_read_token)))


@pytest.mark.parametrize(("principal", "required"), [
    (None, False), ("editor", False), ("editor", True)])
async def test_a_websocket_is_admitted_with_a_valid_token_or_none_needed(
        principal: Any, required: bool) -> None:
    await admit_connection(connection(principal, require_read_token=required))


async def test_a_websocket_without_a_token_is_refused_where_reading_needs_one() -> None:
    with pytest.raises(ConnectionRejectionError) as rejected:
        await admit_connection(connection(None, require_read_token=True))
    assert rejected.value.payload == {"message": "this deployment requires a token to read",
                                      "code": "UNAUTHENTICATED"}


@pytest.mark.parametrize(("problem", "code"), [
    (Unauthenticated("unknown token"), "UNAUTHENTICATED"),
    (BadInput("not a bearer token"), "BAD_INPUT")])
async def test_a_websocket_with_a_bad_token_is_refused_with_its_code(problem: Exception,
                                                                     code: str) -> None:
    with pytest.raises(ConnectionRejectionError) as rejected:
        await admit_connection(connection(problem, require_read_token=False))
    assert rejected.value.payload == {"message": str(problem), "code": code}
