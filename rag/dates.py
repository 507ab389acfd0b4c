"""Relative dates: "yesterday", "on Thursday", "last week" in a dated document, resolved against the document's date
so a quote can show when it happened, and the human date format answers use.

    >>> annotate("Yesterday, Luxon went to a dinner.", "2024-07-11")
    'Yesterday (10 July 2024), Luxon went to a dinner.'
    >>> relative_dates("Talks resume next Friday; they met on Thursday and last week.", "2024-07-11")
    [(13, 24, '2024-07-12'), (38, 46, '2024-07-11'), (51, 60, 'the week of 1 July 2024')]

Rules: a bare or "on"/"this" weekday is the most recent such day on or before the document date, unless the
sentence speaks of the future ("will", "is to", "going to", "plans to", "next", "'ll") when it is the next one on or
after; "last <weekday>" is strictly before, "next <weekday>" strictly after. Weeks are labelled by their Monday
("the week of 1 July 2024"), months and years by name ("June 2024", "2023"). "Tonight", "this morning/afternoon/
evening" are the document's own day. A weekday in a range ("Monday to Friday") or after "every"/"each" recurs and is
left alone, and so is a period after "the" ("carried over into the next year", "in the last week of June"): it is
relative to a time the text speaks of, not to the document's date; a weekday with its date written out ("Saturday
12 October") is not relative at all.
"""
from __future__ import annotations

import datetime as dt
import re

from .spans import DAY, MONTH, WEEKDAY, WEEKDAYS, candidates

MONTHS = ("January February March April May June July August September October November December").split()
_DAYS = {"the day before yesterday": -2, "the day after tomorrow": 2, "yesterday": -1, "last night": -1, "today": 0,
         "tonight": 0, "this morning": 0, "this afternoon": 0, "this evening": 0, "tomorrow": 1}
_REL = re.compile(
    r"\b(?:(?P<day>the day before yesterday|the day after tomorrow|yesterday|today|tonight|tomorrow|last night|"
    r"this (?:morning|afternoon|evening))"
    r"|(?:(?P<wmod>last|next|this|this past|this coming|past|coming)\s+)?(?P<weekday>" + WEEKDAY + r")"
    r"|(?P<pmod>last|this|next)\s+(?P<period>week|month|year))\b", re.I)
# A weekday in a range or after "every"/"each" is a recurring day, not a date: "Monday to Friday", "Monday–Friday".
_RANGE_AFTER = re.compile(r"\s*(?:to|through|till|until|[-–—])\s*" + WEEKDAY)
_RANGE_BEFORE = re.compile(WEEKDAY + r"\s*(?:to|through|till|until|[-–—])\s*$|\b(?:every|each)\s+$", re.I)
# "the next year", "the last week of June", "the next Friday": "the" makes it relative to a time the text speaks of
# (or a span: "in the last year"), not to the day the document is dated.
_ANAPHORIC = re.compile(r"\bthe\s+$", re.I)
_FUTURE = re.compile(r"\b(?:will|shall|is to|are to|going to|plans? to|planned|scheduled|expected to|due to|next|"
                     r"upcoming)\b|'ll\b", re.I)
# "Saturday 12 October", "Tuesday, July 9": the weekday of a date the sentence gives, not a relative date
_DATED_AFTER = re.compile(rf",?\s+(?:{DAY}\s+{MONTH}|{MONTH}\s+{DAY})\b")


def format_date(iso: str, weekday: bool = False) -> str:
    """ "2024-07-11" -> "11 July 2024" (the format answers show dates in), or "Thursday 11 July 2024".

    >>> format_date("2024-07-11"), format_date("2024-07-11", weekday=True)
    ('11 July 2024', 'Thursday 11 July 2024')
    """
    d = dt.date.fromisoformat(iso[:10])
    return f"{WEEKDAYS[d.weekday()] + ' ' if weekday else ''}{d.day} {MONTHS[d.month - 1]} {d.year}"


def relative_dates(sentence: str, doc_date: str) -> list[tuple[int, int, str]]:
    """(start, end, resolution) of each relative date in `sentence`, resolved against `doc_date` (YYYY-MM-DD): an ISO
    date for a day, a label ("the week of 1 July 2024", "June 2024", "2023") for a longer period."""
    base = dt.date.fromisoformat(doc_date[:10])
    future = bool(_FUTURE.search(sentence))
    out = []
    for m in _REL.finditer(sentence):
        if (m.group("wmod") or m.group("pmod")) and _ANAPHORIC.search(sentence[max(0, m.start() - 8):m.start()]):
            continue  # "carried over into the next year": the year after any year, not the document's
        if m.group("day"):
            out.append((m.start(), m.end(), (base + dt.timedelta(_DAYS[m.group("day").lower()])).isoformat()))
        elif m.group("weekday"):
            if not m.group("weekday")[0].isupper():
                continue  # weekdays are capitalised; "monday" in running text is rare and unreliable
            if not m.group("wmod") and (_RANGE_AFTER.match(sentence, m.end())
                                        or _RANGE_BEFORE.search(sentence[max(0, m.start() - 20):m.start()])):
                continue  # "Monday to Friday", "every Thursday": a day of the week, not a date
            if _DATED_AFTER.match(sentence, m.end()):
                continue  # "on Saturday 12 October": the date is written out
            mod = (m.group("wmod") or "").lower()
            out.append((m.start(), m.end(), weekday(base, WEEKDAYS.index(m.group("weekday").title()), mod, future)))
        else:
            out.append((m.start(), m.end(), period(base, m.group("pmod").lower(), m.group("period").lower())))
    return out


def weekday(base: dt.date, day: int, mod: str = "", future: bool = False) -> str:
    """ISO date of weekday `day` (0 = Monday) relative to `base` under modifier `mod` ("last", "next", "this", "")."""
    back = (base.weekday() - day) % 7            # days since the most recent such day (0 = base itself)
    ahead = (day - base.weekday()) % 7           # days until the next such day (0 = base itself)
    if mod in ("last", "past", "this past"):
        delta = -(back or 7)
    elif mod in ("next", "coming", "this coming"):
        delta = ahead or 7
    else:
        delta = ahead if future else -back
    return (base + dt.timedelta(delta)).isoformat()


def period(base: dt.date, mod: str, unit: str) -> str:
    """Label of the week, month or year `mod` ("last", "this", "next") relative to `base`."""
    step = {"last": -1, "this": 0, "next": 1}[mod]
    if unit == "week":
        monday = base - dt.timedelta(base.weekday()) + dt.timedelta(7 * step)
        return f"the week of {format_date(monday.isoformat())}"
    if unit == "month":
        y, m = divmod(base.year * 12 + base.month - 1 + step, 12)
        return f"{MONTHS[m]} {y}"
    return str(base.year + step)


def annotate(sentence: str, doc_date: str | None, start: int = 0, end: int | None = None) -> str:
    """`sentence[start:end]` with each relative date followed by its resolution in parentheses, read in the context of
    the whole sentence (its tense, a range the date is part of); unchanged without a doc date.

    >>> annotate("He will arrive on Friday.", "2024-07-11")
    'He will arrive on Friday (12 July 2024).'
    >>> annotate("He will arrive on Friday.", "2024-07-11", 18, 24)      # a short answer taken from it
    'Friday (12 July 2024)'
    >>> annotate("The open day is on Saturday 12 October. The next meeting is on Tuesday.", "2024-09-14")
    'The open day is on Saturday 12 October. The next meeting is on Tuesday (17 September 2024).'
    """
    end = len(sentence) if end is None else end
    if not doc_date:
        return sentence[start:end]
    out, pos = [], start
    for a, b, res in relative_dates(sentence, doc_date):
        if a < start or b > end or re.match(r"\s*\(", sentence[b:]):
            continue  # outside the part shown, or already followed by a parenthesis (perhaps the date itself)
        label = format_date(res) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", res) else res
        out += [sentence[pos:b], f" ({label})"]
        pos = b
    return "".join(out) + sentence[pos:end]


_FULL_DATE = re.compile(rf"(?:{WEEKDAY},?\s+)?"
                        rf"(?:(?P<d1>{DAY})\s+(?P<m1>{MONTH}),?\s+(?P<y1>\d{{4}})"
                        rf"|(?P<m2>{MONTH})\s+(?P<d2>{DAY}),?\s+(?P<y2>\d{{4}})"
                        r"|(?P<iso>\d{4}-\d{2}-\d{2}))", re.I)
_ANY_DATE = re.sub(r"\(\?P<\w+>", "(?:", _FULL_DATE.pattern)
_DATELINE = r"[A-Z][A-Za-z .'’()-]{1,40},\s*" + _ANY_DATE + r"\s*[—–-]"      # "SHEFFIELD, 14 May 2025 —"
_OPENING = re.compile(
    r"^\s*(?:(?:published|updated|last updated|posted|date|dated|issued|released|revised)\b[^\n\d]{0,20}?"
    + _ANY_DATE + r"|" + _DATELINE + r"|" + _ANY_DATE + r"\s*$"
    # a byline that ends with its date: "Report prepared by Dr. Samuel Okafor, 3 October 2024."
    r"|(?:[^\n]{0,40}?\b)?(?:prepared|written|compiled|submitted)\s+by\b[^\n]{1,80}?[,—–-]\s*" + _ANY_DATE
    + r"\.?\s*$)", re.I | re.M)
# a title line that ends with its date: "Minutes of the annual general meeting, 14 September 2024"
_TITLE_DATE = re.compile(r"^[^\n]{3,150}?[,:|—–-]\s*(" + _ANY_DATE + r")\s*$")


def dateline_end(sentence: str) -> int:
    """Where a news dateline that opens `sentence` ends ("SHEFFIELD, 14 May 2025 — "), 0 when there is none: the
    date in it is when the story was filed, not when what it tells happened.

    >>> s = "SHEFFIELD, 14 May 2025 — Northwind yesterday opened a factory."
    >>> s[dateline_end(s):]
    'Northwind yesterday opened a factory.'
    """
    m = re.match(r"\s*" + _DATELINE + r"\s*", sentence, re.I)
    return m.end() if m else 0


def opening_date(text: str, lines: int = 5) -> str | None:
    """The date a document gives itself in its first lines, as YYYY-MM-DD: a labelled date ("Last updated: 3 March
    2025", "Published May 14, 2025"), a news dateline ("SHEFFIELD, 14 May 2025 — …"), a line that is only a date,
    or a title line that ends with one.
    A date further down, or inside a sentence, is what the text is about, not when it was written.

    >>> opening_date("Factory opens\\n\\nSHEFFIELD, 14 May 2025 — The firm yesterday opened a plant.")
    '2025-05-14'
    >>> opening_date("# Handbook\\n\\nLast updated: 3 March 2025\\n\\nCore hours are 10:00 to 16:00.")
    '2025-03-03'
    >>> opening_date("The treaty of 14 May 1955 created the pact."), opening_date("Published 31 February 2025")
    (None, None)

    The first line, a title, may end with the date: "Minutes of the general meeting, 14 September 2024".

    >>> opening_date("Allotment Society — minutes of the general meeting, 14 September 2024\\n\\nPresent: 23.")
    '2024-09-14'
    >>> opening_date("Why 14 May 1955 matters\\n\\nText."), opening_date("Intro\\n\\nWe met on 2 May, 14 May 2025")
    (None, None)

    A byline may end with it: "Report prepared by Dr. Samuel Okafor, 3 October 2024."

    >>> opening_date("Field trial\\n\\nReport prepared by Dr. Samuel Okafor, 3 October 2024.\\n\\nThe plots…")
    '2024-10-03'
    """
    kept = [line for line in text.splitlines() if line.strip()][:lines]
    head = "\n".join(kept)
    titled = _TITLE_DATE.match(kept[0].lstrip("# ").strip()) if kept else None
    for line in [*_OPENING.finditer(head), *([titled] if titled else [])]:
        g = {k: v for k, v in _FULL_DATE.search(line.group()).groupdict().items() if v}
        iso = next((v for k, v in g.items() if k.startswith("iso")), None)
        try:
            if iso:
                return dt.date.fromisoformat(iso).isoformat()
            day = re.match(r"\d+", next(v for k, v in g.items() if k.startswith("d"))).group()
            month = next(v for k, v in g.items() if k.startswith("m"))
            year = next(v for k, v in g.items() if k.startswith("y"))
            return dt.date(int(year), _month(month), int(day)).isoformat()
        except (ValueError, StopIteration):
            continue
    return None


def _month(name: str) -> int:
    return next(i + 1 for i, m in enumerate(MONTHS) if m.lower().startswith(name.lower().rstrip(".")[:3]))


def has_date(sentence: str) -> bool:
    """Does `sentence` mention a date, absolute ("10 July 2024", "1530", "the 1990s") or relative ("yesterday")?"""
    return bool(_REL.search(sentence)) or any(c.kind == "date" for c in candidates(sentence))


_TIMING = re.compile(r"\b(?:later|earlier|early|late)\s+$", re.I)


def date_phrases(sentence: str) -> list[tuple[int, int]]:
    """Where `sentence` gives a date: each widest absolute one ("10 July 2024", "1530", "the 1990s") and each relative
    one ("yesterday", "later today", "on Thursday", "last week"; not a recurring "every Monday" or "Monday to
    Friday"), in order.

    >>> s = "Luxon leaves DC later today, and met Kallas yesterday."
    >>> [s[a:b] for a, b in date_phrases(s)]
    ['later today', 'yesterday']
    >>> s = "It opened in May 1989 and closes every Monday."
    >>> [s[a:b] for a, b in date_phrases(s)]
    ['May 1989']
    """
    spans, recurring = [(c.start, c.end) for c in candidates(sentence) if c.kind == "date"], set()
    for m in _REL.finditer(sentence):
        if m.group("weekday") and not m.group("wmod") and (
                not m.group("weekday")[0].isupper() or _RANGE_AFTER.match(sentence, m.end())
                or _RANGE_BEFORE.search(sentence[max(0, m.start() - 20):m.start()])):
            recurring.add((m.start(), m.end()))
            continue
        timing = _TIMING.search(sentence[max(0, m.start() - 10):m.start()])
        spans.append((m.start() - (len(timing.group()) if timing else 0), m.end()))
    spans = [x for x in spans if x not in recurring]
    widest = [x for x in spans if not any(y != x and y[0] <= x[0] and x[1] <= y[1] for y in spans)]
    return sorted(set(widest))


_WEEKDAY_ASKED = re.compile(r"\b(?:day of the week|(?:what|which) day)\b", re.I)


def document_date_answer(sentence: str, doc_date: str | None, question: str = "") -> str | None:
    """For a when-question: "published 11 July 2024" when the best sentence gives no date of its own (absolute or
    relative) but its document is dated; None otherwise (the sentence's date, or nothing, answers it). A question
    for the day ("On which day of the week …?") gets the weekday too: "published Thursday 11 July 2024".

    >>> document_date_answer("The leaders met.", "2024-07-11", "On which day of the week did they meet?")
    'published Thursday 11 July 2024'
    """
    weekday = bool(_WEEKDAY_ASKED.search(question))
    return f"published {format_date(doc_date, weekday)}" if doc_date and not has_date(sentence) else None
