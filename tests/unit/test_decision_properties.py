"""Properties of deciding and folding, over random sequences of editorial work."""

from __future__ import annotations

import contextlib
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from events.errors import DomainError
from events.reducer import ReportStatus, SourceState, Stamp, TimelineState
from events.timeline_facts import facts_of_entry, source_info
from events.vocabulary import event_from_data, event_to_data
from tests.strategies import editorial_commands
from tests.unit.worlds import T0, World


def run_all(script: list[tuple[str, dict[str, Any]]]) -> tuple[World, list[Any]]:
    world = World()
    world.run("createTimeline", slug="t", title="T")
    world.run("registerSource", id="s1", name="One", kind="MEDIA")
    world.run("registerSource", id="s2", name="Two", kind="GOVERNMENT")
    accepted = []
    for mutation, fields in script:
        with contextlib.suppress(DomainError):
            accepted.append(world.run(mutation, **fields))
    return world, accepted


@settings(max_examples=150, deadline=None)
@given(st.lists(editorial_commands, max_size=40))
def test_folding_the_stored_events_again_gives_the_same_state(
        script: list[tuple[str, dict[str, Any]]]) -> None:
    world, accepted = run_all(script)
    replayed = TimelineState("t")
    replayed.apply(event_from_data("TimelineCreated", 1, {"slug": "t", "title": "T"}),
                   Stamp(1, T0))
    for position, event in enumerate(accepted, start=4):
        # Through the log's JSON form, as a restart would read it back.
        again = event_from_data(event.type, 1, event_to_data(event))
        assert again == event
        replayed.apply(again, Stamp(position, T0))
    live = world.timeline("t")
    assert replayed.reports == live.reports
    assert replayed.entries == live.entries


@settings(max_examples=150, deadline=None)
@given(st.lists(editorial_commands, max_size=40))
def test_the_write_model_never_breaks_its_own_rules(
        script: list[tuple[str, dict[str, Any]]]) -> None:
    world, _ = run_all(script)
    timeline = world.timeline("t")
    for report in timeline.reports.values():
        assert report.entry in timeline.entries
        assert report.source in {"s1", "s2"}
    for entry in timeline.entries.values():
        if entry.merged_into is not None:
            assert timeline.survivor_of(entry.id) != entry.id
    same, _ = run_all(script)
    assert same.states == world.states
    retracted = [r for r in timeline.reports.values() if r.status is ReportStatus.RETRACTED]
    assert all(r.retraction_reason for r in retracted)


@settings(max_examples=100, deadline=None)
@given(st.lists(editorial_commands, max_size=30), st.integers(min_value=0, max_value=30))
def test_replaying_a_prefix_then_the_rest_equals_replaying_all(
        script: list[tuple[str, dict[str, Any]]], cut: int) -> None:
    world, accepted = run_all(script)
    sources = source_info({k.split(":", 1)[1]: v for k, v in world.states.items()
                           if isinstance(v, SourceState)})

    def fold(events: list[Any], state: TimelineState, first_position: int) -> TimelineState:
        for position, event in enumerate(events, start=first_position):
            state.apply(event, Stamp(position, T0))
        return state

    base = TimelineState("t")
    base.apply(event_from_data("TimelineCreated", 1, {"slug": "t", "title": "T"}), Stamp(1, T0))
    whole = fold(accepted, base.copy(), 4)
    prefix = fold(accepted[:cut], base.copy(), 4)
    resumed = fold(accepted[cut:], prefix.copy(), 4 + len(accepted[:cut]))
    assert resumed == whole
    for entry in whole.live_entries():
        assert facts_of_entry(resumed, entry.id, sources) == facts_of_entry(whole, entry.id,
                                                                            sources)
