"""Every source's track record on a timeline as it stood at a past moment, on either clock,
read from the timeline's kept history (events/history_index.py).

A record is the sum of what each fact adds to it (events/track_records.py), and what a fact
adds can change only where the fact itself may change: at its keys (the positions that
touched it on the RECORDED clock, its moments on the REPORTED clock). So what a fact adds at
one key is worked out once, from its reports and its version there, and kept beside that
version: on the RECORDED clock for good, on the REPORTED clock until the version is dropped.
A read sums what the facts standing at its moment add, and the sum is kept for the moments
that give the same answer. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from typing import TYPE_CHECKING

from events.as_of import Axis
from events.history_reported import micros
from events.reducer import ReportState
from events.rows import FactRow
from events.track_records import Records, TrackRecord, fact_record, roles

if TYPE_CHECKING:
    from events.history_index import TimelineHistory

SUMS_KEPT = 64


class KeptRecords:
    """What a history keeps for track records: each fact's share at each RECORDED key, and
    the sums lately read."""

    def __init__(self) -> None:
        self.recorded: dict[tuple[str, str], dict[int, Records]] = {}
        self.sums: OrderedDict[object, Records] = OrderedDict()

    def sum_for(self, key: object) -> Records | None:
        found = self.sums.get(key)
        if found is not None:
            self.sums.move_to_end(key)
        return found

    def keep_sum(self, key: object, records: Records) -> Records:
        self.sums[key] = records
        while len(self.sums) > SUMS_KEPT:
            self.sums.popitem(last=False)
        return records


def records_as_of(history: TimelineHistory, moment: datetime, axis: Axis) -> Records:
    """Every source's record on the timeline at ``moment`` on ``axis``: what a recount of
    the log folded to that moment (events.track_records.records_of) gives."""
    if axis is Axis.RECORDED:
        return _at_position(history, history.position_at(moment))
    return _at_reported(history, moment)


def _at_position(history: TimelineHistory, position: int) -> Records:
    kept = history.kept_records
    found = kept.sum_for((Axis.RECORDED, position))
    if found is not None:
        return found
    entries, _ = history.live_at(position)
    shares: list[Records] = []
    for entry in entries:
        for attribute in history.attributes_of(entry.id):
            key = (entry.id, attribute)
            touch = history.last_touch(key, position)
            if touch is None:
                continue
            by_touch = kept.recorded.setdefault(key, {})
            share = by_touch.get(touch)
            if share is None:
                # The fact's reports and members stand still between two of its touches.
                share = by_touch[touch] = _share(
                    history.reports_at(key, touch, history.survivors_at(touch)),
                    history.recorded_row(key, touch))
            shares.append(share)
    return kept.keep_sum((Axis.RECORDED, position), summed(shares))


def _at_reported(history: TimelineHistory, moment: datetime) -> Records:
    kept, clock = history.kept_records, history.reported
    epoch = (Axis.REPORTED, history.reported_epoch(moment))
    found = kept.sum_for(epoch)
    if found is not None:
        return found
    at = micros(moment)
    shares: list[Records] = []
    for entry in history.state.live_entries():
        for attribute in history.attributes_of(entry.id):
            key = (entry.id, attribute)
            since = clock.moment_at(key, at)
            if since is None:
                continue
            by_moment = clock.records.setdefault(key, {})
            share = by_moment.get(since)
            if share is None:
                share = by_moment[since] = _share(clock.reports_at(key, since),
                                                  clock.row(key, since))
            shares.append(share)
    return kept.keep_sum(epoch, summed(shares))


def _share(reports: list[ReportState], row: FactRow | None) -> Records:
    """What one version of a fact adds: its reports then, their roles in it then."""
    return fact_record(reports, roles(None if row is None else row.document))


def summed(shares: list[Records]) -> Records:
    """The sum of facts' shares, by source (sources with nothing to count left out)."""
    sums: dict[str, list[int]] = {}
    for share in shares:
        for source, record in share.items():
            counts = sums.get(source)
            if counts is None:
                sums[source] = list(record.counts())
            else:
                for index, count in enumerate(record.counts()):
                    counts[index] += count
    return {source: TrackRecord(*counts) for source, counts in sums.items() if any(counts)}

