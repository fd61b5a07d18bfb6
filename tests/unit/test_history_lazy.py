"""The kept history (events/history_index.py) resolves facts only when a read lands on them,
and keeps each REPORTED version only until an event touches its fact: whatever it was read
at before, whenever the log was folded, it answers what a replay of the log answers."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.as_of import Axis
from events.history_index import TimelineHistory
from events.report_changes import report_changes
from tests.unit.history_stories import SLUG, Story, answer, replayed, story

pytestmark = pytest.mark.unit

seeds = st.integers(0, 2**32 - 1)
steps = st.integers(1, 70)


def read(history: TimelineHistory, axis: Axis, moment: datetime) -> dict[str, object]:
    return answer(history.at_recorded(moment) if axis is Axis.RECORDED
                  else history.at_reported(moment))


def probes(told: Story, rng: random.Random, count: int = 5) -> list[tuple[Axis, datetime]]:
    return ([(Axis.RECORDED, m) for m in told.recorded_moments(rng, count)]
            + [(Axis.REPORTED, m) for m in Story.reported_moments(rng, count)])


@settings(max_examples=60, deadline=None)
@given(seed=seeds, steps=steps)
def test_the_history_answers_what_a_replay_answers_on_both_clocks(seed: int,
                                                                  steps: int) -> None:
    told = story(seed, steps)
    history = TimelineHistory(SLUG)
    history.extend(told.envelopes)
    for axis, moment in probes(told, random.Random(seed)):
        assert read(history, axis, moment) == replayed(told.envelopes, moment, axis), (
            axis, moment)


@settings(max_examples=60, deadline=None)
@given(seed=seeds, steps=steps, pieces=st.integers(2, 6), new_vias=st.booleans())
def test_versions_read_between_folds_are_dropped_when_an_event_touches_their_fact(
        seed: int, steps: int, pieces: int, new_vias: bool) -> None:
    """The incremental REPORTED clock (and the kept RECORDED versions) equal a history
    folded at once, however the reads and the folds were interleaved."""
    told = story(seed, steps, new_vias=new_vias)
    rng = random.Random(seed + 1)
    cuts = sorted(rng.sample(range(1, len(told.envelopes)), min(pieces - 1,
                                                               len(told.envelopes) - 1)))
    history = TimelineHistory(SLUG)
    for start, end in zip([0, *cuts], [*cuts, len(told.envelopes)], strict=True):
        history.extend(told.envelopes[start:end])
        for axis, moment in probes(told, rng, 3):  # fill the caches on the way
            read(history, axis, moment)
            history.reported_epoch(moment)
    once = TimelineHistory(SLUG)
    once.extend(told.envelopes)
    for axis, moment in probes(told, rng):
        assert read(history, axis, moment) == read(once, axis, moment), (axis, moment)
        if not new_vias:
            assert read(once, axis, moment) == replayed(told.envelopes, moment, axis)


@settings(max_examples=40, deadline=None)
@given(seed=seeds, steps=steps)
def test_two_moments_of_one_reported_epoch_read_the_same(seed: int, steps: int) -> None:
    told = story(seed, steps)
    history = TimelineHistory(SLUG)
    history.extend(told.envelopes)
    rng = random.Random(seed)
    moments = sorted(Story.reported_moments(rng, 12))
    moments += [m + timedelta(microseconds=d) for m in moments[:4] for d in (-1, 1)]
    by_epoch: dict[tuple[int, int], object] = {}
    for moment in moments:
        seen = by_epoch.setdefault(history.reported_epoch(moment),
                                   read(history, Axis.REPORTED, moment))
        assert seen == read(history, Axis.REPORTED, moment)


def test_report_changes_read_kept_versions_a_second_time(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The first ``changes`` over a window resolves the versions it needs; they are kept, so
    asking again folds nothing and resolves nothing."""
    told = story(7, 120, new_vias=True)
    history = TimelineHistory(SLUG)
    history.extend(told.envelopes)
    first, last = told.envelopes[0].recorded_at, told.envelopes[-1].recorded_at
    windows = [(Axis.RECORDED, first, last),
               (Axis.REPORTED, *Story.reported_moments(random.Random(1), 0))]
    before = [report_changes(history, since, until, axis) for axis, since, until in windows]
    assert any(before)

    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("report changes must read kept versions, not fold or resolve")

    monkeypatch.setattr("events.policy._Judge.__init__", refused)
    monkeypatch.setattr("events.vocabulary.event_from_data", refused)
    assert [report_changes(history, s, u, a) for a, s, u in windows] == before


def test_prepared_recorded_versions_need_no_policy_at_any_commit(
        monkeypatch: pytest.MonkeyPatch) -> None:
    told = story(11, 150)
    history = TimelineHistory(SLUG)
    history.extend(told.envelopes)
    assert history.prepare(reported=False) > 0
    assert history.prepare(reported=False) == 0  # all kept
    expected = {m: read(history, Axis.RECORDED, m)
                for m in told.recorded_moments(random.Random(2), 20)}

    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("a prepared history resolves nothing for a RECORDED read")

    monkeypatch.setattr("events.policy._Judge.__init__", refused)
    for moment in sorted({e.recorded_at for e in told.envelopes}):
        read(history, Axis.RECORDED, moment)  # every commit's answer is kept
    for moment, seen in expected.items():
        assert read(history, Axis.RECORDED, moment) == seen
