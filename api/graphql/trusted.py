"""Documents known by their hash: persisted queries and trusted documents.

- Apollo's automatic persisted queries: a hash alone is looked up; a hash with its document
  is checked, then remembered (before the request is parsed).
- Only registered documents run, when the deployment says so (production frontends ship
  their operations ahead; anything else is refused before validation).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.http import GraphQLRequestData

from api.graphql.refusals import Refused
from api.services.documents import SHA256, Documents, sha256_of

UNTRUSTED = "TRUSTED_DOCUMENT_REQUIRED"


async def with_persisted_query(documents: Documents,
                               request_data: GraphQLRequestData) -> GraphQLRequestData:
    """The request with its document, for Apollo's automatic persisted queries: a hash
    alone is looked up; a hash with its document is checked, then remembered. A request
    without ``persistedQuery`` is returned as it is; a bad or unknown one is ``Refused``."""
    extensions = request_data.extensions or {}
    persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
    if persisted is None:
        return request_data
    sha = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
    if not isinstance(persisted, dict) or persisted.get("version") != 1 \
            or not isinstance(sha, str) or not SHA256.fullmatch(sha):
        raise Refused("BAD_INPUT", "persistedQuery needs version 1 and a "
                                  "sha256Hash of 64 lowercase hex digits")
    if request_data.query is None:
        document = await documents.find(sha)
        if document is None:
            raise Refused("PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")
        return dataclasses.replace(request_data, query=document)
    if sha256_of(request_data.query) != sha:
        raise Refused("BAD_INPUT", "provided sha does not match query")
    documents.remember(sha, request_data.query)
    return request_data


class TrustedDocumentsOnly(SchemaExtension):
    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        query = context.query or ""
        if await context.context.services.documents.trusted(sha256_of(query)) is None:
            context.pre_execution_errors = [GraphQLError(
                "This deployment runs only registered documents; register this operation "
                "with `chronicle documents register`.", extensions={"code": UNTRUSTED})]
        yield
