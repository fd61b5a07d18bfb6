"""The JSON log lines collectors read: their fields and names stay as they were when the
formatter was hand-written (time, level, logger, message, request_id, exception)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from api.http.observability import (
    CHATTER,
    JsonLines,
    WithRequestId,
    configure_logging,
    request_id,
)


@pytest.fixture
def lines() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger that writes JSON lines to a buffer, as configure_logging's handler does."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(WithRequestId())
    handler.setFormatter(JsonLines())
    logger = logging.getLogger("chronicle.test_json_logs")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, buffer
    logger.removeHandler(handler)


def written(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_a_line_has_time_level_logger_and_message_and_nothing_else(
        lines: tuple[logging.Logger, io.StringIO]) -> None:
    logger, buffer = lines
    logger.warning("replayed %d events into %s", 12, "Khasham, février",
                   extra={"color_message": "\x1b[1mreplayed\x1b[0m"})
    [line] = written(buffer)
    assert list(line) == ["time", "level", "logger", "message"]
    assert line["level"] == "warning"
    assert line["logger"] == "chronicle.test_json_logs"
    assert line["message"] == "replayed 12 events into Khasham, février"
    assert "février" in buffer.getvalue()  # UTF-8 as is, not \\u escapes
    stamped = datetime.fromisoformat(line["time"])
    assert stamped.utcoffset() is not None and stamped.utcoffset().total_seconds() == 0
    assert line["time"].endswith("+00:00")


def test_the_time_is_the_records_creation_time_in_utc() -> None:
    record = logging.LogRecord("chronicle", logging.INFO, __file__, 1, "ready", None, None)
    record.created = 1_518_048_000.25  # 2018-02-08 00:00:00.25 UTC
    line = json.loads(JsonLines().format(record))
    assert line == {"time": "2018-02-08T00:00:00.250000+00:00", "level": "info",
                    "logger": "chronicle", "message": "ready"}


def test_a_dict_logged_as_the_message_stays_its_text(
        lines: tuple[logging.Logger, io.StringIO]) -> None:
    logger, buffer = lines
    logger.info({"level": "spoofed", "slug": "khasham"})
    [line] = written(buffer)
    assert line["message"] == "{'level': 'spoofed', 'slug': 'khasham'}"
    assert line["level"] == "info" and "slug" not in line


def test_a_line_written_for_a_request_carries_its_id(
        lines: tuple[logging.Logger, io.StringIO]) -> None:
    logger, buffer = lines
    token = request_id.set("req-7")
    try:
        logger.info("inside")
    finally:
        request_id.reset(token)
    logger.info("outside")
    inside, outside = written(buffer)
    assert inside["request_id"] == "req-7"
    assert list(inside) == ["time", "level", "logger", "message", "request_id"]
    assert "request_id" not in outside


def test_an_exception_is_logged_with_its_traceback(
        lines: tuple[logging.Logger, io.StringIO]) -> None:
    logger, buffer = lines
    try:
        raise ValueError("the feed fell behind")
    except ValueError:
        logger.exception("subscriber dropped")
    [line] = written(buffer)
    assert line["level"] == "error" and line["message"] == "subscriber dropped"
    assert line["exception"].startswith("Traceback (most recent call last):")
    assert "ValueError: the feed fell behind" in line["exception"]
    assert list(line) == ["time", "level", "logger", "message", "exception"]


def test_configure_logging_writes_json_lines_with_request_ids() -> None:
    root = logging.getLogger()
    chatter = [logging.getLogger(name) for name in CHATTER]
    saved = root.handlers[:], root.level, [c.level for c in chatter]
    try:
        configure_logging("json", "debug")
        [handler] = root.handlers
        assert isinstance(handler.formatter, JsonLines)
        assert any(isinstance(f, WithRequestId) for f in handler.filters)
        configure_logging("text")
        [handler] = root.handlers
        assert not isinstance(handler.formatter, JsonLines)
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for logger, level in zip(chatter, saved[2], strict=True):
            logger.setLevel(level)
