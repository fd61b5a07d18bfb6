"""Track records where readers and data journalists see them: each source's record line in
the embed's source list (in all, in words), and ``/export/{slug}/sources.csv`` (on the
timeline and in all), now and as of earlier moments on both clocks.

The story is test_track_record_queries.py's, counted there by hand phase by phase.
"""

from __future__ import annotations

import csv
import io
import re
from html import unescape

from tests.integration.conftest import Api
from tests.integration.khasham import report, story
from tests.integration.test_track_record_queries import D1, D2, D3, PHASES, counts, tell

# The embed's record lines after each phase: each source's record on every timeline.
LINES = [
    {"pentagon": "1 report · cited by 1 report", "bi": "1 report",
     "mfa": "1 report · 1 outweighed"},
    {"pentagon": "1 report · 1 upheld · cited by 1 report", "bi": "1 report · 1 upheld",
     "mfa": "2 reports · 1 outweighed", "outlets": "1 report · 1 upheld"},
    {"pentagon": "1 report · 1 upheld", "bi": "1 report · 1 corrected · 1 upheld",
     "mfa": "3 reports · 1 retracted", "outlets": "1 report · 1 upheld · cited by 1 report"},
]
# The sources.csv's rows, as its first columns say who the sources are (by name, then id).
WHO = {"bi": ["bi", "Business Insider", "MEDIA", "B", "", ""],
       "pentagon": ["pentagon", "Pentagon", "MILITARY", "B", "", ""],
       "mfa": ["mfa", "Russian Foreign Ministry", "GOVERNMENT", "C", "", ""],
       "outlets": ["outlets", "several news outlets", "MEDIA", "F", "", ""]}
HEADER = ["source", "name", "kind", "grade", "grade_note", "url", "reports", "retracted",
          "corrected", "outweighed", "upheld", "cited", "all_reports", "all_retracted",
          "all_corrected", "all_outweighed", "all_upheld", "all_cited"]
RECORD_LINE = re.compile(r'<li data-source="([^"]+)">.*?<span class="track-record" '
                         r'data-track-record title="([^"]*)">([^<]*)</span>', re.S)


def as_of(moment: str, axis: str = "RECORDED") -> dict[str, str]:
    return {"asOf": moment, "axis": axis}


def reported(day: str) -> dict[str, str]:
    """An hour into the day a phase was reported on: that phase, on the REPORTED clock."""
    return as_of(day.replace("T00", "T01"), "REPORTED")


async def embed(api: Api, params: dict[str, str] | None = None, slug: str = "khasham",
                part: bool = False) -> str:
    query = {**(params or {}), **({"part": "content"} if part else {})}
    response = await api.client.get(f"/embed/{slug}", params=query)
    assert response.status_code == 200, response.text
    return response.text


def record_lines(html: str) -> dict[str, str]:
    return {source: unescape(line) for source, _, line in RECORD_LINE.findall(html)}


def record_titles(html: str) -> set[str]:
    return {unescape(title) for _, title, _ in RECORD_LINE.findall(html)}


async def sources_csv(api: Api, params: dict[str, str] | None = None,
                      slug: str = "khasham") -> list[list[str]]:
    response = await api.client.get(f"/export/{slug}/sources.csv", params=params or {})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == \
        f'attachment; filename="{slug}-sources.csv"'
    return list(csv.reader(io.StringIO(response.text)))


def rows_of(phase: int) -> list[list[str]]:
    """The hand-counted rows after a phase: on khasham, then on every timeline."""
    rows = []
    for source, who in WHO.items():
        by_timeline = PHASES[phase][source]
        if not by_timeline:
            continue  # not cited on khasham yet
        here = by_timeline.get("khasham", counts())
        total = {k: sum(record[k] for record in by_timeline.values()) for k in here}
        rows.append(who + [str(n) for n in (*here.values(), *total.values())])
    return rows


async def test_the_embed_shows_each_sources_record_in_words_now_and_as_of(api: Api) -> None:
    told = await tell(api)
    now = await embed(api)
    assert record_lines(now) == LINES[2]
    assert record_titles(now) == {
        "How this source's reports have fared on every timeline, as of now: the reports it "
        "made, how many were retracted, corrected, outweighed by the best-known value or "
        "upheld by another source, and how many reports by others cite it."}
    for phase, recorded in enumerate(told.recorded):
        assert record_lines(await embed(api, as_of(recorded))) == LINES[phase], phase
    for phase, day in enumerate([D1, D2, D3]):
        html = await embed(api, reported(day))
        assert record_lines(html) == LINES[phase], phase
        (title,) = record_titles(html)
        assert "(by when reports were made)" in title and "as of now" not in title


async def test_the_live_page_fetches_the_records_too(api: Api) -> None:
    await tell(api)
    part = await embed(api, part=True)
    assert "<style" not in part
    assert record_lines(part) == LINES[2]
    assert "data-track-record-note" in part


async def test_a_source_only_cited_shows_no_reports_of_its_own(api: Api) -> None:
    await story(api)
    await api.ok("registerSource", {"id": "sana", "name": "SANA", "kind": "MEDIA"})
    for source in ("bi", "outlets"):
        await api.ok("reportFact", report("strike", "weapon", {"text": "jet"}, source,
                                          "CLAIMED", D1, via="sana"))
    lines = record_lines(await embed(api))
    assert lines["sana"] == "0 reports · cited by 2 reports"
    assert lines["bi"] == lines["outlets"] == "1 report"  # one origin: upheld by no other
    assert set(lines) == {"bi", "outlets", "sana"}  # sources cited nowhere are not listed


async def test_the_sources_csv_counts_each_source_here_and_in_all(api: Api) -> None:
    told = await tell(api)
    assert await sources_csv(api) == [HEADER, *rows_of(2)]
    for phase, recorded in enumerate(told.recorded):
        assert await sources_csv(api, as_of(recorded)) == [HEADER, *rows_of(phase)], phase
    for phase, day in enumerate([D1, D2, D3]):
        assert await sources_csv(api, reported(day)) == [HEADER, *rows_of(phase)], phase
    # On derna, mfa alone: its one report there, and its whole record beside it.
    assert await sources_csv(api, slug="derna") == [
        HEADER, WHO["mfa"] + ["1", "0", "0", "0", "0", "0", "3", "1", "0", "0", "0", "0"]]


async def test_the_sources_csv_of_a_timeline_missing_then_or_ever_is_404(api: Api) -> None:
    await tell(api)
    for path, params in [("/export/nowhere/sources.csv", {}),
                         ("/export/khasham/sources.csv", as_of("2000-01-01T00:00:00Z"))]:
        response = await api.client.get(path, params=params)
        assert response.status_code == 404, path


async def test_the_sources_csv_refuses_a_bad_moment_axis_or_slug(api: Api) -> None:
    await tell(api)
    for path, params, field in [
            ("/export/khasham/sources.csv", {"asOf": "yesterday"}, "asOf"),
            ("/export/khasham/sources.csv", as_of(D3, "SOMETIME"), "axis"),
            ("/export/kha%00sham/sources.csv", {}, "slug")]:
        response = await api.client.get(path, params=params)
        assert response.status_code == 400, path
        assert field in response.text


async def test_a_source_name_a_spreadsheet_would_run_is_written_inert(api: Api) -> None:
    await story(api)
    formula = '=HYPERLINK("http://example.invalid","click")'
    await api.ok("registerSource", {"id": "trap", "name": formula, "kind": "OTHER",
                                    "url": "https://example.invalid/-1"})
    await api.ok("gradeSource", {"source": "trap", "reliability": "E",
                                 "note": "+cmd|' /C calc'!A0"})
    await api.ok("reportFact", report("strike", "weapon", {"text": "jet"}, "trap", "CLAIMED",
                                      D1))
    (header, row) = await sources_csv(api)
    cells = dict(zip(header, row, strict=True))
    assert cells["name"] == "'" + formula
    assert cells["grade_note"] == "'+cmd|' /C calc'!A0"
    assert cells["url"] == "https://example.invalid/-1"  # only a cell's start is a danger
    assert cells["reports"] == "1"
