"""A history written down and read back (events/history_codec.py) answers exactly what the
history written answers, before and after more of the log is folded into it; anything else
is refused as ``Unreadable``, never half read."""

from __future__ import annotations

import json
import random
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events import history_codec, vocabulary
from events.as_of import Axis
from events.chain import Envelope
from events.history_codec import Unreadable, decode, encode
from events.history_index import TimelineHistory
from events.ports import Applied
from events.report_changes import report_changes
from tests.unit.history_stories import SLUG, Story, answer, replayed, story
from tests.unit.test_history_lazy import probes, read

pytestmark = pytest.mark.unit


def folded(told: Story, end: int | None = None) -> TimelineHistory:
    history = TimelineHistory(SLUG)
    history.extend(told.envelopes[:end])
    return history


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), steps=st.integers(1, 70), split=st.floats(0, 1),
       prepared=st.booleans(), warmed=st.booleans(), new_vias=st.booleans())
def test_a_history_read_back_and_caught_up_answers_what_a_fold_does(
        seed: int, steps: int, split: float, prepared: bool, warmed: bool,
        new_vias: bool) -> None:
    told = story(seed, steps, new_vias=new_vias)
    rng = random.Random(seed)
    cut = int(split * len(told.envelopes))
    written = folded(told, cut)
    if prepared:
        written.prepare()
    if warmed:  # kept versions of both clocks are written too
        for axis, moment in probes(told, rng, 3):
            read(written, axis, moment)
    blob = encode(written)
    back = decode(blob, SLUG)
    assert encode(back) == blob  # read back, it writes itself down the same
    for axis, moment in probes(told, rng, 3):
        if cut:
            assert read(back, axis, moment) == read(written, axis, moment)
    back.extend(told.envelopes[cut:])
    whole = folded(told)
    for axis, moment in probes(told, rng):
        assert read(back, axis, moment) == read(whole, axis, moment), (axis, moment)
        if not new_vias:
            assert read(whole, axis, moment) == replayed(told.envelopes, moment, axis)
        assert back.position_at(moment) == whole.position_at(moment)
        assert back.reported_epoch(moment) == whole.reported_epoch(moment)
    first, last = told.envelopes[0].recorded_at, told.envelopes[-1].recorded_at
    for axis, since, until in [(Axis.RECORDED, first, last),
                               (Axis.REPORTED, *Story.reported_moments(rng, 0))]:
        assert report_changes(back, since, until, axis) == report_changes(
            whole, since, until, axis)


def test_documents_are_read_back_undecoded_and_decoded_once_when_shown() -> None:
    told = story(3, 80)
    written = folded(told)
    written.prepare()
    back = decode(encode(written), SLUG)
    kept = [row for rows in back._recorded_rows.values() for row in rows.values()]
    assert kept and all(isinstance(row, tuple) or row is None for row in kept)
    moment = told.envelopes[-1].recorded_at
    shown = back.at_recorded(moment)
    again = back.at_recorded(moment)
    assert [id(f) for rows in shown.facts.values() for f in rows] == [
        id(f) for rows in again.facts.values() for f in rows]
    assert answer(shown) == answer(written.at_recorded(moment))


def rewritten(blob: bytes, change: object, part: int = 0) -> bytes:
    """``blob`` with ``change`` made to one of its JSON parts (0: what every read needs,
    1: the reports, read back when first needed)."""
    size = int.from_bytes(blob[:8], "big")
    parts = zlib.decompress(blob[16:16 + size]).split(b"\n")
    body = json.loads(parts[part])
    assert callable(change)
    change(body)
    parts[part] = json.dumps(body).encode()
    head = zlib.compress(b"\n".join(parts))
    return len(head).to_bytes(8, "big") + blob[8:16] + head + blob[16 + size:]


@pytest.mark.parametrize("damage", [
    lambda blob: b"not a history",
    lambda blob: zlib.compress(b"[1, 2, 3]"),
    lambda blob: (9).to_bytes(8, "big") * 2 + zlib.compress(b"{}\n"),
    lambda blob: blob[:len(blob) // 2],
    lambda blob: blob[:-10],  # the documents damaged
    lambda blob: blob[:8] + (1).to_bytes(8, "big") + blob[16:],  # of another size
    lambda blob: rewritten(blob, lambda h: h.update(format=h["format"] + 1)),
    lambda blob: rewritten(blob, lambda h: h.update(policy=h["policy"] + 1)),
    lambda blob: rewritten(blob, lambda h: h.update(slug="another")),
    lambda blob: rewritten(blob, lambda h: h.update(position="12")),
    lambda blob: rewritten(blob, lambda h: h["recorded_rows"].append(
        ["e1", "killed", [1, 0, 10**9]])),
    lambda blob: rewritten(blob, lambda h: h["reports"][0].__setitem__(5, "SHOUTED"), 1),
    lambda blob: rewritten(blob, lambda h: h["values"].__setitem__(0, {"count": "many"}), 1),
    lambda blob: rewritten(blob, lambda h: h["changes"].append(
        [1, "TimelineCreated", {"slug": "x", "title": "x"}]), 1),
    lambda blob: rewritten(blob, lambda h: h["changes"].append(
        [1, "os.system", {"command": "true"}]), 1),
    lambda blob: rewritten(blob, lambda h: h.pop("reports"), 1),
])
def test_anything_but_a_history_this_code_wrote_is_unreadable(damage: object) -> None:
    """Refused when read back, or, for its reports and documents (read back when first
    needed), then."""
    told = story(5, 60)
    written = folded(told)
    written.prepare()
    assert callable(damage)
    with pytest.raises(Unreadable):
        back = decode(damage(encode(written)), SLUG)
        back.read_all()
        list(back.decode_all())


def test_reports_are_read_back_only_when_needed() -> None:
    told = story(5, 60)
    written = folded(told)
    written.prepare()
    back = decode(encode(written), SLUG)
    moment = told.envelopes[-1].recorded_at
    for read_at in (back.at_recorded, back.at_reported):
        read_at(moment)
    assert back._unread is not None and not back._state.reports  # kept versions sufficed
    assert answer(back.at_recorded(moment)) == answer(written.at_recorded(moment))
    assert back._unread is None  # listing reports read them back
    assert back.state.reports.keys() == written.state.reports.keys()


def test_a_history_of_another_policy_version_is_unreadable(
        monkeypatch: pytest.MonkeyPatch) -> None:
    blob = encode(folded(story(5, 30)))
    monkeypatch.setattr(history_codec, "POLICY_VERSION", history_codec.POLICY_VERSION + 1)
    with pytest.raises(Unreadable):
        decode(blob, SLUG)


def test_an_empty_history_round_trips() -> None:
    back = decode(encode(TimelineHistory(SLUG)), SLUG)
    assert back.position == 0 and back.at_reported(Story.reported_moments(
        random.Random(0), 0)[0]).timeline is None


def test_decoding_everything_meanwhile_folding_keeps_every_answer() -> None:
    told = story(9, 120)
    rng = random.Random(9)
    cut = len(told.envelopes) * 2 // 3
    written = folded(told, cut)
    written.prepare()
    back = decode(encode(written), SLUG)
    steps = back.decode_all()
    for k, _ in enumerate(steps):
        if k == 5:  # a fold drops (and keeps) REPORTED versions mid-way
            back.extend(told.envelopes[cut:])
    assert back.documents.data == b""
    whole = folded(told)
    for axis, moment in probes(told, rng):
        assert read(back, axis, moment) == read(whole, axis, moment)


def world(told: Story) -> list[Envelope]:
    """The envelopes the log's reader returns for the story's timeline (its stream and
    every source's: a story tells of another timeline too)."""
    return [e for e in told.envelopes
            if e.stream == f"timeline:{SLUG}" or e.stream.startswith("source:")]


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), steps=st.integers(1, 50), split=st.floats(0, 1))
def test_events_handed_over_decided_fold_into_the_history_the_log_folds_into(
        seed: int, steps: int, split: float) -> None:
    """What ``chronicle import`` does (api/services/history_cache.py): the log read back up
    to a point, then the events it committed as the appender decided them (every timeline's:
    those of others are left out)."""
    told = story(seed, steps)
    cut = int(split * len(told.envelopes))
    handed = TimelineHistory(SLUG)
    handed.extend(world(told)[:cut])
    handed.extend_applied(Applied(e, vocabulary.decode(e)) for e in told.envelopes
                          if e.position > handed.position)
    whole = TimelineHistory(SLUG)
    whole.extend(world(told))
    for history in (handed, whole):
        history.prepare()
    assert handed.position == whole.position
    assert encode(handed) == encode(whole)
