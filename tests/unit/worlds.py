"""A write model without a store: streams folded from the events the decisions make, as the
appender keeps them, for tests of deciding and folding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast

from events.commands import parse_command, streams_read
from events.decisions import decide
from events.reducer import SourceState, Stamp, StreamState, TimelineState

# The instant the tests' reports are dated (2018-02-13T15:00:00Z), and the one a World
# stamps its events recorded at; it decides a year later, so no such report is in its future.
T0 = datetime(2018, 2, 13, 15, tzinfo=UTC)


class World:
    """Streams folded from events, as the appender keeps them."""

    def __init__(self) -> None:
        self.states: dict[str, StreamState] = {}
        self.position = 0

    def state(self, stream: str) -> StreamState:
        kind, _, name = stream.partition(":")
        if stream not in self.states:
            self.states[stream] = TimelineState(name) if kind == "timeline" else SourceState(name)
        return self.states[stream]

    def timeline(self, slug: str) -> TimelineState:
        """The state of ``timeline:<slug>`` (``state`` makes a TimelineState for it)."""
        return cast(TimelineState, self.state(f"timeline:{slug}"))

    def run(self, mutation: str, **fields: object) -> object:
        command = parse_command(mutation, fields)
        states = {s: self.state(s) for s in streams_read(command)}
        decision = decide(command, states, T0 + timedelta(days=365))
        self.position += 1
        self.state(decision.stream).apply(decision.event, Stamp(self.position, T0))
        return decision.event
