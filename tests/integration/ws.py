"""An app served on a real socket, and a minimal graphql-transport-ws client for tests."""

from __future__ import annotations

import asyncio
import json
import socket
from collections import defaultdict
from typing import Any

import uvicorn
import websockets
from starlette.applications import Starlette
from websockets.typing import Origin


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class served:
    """Serve an app whose lifespan has already started (as ``running_api`` does) on a free
    port; yields its ``ws://`` GraphQL URL."""

    def __init__(self, app: Starlette) -> None:
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                    lifespan="off", log_level="warning"))

    async def __aenter__(self) -> str:
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self.task.done():
                self.task.result()
            await asyncio.sleep(0.01)
        return f"ws://127.0.0.1:{self.port}/graphql"

    async def __aexit__(self, *exc: object) -> None:
        self.server.should_exit = True
        await self.task


class Rejected(Exception):
    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code


class GraphQLWs:
    def __init__(self, url: str, params: dict[str, Any] | None = None,
                 origin: str | None = None) -> None:
        self.url = url
        self.params = params or {}
        self.origin = origin  # as a browser page on that origin sends it
        self.messages: dict[str, asyncio.Queue[dict[str, Any]]] = defaultdict(asyncio.Queue)

    async def __aenter__(self) -> GraphQLWs:
        try:
            self.socket = await websockets.connect(
                self.url, subprotocols=["graphql-transport-ws"],
                origin=None if self.origin is None else Origin(self.origin))
        except websockets.InvalidStatus as e:
            raise Rejected(e.response.status_code, "handshake refused") from None
        await self._send({"type": "connection_init", "payload": self.params})
        try:
            ack = json.loads(await asyncio.wait_for(self.socket.recv(), 10))
        except websockets.ConnectionClosed as e:
            raise Rejected(e.rcvd.code if e.rcvd else None,
                           e.rcvd.reason if e.rcvd else "") from None
        assert ack["type"] == "connection_ack", ack
        self.reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.reader.cancel()
        await self.socket.close()

    async def subscribe(self, id: str, query: str, variables: dict[str, Any] | None = None,
                        ) -> None:
        await self._send({"id": id, "type": "subscribe",
                          "payload": {"query": query, "variables": variables or {}}})

    async def complete(self, id: str) -> None:
        await self._send({"id": id, "type": "complete"})

    async def receive(self, id: str, seconds: float = 15) -> dict[str, Any]:
        """The next message for operation ``id`` (``next``, ``error`` or ``complete``)."""
        return await asyncio.wait_for(self.messages[id].get(), seconds)

    async def next_data(self, id: str, seconds: float = 15) -> dict[str, Any]:
        message = await self.receive(id, seconds)
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message["payload"]
        data: dict[str, Any] = message["payload"]["data"]
        return data

    async def _send(self, message: dict[str, Any]) -> None:
        await self.socket.send(json.dumps(message))

    async def _read(self) -> None:
        async for raw in self.socket:
            message = json.loads(raw)
            if message["type"] == "ping":
                await self._send({"type": "pong"})
            elif "id" in message:
                self.messages[message["id"]].put_nowait(message)
