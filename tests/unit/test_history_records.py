"""Track records as of a past moment (events/history_records.py), kept fact by fact beside the
history's versions, equal a full recount of the log folded to that moment, on both clocks:
however the log was folded and read in between, and from a history written down and read
back."""

from __future__ import annotations

import random
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.as_of import Axis, fold
from events.history_codec import decode, encode
from events.history_index import TimelineHistory
from events.history_records import records_as_of
from events.track_records import COUNTS, Records, records_of
from tests.unit.history_stories import SLUG, Story, story
from tests.unit.test_history_lazy import probes, read

pytestmark = pytest.mark.unit

seeds = st.integers(0, 2**32 - 1)
steps = st.integers(1, 70)


def recounted(told: Story, axis: Axis, moment: datetime) -> Records:
    return records_of(fold(told.envelopes, SLUG, axis, moment))


@settings(max_examples=80, deadline=None)
@given(seed=seeds, steps=steps, pieces=st.integers(1, 6), new_vias=st.booleans())
def test_records_as_of_equal_a_recount_of_the_log_folded_to_that_moment(
        seed: int, steps: int, pieces: int, new_vias: bool) -> None:
    told = story(seed, steps, new_vias=new_vias)
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(told.envelopes)),
                             min(pieces - 1, len(told.envelopes) - 1)))
    history = TimelineHistory(SLUG)
    for start, end in zip([0, *cuts], [*cuts, len(told.envelopes)], strict=True):
        history.extend(told.envelopes[start:end])
        for axis, moment in probes(told, rng, 3):  # keep shares and sums on the way
            records_as_of(history, moment, axis)
            read(history, axis, moment)
    for axis, moment in probes(told, rng, 8):
        assert records_as_of(history, moment, axis) == recounted(told, axis, moment), (
            axis, moment)


@settings(max_examples=40, deadline=None)
@given(seed=seeds, steps=steps, warmed=st.booleans())
def test_a_history_read_back_gives_the_same_records(seed: int, steps: int,
                                                    warmed: bool) -> None:
    told = story(seed, steps)
    rng = random.Random(seed)
    written = TimelineHistory(SLUG)
    written.extend(told.envelopes)
    if warmed:
        for axis, moment in probes(told, rng, 3):
            records_as_of(written, moment, axis)
    back = decode(encode(written), SLUG)
    for axis, moment in probes(told, rng, 5):
        assert records_as_of(back, moment, axis) == records_as_of(written, moment, axis)


def test_records_count_something_in_the_stories_the_properties_run_on() -> None:
    """The properties above would pass on empty records: the stories do give counts of
    every kind, on both clocks."""
    seen: set[str] = set()
    for seed in range(30):
        told = story(seed, 60, new_vias=True)
        history = TimelineHistory(SLUG)
        history.extend(told.envelopes)
        for axis, moment in probes(told, random.Random(seed), 4):
            for record in records_as_of(history, moment, axis).values():
                seen |= {name for name, count in zip(COUNTS, record.counts(), strict=True)
                         if count}
    assert seen == set(COUNTS)
