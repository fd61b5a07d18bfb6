"""Persisted and trusted GraphQL documents, by SHA-256.

- **Automatic persisted queries** (Apollo's protocol, which urql's persisted exchange also
  speaks): a client sends only the hash of a document it sent before. Each process keeps
  recent documents in memory; a miss costs the client one retry with the full text, so
  nothing needs sharing between processes.
- **Trusted documents**: the operations a deployment registered with
  ``chronicle documents register``, kept in the database. With
  ``CHRONICLE_TRUSTED_DOCUMENTS_ONLY`` nothing else runs.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from events.errors import BadInput

SHA256 = re.compile(r"[0-9a-f]{64}")
REMEMBERED = 1000  # documents kept per process for automatic persisted queries


def sha256_of(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class TrustedDocument:
    sha256: str
    document: str
    name: str | None = None


def parse_manifest(content: str) -> list[TrustedDocument]:
    """The documents of a manifest: Apollo's persisted query manifest (``{"format":
    "apollo-persisted-query-manifest", "operations": [{"id", "body", "name"}]}``) or a plain
    ``{"<sha256>": "<document>"}`` map (Relay's persisted queries file). Every hash must be
    the SHA-256 of its document; a wrong one is named."""
    try:
        manifest = json.loads(content)
    except json.JSONDecodeError as e:
        raise BadInput(f"the manifest is not JSON (line {e.lineno}: {e.msg})") from None
    if isinstance(manifest, dict) and "operations" in manifest:
        operations = manifest["operations"]
        if not isinstance(operations, list):
            raise BadInput("the manifest's operations must be a list")
        entries = [(f"operation {i + 1}", o.get("id"), o.get("body"), o.get("name"))
                   if isinstance(o, dict) else (f"operation {i + 1}", None, None, None)
                   for i, o in enumerate(operations)]
    elif isinstance(manifest, dict):
        entries = [(f"entry {k!r}", k, v, None) for k, v in manifest.items()]
    else:
        raise BadInput("the manifest must be a JSON object")
    documents = []
    for where, sha, body, name in entries:
        if not isinstance(sha, str) or not isinstance(body, str):
            raise BadInput(f"{where}: needs a hash and a document, both strings")
        sha = sha.removeprefix("sha256:").lower()
        if sha != sha256_of(body):
            raise BadInput(f"{where}: {sha} is not the SHA-256 of its document")
        documents.append(TrustedDocument(sha, body, name if isinstance(name, str) else None))
    return documents


class Documents:
    def __init__(self, engine: AsyncEngine, remembered: int = REMEMBERED) -> None:
        self.engine = engine
        self.remembered = remembered
        self._recent: OrderedDict[str, str] = OrderedDict()
        self._trusted: dict[str, str] = {}

    def remember(self, sha: str, document: str) -> None:
        """Keep a document the client sent with its (checked) hash."""
        self._recent[sha] = document
        self._recent.move_to_end(sha)
        while len(self._recent) > self.remembered:
            self._recent.popitem(last=False)

    async def find(self, sha: str) -> str | None:
        """The document with this hash: recently sent here, or registered."""
        if (document := self._recent.get(sha)) is not None:
            self._recent.move_to_end(sha)
            return document
        return await self.trusted(sha)

    async def trusted(self, sha: str) -> str | None:
        """The registered document with this hash, or None."""
        if (document := self._trusted.get(sha)) is not None:
            return document
        async with self.engine.connect() as connection:
            document = (await connection.execute(text(
                "SELECT document FROM trusted_documents WHERE sha256 = :sha"),
                {"sha": sha})).scalar()
        if document is None:
            return None  # not remembered: it may be registered any moment
        self._trusted[sha] = document
        return str(document)

    async def register(self, documents: Sequence[TrustedDocument]) -> int:
        """Register documents (again: names are updated); returns how many were new."""
        if not documents:
            return 0
        async with self.engine.begin() as connection:
            before = (await connection.execute(text(
                "SELECT count(*) FROM trusted_documents"))).scalar_one()
            await connection.execute(text(
                "INSERT INTO trusted_documents (sha256, document, name) "
                "VALUES (:sha, :document, :name) "
                "ON CONFLICT (sha256) DO UPDATE SET name = excluded.name"),
                [{"sha": d.sha256, "document": d.document, "name": d.name}
                 for d in documents])
            after = (await connection.execute(text(
                "SELECT count(*) FROM trusted_documents"))).scalar_one()
        return int(after - before)
