"""The schema: queries, mutations and the extensions every request goes through."""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig

from api.graphql.errors import ErrorCodes
from api.graphql.mutations import Mutation
from api.graphql.queries import Query


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(query=Query, mutation=Mutation, extensions=[ErrorCodes],
                             config=StrawberryConfig(auto_camel_case=True))


def schema_sdl() -> str:
    """The SDL written to ``schema.graphql`` (a test fails when that file is stale)."""
    return build_schema().as_str() + "\n"
