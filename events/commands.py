"""Commands: what a writer asks for, parsed strictly from plain data.

``parse_submission("reportFact", {...})`` is the one gate every intake passes (GraphQL, the
NDJSON and CSV imports): it takes the GraphQL input's fields in snake_case, with the optional
``idempotency_key`` and ``expected_version``, and raises ``BadInput`` naming the field. Whatever
it accepts, the log can store and read back (see ``values``). A parsed command knows the
stream it writes and the streams its decision reads.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from events.errors import BadInput, refuse_bad_text
from events.values import (
    Value,
    format_instant,
    parse_enum,
    parse_instant,
    parse_optional_text,
    parse_text,
    parse_value,
)
from events.vocabulary import Rank, Reliability, SourceKind, Stance, source_stream, timeline_stream

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?$")
LOCAL_ID = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,98}[A-Za-z0-9])?$")
ATTRIBUTE = re.compile(r"^[A-Za-z](?:[A-Za-z0-9_.-]{0,62}[A-Za-z0-9])?$")
_URL = re.compile(r"https?://\S+")
MAX_IDEMPOTENCY_KEY = 200


@dataclass(frozen=True, slots=True)
class CreateTimeline:
    slug: str
    title: str
    description: str | None = None

    @property
    def stream(self) -> str:
        return timeline_stream(self.slug)


@dataclass(frozen=True, slots=True)
class RegisterSource:
    id: str
    name: str
    kind: SourceKind
    url: str | None = None

    @property
    def stream(self) -> str:
        return source_stream(self.id)


@dataclass(frozen=True, slots=True)
class GradeSource:
    source: str
    reliability: Reliability
    note: str | None = None

    @property
    def stream(self) -> str:
        return source_stream(self.source)


@dataclass(frozen=True, slots=True)
class OpenEntry:
    timeline: str
    title: str
    id: str | None = None

    @property
    def stream(self) -> str:
        return timeline_stream(self.timeline)


@dataclass(frozen=True, slots=True)
class ReportFact:
    timeline: str
    entry: str
    attribute: str
    value: Value
    source: str
    stance: Stance
    reported_at: datetime
    via: str | None = None
    quote: str | None = None
    url: str | None = None
    id: str | None = None

    @property
    def stream(self) -> str:
        return timeline_stream(self.timeline)


@dataclass(frozen=True, slots=True)
class CorrectReport:
    timeline: str
    report: str
    reported_at: datetime
    value: Value | None = None
    stance: Stance | None = None
    via: str | None = None  # the origin the report now cites

    @property
    def stream(self) -> str:
        return timeline_stream(self.timeline)


@dataclass(frozen=True, slots=True)
class RetractReport:
    timeline: str
    report: str
    reason: str
    reported_at: datetime

    @property
    def stream(self) -> str:
        return timeline_stream(self.timeline)


@dataclass(frozen=True, slots=True)
class RankReport:
    timeline: str
    report: str
    rank: Rank
    reason: str

    @property
    def stream(self) -> str:
        return timeline_stream(self.timeline)


@dataclass(frozen=True, slots=True)
class MergeEntries:
    timeline: str
    duplicate: str
    survivor: str

    @property
    def stream(self) -> str:
        return timeline_stream(self.timeline)


Command = (CreateTimeline | RegisterSource | GradeSource | OpenEntry | ReportFact | CorrectReport
           | RetractReport | RankReport | MergeEntries)


@dataclass(frozen=True, slots=True)
class Submission:
    """A command with what the writer asked of its append: a retry key, an expected version."""

    command: Command
    idempotency_key: str | None = None
    expected_version: int | None = None


def streams_read(command: Command) -> list[str]:
    """The streams whose state the decision needs: its own, and the sources a report cites."""
    streams = [command.stream]
    if isinstance(command, ReportFact):
        streams.append(source_stream(command.source))
        if command.via is not None and command.via != command.source:
            streams.append(source_stream(command.via))
    elif isinstance(command, CorrectReport) and command.via is not None:
        streams.append(source_stream(command.via))
    return streams


def _pattern(raw: object, pattern: re.Pattern[str], path: str, what: str) -> str:
    if not isinstance(raw, str) or not pattern.fullmatch(raw):
        shown = "nothing" if raw is None else repr(raw)
        raise BadInput(f"{path} must be {what} (got {shown})", field=path)
    return raw


def _slug(raw: object, path: str) -> str:
    return _pattern(raw, SLUG, path, "a slug of lowercase letters, digits, '-' and '_'")


def _local_id(raw: object, path: str) -> str:
    return _pattern(raw, LOCAL_ID, path, "an id of letters, digits, '.', '_' and '-'")


def _optional_local_id(raw: object, path: str) -> str | None:
    return None if raw is None else _local_id(raw, path)


def _url(raw: object, path: str) -> str | None:
    text = parse_optional_text(raw, path)
    if text is not None and not _URL.fullmatch(text):
        raise BadInput(f"{path} must be an http(s) URL (got {text!r})", field=path)
    return text


def _create_timeline(d: Mapping[str, Any]) -> Command:
    return CreateTimeline(slug=_slug(d.get("slug"), "slug"), title=parse_text(d.get("title"),
                          "title"), description=parse_optional_text(d.get("description"),
                                                                    "description"))


def _register_source(d: Mapping[str, Any]) -> Command:
    return RegisterSource(id=_local_id(d.get("id"), "id"), name=parse_text(d.get("name"), "name"),
                          kind=parse_enum(SourceKind, d.get("kind"), "kind"),
                          url=_url(d.get("url"), "url"))


def _grade_source(d: Mapping[str, Any]) -> Command:
    return GradeSource(source=_local_id(d.get("source"), "source"),
                       reliability=parse_enum(Reliability, d.get("reliability"), "reliability"),
                       note=parse_optional_text(d.get("note"), "note"))


def _open_entry(d: Mapping[str, Any]) -> Command:
    return OpenEntry(timeline=_slug(d.get("timeline"), "timeline"),
                     title=parse_text(d.get("title"), "title"),
                     id=_optional_local_id(d.get("id"), "id"))


def _report_fact(d: Mapping[str, Any]) -> Command:
    via = d.get("via")
    return ReportFact(
        timeline=_slug(d.get("timeline"), "timeline"), entry=_local_id(d.get("entry"), "entry"),
        attribute=_pattern(d.get("attribute"), ATTRIBUTE, "attribute",
                           "an attribute name like occurred or killed"),
        value=parse_value(d.get("value"), "value"), source=_local_id(d.get("source"), "source"),
        via=None if via is None else _local_id(via, "via"),
        stance=parse_enum(Stance, d.get("stance"), "stance"),
        reported_at=parse_instant(d.get("reported_at"), "reportedAt"),
        quote=parse_optional_text(d.get("quote"), "quote"), url=_url(d.get("url"), "url"),
        id=_optional_local_id(d.get("id"), "id"))


def _correct_report(d: Mapping[str, Any]) -> Command:
    value = None if d.get("value") is None else parse_value(d.get("value"), "value")
    stance = None if d.get("stance") is None else parse_enum(Stance, d.get("stance"), "stance")
    via = _optional_local_id(d.get("via"), "via")
    if value is None and stance is None and via is None:
        raise BadInput("a correction needs a new value, stance or via", field="value")
    return CorrectReport(timeline=_slug(d.get("timeline"), "timeline"),
                         report=_local_id(d.get("report"), "report"),
                         reported_at=parse_instant(d.get("reported_at"), "reportedAt"),
                         value=value, stance=stance, via=via)


def _retract_report(d: Mapping[str, Any]) -> Command:
    return RetractReport(timeline=_slug(d.get("timeline"), "timeline"),
                         report=_local_id(d.get("report"), "report"),
                         reason=parse_text(d.get("reason"), "reason"),
                         reported_at=parse_instant(d.get("reported_at"), "reportedAt"))


def _rank_report(d: Mapping[str, Any]) -> Command:
    return RankReport(timeline=_slug(d.get("timeline"), "timeline"),
                      report=_local_id(d.get("report"), "report"),
                      rank=parse_enum(Rank, d.get("rank"), "rank"),
                      reason=parse_text(d.get("reason"), "reason"))


def _merge_entries(d: Mapping[str, Any]) -> Command:
    return MergeEntries(timeline=_slug(d.get("timeline"), "timeline"),
                        duplicate=_local_id(d.get("duplicate"), "duplicate"),
                        survivor=_local_id(d.get("survivor"), "survivor"))


PARSERS: dict[str, Callable[[Mapping[str, Any]], Command]] = {
    "createTimeline": _create_timeline,
    "registerSource": _register_source,
    "gradeSource": _grade_source,
    "openEntry": _open_entry,
    "reportFact": _report_fact,
    "correctReport": _correct_report,
    "retractReport": _retract_report,
    "rankReport": _rank_report,
    "mergeEntries": _merge_entries,
}

_ALLOWED_FIELDS: dict[str, set[str]] = {
    "createTimeline": {"slug", "title", "description"},
    "registerSource": {"id", "name", "kind", "url"},
    "gradeSource": {"source", "reliability", "note"},
    "openEntry": {"timeline", "title", "id"},
    "reportFact": {"timeline", "entry", "attribute", "value", "source", "via", "stance",
                   "reported_at", "quote", "url", "id"},
    "correctReport": {"timeline", "report", "value", "stance", "via", "reported_at"},
    "retractReport": {"timeline", "report", "reason", "reported_at"},
    "rankReport": {"timeline", "report", "rank", "reason"},
    "mergeEntries": {"timeline", "duplicate", "survivor"},
}


def parse_command(mutation: str, fields: Mapping[str, Any]) -> Command:
    """Parse one mutation's input (snake_case keys, without idempotencyKey/expectedVersion)."""
    parser = PARSERS.get(mutation)
    if parser is None:
        raise BadInput(f"unknown mutation {mutation!r}; use one of {', '.join(PARSERS)}",
                       field="mutation")
    unknown = sorted(set(fields) - _ALLOWED_FIELDS[mutation])
    if unknown:
        raise BadInput(f"{mutation} has no field {unknown[0]!r}", field=unknown[0])
    return parser(fields)


def parse_submission(mutation: str, fields: Mapping[str, Any]) -> Submission:
    """Parse one mutation's input with its control fields (snake_case keys)."""
    rest = dict(fields)
    key = rest.pop("idempotency_key", None)
    expected_version = rest.pop("expected_version", None)
    if key is not None:
        if not isinstance(key, str) or not 0 < len(key) <= MAX_IDEMPOTENCY_KEY:
            raise BadInput(f"idempotencyKey must be 1 to {MAX_IDEMPOTENCY_KEY} characters",
                           field="idempotencyKey")
        refuse_bad_text(idempotencyKey=key)
    if expected_version is not None and (
            isinstance(expected_version, bool) or not isinstance(expected_version, int)
            or expected_version < 0):
        raise BadInput("expectedVersion must be a whole number, 0 or more",
                       field="expectedVersion")
    return Submission(parse_command(mutation, rest), key, expected_version)


def command_fingerprint(command: Command, actor: str) -> str:
    """What makes two requests the same command: its type, its fields and who sent it."""

    def plain(item: object) -> object:
        if isinstance(item, Enum):
            return item.value
        if isinstance(item, datetime):
            return format_instant(item)
        to_data = getattr(item, "to_data", None)
        return to_data() if to_data is not None else item

    body = {"command": type(command).__name__, "actor": actor,
            "fields": {name: plain(getattr(command, name)) for name in command.__slots__}}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
