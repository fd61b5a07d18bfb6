"""The embed page's wording, on small stories built through GraphQL: each fact leads with its
best value ("3,958 killed · reports from 2,300 to 20,000 · disputed"), counts carry
thousands separators, a time is written once with the other times reported named, an
editor's choice shows with its reason, and each report's quote is in the report list.

Assertions read the page as text (tags dropped, entities decoded, spaces collapsed), as a
reader sees it, and also check the markup that carries the meaning.
"""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from tests.integration.conftest import Api

SLUG = "derna-2023"
BASE_REPORT = {"timeline": SLUG, "entry": "flood", "stance": "CLAIMED"}
QUOTE_RED_CRESCENT = "The death toll has reached 3958, and more than 9000 are still missing."
QUOTE_MAYOR = "The number of deaths could reach 18,000 to 20,000."


def text_of(html: str) -> str:
    """The page as a reader reads it: no tags, entities decoded, whitespace collapsed."""
    without_scripts = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", without_scripts)).split()) \
        .replace(" )", ")").replace("( ", "(").replace(" :", ":").replace(" ,", ",")


def fact_html(html: str, entry: str, attribute: str) -> str:
    """The markup of one fact of one entry, from its <li> on."""
    article = html.split(f'data-entry="{entry}"', 1)[1].split("</article>", 1)[0]
    opening = f'<li class="fact" data-fact="{attribute}"'
    assert opening in article, f"no fact {attribute} under {entry}"
    return opening + article.split(opening, 1)[1].split('<li class="fact"', 1)[0]


def when_html(html: str, entry: str) -> str:
    article = html.split(f'data-entry="{entry}"', 1)[1]
    return article.split('<p class="when">', 1)[1].split("</p>", 1)[0]


async def page(api: Api, slug: str = SLUG) -> str:
    response = await api.client.get(f"/embed/{slug}")
    assert response.status_code == 200, response.text
    return response.text


async def report(api: Api, id: str, source: str, attribute: str, value: dict[str, Any],
                 reported_at: str, **more: Any) -> None:
    await api.ok("reportFact", {**BASE_REPORT, "id": id, "source": source,
                                "attribute": attribute, "value": value,
                                "reportedAt": reported_at, **more})


async def derna(api: Api) -> Api:
    """The Derna flood of September 2023, told by four sources that disagree."""
    await api.ok("createTimeline", {"slug": SLUG, "title": "Derna flood, September 2023"})
    for id, name, kind, grade in (("lrc", "Libyan Red Crescent", "NGO", "B"),
                                  ("ocha", "UN OCHA", "NGO", "B"),
                                  ("health", "Eastern health ministry", "GOVERNMENT", "C"),
                                  ("mayor", "Mayor of Derna", "GOVERNMENT", "C")):
        await api.ok("registerSource", {"id": id, "name": name, "kind": kind})
        await api.ok("gradeSource", {"source": id, "reliability": grade})
    await api.ok("openEntry", {"timeline": SLUG, "id": "flood",
                               "title": "Dams burst above Derna"})
    await report(api, "k-health", "health", "killed", {"count": {"best": 2300}},
                 "2023-09-12T10:00:00Z")
    await report(api, "k-lrc", "lrc", "killed", {"count": {"best": 3958}},
                 "2023-09-14T10:00:00Z", quote=QUOTE_RED_CRESCENT)
    await report(api, "k-mayor", "mayor", "killed", {"count": {"low": 18000, "high": 20000}},
                 "2023-09-13T10:00:00Z", quote=QUOTE_MAYOR)
    await report(api, "t-lrc", "lrc", "occurred",
                 {"time": {"start": "2023-09-11", "precision": "DAY"}},
                 "2023-09-14T10:00:00Z")
    await report(api, "t-ocha", "ocha", "occurred",
                 {"time": {"start": "2023-09", "precision": "MONTH"}},
                 "2023-09-15T10:00:00Z")
    await report(api, "t-mayor", "mayor", "occurred",
                 {"time": {"start": "2023-09-10", "precision": "DAY"}},
                 "2023-09-13T10:00:00Z")
    return api


async def test_a_count_leads_with_its_best_value_then_the_range_and_the_dispute(
        api: Api) -> None:
    html = await page(await derna(api))
    killed = fact_html(html, "flood", "killed")
    assert text_of(killed).startswith(
        "3,958 killed · reports from 2,300 to 20,000 · disputed"), text_of(killed)
    assert 'data-disputed="true"' in killed.split(">", 1)[0]
    assert '<span class="lead">3,958 killed</span>' in killed
    # No number of four digits or more goes without its separator, anywhere on the page,
    # except in the dates the <time> elements carry for machines and in the years.
    visible = re.sub(r'datetime="[^"]*"', "", text_of(html))
    unseparated = {n for n in re.findall(r"(?<![\d,.:-])\d{4,}(?!\d|[,.:-]\d)", visible)
                   if not 1900 <= int(n) <= 2100}
    assert unseparated == {"3958", "9000"}, unseparated  # the quote, as the source said it


async def test_the_report_list_gives_each_report_its_value_and_its_quote(api: Api) -> None:
    html = await page(await derna(api))
    killed = fact_html(html, "flood", "killed")
    said = text_of(killed)
    assert "Best known: 3,958 Libyan Red Crescent (claimed, 14 Sep 2023)" in said
    assert "2,300 Eastern health ministry (claimed, 12 Sep 2023)" in said
    assert "18,000–20,000 Mayor of Derna (claimed, 13 Sep 2023)" in said
    assert f"<q>{QUOTE_RED_CRESCENT}</q>" in killed and f"<q>{QUOTE_MAYOR}</q>" in killed
    red_crescent = killed.split('data-report="k-lrc"', 1)[1].split("</li>", 1)[0]
    assert QUOTE_RED_CRESCENT in red_crescent  # the quote sits with its own report
    health = killed.split('data-report="k-health"', 1)[1].split("</li>", 1)[0]
    assert "<q>" not in health  # no quote, no empty quotation marks
    # Disputed: who says what is in view, not behind a <details>.
    assert killed.index('class="sides"') < killed.index("<details")


async def test_a_quote_is_shown_for_an_undisputed_fact_too(api: Api) -> None:
    await derna(api)
    await report(api, "w-lrc", "lrc", "cause", {"text": "two dams burst"},
                 "2023-09-12T10:00:00Z", quote="Both dams above the city collapsed.")
    cause = fact_html(await page(api), "flood", "cause")
    assert text_of(cause).startswith("cause: two dams burst Why this value")
    assert "<q>Both dams above the city collapsed.</q>" in cause
    assert "Libyan Red Crescent (claimed, 12 Sep 2023)" in text_of(cause)


async def test_a_time_is_written_once_with_the_other_times_reported(api: Api) -> None:
    html = await page(await derna(api))
    when = when_html(html, "flood")
    # "September 2023" (UN OCHA) contains the 11th: it agrees, and is not an alternative.
    assert text_of(when) == "11 September 2023 (also reported: 10 September)"
    assert '<time datetime="2023-09-11T00:00:00+00:00">11 September 2023</time>' in when
    assert "September 2023 /" not in text_of(html) and " or 10 September" not in html


async def test_another_year_is_named_in_full_and_a_disputed_date_is_explained(
        api: Api) -> None:
    await derna(api)
    await report(api, "t-health", "health", "occurred",
                 {"time": {"start": "2022-09-10", "precision": "DAY"}},
                 "2023-09-16T10:00:00Z")
    html = await page(api)
    assert text_of(when_html(html, "flood")) == \
        "11 September 2023 (also reported: 10 September; 10 September 2022)"
    date = fact_html(html, "flood", "occurred")
    assert text_of(date).startswith("date · disputed Best known: 11 September 2023")
    assert "11 September 2023 UN OCHA" not in text_of(date)
    assert "UN OCHA (claimed, 15 Sep 2023): September 2023" in text_of(date)


async def test_an_open_top_reads_with_a_plus(api: Api) -> None:
    await derna(api)
    await report(api, "k-ocha", "ocha", "killed", {"count": {"low": 20000}},
                 "2023-09-17T10:00:00Z")
    fact = (await api.post(
        f'{{ timeline(slug: "{SLUG}") {{ entry(id: "flood") {{ fact(attribute: "killed") '
        "{ high highOpen } } } }"))["data"]["timeline"]["entry"]["fact"]
    assert fact == {"high": 20000, "highOpen": True}
    killed = text_of(fact_html(await page(api), "flood", "killed"))
    assert killed.startswith("3,958 killed · reports from 2,300 to 20,000+ · disputed")
    assert "more than 20,000 UN OCHA (claimed, 17 Sep 2023)" in killed


async def test_an_editors_choice_shows_with_its_reason_without_opening_anything(
        api: Api) -> None:
    await derna(api)
    reason = "The Red Crescent counted the bodies it recovered, by name."
    await api.ok("rankReport", {"timeline": SLUG, "report": "k-lrc", "rank": "PREFERRED",
                                "reason": reason})
    killed = fact_html(await page(api), "flood", "killed")
    assert 'data-status="PREFERRED"' in killed
    shown = killed.split("<details", 1)[0]  # what is in view before any expander
    assert "Editor's choice" in text_of(shown) and reason in shown
    assert text_of(shown).startswith("3,958 killed · reports from 2,300 to 20,000 · disputed "
                                     f"Editor's choice {reason} — Libyan Red Crescent")
    lrc = killed.split('data-report="k-lrc"', 1)[1].split("</li>", 1)[0]
    assert "editor's choice" in text_of(lrc)


async def test_an_editors_choice_on_the_date_is_listed_under_the_entry(api: Api) -> None:
    await derna(api)
    await api.ok("rankReport", {"timeline": SLUG, "report": "t-mayor", "rank": "PREFERRED",
                                "reason": "The mayor was in the city that night."})
    html = await page(api)
    assert text_of(when_html(html, "flood")) == \
        "10 September 2023 (also reported: 11 September)"
    date = fact_html(html, "flood", "occurred")
    assert "Editor's choice The mayor was in the city that night. — Mayor of Derna" \
        in text_of(date.split("<details", 1)[0])


async def test_a_set_aside_report_and_a_denial_are_listed_with_the_others(
        api: Api) -> None:
    await derna(api)
    await api.ok("rankReport", {"timeline": SLUG, "report": "k-health",
                                "rank": "DEPRECATED", "reason": "an early partial count"})
    await report(api, "k-deny", "ocha", "killed", {"count": {"best": 3958}},
                 "2023-09-18T10:00:00Z", stance="DENIED")
    said = text_of(fact_html(await page(api), "flood", "killed"))
    assert "Other reports" in said
    assert "Eastern health ministry (claimed, 12 Sep 2023): 2,300 (set aside by an editor: " \
           "an early partial count)" in said
    assert "UN OCHA (denied, 18 Sep 2023): 3,958" in said


async def test_an_undisputed_count_and_a_single_open_count(api: Api) -> None:
    await derna(api)
    await report(api, "m-lrc", "lrc", "missing", {"count": {"best": 10100}},
                 "2023-09-14T10:00:00Z")
    await report(api, "d-lrc", "lrc", "displaced", {"count": {"low": 30000}},
                 "2023-09-14T10:00:00Z")
    html = await page(api)
    missing = text_of(fact_html(html, "flood", "missing"))
    assert missing.startswith("10,100 missing Why this value"), missing
    displaced = text_of(fact_html(html, "flood", "displaced"))
    assert displaced.startswith("30,000+ displaced Why this value"), displaced
    assert "more than 30,000" in displaced  # the source's own words, in the report list


async def test_corrections_and_explanations_carry_separators(api: Api) -> None:
    await derna(api)
    await api.ok("correctReport", {"timeline": SLUG, "report": "k-health",
                                   "value": {"count": {"best": 2600}},
                                   "reportedAt": "2023-09-15T09:00:00Z"})
    html = text_of(await page(api))
    assert "Eastern health ministry corrected its report on killed to '2,600'" in html
    assert re.search(r"3,958 \(Libyan Red Crescent, claimed, grade B\) outweighs", html), html


async def test_an_updated_fact_renders_in_the_new_wording(api: Api) -> None:
    # The open page fetches itself again on each change (api/embed/live.py): what it
    # fetches is this same rendering.
    await derna(api)
    before = text_of(fact_html(await page(api), "flood", "killed"))
    assert before.startswith("3,958 killed · reports from 2,300 to 20,000 · disputed")
    await report(api, "k-ocha", "ocha", "killed", {"count": {"best": 11300}},
                 "2023-09-17T10:00:00Z", quote="11,300 dead, 10,100 missing.")
    after = fact_html(await page(api), "flood", "killed")
    assert text_of(after).startswith(
        "3,958 killed · reports from 2,300 to 20,000 · disputed"), text_of(after)
    assert "11,300 UN OCHA (claimed, 17 Sep 2023)" in text_of(after)
    assert "<q>11,300 dead, 10,100 missing.</q>" in after


async def test_the_timelinejs_export_leads_with_the_best_value_too(api: Api) -> None:
    await derna(api)
    slides = (await api.client.get(f"/export/{SLUG}/timelinejs.json")).json()["events"]
    text = unescape(slides[0]["text"]["text"])
    assert "3,958 killed · reports from 2,300 to 20,000 · disputed" in text
    assert "date: 11 September 2023 (also reported: 10 September) · disputed" in text


async def test_the_live_page_fetches_its_content_without_the_page_around_it(
        api: Api) -> None:
    await derna(api)
    whole = await page(api)
    response = await api.client.get(f"/embed/{SLUG}?part=content")
    assert response.status_code == 200
    part = response.text
    assert "<style" not in part and "<script" not in part and "<html" not in part
    assert part.lstrip().startswith('<main id="main">')
    for landmark in ("<main", "<aside", "<footer"):
        assert landmark in part
    assert fact_html(part, "flood", "killed") == fact_html(whole, "flood", "killed")
    assert when_html(part, "flood") == when_html(whole, "flood")
    # The open page asks for exactly this part.
    assert 'fetch(window.location.pathname + "?part=content"' in whole
