"""``/export/{slug}/sources.csv``: the sources a timeline cites, with their track records.

One row per source a report on the timeline names (as its source or as its origin,
``via``), by name then id: who it is, its grade, then how its reports have fared on this
timeline and, in the ``all_`` columns, on every timeline (events/track_records.py). Like
the embed, it honours ``?asOf=&axis=``: the sources, their grades and their records as they
stood then.

Unlike the timeline's own CSV, which ``chronicle import --csv`` reads back verbatim, this
file is only read by people, so a cell a spreadsheet would take for a formula is defused.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from api.embed.presenter import all_entries, cited, records_of
from api.embed.reading import read_source_of, services_of, view_or_refusal
from api.services.reading import TimelineView
from api.services.track_records import NO_RECORD, SourceRecord
from events.rows import ReportRow, SourceRow
from events.track_records import COUNTS, NOTHING, TrackRecord

SOURCE_COLUMNS = ("source", "name", "kind", "grade", "grade_note", "url")
COLUMNS = SOURCE_COLUMNS + COUNTS + tuple(f"all_{count}" for count in COUNTS)
# What a spreadsheet reads as the start of a formula (or of a DDE call, after a tab or a
# carriage return it strips).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Row = dict[str, str | int]


async def sources_csv_export(request: Request) -> Response:
    slug = request.path_params["slug"]
    view = await view_or_refusal(request, slug)
    if isinstance(view, Response):
        return view
    if await view.row() is None:
        return PlainTextResponse(f"no timeline {slug!r}", status_code=404)
    sources = cited(await _reports(view), await view.sources())
    records = await records_of(services_of(request), read_source_of(request))(view.moment)
    rows = [source_row(source, records.get(source.id, NO_RECORD), slug)
            for source in sources]
    return Response(csv_text(rows), media_type="text/csv; charset=utf-8", headers={
        "content-disposition": f'attachment; filename="{slug}-sources.csv"',
        "cache-control": "no-cache"})


async def _reports(view: TimelineView) -> list[ReportRow]:
    """Every report on the timeline, retracted ones included, merged entries' too."""
    # Asked together, the present's loader fetches them in one query.
    by_entry = await asyncio.gather(*(view.reports(e.id) for e in await all_entries(view)))
    return [report for reports in by_entry for report in reports]


def source_row(source: SourceRow, record: SourceRecord, slug: str) -> Row:
    here = record.by_timeline.get(slug, NOTHING)
    return {"source": source.id, "name": source.name, "kind": source.kind,
            "grade": source.reliability or "", "grade_note": source.grade_note or "",
            "url": source.url or "", **_counts(here, ""), **_counts(record.total, "all_")}


def _counts(record: TrackRecord, prefix: str) -> dict[str, str | int]:
    return {prefix + name: count for name, count in zip(COUNTS, record.counts(), strict=True)}


def csv_text(rows: Iterable[Row]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({column: inert(cell) for column, cell in row.items()} for row in rows)
    return out.getvalue()


def inert(cell: str | int) -> str | int:
    """A text cell a spreadsheet shows as written rather than evaluates: one that would
    start a formula gets a leading apostrophe, which spreadsheets hide."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell
