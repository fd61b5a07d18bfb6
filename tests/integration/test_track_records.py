"""Track records kept one fact at a time in the append's transaction equal a recount from
the log, through every kind of change, a rebuild and a restore."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from events.as_of import Axis, fold
from events.postgres.rebuild import replay_read_model
from events.track_records import Records, TrackRecord, records_of
from tests.integration.conftest import Api
from tests.integration.khasham import random_change, report, story

FAR = datetime(2100, 1, 1, tzinfo=UTC)


async def kept(api: Api) -> Records:
    return {source: record for source, timeline, record
            in await api.services.read_model.track_records(timeline="khasham")}


async def recounted(api: Api) -> Records:
    envelopes = await api.services.store.read_timeline_world("khasham")
    return records_of(fold(envelopes, "khasham", Axis.RECORDED, FAR))


async def test_kept_records_equal_a_recount_through_every_kind_of_change(api: Api) -> None:
    await story(api)
    rng = random.Random(17)
    reports = 0
    for step in range(80):
        reports = await random_change(api, rng, reports)
        if step % 8 == 7:
            assert await kept(api) == await recounted(api), step
    assert sum(r.reports for r in (await kept(api)).values()) == reports


async def test_a_rebuild_keeps_the_same_records(api: Api) -> None:
    await story(api)
    rng = random.Random(18)
    reports = 0
    for _ in range(30):
        reports = await random_change(api, rng, reports)
    before = await kept(api)
    await replay_read_model(api.services.store)
    assert await kept(api) == before == await recounted(api)


async def test_records_count_what_each_source_did(api: Api) -> None:
    """A story small enough to count by hand."""
    await story(api)
    said = "2018-02-10T00:00:00Z"
    for entry, source, via, best in [("strike", "pentagon", None, 100),
                                     ("strike", "bi", "pentagon", 100),
                                     ("strike", "mfa", None, 5),
                                     ("tank", "outlets", None, 3)]:
        await api.ok("reportFact", report(entry, "killed", {"count": {"best": best}}, source,
                                          "CONFIRMED", said, via=via))
    await api.ok("correctReport", {"timeline": "khasham", "report": "r4",
                                   "value": {"count": {"best": 4}}, "reportedAt": said})
    await api.ok("retractReport", {"timeline": "khasham", "report": "r3", "reason": "wrong",
                                   "reportedAt": said})
    records = await kept(api)
    # pentagon's 100 is upheld only by a relay of itself: one origin, nothing upheld.
    assert records["pentagon"] == TrackRecord(reports=1, cited=1)
    assert records["bi"] == TrackRecord(reports=1)
    assert records["mfa"] == TrackRecord(reports=1, retracted=1)
    assert records["outlets"] == TrackRecord(reports=1, corrected=1)
