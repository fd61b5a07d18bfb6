"""How the embed words a fact for readers, as a careful journalist would publish it: the best
value first, then the range and the dispute ("3,958 killed · reports from 2,300 to 20,000 ·
disputed"), counts with thousands separators, a time written once with the other times
reported named ("10 February 2018 (also reported: 11 February)").

Pure: no I/O, no locale (separators are always English commas, whatever the server's locale),
no clock. The presenter decides what to say; this module decides how it reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from events.as_of import Axis, Moment
from events.track_records import TrackRecord
from events.values import Count, Flag, Place, Precision, TimeSpan, Value, time_bounds

SEPARATOR = " · "
# English month names, whatever the server's locale (strftime's %B follows LC_TIME).
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
ALSO = "also reported"
DISPUTED = "disputed"
_SUB_DAY = (Precision.HOUR, Precision.MINUTE, Precision.EXACT)


# -- counts -------------------------------------------------------------------------------

def number(n: int) -> str:
    """3958 → "3,958": an English thousands separator, never the server's locale."""
    return f"{n:,}"


def count_words(value: Count) -> str:
    """A report's count in its source's own terms: "20,000", "more than 200", "2,300–4,000",
    "5 (2–10)", "at most 10"."""
    best, low, high = value.best, value.low, value.high
    if best is not None:
        if low in (None, best) and high in (None, best):
            return number(best)
        return f"{number(best)} ({number(low if low is not None else best)}–" \
               f"{number(high if high is not None else best)})"
    if low is not None and high is not None:
        return number(low) if low == high else f"{number(low)}–{number(high)}"
    if low is not None:
        return f"more than {number(low)}"
    assert high is not None  # a count has at least one of the three
    return f"at most {number(high)}"


def count_range(low: int | None, high: int | None, high_open: bool = False) -> str | None:
    """The reports' range after the best value: "reports from 2,300 to 20,000", "… to
    20,000+" when a weighty report is open above ("more than 20,000"); "reports of 200+" when
    the range is a single open value; None when every report gives the one value."""
    if low is None or high is None:
        return None
    top = number(high) + ("+" if high_open else "")
    if low == high:
        return f"reports of {top}" if high_open else None
    return f"reports from {number(low)} to {top}"


# -- times --------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Moment:
    """One end of a time as a reader sees it: "10 February 2018, 14:00 UTC"."""

    year: int
    month: str | None  # "February"
    day: int | None
    clock: str | None  # "14:00"

    @staticmethod
    def of(value: str, precision: Precision) -> _Moment:
        start: datetime = time_bounds(value, precision)[0]
        return _Moment(
            year=start.year,
            month=None if precision is Precision.YEAR else MONTHS[start.month - 1],
            day=start.day if precision not in (Precision.YEAR, Precision.MONTH) else None,
            clock=(f"{start:%H}:00" if precision is Precision.HOUR else f"{start:%H:%M}")
            if precision in _SUB_DAY else None)

    def date(self, year: bool = True) -> str:
        """"10 February 2018", "February 2018", "2018"; without the year: "10 February"."""
        parts = [str(self.day) if self.day is not None else None, self.month,
                 str(self.year) if year or self.month is None else None]
        return " ".join(p for p in parts if p)

    def same_day(self, other: _Moment) -> bool:
        return (self.year, self.month, self.day) == (other.year, other.month, other.day)


def when(span: TimeSpan) -> str:
    """A time in words, no more precise than it is known: "2018", "February 2018",
    "7 February 2018", "7 February 2018, 20:15 UTC"; a range shares what its ends share:
    "5–11 February 2018", "28 January – 3 February 2018", "January–March 2018",
    "10 February 2018, 14:00–16:00 UTC"."""
    return _span_words(span, year=True)


def _span_words(span: TimeSpan, year: bool) -> str:
    start = _Moment.of(span.start, span.precision)
    if span.end is None or span.end == span.start:
        return _moment_words(start, year)
    end = _Moment.of(span.end, span.precision)
    if span.precision in _SUB_DAY:
        if start.same_day(end):
            return f"{start.date(year)}, {start.clock}–{end.clock} UTC"
        return f"{_moment_words(start, year)} – {_moment_words(end, year)}"
    if span.precision is Precision.YEAR:
        return f"{start.year}–{end.year}"
    if start.year != end.year:
        return f"{start.date()} – {end.date()}"  # the years differ: both are said
    tail = f" {start.year}" if year else ""
    if span.precision is Precision.MONTH:
        return f"{start.month}–{end.month}{tail}"
    if start.month == end.month:
        return f"{start.day}–{end.day} {start.month}{tail}"
    return f"{start.day} {start.month} – {end.day} {end.month}{tail}"


def _moment_words(moment: _Moment, year: bool = True) -> str:
    date = moment.date(year)
    return f"{date}, {moment.clock} UTC" if moment.clock else date


def day_month_year(moment: datetime) -> str:
    """A day as a dateline gives it: "14 Sep 2023"."""
    return f"{moment.day} {MONTHS[moment.month - 1][:3]} {moment.year}"


def agrees_with(other: TimeSpan, best: TimeSpan) -> bool:
    """A coarser time that contains the best one ("February 2018" and 10 February 2018) is
    no alternative to it: it says the same, less precisely."""
    return other.precision.coarseness > best.precision.coarseness and other.contains(best)


def when_beside(other: TimeSpan, best: TimeSpan) -> str:
    """``other`` named next to ``best``, without the parts they share: "11 February" beside
    10 February 2018, "16:00 UTC" beside 10 February 2018, 14:00 UTC, "March 2019" beside
    10 February 2018 (another year is always said, and so is a year beside a year)."""
    years = _years(other)
    if len(years) != 1 or years != _years(best) or best.precision is Precision.YEAR:
        return when(other)
    if other.precision in _SUB_DAY and best.precision in _SUB_DAY \
            and other.end in (None, other.start) and best.end in (None, best.start):
        here = _Moment.of(other.start, other.precision)
        if here.same_day(_Moment.of(best.start, best.precision)):
            return f"{here.clock} UTC"
    return _span_words(other, year=False)


def _years(span: TimeSpan) -> set[int]:
    """The calendar years a span touches, first and last."""
    start, end = span.bounds()
    return {start.year, (end - timedelta(microseconds=1)).year}


def time_alternatives(best: TimeSpan, others: Sequence[TimeSpan]) -> list[str]:
    """The other times reported, named beside the best: those that merely contain it left
    out, each said once, in the order given."""
    named: list[str] = []
    for other in others:
        if agrees_with(other, best) or other == best:
            continue
        text = when_beside(other, best)
        if text not in named and text != when(best):
            named.append(text)
    return named


# -- any value ----------------------------------------------------------------------------

def words(value: Value) -> str:
    """A value as a reader would read it: "3,958", "more than 200", "10 February 2018",
    "Derna, Libya", "yes"."""
    if isinstance(value, Count):
        return count_words(value)
    if isinstance(value, TimeSpan):
        return when(value)
    if isinstance(value, Place):
        return value.name
    if isinstance(value, Flag):
        return "yes" if value.value else "no"
    return value.value


def alternatives(best: Value, others: Sequence[Value]) -> list[str]:
    """The other values reported, in words, each once; times beside the best time."""
    if isinstance(best, TimeSpan):
        return time_alternatives(best, [o for o in others if isinstance(o, TimeSpan)])
    named: list[str] = []
    shown = words(best)
    for other in others:
        text = words(other)
        if text not in named and text != shown:
            named.append(text)
    return named


# -- a fact's headline --------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Headline:
    """What a fact says, best value first: ``lead`` ("3,958 killed", "weapon: jet"), the
    other values reported (``also``, for values that are not counts), the range of the
    reports (``range``, for counts) and whether it is disputed."""

    lead: str
    also: list[str]
    range: str | None
    disputed: bool

    @property
    def also_text(self) -> str | None:
        """"also reported: 11 February; 12 February", or None."""
        return f"{ALSO}: {'; '.join(self.also)}" if self.also else None

    @property
    def text(self) -> str:
        """"3,958 killed · reports from 2,300 to 20,000 · disputed", "date: 10 February 2018
        (also reported: 11 February) · disputed"."""
        first = self.lead + (f" ({self.also_text})" if self.also_text else "")
        return SEPARATOR.join([first] + ([self.range] if self.range else [])
                              + ([DISPUTED] if self.disputed else []))


def label(attribute: str) -> str:
    """An attribute as a reader reads it: "tank-model" → "tank model"; ``occurred`` is the
    date."""
    if attribute == "occurred":
        return "date"
    return " ".join(attribute.replace("_", " ").replace("-", " ").split())


def headline(attribute: str, best: Value, *, low: int | None = None,
             high: int | None = None, high_open: bool = False,
             others: Sequence[Value] = (), disputed: bool = False) -> Headline:
    """A fact's headline. Counts lead with the best value and the attribute ("3,958
    killed"), then the reports' range; other values lead with the attribute ("weapon: jet")
    and name the other values reported."""
    name = label(attribute)
    if isinstance(best, Count) and best.best is not None:
        low = best.best if low is None else low
        high = best.best if high is None else high
        if low == high and high_open:  # nothing but the best value, and more: "200+ killed"
            return Headline(f"{number(best.best)}+ {name}", [], None, disputed)
        return Headline(f"{number(best.best)} {name}", [], count_range(low, high, high_open),
                        disputed)
    return Headline(f"{name}: {words(best)}", alternatives(best, others), None, disputed)


# -- a source's track record --------------------------------------------------------------

def report_count(n: int) -> str:
    """"1 report", "12 reports", "1,200 reports"."""
    return f"{number(n)} report" + ("" if n == 1 else "s")


def track_record(record: TrackRecord) -> str:
    """A source's record in one line: its reports always, then only what happened to some
    of them, and who cites it: "12 reports · 1 retracted · 2 outweighed · cited by 3
    reports", "0 reports · cited by 2 reports"."""
    fared = [(record.retracted, "retracted"), (record.corrected, "corrected"),
             (record.outweighed, "outweighed"), (record.upheld, "upheld")]
    parts = [report_count(record.reports)] + [f"{number(n)} {what}" for n, what in fared if n]
    if record.cited:
        parts.append(f"cited by {report_count(record.cited)}")
    return SEPARATOR.join(parts)


def instant(moment: datetime) -> str:
    """A moment to the minute, in UTC: "14 February 2018, 09:30 UTC"."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}, {moment:%H:%M} UTC"


def track_record_note(moment: Moment) -> str:
    """What a record line counts, and when: "… on every timeline, as of now: …"."""
    if moment.as_of is None:
        when_read = "now"
    else:
        clock = "when reports were made" if moment.axis is Axis.REPORTED \
            else "when Chronicle recorded them"
        when_read = f"{instant(moment.as_of)} (by {clock})"
    return (f"How this source's reports have fared on every timeline, as of {when_read}: "
            "the reports it made, how many were retracted, corrected, outweighed by the "
            "best-known value or upheld by another source, and how many reports by others "
            "cite it.")
