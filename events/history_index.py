"""Each fact's and each report's history on both clocks, so an as-of read needs no replay.

``TimelineHistory.extend`` consumes a timeline's events (and every source's) in position
order, once, keeping the state they fold to and, for every fact, the keys where it may have
changed: on the RECORDED clock the positions of the events that touched it; on the REPORTED
clock the ``reported_at`` of its reports and of their corrections (from today's editorial
state, since back-dated reports rewrite that past). What a fact was at one of its keys is
resolved by the policy only when a read lands there, then kept until an event touches the
fact again (REPORTED) or for good (RECORDED: a past position's answer never changes), so a
fold costs no policy work and a read resolves only the facts it shows.

``at_recorded`` and ``at_reported`` answer what a replay of the log up to T would give (the
integration tests compare the two on random T). ``events.history_codec`` writes a history
and reads it back, so a process can start from a persisted one. Pure: no I/O, no clock.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime

from events.chain import Envelope
from events.history_records import KeptRecords
from events.history_reported import ReportedClock, ReportedIndex, micros
from events.history_reports import ReportEvent, ReportLogEvent, ReportLogs, ReportTrails
from events.history_snapshot import (
    Document,
    FactKey,
    Snapshot,
    changed_facts,
    no_reports,
    resolve_fact,
)
from events.history_versions import UNKNOWN, Documents, FactVersions, FactVersionsView, Kept
from events.policy import SourceInfo
from events.ports import Applied
from events.reducer import EntryState, ReportState, SourceState, Stamp, TimelineState
from events.rows import EntryRow, FactRow, ReportRow, SourceRow, TimelineRow, report_row, source_row
from events.timeline_facts import facts_citing, facts_touched, source_info
from events.values import TimeSpan, stored_value
from events.versions import Versions
from events.vocabulary import (
    DomainEvent,
    EntriesMerged,
    FactReported,
    ReportCorrected,
    ReportRanked,
    ReportRetracted,
    SourceGraded,
    decode,
)

Reading = Callable[[], Callable[["TimelineHistory"], None]]

__all__ = ["Document", "FactKey", "ReportEvent", "ReportLogEvent", "Snapshot",
           "TimelineHistory", "changed_facts", "resolve_fact"]


class TimelineHistory:
    def __init__(self, slug: str) -> None:
        self.slug = slug
        self._stream = f"timeline:{slug}"
        self._state = TimelineState(slug)
        self._unread: Reading | None = None  # the reports of a history read back, until read
        self.sources: dict[str, SourceState] = {}
        self.position = 0  # the last envelope consumed
        self.trails = ReportTrails()
        self._recorded: list[tuple[datetime, int]] = []
        self._touches: dict[FactKey, list[int]] = {}  # positions where a fact may change
        self._attributes: dict[str, list[str]] = {}  # sorted
        self._reports_of: dict[str, list[str]] = {}  # entry as reported → report ids
        self._sources: dict[str, Versions[int, SourceRow]] = {}
        self._infos: Versions[int, dict[str, SourceInfo]] = Versions()
        self._versions: list[int] = []  # positions that move the timeline's version
        self._merges: list[tuple[int, str, str]] = []
        self._recorded_rows: dict[FactKey, dict[int, Kept]] = {}  # by touching position
        self.documents = Documents(slug)  # those a persisted history was read back with
        self.reported = ReportedClock(lambda: self.state, self.sources, self.trails,
                                      self.documents)
        self._starts: dict[int, tuple[FactRow, datetime | None]] = {}  # by id(occurred row)
        self.kept_records = KeptRecords()  # events/history_records.py

    @property
    def state(self) -> TimelineState:
        """The timeline as the log folded so far leaves it (a history read back reads its
        reports back only now: an as-of read of kept versions needs none of them)."""
        self.read_all()
        return self._state

    def read_all(self) -> None:
        """Read back now what a history read back left for later (its reports)."""
        if self._unread is not None:
            self.finish_reading(self._unread, self._unread())  # raises again if it cannot

    @property
    def unread(self) -> Reading | None:
        """What a history read back left for later: called (on any thread: it touches
        nothing of this history) it reads it, and returns what puts it in place
        (``finish_reading``)."""
        return self._unread

    def finish_reading(self, reading: Reading, read: Callable[[TimelineHistory], None]) -> None:
        if self._unread is reading:  # not read meanwhile
            read(self)
            self._unread = None

    # -- what events.report_changes reads (read-only views of the kept history) ----------

    @property
    def report_events(self) -> Sequence[tuple[int, ReportEvent]]:
        """Every correction, retraction and rank, with its position, in position order."""
        self.read_all()
        return self.trails.events

    @property
    def recorded_clock(self) -> Sequence[tuple[datetime, int]]:
        """(recorded_at, position) of every event folded, in position order."""
        return self._recorded

    @property
    def fact_versions(self) -> Mapping[FactKey, FactVersions]:
        """Every fact's versions on the RECORDED clock, keyed by position."""
        return FactVersionsView(lambda: list(self._touches), self._recorded_versions)

    @property
    def report_logs(self) -> Mapping[str, Sequence[tuple[int, ReportLogEvent]]]:
        return ReportLogs(self.state, self.trails)

    @property
    def has_merges(self) -> bool:
        return bool(self._merges)

    def report_versions(self, report_id: str) -> Versions[int, ReportRow]:
        report = self.state.reports[report_id]
        versions: Versions[int, ReportRow] = Versions()
        for position in [report.reported.position,
                         *(at for at, _ in self.trails.changes.get(report_id, ()))]:
            versions.set(position, report_row(self.slug,
                                              self.trails.at_position(report, position)))
        return versions

    def survivors_at(self, position: int) -> dict[str, str]:
        return self._survivors(position)

    def reported_fact_versions(self) -> Mapping[FactKey, FactVersions]:
        """Every fact's versions on the REPORTED clock, keyed by micros since the epoch."""
        return FactVersionsView(self.reported.keys, self.reported.versions)

    def report_as_reported(self, report: ReportState, moment: datetime) -> ReportState | None:
        self.read_all()
        return self.trails.as_reported(report, moment)

    # -- consuming the log ----------------------------------------------------------------

    def extend(self, envelopes: Iterable[Envelope]) -> None:
        """Fold the timeline's world (its stream and every source's) read from the log."""
        for envelope in envelopes:
            self._consume(envelope, None)

    def extend_applied(self, applied: Iterable[Applied]) -> None:
        """Fold events as the appender decided them (envelope and event): the same as
        ``extend`` over their envelopes, without decoding them again. Events of other
        timelines are left out, as ``extend``'s reader leaves them out of the log it reads."""
        for one in applied:
            envelope = one.envelope
            if envelope.stream == self._stream or envelope.stream.startswith("source:"):
                self._consume(envelope, one.event)

    def _consume(self, envelope: Envelope, event: DomainEvent | None) -> None:
        if envelope.position <= self.position:
            return
        self.position = envelope.position
        self._recorded.append((envelope.recorded_at, envelope.position))
        if envelope.stream.startswith("source:"):
            self._source_event(envelope, decode(envelope) if event is None else event)
        elif envelope.stream == self._stream:
            self._timeline_event(envelope, decode(envelope) if event is None else event)

    def _source_event(self, envelope: Envelope, event: DomainEvent) -> None:
        source_id = envelope.stream.split(":", 1)[1]
        state = self.sources.setdefault(source_id, SourceState(source_id))
        state.apply(event, Stamp(envelope.position, envelope.recorded_at))
        self._sources.setdefault(source_id, Versions()).set(envelope.position, source_row(state))
        self._infos.set(envelope.position, source_info(self.sources))
        graded = isinstance(event, SourceGraded)
        self.reported.source_event(envelope.position, source_id, graded)
        if graded:
            touched = facts_citing(self.state, source_id)
            if touched:
                self._versions.append(envelope.position)
            self._touch(envelope.position, touched)

    def _timeline_event(self, envelope: Envelope, event: DomainEvent) -> None:
        position = envelope.position
        if isinstance(event, ReportCorrected | ReportRetracted | ReportRanked):
            self.trails.record(position, event, self.state.reports[event.report])
        self.state.apply(event, Stamp(position, envelope.recorded_at))
        self._versions.append(position)
        if isinstance(event, FactReported):
            self._reports_of.setdefault(event.entry, []).append(event.report)
        touched = facts_touched(self.state, event)
        if isinstance(event, EntriesMerged):
            self._merges.append((position, event.duplicate, event.survivor))
            touched |= {(event.duplicate, attribute)
                        for attribute in self._attributes.get(event.duplicate, ())}
        self._touch(position, touched)
        self.reported.timeline_event(event, position, touched)

    def _touch(self, position: int, keys: Iterable[FactKey]) -> None:
        for key in keys:
            touches = self._touches.get(key)
            if touches is None:
                self._touches[key] = [position]
                attributes = self._attributes.setdefault(key[0], [])
                if key[1] not in attributes:
                    insort(attributes, key[1])
            elif touches[-1] != position:
                touches.append(position)

    # -- the RECORDED clock ---------------------------------------------------------------

    def position_at(self, moment: datetime) -> int:
        """The last position of this timeline's world committed by ``moment``."""
        index = bisect_right(self._recorded, (moment, self.position + 1)) - 1
        return self._recorded[index][1] if index >= 0 else 0

    def at_recorded(self, moment: datetime) -> Snapshot:
        position = self.position_at(moment)
        created = self._state.created
        if created is None or created.position > position:
            return Snapshot(None, [], {}, no_reports, {})
        entries, survivors = self.live_at(position)
        facts = {e.id: self._rows(e.id, lambda k: self._recorded_at(k, position))
                 for e in entries}

        def reports(entry: str) -> list[ReportRow]:
            self.read_all()
            members = [entry, *(d for d, s in survivors.items() if s == entry)]
            made = [self.trails.at_position(report, position) for member in members
                    for r in self._reports_of.get(member, [])
                    if (report := self.state.reports[r]).reported.position <= position]
            return [report_row(self.slug, r)
                    for r in sorted(made, key=lambda r: r.reported.position)]

        sources = {s: source for s, v in self._sources.items()
                   if (source := v.at(position)) is not None}
        index = bisect_right(self._versions, position) - 1
        version = self._versions[index] if index >= 0 else 0
        return Snapshot(self._timeline_row(version), self._entry_rows(entries, facts), facts,
                        reports, sources, survivors)

    def prepare(self, since: int = 0, *, reported: bool = True,
                budget: int | None = None) -> int:
        """Resolve every fact version a RECORDED read can land on after position ``since``
        (as of the last event of each commit) and, with ``reported``, the REPORTED versions
        not kept (while the reports they weigh add up to no more than ``budget``), so that
        a history written down now answers without the policy; how many were resolved."""
        ends = self._commit_ends(since)
        resolved = 0
        for key, touches in self._touches.items() if ends else ():
            rows = self._recorded_rows.setdefault(key, {})
            for index in range(max(bisect_right(touches, since) - 1, 0), len(touches)):
                touch, end = touches[index], bisect_left(ends, touches[index])
                later = touches[index + 1] if index + 1 < len(touches) else None
                if end < len(ends) and (later is None or ends[end] < later) \
                        and touch not in rows:
                    self.recorded_row(key, touch)
                    resolved += 1
        if reported:
            resolved += self.reported.prepare(self._attributes, budget)
            self.reported_index()
        return resolved

    def _commit_ends(self, since: int) -> list[int]:
        """The positions after ``since`` a RECORDED read can land on: each commit's last."""
        start = bisect_right(self._recorded, since, key=lambda r: r[1])
        recorded = self._recorded
        return [position for k, (moment, position) in enumerate(recorded[start:], start)
                if k + 1 == len(recorded) or recorded[k + 1][0] != moment]

    def live_at(self, position: int) -> tuple[list[EntryState], dict[str, str]]:
        """The entries live at ``position``, and where those merged by then live."""
        survivors = self._survivors(position)
        return [e for e in self._state.entries.values()
                if e.opened.position <= position and e.id not in survivors], survivors

    def attributes_of(self, entry: str) -> Sequence[str]:
        """Every attribute an entry had a fact on, ever (sorted)."""
        return self._attributes.get(entry, ())

    def last_touch(self, key: FactKey, position: int) -> int | None:
        """The last position at or before ``position`` where the fact may have changed."""
        touches = self._touches.get(key)
        index = -1 if touches is None else bisect_right(touches, position) - 1
        return None if touches is None or index < 0 else touches[index]

    def _recorded_at(self, key: FactKey, position: int) -> FactRow | None:
        touch = self.last_touch(key, position)
        return None if touch is None else self.recorded_row(key, touch)

    def _recorded_versions(self, key: FactKey) -> FactVersions | None:
        touches = self._touches.get(key)
        return None if touches is None else FactVersions(
            touches, lambda position: self.recorded_row(key, position))

    def recorded_row(self, key: FactKey, position: int) -> FactRow | None:
        """The fact as the event at ``position``, which touched it, left it."""
        rows = self._recorded_rows.setdefault(key, {})
        kept = rows.get(position, UNKNOWN)
        if kept is UNKNOWN:
            rows[position] = kept = self.resolve_recorded(key, position)
            self.documents.decoded += 1
        return self.documents.row(key, kept, rows, position)

    def resolve_recorded(self, key: FactKey, position: int) -> FactRow | None:
        """The policy applied to the fact's reports and sources as of ``position``."""
        entry, attribute = key
        survivors = self._survivors(position)
        if entry in survivors:
            return None  # merged away
        reports = self.reports_at(key, position, survivors)
        fact = resolve_fact(entry, attribute, reports, self._infos.at(position) or {})
        return None if fact is None else FactRow(self.slug, entry, attribute, fact)

    def reports_at(self, key: FactKey, position: int,
                   survivors: Mapping[str, str]) -> list[ReportState]:
        """A fact's reports as the log up to ``position`` left them, the entries merged into
        it by then (``survivors``) included."""
        entry, attribute = key
        members = [entry, *(d for d, s in survivors.items() if s == entry)]
        return [self.trails.at_position(report, position) for member in members
                for r in self.state.by_fact.get((member, attribute), ())
                if (report := self.state.reports[r]).reported.position <= position]

    def _survivors(self, position: int) -> dict[str, str]:
        merged = {d: s for p, d, s in self._merges if p <= position}
        return {d: self._survivor(d, merged) for d in merged}

    @staticmethod
    def _survivor(entry: str, merged: dict[str, str]) -> str:
        seen = {entry}
        while entry in merged and merged[entry] not in seen:
            entry = merged[entry]
            seen.add(entry)
        return entry

    # -- the REPORTED clock ---------------------------------------------------------------

    def at_reported(self, moment: datetime) -> Snapshot:
        if self._state.created is None:
            return Snapshot(None, [], {}, no_reports, {})
        index = self.reported_index()
        entries = self._state.live_entries()
        at = micros(moment)
        facts = {e.id: self._rows(e.id, lambda k: self.reported.row_at(k, at))
                 for e in entries}

        survivors = {e: self._state.survivor_of(e) for e in self._state.merged}
        # Reports are built when asked for, maybe after more events were folded: they are
        # built from the log read so far, ranked as it leaves them.
        known, trails = self.position, self.trails

        def reports(entry: str) -> list[ReportRow]:
            self.read_all()
            members = [entry, *(d for d, s in survivors.items() if s == entry)]
            pasts = [past for member in members for r in self._reports_of.get(member, [])
                     if (report := self.state.reports[r]).reported.position <= known
                     and (past := trails.as_reported(report, moment, known,
                                                     trails.rank_at(report, known)))
                     is not None]
            return [report_row(self.slug, p)
                    for p in sorted(pasts, key=lambda p: p.reported.position)]

        found = bisect_right(index.thresholds, at) - 1
        version = index.versions[found] if found >= 0 else 0
        sources = {s.id: source_row(s) for s in self.sources.values() if s.exists}
        return Snapshot(self._timeline_row(version), self._entry_rows(entries, facts), facts,
                        reports, sources, survivors)

    def reported_epoch(self, moment: datetime) -> tuple[int, int]:
        """Equal for two moments only when the REPORTED answers at them are equal: the log
        read so far, and how many of the moments where an answer may change have passed."""
        return self.position, bisect_right(self.reported_index().moments, micros(moment))

    def reported_index(self) -> ReportedIndex:
        return self.reported.index(self.position)

    def decode_all(self) -> Iterator[None]:
        """Decode the documents a persisted history was read back with, one per step; then
        let go of the bytes they were read from."""
        yield from self.documents.decode_all(self._recorded_rows)
        yield from self.documents.decode_all(self.reported.rows)
        for rows in (self._recorded_rows, self.reported.rows):  # any folded in meanwhile
            for _ in self.documents.decode_all(rows):
                pass
        self.documents.release()

    # -- rows -----------------------------------------------------------------------------

    def _rows(self, entry: str, row_at: Callable[[FactKey], FactRow | None]) -> list[FactRow]:
        return [row for attribute in self._attributes.get(entry, ())
                if (row := row_at((entry, attribute))) is not None]

    def _timeline_row(self, version: int) -> TimelineRow:
        created = self._state.created
        assert created is not None
        return TimelineRow(slug=self.slug, title=self._state.title,
                           description=self._state.description, version=version,
                           created_at=created.recorded_at)

    def _entry_rows(self, entries: Iterable[EntryState],
                    facts: dict[str, list[FactRow]]) -> list[EntryRow]:
        rows = []
        for entry in entries:
            occurred = next((f for f in facts[entry.id] if f.attribute == "occurred"), None)
            rows.append(EntryRow(timeline=self.slug, id=entry.id, title=entry.title,
                                 merged_into=None, position=entry.opened.position,
                                 occurred_start=self._start(occurred)))
        return rows

    def _start(self, occurred: FactRow | None) -> datetime | None:
        """Where the best-known ``occurred`` starts; each fact version is parsed once (the
        row is kept with its start, so its id cannot be reused while remembered)."""
        if occurred is None:
            return None
        known = self._starts.get(id(occurred))
        if known is not None and known[0] is occurred:
            return known[1]
        span = stored_value(occurred.document["value"])
        start = span.bounds()[0] if isinstance(span, TimeSpan) else None
        self._starts[id(occurred)] = (occurred, start)
        return start
