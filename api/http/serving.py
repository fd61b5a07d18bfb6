"""The HTTP server of ``chronicle serve``: uvicorn, announcing when it answers."""

from __future__ import annotations

import socket

import typer
import uvicorn
from uvicorn.config import Config


class AnnouncingServer(uvicorn.Server):
    """Says it is ready once its socket answers, not when it starts (before the database
    is up, migrated and the demo imported)."""

    def __init__(self, config: Config, announcement: str) -> None:
        super().__init__(config)
        self.announcement = announcement

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.should_exit:
            typer.echo(self.announcement)
