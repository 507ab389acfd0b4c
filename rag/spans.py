"""Short answers: what kind of phrase a question asks for, the candidate phrases of a sentence, and the one that
answers it, so an answer can lead with "**Richard Marles** — "…Deputy Prime Minister Richard Marles." [1]".

`answer_type(question)`, from the first wh-word and the noun after it (general rules, no question-specific words):
  - "how many/much" and "how long/old/far/tall/big/large/high/…" -> "number"; any other "how" -> "" (explain)
  - "when", "what/which year/date/day/month/century/decade/…" -> "date"
  - "who/whom/whose", "which/what <person noun>" (person, leader, author, player, king, …) -> "person"
  - "where", "which/what <place noun>" (city, country, river, …) -> "place"
  - "what/which <number noun>" (number, amount, population, percentage, …) -> "number"
  - "what is the name of", "what/which <named-thing noun>" (team, company, film, band, …) -> "name"
  - any other "what/which" -> "phrase"
  - "why", yes/no questions (opening with an auxiliary verb), no wh-word at all -> "" (no short answer)

`candidates(sentence)`: names, numbers, dates and short phrases, each with `sentence[start:end] == text`.
`best_span(question, sentence)` scores them with the logistic model in rag/models/spans.json, fitted on XQuAD's
train half by eval/fit_spans.py, and returns the best one above the model's threshold (or None).

    >>> answer_type("How many tackles did he make?"), answer_type("Which author wrote it?"), answer_type("Why?")
    ('number', 'person', '')
    >>> [c.text for c in candidates("J. R. R. Tolkien's book sold $16 million in 1955.") if c.kind != "phrase"][:3]
    ['J. R. R. Tolkien', 'Tolkien', '$16 million']
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .text import STOPWORDS, stem

TYPES = ("person", "date", "number", "place", "name", "phrase", "")
KINDS = ("name", "number", "date", "phrase")
MODEL_PATH = Path(__file__).parent / "models" / "spans.json"
MODEL_VERSION = 1


@dataclass(frozen=True)
class Candidate:
    start: int
    end: int
    text: str
    kind: str           # "name", "number", "date" or "phrase"
    score: float = 0.0  # the ranker's probability (set by `rank`/`best_span`)


# ---- answer types ----------------------------------------------------------------------------------------------
PERSON_NOUNS = set("""person people man men woman women boy girl child leader author writer poet player king queen
president minister chancellor emperor empress ruler prince princess pope bishop priest general commander officer
actor actress singer musician composer director producer artist painter sculptor architect scientist physicist
chemist inventor philosopher founder father mother son daughter wife husband brother sister coach captain member
character governor mayor senator politician judge lawyer teacher professor student owner ceo chairman explorer
individual saint god goddess quarterback scholar historian economist engineer designer dancer rapper host""".split())
PLACE_NOUNS = set("""place city town village country nation state province region area county district continent
island river lake sea ocean mountain valley location site capital street neighborhood neighbourhood territory
border port borough suburb""".split())
DATE_NOUNS = set("year years date day month century decade time period era season age".split())
NUMBER_NOUNS = set("""number amount percentage percent proportion population size age cost price total count
distance length height weight temperature speed rate score value sum share""".split())
NAME_NOUNS = set("""name team club company firm corporation organization organisation band group film movie book
novel album song show series program programme network channel station university college school party language
ship airline brand newspaper magazine award prize game event war battle treaty church religion dynasty empire
building stadium station airport species genus title""".split())
_WH = re.compile(r"\b(what|which|who|whom|whose|when|where|why|how)\b", re.I)
_AUX = re.compile(r"^(is|are|was|were|do|does|did|can|could|has|have|had|will|would|should|shall|may|might|must)\b",
                  re.I)
_MEASURE = "many much long old far tall big large high wide deep fast heavy often tall"


def answer_type(question: str) -> str:
    """The kind of short answer `question` asks for: one of TYPES ("" = none; see the module docstring)."""
    q = question.strip()
    m = _WH.search(q)
    if not m:
        return ""
    wh = m.group(1).lower()
    if _AUX.match(q) and m.start() > 0 and q[m.start() - 2:m.start()].strip() not in ("", ","):
        return ""  # "Is it true that the man who …?" is a yes/no question
    rest = re.findall(r"[\w\-]+", q[m.end():].lower())
    nxt = rest[0] if rest else ""
    if wh == "why":
        return ""
    if wh == "how":
        return "number" if nxt in _MEASURE.split() else ""
    if wh == "when":
        return "date"
    if wh in ("who", "whom", "whose"):
        return "person"
    if wh == "where":
        return "place"
    if rest[:4] in (["is", "the", "name", "of"], ["was", "the", "name", "of"]) or rest[:2] == ["is", "called"]:
        return "name"
    return _noun_class(_head_noun(rest)) or "phrase"


def _head_noun(words: list[str]) -> str:
    """The noun a what/which question asks about: the last word of the run after the wh-word before a stopword
    ("what government position was …" -> "position"), or the noun after "is the" ("what is the population …")."""
    if words[:2] in (["is", "the"], ["was", "the"], ["are", "the"], ["were", "the"]):
        words = words[2:]
    run = []
    for w in words[:6]:
        if w in STOPWORDS:
            break
        run.append(w)
    known = [w for w in run if _noun_class(w)]
    return known[-1] if known else (run[-1] if run else "")


def _noun_class(word: str) -> str:
    for nouns, kind in ((DATE_NOUNS, "date"), (PERSON_NOUNS, "person"), (PLACE_NOUNS, "place"),
                        (NUMBER_NOUNS, "number"), (NAME_NOUNS, "name")):
        if word in nouns or _singular(word) in nouns:
            return kind
    return ""


def _singular(word: str) -> str:
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def head_noun(question: str) -> str:
    """The noun after the question's wh-word (or after "how many"), "" if none: "four *tackles*" follow-ups."""
    m = _WH.search(question)
    if not m:
        return ""
    rest = re.findall(r"[\w\-]+", question[m.end():].lower())
    if rest[:1] in (["many"], ["much"]):
        rest = rest[1:]
    return _head_noun(rest)


# ---- candidates -------------------------------------------------------------------------------------------------
_SPELLED = (r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
            r"seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|"
            r"dozen|dozens|hundreds|thousands|millions|half)")
_SCALE = r"(?:\s(?:hundred|thousand|million|billion|trillion|crore|lakh)\b)"
_NUM = re.compile(rf"(?<![\w.])(?:(?:[A-Z]{{0,2}}[$€£¥]\s?)?\d+(?:[,.]\d+)*[½¼¾]?|(?i:{_SPELLED}(?:[-\s]{_SPELLED})*))"
                  rf"{_SCALE}?(?:\s?%|\s(?:percent|per cent)\b)?(?![\w])")
_UNIT = re.compile(r"\s([a-zA-Z][a-z\-]{0,14})\b")
_MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
          r"(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?)(?![a-z])")
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_ORD = (r"(?:\d{1,2}(?:st|nd|rd|th)|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|"
        r"twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|"
        r"twenty-first)")
_ERA = r"(?:BCE|BC|CE|AD|B\.C\.|A\.D\.)"
_DATES = [re.compile(p) for p in (
    r"\b\d{4}-\d{2}-\d{2}\b",
    rf"\b{_DAY}\s+{_MONTH}(?:,?\s+\d{{1,4}}\b)?",
    rf"\b{_MONTH}\s+{_DAY}(?:,?\s+\d{{1,4}})?\b",
    rf"\b{_MONTH}(?:,?\s+\d{{3,4}}\b)?",
    r"\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b",
    r"(?<![\w'])(?:\d{1,3}0s|'\d0s)\b",
    rf"(?i:\b{_ORD}(?:\s|-)centur(?:y|ies))(?:\s+{_ERA})?",
    rf"\b\d{{1,4}}\s?{_ERA}|\b(?:AD|A\.D\.)\s?\d{{1,4}}\b",
)]
_ORD_ALONE = re.compile(rf"(?i:\b{_ORD})(?=(?:\s|-)centur)")
_YEAR = re.compile(r"(?<![\w$€£¥.,])\d{1,4}(?![\w%]|[.,]\d)")
_YEAR_CONTEXT = set("in since by from until till to of circa c. year years around after before during between and "
                    "early late mid spring summer autumn fall winter".split())
_NAME_WORD = r"(?:(?:[A-Z]\.){2,}|[A-Z][\w&]*(?:-\w+)*(?:['’](?![sS]\b)\w+)?)"
_LINK = r"(?:of|the|de|la|le|du|da|di|del|des|van|der|den|von|and|for|on|y|al|bin|ibn)"
_NAME = re.compile(rf"(?:[A-Z]\.\s?)*{_NAME_WORD}(?:\s+(?:{_LINK}\s+)*(?:[A-Z]\.\s?)*{_NAME_WORD})*(?![\w])")
_TOKEN = re.compile(r"[$€£¥]?\d+(?:[,.]\d+)*(?:[½¼¾%]|[a-z]+)?|\w+(?:[-'’.]\w+)*\.?|\S")


def tokens(text: str) -> list[tuple[int, int, str]]:
    """(start, end, token) of the words, numbers and punctuation marks of `text`."""
    return [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]


def candidates(sentence: str) -> list[Candidate]:
    """Every candidate answer phrase of `sentence` (see the module docstring), at most once per span."""
    out: dict[tuple[int, int], Candidate] = {}

    def add(a: int, b: int, kind: str) -> None:
        while b > a and (sentence[b - 1] in " ,;:'’\"" or sentence[b - 1] == "." and not _DOTTED.search(sentence, a, b)):
            b -= 1
        if b > a and (a, b) not in out:
            out[(a, b)] = Candidate(a, b, sentence[a:b], kind)

    for pat in _DATES:
        for m in pat.finditer(sentence):
            add(m.start(), m.end(), "date")
    for m in _ORD_ALONE.finditer(sentence):
        add(m.start(), m.end(), "date")
    for m in _YEAR.finditer(sentence):
        before = sentence[:m.start()].split()[-1:]
        after = _UNIT.match(sentence, m.end())
        dated = before and before[0].lower().strip("(,") in _YEAR_CONTEXT
        if (len(m.group()) == 4 and 1000 <= int(m.group()) <= 2199 or dated) and not (
                after and after.group(1).islower() and after.group(1) not in STOPWORDS):
            add(m.start(), m.end(), "date")
    for m in _NUM.finditer(sentence):
        add(m.start(), m.end(), "number")
        unit = _UNIT.match(sentence, m.end())
        if unit and unit.group(1).lower() not in STOPWORDS and not unit.group(1)[0].isupper():
            add(m.start(), unit.end(), "number")
    for m in _NAME.finditer(sentence):
        words = [w for w in re.finditer(r"\S+", m.group())]
        starts = [m.start() + w.start() for i, w in enumerate(words)
                  if w.group().lower() not in _LINK_WORDS and (i == 0 or not re.fullmatch(r"[A-Z]\.", w.group()))]
        if starts and starts[0] == m.start() and words[0].group().lower() in STOPWORDS:
            starts = starts[1:]  # "The", "In" opening a sentence
        for a in starts:  # the name and each shorter name it ends with ("Prime Minister Richard Marles")
            add(a, m.end(), "name")
        if " and " in m.group():
            for part in re.finditer(r"\S.*?(?=\s+and\s+|$)", m.group()):
                add(m.start() + part.start(), m.start() + part.end(), "name")
    toks = tokens(sentence)
    run: list[tuple[int, int, str]] = []
    for t in [*toks, (len(sentence), len(sentence), ".")]:
        if re.match(r"\w", t[2]) and t[2].lower().rstrip(".") not in STOPWORDS:
            run.append(t)
            continue
        if run:
            for piece in {tuple(run[:5]), tuple(run[-5:]), tuple(run[-1:])}:
                add(piece[0][0], piece[-1][1], "phrase")
        run = []
    return sorted(out.values(), key=lambda c: (c.start, -c.end))


_DOTTED = re.compile(r"(?:\b[A-Z]|[A-Z]\.[A-Z]|\bBC|\bAD)\.$")
_LINK_WORDS = set(_LINK.strip("(?:)").split("|"))
