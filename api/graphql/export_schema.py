"""Write the GraphQL schema's SDL: ``python -m api.graphql.export_schema > schema.graphql``."""

from __future__ import annotations

import sys

from api.graphql.schema import schema_sdl

if __name__ == "__main__":
    sys.stdout.write(schema_sdl())
