"""Short answers' vocabulary: what kind of phrase a question asks for, and the candidate phrases of a sentence
(names, numbers, dates, phrases).

`answer_type(question)`, from the first wh-word and the noun after it (general rules, no question-specific words):
"how many/much/long/old/far/tall/…" -> "number", any other "how" -> ""; "when" -> "date"; "who/whom/whose" ->
"person"; "where" -> "place"; "what/which <noun>" -> the class of the noun in small general lists (year/day/century
-> "date"; person/leader/author/king -> "person"; city/country/river -> "place"; number/amount/population ->
"number"; team/company/film/band, "what is the name of" -> "name"), any other "what/which" -> "phrase"; "why",
yes/no questions (opening with an auxiliary verb) and no wh-word -> "" (no short answer).

`candidates(sentence)`: names, numbers, dates and short phrases, each with `sentence[start:end] == text`.
Which words answer is the reader's job (rag/span_reader.py); these two give its reranker what a span is and what
the question asks for.

    >>> answer_type("How many tackles did he make?"), answer_type("Which author wrote it?"), answer_type("Why?")
    ('number', 'person', '')
    >>> [c.text for c in candidates("J. R. R. Tolkien's book sold $16 million in 1955.") if c.kind != "phrase"][:3]
    ['J. R. R. Tolkien', 'Tolkien', '$16 million']
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import takewhile

from .text import STOPWORDS, content_words, place_words, stem, stems

TYPES = ("person", "date", "number", "place", "name", "phrase", "")
KINDS = ("name", "number", "date", "phrase")


@dataclass(frozen=True)
class Candidate:
    start: int
    end: int
    text: str
    kind: str           # "name", "number", "date" or "phrase"


# ---- answer types ----------------------------------------------------------------------------------------------
PERSON_NOUNS = set("""person people man men woman women boy girl child leader author writer poet player king queen
president minister chancellor emperor empress ruler prince princess pope bishop priest general commander officer
actor actress singer musician composer director producer artist painter sculptor architect scientist physicist
chemist inventor philosopher founder father mother son daughter wife husband brother sister coach captain member
character governor mayor senator politician judge lawyer teacher professor student owner ceo chairman explorer
individual saint god goddess quarterback scholar historian economist engineer designer dancer rapper host
secretary premier ambassador diplomat envoy spokesman spokeswoman spokesperson monarch emir sultan
novelist playwright journalist athlete pilot candidate""".split())
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
    """The class of a question's noun, plural or not ("countries" is a place noun as "country" is)."""
    single = word[:-1] if word.endswith("s") and not word.endswith("ss") else word
    single = single[:-2] + "y" if word.endswith("ies") else single
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
MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
          r"(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?)(?![a-z])")
DAY = r"\d{1,2}(?:st|nd|rd|th)?"
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WEEKDAY = "(?:" + "|".join(WEEKDAYS) + ")"
_ORD = (r"(?:\d{1,2}(?:st|nd|rd|th)|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|"
        r"twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|twenty-first)")
_ERA = r"(?:BCE|BC|CE|AD|B\.C\.|A\.D\.)"
# a weekday with its date written after it: "Saturday 15 March", "Friday, March 7, 2025"
_DATED_WEEKDAY = rf"{WEEKDAY},?\s+(?:{DAY}\s+{MONTH}|{MONTH}\s+{DAY})(?:,?\s+\d{{4}})?\b"
_DATED_WEEKDAY_AT = re.compile(_DATED_WEEKDAY)
# a time of day: "07:00", "9.30 am", "4pm", "16:00"
_CLOCK = r"(?<![\w.:])(?:[01]?\d|2[0-3])(?::[0-5]\d(?:\s?[ap]\.?m\.?)?|\.[0-5]\d\s?[ap]\.?m\.?|\s?[ap]\.?m\.?)(?![\w:])"
_DATES = [re.compile(p, re.IGNORECASE) if p is _CLOCK else re.compile(p) for p in (
    r"\b\d{4}-\d{2}-\d{2}\b", rf"\b{DAY}\s+{MONTH}(?:,?\s+\d{{1,4}}\b)?",
    rf"\b{MONTH}\s+{DAY}(?:,?\s+\d{{1,4}})?\b", rf"\b{MONTH}(?:,?\s+\d{{3,4}}\b)?",
    rf"\b{_DATED_WEEKDAY}", rf"\b{WEEKDAY}\b",
    _CLOCK,
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


_QUANTIFIER = re.compile(r"\b(?:several|many|few|numerous|multiple|countless|no)\b", re.IGNORECASE)


_WHO_IS = re.compile(r"^\W*(?i:who\s+(?:is|was|are|were))\s+(?P<name>(?:[A-Z][\w\-'’.]*\s*)+?)\W*$")


def asks_identity(question: str) -> bool:
    """Whether `question` is "Who is <a name>?": it asks what the person is (the quoted sentence says it), not for
    another name, so no short phrase leads the answer. A name with a linking word is a title, which a name answers
    ("Who was Count of Melfi?" → "William Iron Arm").

    >>> asks_identity("Who is Richard Marles?"), asks_identity("Who was Count of Melfi?"), asks_identity("Who is he?")
    (True, False, False)
    """
    return _WHO_IS.match(question.strip()) is not None


def asks_time_of_day(question: str) -> bool:
    """"What time …?", "At what time of day …?", "At what hour …?" (not "What time of year …?").

    >>> asks_time_of_day("At what time of day was the news conference?"), asks_time_of_day("What time of year?")
    (True, False)
    """
    return bool(_WHAT_TIME.search(question))


def contradicts(question: str, phrase: str) -> bool:
    """Whether `phrase` cannot be what `question` asks for: a "how many" question answered without a number ("the
    ambassadors"), or a who-question answered with only a number or date ("four").

    >>> contradicts("How many ambassadors were there?", "The ambassadors"), contradicts("Who translated?", "four")
    (True, True)
    >>> contradicts("How many were there?", "about forty"), contradicts("How many?", "several")
    (False, False)
    >>> contradicts("How long should the onion be softened?", "olive oil"), contradicts("How long?", "until dawn")
    (True, False)
    >>> contradicts("What version of Python does it need?", "exiftool program"), contradicts("What version?", "3.9")
    (True, False)
    >>> contradicts("Who won in 1998?", "Team 1998")
    False

    A question about an event ("What happened to the probes?", "What did Washington do?") is answered by what
    happened ("failed in July", "asphyxiated"), never by a bare number or date:

    >>> contradicts("What happened to the probes on plot 7?", "Two"), contradicts("What happened?", "declined")
    (True, False)

    Nor is "Which schedule used the least water?" ("Which year …?" is): none of the 90 which-questions of the
    XQuAD and HotpotQA train halves that ask for no number or date has a bare number for its answer.

    >>> contradicts("Which schedule used the least water?", "31 percent"), contradicts("Which year?", "1998")
    (True, False)

    "What time …?" asks for a time of day ("What time of year …?" does not):

    >>> contradicts("What time does the move start?", "Saturday"), contradicts("What time does it start?", "07:00")
    (True, False)
    >>> contradicts("At what time of day was it?", "Ukrainian President"), contradicts("What time?", "the afternoon")
    (True, False)

    Nor is a phrase of prepositions and stopwords alone: contradicts("What are the core hours?", "Outside") is True.
    A person is not a phrase that opens with a preposition:

    >>> contradicts("Who translated for the minister?", "through a translator"), contradicts("Who?", "a translator")
    (True, False)

    An acronym asked for is written in capitals (a question that writes one, "What does the acronym NATO stand
    for?", asks for something else):

    >>> contradicts("What is the acronym for the agency?", "Ukraine"), contradicts("What acronym?", "the MSEA")
    (True, False)
    >>> contradicts("What does the acronym NATO stand for?", "North Atlantic Treaty Organization")
    False
    """
    if not [w for w in content_words(phrase) if w not in _PREPOSITIONS]:
        return True                     # "Outside" for "What are the core hours?": no word that could answer
    if re.search(r"\bhow many\b", question, re.IGNORECASE):
        return not (_NUM.search(phrase) or _QUANTIFIER.search(phrase))
    if _AMOUNT.match(question):         # "How long …?", "How much …?": an amount, or a time ("until the spring")
        return not (_NUM.search(phrase) or _QUANTIFIER.search(phrase) or _MEASURE_WORD.search(phrase))
    bare = not re.search(r"[^\W\d_]", _NUM.sub(" ", phrase))      # only numbers (and dates' digits)
    if asks_time_of_day(question):      # "What time does the move start?": a time of day, not "Saturday"
        return not (re.search(_CLOCK, phrase, re.IGNORECASE) or _PART_OF_DAY.search(phrase))
    if _ACRONYM.search(question) and not _CAPITALS.search(question) and not _CAPITALS.search(phrase):
        return True                     # "What is the official acronym for North Korea?" is not "Ukraine"
    kind = answer_type(question)
    if (kind == "number" or _VERSION.search(question)) \
            and not (_NUM.search(phrase) or _QUANTIFIER.search(phrase) or _MEASURE_WORD.search(phrase)):
        return True                     # "What version of Python …?" is not answered by "exiftool program"
    if kind == "person" and phrase.split()[0].lower() in _PREPOSITIONS | _SHORT_PREPOSITIONS:
        return True                     # "through a translator" for "Who translated for the minister?"
    return bare and (kind == "person" or bool(_EVENT.search(question))
                     or bool(re.match(r"\s*which\b", question, re.IGNORECASE)) and kind not in ("number", "date"))


_ACRONYM = re.compile(r"\b(?:acronym|abbreviation|initialism)s?\b", re.IGNORECASE)
_CAPITALS = re.compile(r"\b[A-Z][A-Z0-9.&-]*[A-Z]\b")      # "DPRK", "U.S", "AT&T"

# prepositions the stopword list leaves out: a phrase of these alone answers nothing
_PREPOSITIONS = frozenset("""aboard above across against along amid amidst among amongst around astride atop behind
below beneath beside besides beyond despite except inside near nearby onto opposite outside past per round since
through throughout toward towards underneath unlike until upon versus via within without""".split())
# and those it holds: a phrase opening with any of them is no person (of the 124 who-questions of the XQuAD and
# HotpotQA train halves, one gold answer opens so, "from 1986 to 2013", for a question asking "during what timeframe")
_SHORT_PREPOSITIONS = frozenset("about after at before between by during for from in into of on over to under with"
                                .split())
# "How long …?", "How much …?": an amount asked for ("How many …?", a count, is asked apart)
_AMOUNT = re.compile(r"\W*how (?:long|much|far|tall|big|large|high|wide|deep|heavy|old)\b", re.IGNORECASE)
# what an amount or a length of time may be said with besides a number ("half a lemon", "until the 19th century",
# "vast areas")
_MEASURE_WORD = re.compile(r"\b(?:half|quarter|dozen|couple|until|till|since|overnight|fortnight|seconds?|minutes?|"
                           r"hours?|days?|weeks?|months?|years?|decades?|centur(?:y|ies)|lifetime|forever|most|"
                           r"majority|minority|vast|part|portion|all|none|little|lots?|plenty|much)\b",
                           re.IGNORECASE)
_VERSION = re.compile(r"\b(?:what|which)\s+(?:\w+\s+)?version\b", re.IGNORECASE)     # a version is a number
_WHAT_TIME = re.compile(r"\b(?:what|which)\s+time(?:\s+of\s+(?:the\s+)?day)?\b(?!\s+of\b)|\bat\s+what\s+hour\b",
                        re.IGNORECASE)
_PART_OF_DAY = re.compile(r"\b(?:morning|afternoon|evening|night|overnight|noon|midday|midnight|dawn|dusk|lunchtime)\b",
                          re.IGNORECASE)
# "What happened …?", "What did Washington do?": the answer is an event, said by a verb
_EVENT = re.compile(r"\bwhat\s+(?:happened|happens|happen|(?:did|does|do|will)\b[^?]{1,60}?\bdo)\b", re.IGNORECASE)


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


def descriptor(question: str) -> list[str]:
    """The words a who/which question describes its answer with, as written: the run after the wh-word up to a
    stopword, at most five words ("Who is the Japanese prime minister who …?" -> ["Japanese", "prime",
    "minister"]); [] when it is one plain word ("Which leader …?": every name in a sentence could be one).

    >>> descriptor("Who is the Japanese prime minister who attended?"), descriptor("Which leader came?")
    (['Japanese', 'prime', 'minister'], [])
    """
    m = _WH.search(question)
    words = re.findall(r"[\w\-]+", question[m.end():]) if m else []
    lower = [w.lower() for w in words]
    if lower[:2] in (["is", "the"], ["was", "the"], ["are", "the"], ["were", "the"]):
        words = words[2:]
    elif not m or m.group(1).lower() not in ("what", "which"):
        return []           # "Who represented Tokyo …?": a verb follows, not a description
    run = list(takewhile(lambda w: w.lower() not in STOPWORDS, words[:5]))
    head = head_noun(question)
    ends = [i for i, w in enumerate(run) if w.lower() == head]
    run = run[:ends[-1] + 1] if ends else run        # "Which leader came?": the description ends at its noun
    return run if len(run) >= 2 or any(w[:1].isupper() for w in run) else []


def the_name_in(question: str, sentence: str, start: int, end: int) -> tuple[int, int]:
    """For a who-question, the name a longer phrase of the reader's ends with, when the phrase says more than the
    name ("ad-hoc committee headed by his special technical assistant Nicholas E. Golovin" -> "Nicholas E. Golovin");
    a phrase that is all name ("Deputy Prime Minister Richard Marles"), says no new name, or says little else (fewer
    than three words in lower case but stopwords: "Kenyan athletes (particularly Kalenjin)", "Hassan al-Turabi",
    "Jamukha, and his protector, Toghrul Khan") stays as it is.

    >>> s = "Seaman set up an ad-hoc committee headed by his technical assistant Nicholas E. Golovin in July 1961."
    >>> s[slice(*the_name_in("Who led the committee established by Seaman?", s, 17, 87))]
    'Nicholas E. Golovin'
    >>> s[slice(*the_name_in("Where was the committee?", s, 17, 87))]
    'ad-hoc committee headed by his technical assistant Nicholas E. Golovin'
    """
    if answer_type(question) != "person":
        return start, end
    asked, cands = question.lower(), candidates(sentence)
    dated = [c for c in cands if c.kind == "date"]         # "July" is a month, not a name
    named = [c for c in cands if c.kind == "name" and start <= c.start and c.end <= end
             and c.text.lower() not in asked and not any(d.start < c.end and c.start < d.end for d in dated)]
    if not named:
        return start, end
    last = max(named, key=lambda c: (c.end, c.end - c.start))
    rest = re.findall(r"[^\W\d_][\w'’-]*", sentence[start:last.start] + " " + sentence[last.end:end])
    if len([w for w in rest if w.islower() and w not in STOPWORDS]) < 3:    # "Kenyan athletes (particularly …)"
        return start, end
    return last.start, last.end


def described(question: str, sentence: str) -> list[tuple[int, int]]:
    """Where `sentence` names someone or something with the question's own description, as news and encyclopaedias
    put a title before a name ("… Japanese Prime Minister Kishida Fumio …" for "Who is the Japanese prime minister
    …?"): (start, end) of each name right after the description's words, in order (two words may come between
    them: "Japanese Deputy Prime Minister"). [] when the question gives no description or the sentence never uses it.

    >>> s = "Biden met Australian Deputy Premier Richard Marles and Japanese Prime Minister Kishida Fumio."
    >>> [s[a:b] for a, b in described("Who is the Japanese prime minister who came?", s)]
    ['Kishida Fumio']
    """
    words = descriptor(question)
    if not words or answer_type(question) != "person":
        return []
    out = _named_after(r"\W+(?:[\w\-]+\W+){0,2}?".join(_described_word(w) for w in words), sentence)
    place = [w for w in words if place_words(w)]
    if not out and place and _OFFICE_WORD.fullmatch(words[-1]):
        # "Which Estonian leader …?" of "Estonia's Prime Minister Kaja Kallas": the sentence gives the person's
        # office, not the question's word for it: the name after the place, after its office words, when it has any
        # ("German Democratic Republic" is no person)
        titled = [(a, b, _OFFICES.match(sentence, a)) for a, b in _named_after(_described_word(place[0]), sentence)]
        out = [(a + len(t.group()), b) for a, b, t in titled if t and len(sentence[a + len(t.group()):b].split()) >= 2]
    return out


# words of an office written before a person's name ("Prime Minister", "Deputy Secretary-General")
_OFFICE = (r"Acting|Deputy|Vice|Prime|First|Foreign|Defen[cs]e|Finance|Interior|Minister|Premier|President|"
           r"Chancellor|Secretary(?:-General)?|General|State|Senator|Governor|Mayor|King|Queen|Crown|Prince|Princess|"
           r"Chief|Ambassador|Director|Chairman|Chair|Speaker|Leader|Emir|Sheikh|Sultan|Emperor|Empress|Pope")
_OFFICES = re.compile(rf"(?:(?:{_OFFICE})\s+)+")
_OFFICE_WORD = re.compile(rf"(?i:{_OFFICE}|head|official|politician|diplomat|envoy|ruler|monarch)")


def _described_word(word: str) -> str:
    """A word of a description as a pattern: a country's word stands for any of its words, with its possessive
    ("Japanese" matches "Japan's" and "Japanese"; `text.place_words`)."""
    same = sorted(place_words(word), key=len, reverse=True)
    return rf"(?:{'|'.join(map(re.escape, same))})(?:['’]s)?" if same else re.escape(word)


def _named_after(pattern: str, sentence: str) -> list[tuple[int, int]]:
    """(start, end) of each name right after a match of `pattern` (case-insensitive) in `sentence`, in order."""
    out = []
    for m in re.finditer(rf"(?i)(?<![\w\-]){pattern}(?![\w\-])", sentence):
        name = _NAME.match(sentence, m.end() + len(sentence[m.end():]) - len(sentence[m.end():].lstrip()))
        if name and name.start() - m.end() <= 1:
            cut = re.search(r"\s+and\s+", name.group())      # "Olaf Scholz and Italian Prime Minister …": one name
            out.append((name.start(), name.start() + cut.start() if cut else name.end()))
    return out


_DURATION = re.compile(r"\W*how (?:long|old)\b", re.IGNORECASE)


def with_date(sentence: str, start: int, end: int) -> int:
    """Where the answer phrase sentence[start:end] ends once a weekday takes the date written after it ("Saturday"
    -> "Saturday 15 March"): the weekday alone says less than the sentence does.

    >>> s, t = "The move is confirmed for Saturday 15 March, starting at 07:00.", "The move is on Saturday."
    >>> s[26:with_date(s, 26, 34)], t[15:with_date(t, 15, 23)]
    ('Saturday 15 March', 'Saturday')
    """
    if re.fullmatch(WEEKDAY, sentence[start:end]):
        m = _DATED_WEEKDAY_AT.match(sentence, start)
        if m:
            return m.end()
    return end



# "Australia, Korea, Japan and New Zealand": names joined by commas and a last "and" / "or"
_NAME_LIST = re.compile(rf"{_NAME.pattern}(?:,\s+{_NAME.pattern})*,?\s+(?:and|or)\s+{_NAME.pattern}")
_WHO_ARE = re.compile(r"^\W*who\s+(?:are|were)\b", re.IGNORECASE)


def asks_several(question: str) -> bool:
    """Whether `question` asks for several things: its head noun is a plural one of a known class ("Which countries
    …?", "What bands …?"), or it is "Who are/were …?".

    >>> asks_several("Which countries make up the group?"), asks_several("Which country chairs the group?")
    (True, False)
    """
    head = head_noun(question)
    return bool(_WHO_ARE.match(question)) or (head.endswith("s") and not head.endswith("ss")
                                              and bool(_noun_class(head)) and head not in _NOUNS["number"])


def with_list(question: str, sentence: str, start: int, end: int) -> tuple[int, int]:
    """Where the answer phrase sentence[start:end] starts and ends once it takes the whole list of names it is one of,
    for a question that asks for several ("Which countries make up the group?": "Australia" -> "Australia, Korea,
    Japan and New Zealand"); a question for one keeps its one name.

    >>> s = "The group is made up of Australia, Korea, Japan and New Zealand, all partners."
    >>> a, b = with_list("Which countries make up the group?", s, 24, 33); s[a:b]
    'Australia, Korea, Japan and New Zealand'
    >>> s[slice(*with_list("Which country chairs the group?", s, 24, 33))]
    'Australia'
    """
    if not asks_several(question):
        return start, end
    for found in _NAME_LIST.finditer(sentence):
        if found.start() <= start and end <= found.end():
            return found.start(), found.end()
    return start, end


_YEAR_ASKED = re.compile(r"\b(?:what|which)\s+year\b", re.IGNORECASE)


def with_whole(question: str, sentence: str, start: int, end: int) -> tuple[int, int]:
    """Where the answer phrase sentence[start:end] starts and ends once it is the whole date it is part of ("September
    2025" -> "2 September 2025", but a year stays a year for "What year …?"; a time of day takes the day written
    before it, for a when-question), or, for a question about an amount ("How long …?", "How much …?"), the whole
    amount with its unit ("about 40" -> "about 40 minutes"; a count, "How many …?", keeps its bare number).

    >>> s = "Version 2.4 was released on 2 September 2025."
    >>> s[slice(*with_whole("When was it released?", s, 30, 44))]
    '2 September 2025'
    >>> s = "The next meeting is on Tuesday 11 November at 7.30 pm."
    >>> s[slice(*with_whole("When is the next meeting?", s, 46, 53))]
    'Tuesday 11 November at 7.30 pm'
    >>> s = "It opened on May 1, 1989."
    >>> s[slice(*with_whole("In what year did it open?", s, 20, 24))], s[slice(*with_whole("When?", s, 20, 24))]
    ('1989', 'May 1, 1989')
    >>> s[slice(*with_whole("What year did it open?", s, 13, 24))]
    '1989'
    >>> s = "Cooking takes about 40 minutes."
    >>> s[slice(*with_whole("How long does it take?", s, 14, 22))], s[slice(*with_whole("How many?", s, 14, 22))]
    ('about 40 minutes', 'about 40')
    """
    cands = candidates(sentence)
    if answer_type(question) == "date" and not asks_time_of_day(question) \
            and re.fullmatch(_CLOCK, sentence[start:end], re.IGNORECASE):
        day = [c for c in cands if c.kind == "date" and c.end <= start
               and re.fullmatch(r"\s*(?:,|at|from)?\s*", sentence[c.end:start], re.IGNORECASE)]
        if day:         # "When is the meeting?": "7.30 pm" -> "Tuesday 11 November at 7.30 pm"
            return min(c.start for c in day), end
    year_asked = bool(_YEAR_ASKED.search(question))
    if year_asked:          # "In what year …?": "2012", not the reader's "May 2012"
        years = list(re.finditer(r"(?<![\d,.])\d{4}(?![\d,.]?\d)", sentence[start:end]))
        if len(years) == 1:
            return start + years[0].start(), start + years[0].end()
    kinds = ("date",) * (not year_asked)        # "What year …?": "1989", not "May 1, 1989"
    kinds += ("number",) * bool(_AMOUNT.match(question))
    for kind in kinds:
        around = [c for c in cands if c.kind == kind and c.start <= start and end <= c.end]
        if around and (kind == "date" or _NUM.search(sentence[start:end])):
            widest = max(around, key=lambda c: c.end - c.start)
            return widest.start, widest.end
    return start, end


_WHO_DID = re.compile(r"^\W*who\s+(?P<verb>[a-z]+)\b(?P<rest>.*)$", re.IGNORECASE)
_NOT_DEEDS = frozenset("is was are were be been has have had did does do will would can could should may might must "
                       "else".split())


def agent(question: str, sentence: str) -> tuple[int, int] | None:
    """For "Who hosted the dinner?": the name a passive sentence gives the same verb's doer ("During a dinner hosted by
    US President Joe Biden, …" -> "US President Joe Biden"), when the sentence shares a word of what the question
    says besides the verb; None otherwise.

    >>> s = "During a dinner hosted by US President Joe Biden in Washington, the leaders met."
    >>> s[slice(*agent("Who hosted the dinner at the White House?", s))], agent("Who hosted the lunch?", s)
    ('US President Joe Biden', None)
    """
    m = _WHO_DID.match(question.strip())
    if m is None or m.group("verb").lower() in _NOT_DEEDS or not (stems(m.group("rest")) & stems(sentence)):
        return None
    verb = stem(m.group("verb"))
    for by in re.finditer(r"\b([A-Za-z]+)\s+by\s+", sentence):
        if stem(by.group(1)) == verb:
            name = _NAME.match(sentence, by.end())
            if name:
                return name.start(), name.end()
    return None


def with_unit(question: str, sentence: str, start: int, end: int) -> int:
    """Where the answer phrase sentence[start:end] ends once a hyphenated unit is joined to its number, for a question
    about a length of time or an age ("How long is the warranty?": "two" -> "two-year"); a count ("How many
    layers?": "seven", not "seven-layer") keeps its bare number.

    >>> s = "The router comes with a two-year limited warranty."
    >>> s[24:with_unit("How long is the warranty?", s, 24, 27)], s[24:with_unit("How many years?", s, 24, 27)]
    ('two-year', 'two')
    """
    unit = re.match(r"-[a-z]+\b", sentence[end:])
    if unit and _DURATION.match(question) and _NUM.fullmatch(sentence[start:end]):
        return end + unit.end()
    return end
