"""Random stories as envelopes, and what a replay of them answers at a moment: the reference
the kept history (events/history_index.py) and a history read back (events/history_codec.py)
must agree with, on both clocks. Pure: no database."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from events.as_of import Axis, fold
from events.chain import Envelope
from events.history_index import Snapshot
from events.policy import fact_document, occurred_start
from events.rows import EntryRow, FactRow, TimelineRow, report_row, source_row
from events.timeline_facts import fact_of, facts_of_entry, source_info
from events.values import Count, Precision, Text, TimeSpan, Value
from events.vocabulary import (
    SCHEMA_VERSION,
    DomainEvent,
    EntriesMerged,
    EntryOpened,
    FactReported,
    Rank,
    Reliability,
    ReportCorrected,
    ReportRanked,
    ReportRetracted,
    SourceGraded,
    SourceKind,
    SourceRegistered,
    Stance,
    TimelineCreated,
    event_to_data,
)

SLUG = "story"
RECORDED_0 = datetime(2026, 3, 1, tzinfo=UTC)
REPORTED_0 = datetime(2018, 2, 8, tzinfo=UTC)
KINDS = ["report"] * 8 + ["correct", "correct", "retract", "rank", "grade", "merge", "open",
                          "register", "other"]


@dataclass
class Story:
    envelopes: list[Envelope]

    def recorded_moments(self, rng: random.Random, count: int) -> list[datetime]:
        """Instants around the commits, before the first and after the last."""
        times = sorted({e.recorded_at for e in self.envelopes})
        found = [times[0] - timedelta(minutes=1), times[-1] + timedelta(minutes=1)]
        found += [rng.choice(times) + timedelta(seconds=rng.choice([-1, 0, 0, 1]))
                  for _ in range(count)]
        return found

    @staticmethod
    def reported_moments(rng: random.Random, count: int) -> list[datetime]:
        found = [REPORTED_0 - timedelta(days=1), REPORTED_0 + timedelta(days=40)]
        found += [REPORTED_0 + timedelta(hours=rng.randint(0, 30 * 24)) for _ in range(count)]
        return found


def value(rng: random.Random, attribute: str) -> Value:
    if attribute == "killed":
        return rng.choice([Count(best=5), Count(low=200), Count(best=40, low=20, high=60),
                           Count(best=rng.randint(1, 9))])
    if attribute == "weapon":
        return Text(rng.choice(["jet", "drone", "artillery"]))
    return rng.choice([TimeSpan("2018-02-07", Precision.DAY),
                       TimeSpan("2018-02-08", Precision.DAY), TimeSpan("2018-02", Precision.MONTH)])


def story(seed: int, steps: int, *, slug: str = SLUG, new_vias: bool = False) -> Story:
    """A valid story: every report, correction, rank and merge is about what exists.

    ``new_vias``: corrections may change the origin a report cites. The kept history dates
    a regrade on the REPORTED clock from the reports citing the source *now* (as it always
    has), where a replay asks what they cited at T; the timeline's ``version`` may then
    differ between the two (the facts do not), so those stories are compared with a history
    folded at once rather than with a replay."""
    rng = random.Random(seed)
    envelopes: list[Envelope] = []
    versions: dict[str, int] = {}
    clock = [RECORDED_0]

    def add(stream: str, event: DomainEvent) -> None:
        if rng.random() < 0.4:  # a new commit; otherwise the same commit as the last event
            clock[0] += timedelta(minutes=rng.randint(1, 3))
        versions[stream] = versions.get(stream, 0) + 1
        envelopes.append(Envelope(
            position=len(envelopes) + 1, stream=stream, version=versions[stream],
            type=event.type, schema_version=SCHEMA_VERSION, data=event_to_data(event),
            recorded_at=clock[0], actor="test", idempotency_key=None, prev_hash="", hash=""))

    sources = ["who", "un", "bbc"]
    for source in sources:
        add(f"source:{source}", SourceRegistered(source, source.upper(), SourceKind.NGO))
        add(f"source:{source}", SourceGraded(source, rng.choice(list(Reliability))))
    add(f"timeline:{slug}", TimelineCreated(slug, "A story"))
    entries = ["e1", "e2", "e3"]
    for entry in entries:
        add(f"timeline:{slug}", EntryOpened(entry, entry.upper()))
    live = list(entries)
    reports: dict[str, datetime] = {}  # live (not retracted) report → when reported
    retracted: set[str] = set()
    for step in range(steps):
        kind = rng.choice(KINDS) if reports else "report"
        day = REPORTED_0 + timedelta(hours=rng.randint(0, 30 * 24))
        if kind == "report":
            attribute = rng.choice(["killed", "weapon", "occurred"])
            report = f"r{step}"
            source = rng.choice(sources)
            via = rng.choice([None, None, *[s for s in sources if s != source]])
            add(f"timeline:{slug}", FactReported(
                report, rng.choice(live), attribute, value(rng, attribute), source,
                rng.choice(list(Stance)), day, via=via))
            reports[report] = day
        elif kind in ("correct", "retract", "rank"):
            report = rng.choice(sorted(reports))
            later = reports[report] + timedelta(hours=rng.randint(-24, 72))
            if kind == "rank":
                add(f"timeline:{slug}", ReportRanked(report, rng.choice(list(Rank)), "desk"))
                continue
            if kind == "retract":
                add(f"timeline:{slug}", ReportRetracted(report, "withdrawn", later))
                reports.pop(report)
                retracted.add(report)
                continue
            attribute = next(_attribute(e) for e in envelopes
                             if e.type == "FactReported" and e.data["report"] == report)
            add(f"timeline:{slug}", ReportCorrected(
                report, later, value=value(rng, attribute) if rng.random() < 0.7 else None,
                stance=rng.choice([None, *Stance]),
                via=rng.choice([None, None, *sources]) if new_vias else None))
        elif kind == "grade":
            source = rng.choice(sources)
            add(f"source:{source}", SourceGraded(source, rng.choice(list(Reliability))))
        elif kind == "merge" and len(live) > 1:
            duplicate, survivor = rng.sample(live, 2)
            add(f"timeline:{slug}", EntriesMerged(duplicate, survivor))
            live.remove(duplicate)
        elif kind == "open":
            entry = f"e{len(entries) + 1}"
            entries.append(entry)
            live.append(entry)
            add(f"timeline:{slug}", EntryOpened(entry, entry.upper()))
        elif kind == "register":
            source = f"s{len(sources)}"
            sources.append(source)
            add(f"source:{source}", SourceRegistered(source, source.upper(), SourceKind.MEDIA))
        elif kind == "other":  # another timeline's events are not this one's world
            add("timeline:elsewhere", TimelineCreated("elsewhere", "Elsewhere")
                if "timeline:elsewhere" not in versions else EntryOpened(f"x{step}", "X"))
    return Story(envelopes)


def _attribute(envelope: Envelope) -> str:
    attribute: str = envelope.data["attribute"]
    return attribute


# -- what the answers are -------------------------------------------------------------------

Answer = dict[str, Any]


def answer(snapshot: Snapshot) -> Answer:
    """Everything a read shows of a snapshot."""
    return {
        "row": snapshot.timeline,
        "entries": sorted(snapshot.entries, key=lambda e: e.id),
        "facts": {e: sorted(rows, key=lambda f: f.attribute)
                  for e, rows in snapshot.facts.items() if rows},
        "reports": {e.id: snapshot.reports(e.id) for e in snapshot.entries},
        "sources": snapshot.sources,
        "survivors": snapshot.survivors,
    }


def replayed(envelopes: list[Envelope], moment: datetime, axis: Axis,
             slug: str = SLUG) -> Answer:
    """What a replay of the log up to ``moment`` on ``axis`` shows (as tests/integration/
    replay_view.py does against the database)."""
    folded = fold(envelopes, slug, axis, moment)
    timeline = folded.timeline
    if timeline.created is None:
        return {"row": None, "entries": [], "facts": {}, "reports": {}, "sources": {},
                "survivors": {}}
    info = source_info(folded.sources)
    entries = []
    facts: dict[str, list[FactRow]] = {}
    for entry in timeline.live_entries():
        found = [FactRow(slug, f.entry, f.attribute, fact_document(f))
                 for f in facts_of_entry(timeline, entry.id, info)]
        if found:
            facts[entry.id] = sorted(found, key=lambda f: f.attribute)
        occurred = None
        if "occurred" in timeline.attributes(entry.id):
            occurred = occurred_start(fact_of(timeline, entry.id, "occurred", info))
        entries.append(EntryRow(timeline=slug, id=entry.id, title=entry.title,
                                merged_into=None, position=entry.opened.position,
                                occurred_start=occurred))
    reports = {}
    for entry in timeline.live_entries():
        group = set(timeline.merged_group(entry.id))
        reports[entry.id] = [report_row(slug, r) for r in timeline.reports.values()
                             if r.entry in group]
    return {
        "row": TimelineRow(slug=slug, title=timeline.title, description=timeline.description,
                           version=folded.position, created_at=timeline.created.recorded_at),
        "entries": sorted(entries, key=lambda e: e.id),
        "facts": facts,
        "reports": reports,
        "sources": {s.id: source_row(s) for s in folded.sources.values() if s.exists},
        "survivors": {e: timeline.survivor_of(e) for e in timeline.merged},
    }
