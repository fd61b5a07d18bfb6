"""Only registered documents run, when the deployment says so (production frontends ship
their operations ahead; anything else is refused before validation)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from api.services.documents import sha256_of

UNTRUSTED = "TRUSTED_DOCUMENT_REQUIRED"


class TrustedDocumentsOnly(SchemaExtension):
    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        query = context.query or ""
        if await context.context.services.documents.trusted(sha256_of(query)) is None:
            context.pre_execution_errors = [GraphQLError(
                "This deployment runs only registered documents; register this operation "
                "with `chronicle documents register`.", extensions={"code": UNTRUSTED})]
        yield
