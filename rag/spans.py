"""Short answers: what kind of phrase a question asks for, the candidate phrases of a sentence, and the one that
answers it, so an answer can lead with "**Richard Marles** — "…Deputy Prime Minister Richard Marles." [1]".

`answer_type(question)`, from the first wh-word and the noun after it (general rules, no question-specific words):
"how many/much/long/old/far/tall/…" -> "number", any other "how" -> ""; "when" -> "date"; "who/whom/whose" ->
"person"; "where" -> "place"; "what/which <noun>" -> the class of the noun in small general lists (year/day/century
-> "date"; person/leader/author/king -> "person"; city/country/river -> "place"; number/amount/population ->
"number"; team/company/film/band, "what is the name of" -> "name"), any other "what/which" -> "phrase"; "why",
yes/no questions (opening with an auxiliary verb) and no wh-word -> "" (no short answer).

`candidates(sentence)`: names, numbers, dates and short phrases, each with `sentence[start:end] == text`.
`best_of(question, [(p, sentence), …])` scores the candidates of the quoted sentences together (with how well each
sentence answers, `p`) with the logistic model in rag/models/spans.json, fitted on XQuAD's train half by
eval/fit_spans.py, and returns the best one above the model's threshold (or None); `best_span` does so for one.

    >>> answer_type("How many tackles did he make?"), answer_type("Which author wrote it?"), answer_type("Why?")
    ('number', 'person', '')
    >>> [c.text for c in candidates("J. R. R. Tolkien's book sold $16 million in 1955.") if c.kind != "phrase"][:3]
    ['J. R. R. Tolkien', 'Tolkien', '$16 million']
"""
from __future__ import annotations

import json
import math
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import takewhile
from pathlib import Path

from .text import STOPWORDS, fold, stem

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
_NOUNS = {"date": DATE_NOUNS, "person": PERSON_NOUNS, "place": PLACE_NOUNS, "number": NUMBER_NOUNS, "name": NAME_NOUNS}
_WH = re.compile(r"\b(what|which|who|whom|whose|when|where|why|how)\b", re.I)
_AUX = re.compile(r"^(is|are|was|were|do|does|did|can|could|has|have|had|will|would|should|may|might|must)\b", re.I)
_MEASURE = set("many much long old far tall big large high wide deep fast heavy often".split())
_WH_TYPES = {"why": "", "when": "date", "who": "person", "whom": "person", "whose": "person", "where": "place"}


def answer_type(question: str) -> str:
    """The kind of short answer `question` asks for: one of TYPES ("" = none; see the module docstring)."""
    m = _WH.search(question)
    if not m or _AUX.match(question.strip()):
        return ""  # no wh-word, or a yes/no question ("Is it true that the man who …?")
    wh, rest = m.group(1).lower(), re.findall(r"[\w\-]+", question[m.end():].lower())
    if wh == "how":
        return "number" if rest[:1] and rest[0] in _MEASURE else ""
    if wh in _WH_TYPES:
        return _WH_TYPES[wh]
    if rest[1:4] == ["the", "name", "of"] or rest[:2] in (["is", "called"], ["was", "called"]):
        return "name"
    return _noun_class(head_noun(question)) or "phrase"


def head_noun(question: str) -> str:
    """The noun a question asks about ("" if none): the last class noun, else the last word, of the run after the
    wh-word before a stopword: "what government *position* was", "how many *tackles*", "what is the *population*"."""
    m = _WH.search(question)
    words = re.findall(r"[\w\-]+", question[m.end():].lower()) if m else []
    words = words[1:] if words[:1] in (["many"], ["much"]) else words
    words = words[2:] if words[:1] in (["is"], ["was"], ["are"], ["were"]) and words[1:2] == ["the"] else words
    run = list(takewhile(lambda w: w not in STOPWORDS, words[:6]))
    known = [w for w in run if _noun_class(w)]
    return known[-1] if known else (run[-1] if run else "")


def _noun_class(word: str) -> str:
    single = word[:-1] if word.endswith("s") and not word.endswith("ss") else word
    return next((kind for kind, nouns in _NOUNS.items() if word in nouns or single in nouns), "")


# ---- candidates -------------------------------------------------------------------------------------------------
_SPELLED = (r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
            r"seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|"
            r"dozen|dozens|hundreds|thousands|millions|half)")
_SCALE = r"(?:\s(?:hundred|thousand|million|billion|trillion|crore|lakh)\b)"
_NUM = re.compile(rf"(?<![\w.])(?:\d+(?:[,.]\d+)*\s?[–-]\s?\d+(?:[,.]\d+)*|"
                  rf"(?:[A-Z]{{0,2}}[$€£¥]\s?)?\d+(?:[,.]\d+)*[½¼¾]?|(?i:{_SPELLED}(?:[-\s]{_SPELLED})*))"
                  rf"{_SCALE}?(?:\s?%|\s(?:percent|per cent)\b)?(?![\w])")
_UNIT = re.compile(r"\s([a-z][a-z\-]{0,14})\b")
_MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
          r"(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?)(?![a-z])")
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_ORD = (r"(?:\d{1,2}(?:st|nd|rd|th)|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|"
        r"twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|twenty-first)")
_ERA = r"(?:BCE|BC|CE|AD|B\.C\.|A\.D\.)"
_DATES = [re.compile(p) for p in (
    r"\b\d{4}-\d{2}-\d{2}\b", rf"\b{_DAY}\s+{_MONTH}(?:,?\s+\d{{1,4}}\b)?",
    rf"\b{_MONTH}\s+{_DAY}(?:,?\s+\d{{1,4}})?\b", rf"\b{_MONTH}(?:,?\s+\d{{3,4}}\b)?",
    r"\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b",
    r"(?<![\w'])(?:\d{1,3}0s|'\d0s)\b", rf"(?i:\b{_ORD}(?:\s|-)centur(?:y|ies))(?:\s+{_ERA})?",
    rf"\b\d{{1,4}}\s?{_ERA}|\b(?:AD|A\.D\.)\s?\d{{1,4}}\b")]
_ORD_ALONE = re.compile(rf"(?i:\b{_ORD})(?=(?:\s|-)centur)")
_YEAR = re.compile(r"(?<![\w$€£¥.,])\d{1,4}(?![\w%]|[.,]\d)")
_YEAR_CONTEXT = set("in since by from until till to of circa c. year years around after before during between and "
                    "early late mid spring summer autumn fall winter".split())
_NAME_WORD = r"(?:(?:[A-Z]\.){2,}|[A-Z][\w&]*(?:-\w+)*(?:['’](?![sS]\b)\w+)?)"
_LINK = r"(?:of|the|de|la|le|du|da|di|del|des|van|der|den|von|and|for|on|y|al|bin|ibn)"
_NAME = re.compile(rf"(?:[A-Z]\.\s?)*{_NAME_WORD}(?:\s+(?:{_LINK}\s+)*(?:[A-Z]\.\s?)*{_NAME_WORD})*(?![\w])")
_QUOTED = re.compile(r"[\"“](\w[^\"“”\n]{0,58}[\w?!.])[\"”]")
_APPROX = re.compile(r"(?i)\b(?:over|about|around|nearly|almost|approximately|roughly|more than|less than|fewer than|"
                     r"up to|at least|early|late|mid-?|after|before|until|(?:between|from) [\w,.$]+ (?:and|to))\s?$")
_TOKEN = re.compile(r"[$€£¥]?\d+(?:[,.]\d+)*(?:[½¼¾%]|[a-z]+)?|\w+(?:[-'’.]\w+)*\.?|\S")


def tokens(text: str) -> list[tuple[int, int, str]]:  # (start, end, token): words, numbers, punctuation
    return [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]


def candidates(sentence: str) -> list[Candidate]:
    """Every candidate answer phrase of `sentence` (see the module docstring), at most once per span."""
    out: dict[tuple[int, int], Candidate] = {}

    def add(a: int, b: int, kind: str) -> None:
        while b > a and sentence[b - 1] in " ,;:'’\"." and not _DOTTED.search(sentence, a, b):
            b -= 1  # trailing punctuation, except the full stop of an initial or "A.D."
        a += len(sentence[a:b]) - len(sentence[a:b].lstrip())
        if b > a and (a, b) not in out:
            out[(a, b)] = Candidate(a, b, sentence[a:b], kind)

    for m in (m for pat in (*_DATES, _ORD_ALONE) for m in pat.finditer(sentence)):
        add(m.start(), m.end(), "date")
    for m in _YEAR.finditer(sentence):
        before, after = sentence[:m.start()].split()[-1:], _UNIT.match(sentence, m.end())
        dated = before and before[0].lower().strip("(,") in _YEAR_CONTEXT  # "in 476", "circa 30"; not "in 24 games"
        counted = after and after.group(1).islower() and after.group(1) not in STOPWORDS
        if (len(m.group()) == 4 and 1000 <= int(m.group()) <= 2199 or dated) and not counted:
            add(m.start(), m.end(), "date")
    for m in _NUM.finditer(sentence):
        dated = (m.start(), m.end()) in out  # a year takes no counted noun
        add(m.start(), m.end(), "number")
        unit = _UNIT.match(sentence, m.end())
        if unit and unit.group(1) not in _NOT_UNITS and not dated:
            add(m.start(), unit.end(), "number")
    for m in _NAME.finditer(sentence):
        words = list(re.finditer(r"\S+", m.group()))
        starts = [m.start() + w.start() for i, w in enumerate(words)
                  if w.group().lower() not in _LINK_WORDS and (i == 0 or not re.fullmatch(r"[A-Z]\.", w.group()))]
        if starts and starts[0] == m.start() and words[0].group().lower() in STOPWORDS:
            starts = starts[1:]  # "The", "In" opening a sentence
        for a in starts:  # the name and each shorter name it ends with ("Prime Minister Richard Marles")
            add(a, m.end(), "name")
        if " and " in m.group():
            for part in re.finditer(r"\S.*?(?=\s+and\s+|$)", m.group()):
                add(m.start() + part.start(), m.start() + part.end(), "name")
    for m in _QUOTED.finditer(sentence):  # titles in quotes: "A Machine to End War"
        add(m.start(1), m.end(1), "name")
    for c, m in [(c, _APPROX.search(sentence, 0, c.start)) for c in out.values() if c.kind in ("number", "date")]:
        if m:  # "over 37 million", "late 1980s", "between 2005 and 2010"
            add(m.start(), c.end, c.kind)
    runs: list[list[tuple[int, int, str]]] = [[]]
    for t in tokens(sentence):
        if re.match(r"\w", t[2]) and t[2].lower().rstrip(".") not in _NOT_UNITS:
            runs[-1].append(t)
        elif runs[-1]:  # a run ends; "of" may bridge it to the next ("Great Exhibition of 1851")
            runs.append([t] if t[2].lower() == "of" else [])
    for prev, run in zip([[]] + runs, runs):
        words = [t for t in run if t[2].lower() != "of"]
        pieces = {tuple(words[:5]), tuple(words[-5:])} | {tuple(words[i:j]) for i in range(len(words))
                                                          for j in range(i + 1, min(i + 4, len(words) + 1))}
        if run and run[0][2].lower() == "of" and prev and len(words) <= 3:
            pieces.add((*prev[-2:], *words))
        for piece in filter(None, pieces):
            add(piece[0][0], piece[-1][1], "phrase")
    return sorted(out.values(), key=lambda c: (c.start, -c.end))


_NOT_UNITS = STOPWORDS | {"because", "while", "although", "though", "whereas", "including", "since", "until"}
_DOTTED = re.compile(r"(?:\b[A-Z]|[A-Z]\.[A-Z]|\bBC|\bAD)\.$")
_LINK_WORDS = set(_LINK.strip("(?:)").split("|"))


# ---- ranking ----------------------------------------------------------------------------------------------------
_PERSON_STEMS = {stem(w) for w in PERSON_NOUNS}
_TITLES = PERSON_NOUNS | set("""deputy prime vice chief foreign defence defense secretary senior former acting sir dame
dr mr mrs ms lord lady st of the""".split())
_CLAUSE = re.compile(r"[,;:()\[\]—–]|\s-\s|\b(?:which|who|while|whereas|although|but)\b")


def _focus(question: str) -> str:
    """The stem of the first content word after the question word ("" if none)."""
    m = _WH.search(question)
    words = re.findall(r"[\w\-]+", question[m.end():] if m else question)
    return next((stem(w) for w in words if w.lower() not in STOPWORDS and w.lower() not in _MEASURE), "")


def features(question: str, sentence: str, cands: list[Candidate], p: float = 1.0, best_p: float = 1.0,
             rank_: int = 0) -> list[dict[str, float]]:
    """The ranker's features of each candidate answer to `question` in `sentence` (names as in spans.json); `p` is
    the answer model's probability that the sentence answers, `best_p` the best sentence's and `rank_` the
    sentence's place among the quoted ones (0 = best), so candidates of several sentences compete in one ranking."""
    atype, head = answer_type(question), stem(head_noun(question))
    qstems = {stem(w) for w in re.findall(r"[\w\-]+", question) if w.lower() not in STOPWORDS}
    toks = tokens(sentence)
    starts, ends = [a for a, _, _ in toks], [b for _, b, _ in toks]
    hits = [i for i, (_, _, t) in enumerate(toks) if t.lower() not in STOPWORDS and stem(t.rstrip(".")) in qstems]
    cuts = [0, *(m.start() for m in _CLAUSE.finditer(sentence)), len(sentence) + 1]
    clauses = [(a, b, sum(a <= toks[i][0] < b for i in hits)) for a, b in zip(cuts, cuts[1:])]
    main = max(clauses, key=lambda c: c[2])
    nq = max(1, len(qstems))
    cover = len({stem(toks[i][2].rstrip(".")) for i in hits}) / nq
    # the question's first content word after its wh-word, usually its verb or the noun it asks about ("Who
    # *recovered* the ball?" -> "…was recovered by Ward"), and where it occurs in the sentence
    focus = _focus(question)
    focus_at = [i for i in hits if stem(toks[i][2].rstrip(".")) == focus]
    hit_stem = {i: stem(toks[i][2].rstrip(".")) for i in hits}
    names = [(c.start, c.end) for c in cands if c.kind == "name"]
    prefixes = {(c.start, c.end) for c in cands for a, b in names if a == c.start and b > c.end}
    rows = []
    for c in cands:
        first = min(bisect_left(starts, c.start), len(toks) - 1)
        last, n = max(first, bisect_right(ends, c.end) - 1), max(1, bisect_right(ends, c.end) - first)
        cstems = {stem(t) for _, _, t in toks[first:last + 1] if t.lower() not in STOPWORDS and re.match(r"\w", t)}
        outside = [i for i in hits if not first <= i <= last]
        dist = min((abs(i - first) if i < first else abs(i - last) for i in outside), default=99)
        prev, nxt = toks[first - 1][2] if first else "", toks[last + 1][2] if last + 1 < len(toks) else ""
        near, has_q, lo = 1 / (1 + dist), float(bool(cstems & qstems)), prev.lower()
        f = {f"{c.kind}*{atype or 'none'}": 1.0, f"kind={c.kind}": 1.0, f"len={min(n, 5)}": 1.0,
             f"len={min(n, 5)}*{atype}": 1.0, "near": near, f"near*{atype}": near, f"overlap*{atype}": has_q,
             "overlap": len(cstems & qstems) / max(1, len(cstems)), "overlap_any": has_q, "len_log": math.log1p(n),
             "q_within3": len({toks[i][2].lower() for i in outside if first - 3 <= i <= last + 3}) / nq,
             "q_within8": len({toks[i][2].lower() for i in outside if first - 8 <= i <= last + 8}) / nq,
             "position": c.start / max(1, len(sentence))}
        f.update((k, 1.0) for k, on in (
            ("prev_is_head", head and stem(prev) == head), ("prev_in_question", stem(prev) in qstems),
            ("next_in_question", stem(nxt) in qstems), ("start_single", c.start == 0 and n == 1),
            ("first_person_noun", stem(toks[first][2]) in _PERSON_STEMS), ("no_question_words", not outside),
            ("main_clause", main[0] <= c.start < main[1] and main[2] > 0), ("capitalised", c.text[:1].isupper()),
            ("sentence_start", c.start == 0), ("digit", any(ch.isdigit() for ch in c.text)),
            ("year", re.fullmatch(r"\d{3,4}", c.text)), ("prev_person_noun", stem(prev) in _PERSON_STEMS),
            ("prev_capitalised", prev[:1].isupper()), ("next_capitalised", nxt[:1].isupper()),
            (f"modifies_noun*{c.kind}", nxt.isalpha() and nxt.islower() and nxt not in STOPWORDS), ("prev=by", lo == "by"),
            ("prev_place_prep", lo in ("in", "at", "from", "near", "to")), ("in_brackets", prev in ("(", "[")),
            ("prev_date_prep", lo in ("in", "on", "since", "until", "by", "during")), ("head_inside", head in cstems),
            ("head_after", head and stem(nxt) == head), ("in_quotes", prev in ('"', "“", "'")),
            ("comma_after", nxt in (",", ";", ".")), ("stopword_edge", c.text.split()[-1].lower() in STOPWORDS),
            (f"currency*{atype}", re.search(r"[$€£¥]|\b(?:dollars?|euros?|pounds)\b", c.text)),
            (f"percent*{atype}", re.search(r"%|\bper ?cent\b", c.text)),
            (f"title_inside*{atype}", cstems & _PERSON_STEMS), ("name_prefix", (c.start, c.end) in prefixes),
            ("name_suffix", any(a < c.start and b == c.end for a, b in names))) if on)
        # which side of the phrase the question's words are on, and how much of the question the sentence holds
        left, right = [first - i for i in outside if i < first], [i - last for i in outside if i > last]
        f.update({"left_near": 1 / (1 + min(left, default=99)), "right_near": 1 / (1 + min(right, default=99)),
                  "both_sides": float(bool(left and right)), "q_left3": sum(first - 3 <= i < first for i in hits) / nq,
                  "q_right3": sum(last < i <= last + 3 for i in hits) / nq, "sentence_cover": cover,
                  "near_share": sum(first - 8 <= i <= last + 8 for i in outside) / max(1, len(hits)),
                  "sentence_p": p, "sentence_p_below_best": best_p - p, f"sentence_rank={min(rank_, 2)}": 1.0})
        # how closely the question's words surround the phrase: each word counted once, at its nearest occurrence
        nearest: dict[str, int] = {}
        for i in outside:
            d = first - i if i < first else i - last
            nearest[hit_stem[i]] = min(d, nearest.get(hit_stem[i], 99))
        f["aligned"] = sum(1 / d for d in nearest.values()) / nq
        fl = min((first - i for i in focus_at if i < first), default=99)
        fr = min((i - last for i in focus_at if i > last), default=99)
        f["focus_left"], f["focus_right"] = 1 / fl, 1 / fr
        f[f"focus_left*{atype}"], f[f"focus_right*{atype}"] = 1 / fl, 1 / fr
        f[f"near*{c.kind}"], f[f"len*{c.kind}"] = f["near"], f["len_log"]
        f[f"q_within3*{c.kind}"], f[f"overlap*{c.kind}"] = f["q_within3"], f["overlap"]
        rows.append(f)
    for kind in KINDS:  # the closest candidate of its kind, the only one of its kind (question words aside)
        mine = [f for c, f in zip(cands, rows) if c.kind == kind and not f["overlap_any"]]
        nearest, only = max((g["near"] for g in mine), default=0), len({g["position"] for g in mine}) == 1
        for f in mine:
            f[f"nearest_of_kind*{atype}"], f[f"only_of_kind*{atype}"] = float(f["near"] == nearest), float(only)
    return rows


@lru_cache(maxsize=1)
def load_model(path: Path = MODEL_PATH) -> dict:
    model = json.loads(Path(path).read_text(encoding="utf-8"))  # the fitted ranker, format version checked
    if model.get("format_version") != MODEL_VERSION:
        raise ValueError(f"{path}: format version {model.get('format_version')}, expected {MODEL_VERSION}; refit it")
    model["weights"] = dict(zip(model["feature_names"], model["coefficients"]))
    return model


def rank(question: str, sentence: str, model: dict | None = None, p: float = 1.0, best_p: float = 1.0,
         rank_: int = 0) -> list[Candidate]:
    """The candidates of `sentence`, best first, each with the ranker's probability as `score` (`p`, `best_p`,
    `rank_`: the sentence's standing, as in `features`)."""
    model, cands = model or load_model(), candidates(sentence)
    w, b = model["weights"], model["intercept"]
    rows = features(question, sentence, cands, p, best_p, rank_)
    z = [b + sum(w.get(k, 0.0) * v for k, v in f.items()) for f in rows]
    scored = [replace(c, score=1 / (1 + math.exp(-max(-30.0, min(30.0, x))))) for c, x in zip(cands, z)]
    return sorted(scored, key=lambda c: -c.score)


def best_of(question: str, sentences: list[tuple[float, str]],
            model: dict | None = None) -> tuple[int, Candidate] | None:
    """The phrase that answers `question` among the candidates of all `sentences` ((probability that the sentence
    answers, text), best first), as (index of its sentence, phrase with its probability in `.score`); None when the
    question asks for no short answer or no candidate reaches the model's threshold."""
    model = model or load_model()
    if not answer_type(question) or not sentences:
        return None
    asked = fold(question)   # a phrase the question itself contains does not answer it ("Indo Pacific" for "…Indo-Pacific 4…?")
    best_p = max(p for p, _ in sentences)
    found = [(c.score, -i, c) for i, (p, text) in enumerate(sentences)
             for c in rank(question, text, model, p, best_p, i) if fold(c.text) not in asked]
    if not found or max(score for score, _, _ in found) < model["threshold"]:
        return None
    _, i, best = max(found, key=lambda x: x[:2])
    cut = 0  # a person's name without the titles before it: "Deputy Prime Minister Richard Marles" -> "Richard Marles"
    for w in re.finditer(r"(\S+)\s+", best.text) if answer_type(question) == "person" and best.kind == "name" else ():
        if fold(w.group(1)).rstrip(".") not in _TITLES:
            break
        cut = w.end()
    return -i, replace(best, start=best.start + cut, text=best.text[cut:])


def best_span(question: str, sentence: str, model: dict | None = None) -> Candidate | None:
    """The phrase of `sentence` that answers `question` (its probability in `.score`), or None when the question
    asks for no short answer or no candidate reaches the model's threshold: `best_of` one sentence."""
    found = best_of(question, [(1.0, sentence)], model)
    return found[1] if found else None
