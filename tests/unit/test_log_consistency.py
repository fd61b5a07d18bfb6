"""A restored log is admitted only when every event refers to what the log holds before it;
whatever the decisions wrote is always admitted."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.commands import parse_command, streams_read
from events.consistency import LogConsistency
from events.decisions import decide
from events.errors import BadInput, DomainError
from events.reducer import Stamp
from events.values import Count, Text
from events.vocabulary import (
    DomainEvent,
    EntriesMerged,
    EntryOpened,
    FactReported,
    Reliability,
    ReportRetracted,
    SourceGraded,
    SourceKind,
    SourceRegistered,
    Stance,
    TimelineCreated,
)
from tests.strategies import editorial_commands
from tests.unit.worlds import T0, World

SETUP: list[tuple[str, dict[str, Any]]] = [
    ("createTimeline", {"slug": "t", "title": "T"}),
    ("registerSource", {"id": "s1", "name": "One", "kind": "MEDIA"}),
    ("registerSource", {"id": "s2", "name": "Two", "kind": "GOVERNMENT"}),
]


def decided_log(script: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, DomainEvent]]:
    world = World()
    log = []
    for mutation, fields in [*SETUP, *script]:
        command = parse_command(mutation, fields)
        states = {s: world.state(s) for s in streams_read(command)}
        with contextlib.suppress(DomainError):
            decision = decide(command, states, T0 + timedelta(days=365))
            world.position += 1
            world.state(decision.stream).apply(decision.event, Stamp(world.position, T0))
            log.append((decision.stream, decision.event))
    return log


def admit_all(log: list[tuple[str, DomainEvent]]) -> None:
    consistency = LogConsistency()
    for position, (stream, event) in enumerate(log, start=1):
        consistency.admit(stream, event, Stamp(position, T0))


@settings(max_examples=150, deadline=None)
@given(st.lists(editorial_commands, max_size=40))
def test_every_log_the_decisions_write_is_admitted(
        script: list[tuple[str, dict[str, Any]]]) -> None:
    admit_all(decided_log(script))


BEGINNING: list[tuple[str, DomainEvent]] = [
    ("timeline:t", TimelineCreated("t", "T")),
    ("source:s1", SourceRegistered("s1", "One", SourceKind.MEDIA)),
    ("timeline:t", EntryOpened("a", "A")),
    ("timeline:t", EntryOpened("b", "B")),
]


def fact(report: str = "r1", **changes: Any) -> FactReported:
    fields: dict[str, Any] = {
        "report": report, "entry": "a", "attribute": "killed", "value": Count(best=5),
        "source": "s1", "stance": Stance.CLAIMED, "reported_at": T0}
    return FactReported(**(fields | changes))


@pytest.mark.parametrize(("stream", "event", "problem"), [
    ("timeline:t", fact(entry="ghost"), "entry 'ghost' does not exist"),
    ("timeline:t", fact(source="ghost"), "cites source 'ghost', never registered"),
    ("timeline:t", fact(via="ghost"), "cites source 'ghost', never registered"),
    ("timeline:u", fact(), "before it was created"),
    ("source:s1", fact(), "does not belong on a source stream"),
    ("timeline:t", fact(attribute="occurred"), "'occurred' takes a time value"),
    ("timeline:t", ReportRetracted("ghost", "wrong", T0), "names report 'ghost'"),
    ("timeline:t", EntryOpened("a", "again"), "entry 'a' is opened twice"),
    ("timeline:t", TimelineCreated("t", "again"), "created twice"),
    ("timeline:u", TimelineCreated("t", "T"), "on the stream of 'u'"),
    ("timeline:t", EntriesMerged("a", "a"), "cannot be merged into itself"),
    ("source:s1", SourceRegistered("s1", "One", SourceKind.MEDIA), "registered twice"),
    ("source:s9", SourceGraded("s9", Reliability.A), "graded before it was registered"),
])
def test_an_event_that_refers_to_nothing_is_refused(stream: str, event: DomainEvent,
                                                    problem: str) -> None:
    with pytest.raises(DomainError, match=problem):
        admit_all([*BEGINNING, (stream, event)])


def test_a_report_id_used_twice_and_a_kind_changed_by_correction_are_refused() -> None:
    admit_all([*BEGINNING, ("timeline:t", fact())])
    with pytest.raises(BadInput, match="used twice"):
        admit_all([*BEGINNING, ("timeline:t", fact()), ("timeline:t", fact(entry="b"))])
    with pytest.raises(BadInput, match="takes a count value"):
        admit_all([*BEGINNING, ("timeline:t", fact()),
                   ("timeline:t", fact("r2", value=Text("many")))])
