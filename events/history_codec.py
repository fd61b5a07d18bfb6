"""A ``TimelineHistory`` written down and read back, so a process starts from it instead of
folding the whole log (events/postgres/history_snapshots.py keeps one per timeline).

The form is plain data, JSON and zlib, never pickled objects: reading it back builds only
the domain's own values, each through the same parsers the log is read with (``stored_value``,
``event_from_data``, the enums), so whoever can write the database cannot make a reader run
code. What is written is the fold (the state, each report's changes, the keys where each fact
may change) and the fact documents worked out so far, which are read back undecoded: a read
decodes only the ones it shows. Nothing here decides anything: a history read back answers
exactly what the history written would (tests/unit/test_history_codec.py), and it is only
ever read back for the log it was folded from (same position, same hash there), by code of the
same ``FORMAT`` and ``POLICY_VERSION``. Pure: no I/O, no clock.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from events.errors import DomainError
from events.history_index import TimelineHistory
from events.history_reported import ReportedIndex
from events.history_reports import Original, ReportEvent
from events.history_versions import Kept, Unreadable
from events.policy import POLICY_VERSION, SourceInfo
from events.reducer import EntryState, ReportState, ReportStatus, SourceState, Stamp
from events.rows import SourceRow
from events.values import Value, stored_value
from events.versions import Versions
from events.vocabulary import (
    SCHEMA_VERSION,
    Rank,
    Reliability,
    ReportCorrected,
    ReportRanked,
    ReportRetracted,
    SourceKind,
    Stance,
    event_from_data,
    event_to_data,
)

__all__ = ["FORMAT", "Unreadable", "decode", "documents_of", "encode"]

FORMAT = 2  # bump whenever what is written, or what the fold keeps, changes
COMPRESSION = 1  # zlib level: fast; the documents repeat themselves a lot

Json = Any
_REPORTS = ("reports", "kinds", "changes", "originals")  # the part read back when needed
_STANCES = {s.value: s for s in Stance}
_STATUSES = {s.value: s for s in ReportStatus}
_RANKS = {r.value: r for r in Rank}


def encode(history: TimelineHistory) -> bytes:
    """The history as bytes (what every read needs; its reports; its fact documents)."""
    documents = bytearray()
    spans: dict[bytes, tuple[int, int]] = {}  # each distinct document written once

    def kept(rows: dict[int, Kept]) -> list[int]:
        flat: list[int] = []
        for at, row in rows.items():
            if row is None:
                flat += (at, -1, -1)
                continue
            if isinstance(row, tuple):
                if row[0] < 0:
                    continue
                body = history.documents.data[row[0]:row[1]]
            else:
                body = json.dumps(row.document, separators=(",", ":")).encode()
            span = spans.get(body)
            if span is None:
                span = spans[body] = (len(documents), len(documents) + len(body))
                documents.extend(body)
            flat += (at, *span)
        return flat

    values: dict[Value, int] = {}
    state, trails, reported = history.state, history.trails, history.reported
    index = reported.kept_index
    header = {
        "format": FORMAT, "policy": POLICY_VERSION, "slug": history.slug,
        "position": history.position,
        "clock": _runs(history._recorded),
        "timeline": [state.version, state.title, state.description,
                     None if state.created is None else state.created.position],
        "entries": [[e.id, e.title, e.opened.position, e.merged_into]
                    for e in state.entries.values()],
        "reports": [_report(r, values) for r in state.reports.values()],
        "kinds": [[e, a, kind] for (e, a), kind in state.value_kinds.items()],
        "merged": sorted(state.merged),
        "sources": [[s.id, s.version, s.name, s.kind.value, s.url, _enum(s.reliability),
                     s.grade_note, None if s.registered is None else s.registered.position]
                    for s in history.sources.values()],
        "changes": [[at, e.type, event_to_data(e)] for at, e in trails.events],
        "originals": [[r, values.setdefault(v, len(values)), stance.value, via]
                      for r, (v, stance, via) in trails.originals.items()],
        "source_rows": [[s, [[at, r.name, r.kind, r.url, r.reliability, r.grade_note]
                             for at, r in zip(v.keys, v.values, strict=True) if r is not None]]
                        for s, v in history._sources.items()],
        "infos": [[at, [[i.id, i.name, _enum(i.reliability)] for i in (info or {}).values()]]
                  for at, info in zip(history._infos.keys, history._infos.values, strict=True)],
        "touches": [[e, a, t] for (e, a), t in history._touches.items()],
        "versions": history._versions,
        "merges": history._merges,
        "thresholds": [[t for t, _ in reported.thresholds], [p for _, p in reported.thresholds]],
        "regrades": reported.regrades,
        "recorded_rows": [[e, a, kept(rows)] for (e, a), rows in history._recorded_rows.items()],
        "reported_rows": [[e, a, kept(rows)] for (e, a), rows in reported.rows.items()],
        "reported_moments": [[e, a, m] for (e, a), m in reported.fact_moments.items()],
        "reported_index": None if index is None or index.position != history.position
        else [index.thresholds, index.versions, index.moments],
    }
    reports = {key: header.pop(key) for key in _REPORTS}
    reports["values"] = [v.to_data() for v in values]
    # Two lines (JSON writes no raw newline): what every read needs, and what only folding,
    # resolving or listing reports needs (read back when first needed); then, compressed
    # apart so that they may be inflated meanwhile, the documents (each decoded when first
    # shown). In front, in 8 bytes each: the first part's length, the documents' inflated.
    head = zlib.compress(_json(header) + b"\n" + _json(reports), COMPRESSION)
    return (len(head).to_bytes(8, "big") + len(documents).to_bytes(8, "big") + head
            + zlib.compress(documents, COMPRESSION))


def documents_of(blob: bytes) -> tuple[bytes, int]:
    """The compressed documents of an encoded history, and their size once inflated
    (``events.history_versions.inflated``): to inflate them beforehand on another thread."""
    head = int.from_bytes(blob[:8], "big")
    return blob[16 + head:], int.from_bytes(blob[8:16], "big")


def decode(blob: bytes, slug: str) -> TimelineHistory:
    """The history ``encode`` wrote, or ``Unreadable``. Its reports are read back when it
    first needs them (``TimelineHistory.read_all``), its documents inflated then too (or
    beforehand: ``documents_of``), each raising ``Unreadable`` then if it cannot be."""
    with _unreadable():
        if len(blob) < 16:
            raise Unreadable("too short to be a history")
        head = int.from_bytes(blob[:8], "big")
        text, _, reports = zlib.decompress(blob[16:16 + head]).partition(b"\n")
        header = json.loads(text)
        if header["format"] != FORMAT or header["policy"] != POLICY_VERSION \
                or header["slug"] != slug:
            raise Unreadable("a persisted history of another format, policy or timeline")
        packed, size = documents_of(blob)
        reader = _Reader(header, size)
        history = reader.history()
        history.documents.pack(packed, size)
        history._unread = lambda: reader.reports(reports)
        return history


@contextmanager
def _unreadable() -> Iterator[None]:
    try:
        yield
    except Unreadable:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, zlib.error,
            DomainError) as e:
        raise Unreadable(f"a persisted history that cannot be read: {e!r}") from e


class _Reader:
    def __init__(self, header: dict[str, Json], documents: int) -> None:
        self.header = header
        self.documents = documents  # their size
        self.slug: str = header["slug"]
        self.recorded: dict[int, datetime] = {}
        self.instants: dict[str, datetime] = {}
        self.values: list[Value] = []

    def instant(self, text: str | None) -> datetime | None:
        if text is None:
            return None
        moment = self.instants.get(text)
        if moment is None:
            moment = self.instants[text] = datetime.fromisoformat(text)
        return moment

    def stamp(self, position: int) -> Stamp:
        return Stamp(position, self.recorded[position])

    def history(self) -> TimelineHistory:
        header = self.header
        history = TimelineHistory(self.slug)
        history.position = _int(header["position"])
        for moment, positions in header["clock"]:
            recorded_at = datetime.fromisoformat(moment)
            for position in positions:
                self.recorded[position] = recorded_at
                history._recorded.append((recorded_at, position))
        self.timeline(history)
        self.sources(history)
        for entry, attribute, touches in header["touches"]:
            if not _ints(touches):
                raise Unreadable("a position that is not a number")
            history._touches[(entry, attribute)] = touches
            attributes = history._attributes.setdefault(entry, [])
            if attribute not in attributes:
                attributes.append(attribute)
        for attributes in history._attributes.values():
            attributes.sort()
        history._versions = header["versions"]
        if not _ints(history._versions):
            raise Unreadable("a position that is not a number")
        history._merges = [(_int(p), _str(d), _str(s)) for p, d, s in header["merges"]]
        times, positions = header["thresholds"]
        reported = history.reported
        reported.thresholds = list(zip(times, positions, strict=True))
        reported.regrades = [(_int(p), _str(s)) for p, s in header["regrades"]]
        reported.moments = None  # worked out when first needed
        self.rows(header["recorded_rows"], history._recorded_rows)
        self.rows(header["reported_rows"], reported.rows)
        reported.fact_moments = {(_str(e), _str(a)): moments
                                 for e, a, moments in header["reported_moments"]}
        if header["reported_index"] is not None:
            times, versions, moments = header["reported_index"]
            reported.kept_index = ReportedIndex(history.position, times, versions, moments)
        return history

    def timeline(self, history: TimelineHistory) -> None:
        state = history._state
        version, state.title, state.description, created = self.header["timeline"]
        state.version = _int(version)
        state.created = None if created is None else self.stamp(created)
        for entry, title, opened, merged_into in self.header["entries"]:
            state.entries[entry] = EntryState(_str(entry), _str(title), self.stamp(opened),
                                              merged_into)
        state.merged = {_str(e) for e in self.header["merged"]}

    def reports(self, text: bytes) -> Callable[[TimelineHistory], None]:
        """The part read back when first needed: reports and what changed them. Read here
        (touching no history: any thread may), put in place by what it returns."""
        with _unreadable():
            part = json.loads(text)
            self.values = [stored_value(v) for v in part["values"]]
            reports: dict[str, ReportState] = {}
            by_fact: dict[tuple[str, str], list[str]] = {}
            reports_of: dict[str, list[str]] = {}
            for row in part["reports"]:
                report = reports[row[0]] = self.report(row)
                by_fact.setdefault((report.entry, report.attribute), []).append(report.id)
                reports_of.setdefault(report.entry, []).append(report.id)
            kinds = {(_str(e), _str(a)): _str(kind) for e, a, kind in part["kinds"]}
            changes = self.changes(part["changes"])
            originals = self.originals(part["originals"])

        def put(history: TimelineHistory) -> None:
            state = history._state
            state.reports, state.by_fact, state.value_kinds = reports, by_fact, kinds
            history._reports_of = reports_of
            history.trails.restore(changes, originals)
        return put

    def report(self, row: list[Json]) -> ReportState:
        report, entry, attribute, value, source, stance, made, position, via, quote, url = row[:11]
        reported_at = self.instants.get(made) or self.instant(made)
        assert reported_at is not None
        found = ReportState(_str(report), entry, attribute, self.values[value], source,
                            _STANCES[stance], reported_at,
                            Stamp(position, self.recorded[position]), via, quote, url)
        if len(row) > 11:  # changed since it was made
            status, rank, found.rank_reason, found.ranked_at, found.retraction_reason, \
                changed_at, corrected = row[11:]
            found.status, found.rank = _STATUSES[status], _RANKS[rank]
            found.changed_at = self.instant(changed_at)
            found.corrected = corrected is True
        return found

    def sources(self, history: TimelineHistory) -> None:
        for source, version, name, kind, url, grade, note, registered in self.header["sources"]:
            history.sources[source] = SourceState(
                id=_str(source), version=_int(version), name=_str(name), kind=SourceKind(kind),
                url=url, reliability=None if grade is None else Reliability(grade),
                grade_note=note, registered=None if registered is None
                else self.stamp(registered))
        for source, rows in self.header["source_rows"]:
            versions: Versions[int, SourceRow] = Versions()
            for at, name, kind, url, grade, note in rows:
                versions.set(_int(at), SourceRow(_str(source), _str(name), SourceKind(kind).value,
                                                 url, _grade(grade), note))
            history._sources[source] = versions
        for at, infos in self.header["infos"]:
            history._infos.set(_int(at), {
                i: SourceInfo(_str(i), _str(name), None if grade is None else Reliability(grade))
                for i, name, grade in infos})

    def changes(self, changes: list[Json]) -> list[tuple[int, ReportEvent]]:
        found: list[tuple[int, ReportEvent]] = []
        for at, kind, data in changes:
            event = event_from_data(kind, SCHEMA_VERSION, data)
            if not isinstance(event, ReportCorrected | ReportRetracted | ReportRanked):
                raise Unreadable(f"a {kind} among the reports' changes")
            found.append((_int(at), event))
        return found

    def originals(self, originals: list[Json]) -> dict[str, Original]:
        return {_str(r): (self.values[v], Stance(stance), via)
                for r, v, stance, via in originals}

    def rows(self, rows: Iterable[list[Json]], into: dict[tuple[str, str], dict[int, Kept]],
             ) -> None:
        """Each fact's kept versions: (key, start, end) triples, flat; start -1 for none."""
        for entry, attribute, flat in rows:
            ats, starts, ends = flat[0::3], flat[1::3], flat[2::3]
            if len(ats) != len(ends) or not _ints(ats) or not _ints(starts) \
                    or not _ints(ends) or (starts and (min(starts) < -1 or max(ends)
                                                       > self.documents)):
                raise Unreadable("a document beyond the end of the documents")
            into[(_str(entry), _str(attribute))] = {
                at: None if start < 0 else (start, end)
                for at, start, end in zip(ats, starts, ends, strict=True)}


def _report(r: ReportState, values: dict[Value, int]) -> list[Json]:
    row: list[Json] = [r.id, r.entry, r.attribute, values.setdefault(r.value, len(values)),
                       r.source, r.stance.value, r.reported_at.isoformat(),
                       r.reported.position, r.via, r.quote, r.url]
    if (r.status, r.rank, r.rank_reason, r.ranked_at, r.retraction_reason, r.changed_at,
            r.corrected) != (ReportStatus.ACTIVE, Rank.NORMAL, None, None, None, None, False):
        row += (r.status.value, r.rank.value, r.rank_reason, r.ranked_at,
                r.retraction_reason, _instant(r.changed_at), r.corrected)
    return row


def _json(part: dict[str, Json]) -> bytes:
    return json.dumps(part, separators=(",", ":")).encode()


def _runs(recorded: list[tuple[datetime, int]]) -> list[list[Json]]:
    """(recorded_at, position) pairs as runs of one instant: [[instant, [positions]], …]."""
    runs: list[list[Json]] = []
    last: datetime | None = None
    for moment, position in recorded:
        if moment != last:
            runs.append([moment.isoformat(), []])
            last = moment
        runs[-1][1].append(position)
    return runs


def _instant(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _enum(value: Reliability | None) -> str | None:
    return None if value is None else value.value


def _grade(grade: Json) -> str | None:
    return None if grade is None else Reliability(grade).value


def _ints(values: list[Json]) -> bool:
    return all(type(v) is int for v in values)


def _int(value: Json) -> int:
    if type(value) is not int:
        raise Unreadable(f"{value!r} where a number belongs")
    return value


def _str(value: Json) -> str:
    if type(value) is not str:
        raise Unreadable(f"{value!r} where a text belongs")
    return value

