"""English text helpers every step shares: the one sentence splitter, the one stemmer, the one stopword list,
content words and capitalised names. Chunking, BM25, evidence, follow-ups and answer spans all use these, so a
"sentence" or a "word" means the same thing everywhere.

    >>> t = "U.S. President Joseph R. Biden met Yoon. Then he left.\\n\\n# New heading\\nA paragraph, wrapped\\nhere."
    >>> [t[a:b] for a, b, _ in sentences(t)]
    ['U.S. President Joseph R. Biden met Yoon.', 'Then he left.', 'New heading', 'A paragraph, wrapped\\nhere.']
    >>> stem("meetings"), content_words("Who chaired the Indo-Pacific 4 meeting?")
    ('meet', ['chaired', 'indo-pacific', '4', 'meeting'])
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

# ---- stopwords ------------------------------------------------------------------------------------------------
STOPWORDS = frozenset("""a an the and or but if of to in on at for with from by about as into over after before
between during is are was were be been being do does did has have had will would can could should may might must it
its this that these those there here what which who whom whose when where why how not no yes than then so such also
very any some all each more most other own same too just only again further once up down out off he she him her his
hers they them their we us our you your i me my mine said says say tell told""".split())

# ---- sentences ------------------------------------------------------------------------------------------------
# A sentence ends at . ! ? … (plus closing quotes/brackets and footnote marks like "[3]") before whitespace or the end.
_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?:\[\d{1,3}\])*(?=\s|$)")
_BLANK = re.compile(r"\n[ \t]*\n\s*")
_ABBREV = {"mr", "mrs", "ms", "dr", "jr", "sr", "st", "gen", "sen", "rep", "gov", "lt", "col", "vs", "etc", "inc",
           "ltd", "co", "corp", "jan", "feb", "aug", "sep", "sept", "oct", "nov", "dec", "e.g", "i.e", "prof", "fig",
           "approx", "dept", "est", "mt", "ft", "v", "cf", "bros"}
# Abbreviations that stand before a number ("No. 1 on the Billboard Hot 100", "Op. 5", "Vol. 2", "ca. 1650"): a
# full stop after one of them ends no sentence when a digit follows. "No" only capitalised: "she said no. 2019 was…"
_BEFORE_NUMBER = {"No", "Nos", "c"} | {v for w in ("op", "vol", "vols", "pp", "ca", "art", "ch", "pt", "sec")
                                  for v in (w, w.capitalize())}
# Markup that opens a line but is not part of its sentence: headings, list bullets, block quotes, numbered items.
_LINE_MARK = re.compile(r"[ \t]*(?:#{1,6}[ \t]+|[-*+•][ \t]+|>[ \t]*|\d{1,3}[.)][ \t]+)")
# A table row ("Paternity leave | 4 weeks | full pay") or a menu line ("Home | Docs | Download"): a sentence of its own.
_CELLS = re.compile(r"\S[ \t]+\|[ \t]+\S")


def sentences(text: str) -> list[tuple[int, int, bool]]:
    """(start, end, starts_paragraph) of each sentence of `text`, whitespace and line markup trimmed.

    Paragraphs are separated by blank lines (in text without any, by line breaks). Inside a paragraph a line
    break also ends a sentence when the line is a heading, list item or table row or ends in a colon, so a
    Markdown title never fuses with the first sentence under it; wrapped lines of one sentence stay together.
    Abbreviations and initials ("Joseph R. Biden, Jr.", "U.S.", "No. 1", "Op. 5", "Brown v. Board", "Jones et al.")
    do not end a sentence.

    >>> t = "The case Brown v. Board of Education ended it. Jones et al. (1998) agreed, c. 1650 or not."
    >>> [t[a:b] for a, b in sentence_spans(t)]
    ['The case Brown v. Board of Education ended it.', 'Jones et al. (1998) agreed, c. 1650 or not.']
    """
    out: list[tuple[int, int, bool]] = []
    pos = 0
    breaks = _BLANK if _BLANK.search(text.strip()) else re.compile(r"[ \t]*\n\s*")
    for para in [*breaks.finditer(text), None]:
        p_end = para.start() if para else len(text)
        first = True
        for a, b in _sentences_in(text, pos, p_end):
            out.append((a, b, first))
            first = False
        pos = para.end() if para else len(text)
    return out


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence: `sentences` without the paragraph flag."""
    return [(a, b) for a, b, _ in sentences(text)]


def _sentences_in(text: str, start: int, end: int):
    cuts = {m.end() for m in _END.finditer(text, start, end) if not _abbrev(text, m.start(), m.end())}
    lines = [m.start() for m in re.finditer(r"\n", text[start:end])]
    for i in lines:   # a line that is markup, or ends a sentence, ends where it ends
        nl = start + i
        line_start = text.rfind("\n", start, nl) + 1 if text.rfind("\n", start, nl) >= start else start
        line = text[line_start:nl]
        nxt = text[nl + 1:end]
        # (a line ending in a full stop already ends its sentence unless the stop is an abbreviation's: "Jr.\n")
        # a title stands first in its paragraph or right after a finished sentence, never mid-way through a wrapped one
        heading = (line_start == start or line_start - 1 in cuts) and _heading_like(line, nxt)
        if (_LINE_MARK.match(line) or _LINE_MARK.match(nxt) or line.rstrip().endswith(":") or heading
                or _CELLS.search(line) or _CELLS.search(nxt.split("\n", 1)[0])):
            cuts.add(nl)
    s = start
    for cut in sorted(cuts | {end}):
        a, b = _trim(text, s, min(cut, end))
        if b > a:
            yield a, b
        s = cut
        if s >= end:
            break


def heading_above(text: str, pos: int, reach: int = 4000) -> str:
    """The nearest heading above `pos` within `reach` characters ("" if none): a paragraph that is one short line
    (at most 10 words) with no closing punctuation, not a table row, or a question on a line of its own (an FAQ's
    "What are your opening hours?" over its answer, in the answer's paragraph or the one before). What a list
    item, a row or an answer is about ("New features" over "- Incremental sync: …").

    >>> t = "Tidepool 3.2\\n\\nNew features\\n\\n- Incremental sync: only changed files are sent.\\n- A --dry-run flag."
    >>> heading_above(t, t.index("A --dry-run")), heading_above(t, 3)
    ('New features', '')
    >>> faq = "What are your opening hours?\\nWe are open 6:00 to 22:00 on weekdays."
    >>> heading_above(faq, faq.index("We are"))
    'What are your opening hours?'

    A numbered heading is read without its number: "5. Security requirements" -> "Security requirements".
    """
    start = max(0, pos - reach)
    cut = text.rfind("\n\n", start, pos)
    own = text[cut + 2 if cut >= 0 else start:pos].split("\n", 1)
    if len(own) == 2 and _question_line(own[0].strip()):
        return own[0].strip()
    paragraphs = _BLANK.split(text[start:cut]) if cut >= 0 else []
    for para in reversed(paragraphs):
        line = _NUMBERED.sub("", para.strip())          # "5. Security requirements": its words
        plain = len(line.split()) <= 10 and not line.endswith((".", "!", "?", ",", ";", ":"))
        if line and "\n" not in line and (plain or _question_line(line)) and not _CELLS.search(line) \
                and not para.lstrip().startswith(("-", "*", "+", "•", ">", "#")):
            return line
    return ""


def is_question(sentence: str) -> bool:
    """A sentence that asks (an FAQ's "How do I cancel?"): it ends in "?" and opens with a question word or an
    auxiliary, so a title that ends in "?" inside a statement ('… such as "Who's Afraid of Virginia Woolf?') is not.

    >>> is_question("How do I cancel?"), is_question("Can I freeze my membership?"), is_question('Works such as "Why?')
    (True, True, False)
    """
    return sentence.rstrip().endswith("?") and bool(_ASKING.match(sentence))


# the verbs a yes/no question opens with ("Can I …?", "Is there …?"), as a regex alternation
AUXILIARIES = "is|are|was|were|do|does|did|can|could|will|would|should|shall|may|might|must|has|have|had"
_ASKING = re.compile(rf"^\W*(?:who|whom|whose|what|which|when|where|why|how|{AUXILIARIES}|am)\b", re.IGNORECASE)


def _question_line(line: str) -> bool:
    return is_question(line) and len(line.split()) <= 20


# the number of a numbered heading: "5.", "2.1", "B)" before its capitalised words
_NUMBERED = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2})*[.)]?|[A-Z][.)])\s+(?=[A-Z])")


def _heading_like(line: str, nxt: str) -> bool:
    """A short line with no closing punctuation followed by a capitalised line: a title over its text."""
    words = line.split()
    return 0 < len(words) <= 12 and not line.rstrip().endswith((",", ";", "-", "–")) and nxt[:1].isupper() \
        and (len(words) <= 3 or sum(w[:1].isupper() for w in words) >= len(words) / 2)


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    m = _LINE_MARK.match(text, a, b)
    if m and m.end() < b:
        a = m.end()
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


def _abbrev(text: str, dot: int, end: int) -> bool:
    """Is the full stop at `dot` part of an abbreviation or initial rather than a sentence end?"""
    if text[dot] != "." or end - dot > 1 and text[dot + 1] in ".":
        return False
    word = re.search(r"([\w.]+)$", text[max(0, dot - 12):dot])
    w = word.group(1) if word else ""
    nxt = re.match(r"\s*(\S)", text[end:end + 8])
    return (w.lower() in _ABBREV or bool(re.fullmatch(r"[A-Z]|(?:[A-Za-z]\.)+[A-Za-z]", w))
            or w == "al" and text[max(0, dot - 6):dot].endswith("et al")       # "Jones et al. (1998)"
            or bool(nxt and nxt.group(1).islower())
            or w in _BEFORE_NUMBER and bool(nxt and nxt.group(1).isdigit()))


# ---- words ------------------------------------------------------------------------------------------------------
_WORD = re.compile(r"[\w\-]+(?:['’][a-z]+)?")


@lru_cache(maxsize=1)
def _snowball():
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Snowball English stem of one lower-cased word, possessive dropped ("NATO's" -> "nato")."""
    return _snowball().stemWord(re.sub(r"['’]s$", "", word.lower()))


def stem_words(words: list[str]) -> list[str]:
    """Snowball English stems of many words (what BM25 uses)."""
    return _snowball().stemWords(words)


@lru_cache(maxsize=1)
def _places() -> dict[str, frozenset[str]]:
    groups: dict[str, frozenset[str]] = {}
    table = json.loads((Path(__file__).parent / "models" / "places.json").read_text(encoding="utf-8"))
    for g in table["groups"]:
        for w in g["words"]:
            groups[stem(w)] = groups.get(stem(w), frozenset()) | frozenset(g["words"])
    return groups


def place_words(word: str) -> frozenset[str]:
    """The words, lower case, that name the same country as `word` (its name, people and capital, itself among
    them; `rag/models/places.json`, made by eval/make_places.py), or none when it names no country.

    >>> sorted(place_words("Seoul")), sorted(place_words("Estonian")), place_words("meeting")
    (['korea', 'korean', 'seoul'], ['eesti', 'estonia', 'estonian', 'tallinn', 'vabariik'], frozenset())
    """
    return _places().get(stem(word), frozenset())


@lru_cache(maxsize=4096)
def same_place(word_stem: str) -> frozenset[str]:
    """The stems of `place_words` for a word's stem (a stem of `stem`: "tokyo" -> {"japan", "japanes", "tokyo", …})."""
    return frozenset(stem(w) for w in _places().get(word_stem, ()))


def overlaps(word_stem: str, stems_: set[str] | frozenset[str]) -> bool:
    """Whether `stems_` has `word_stem`, or another word for the same country ("Tokyo" in a text that says "Japan")."""
    return word_stem in stems_ or not stems_.isdisjoint(same_place(word_stem))


def content_words(text: str) -> list[str]:
    """Lower-cased words that carry meaning (no stopwords, no possessive 's), in order."""
    words = (re.sub(r"['’]s$", "", w) for w in _WORD.findall(text.lower()))
    return [w for w in words if w not in STOPWORDS]


def stems(text: str) -> set[str]:
    """The stems of the content words of `text` (hyphenated words count as their parts)."""
    return {stem(w) for w in content_words(text.replace("-", " "))}


def fold(text: str) -> str:
    """Lower case, hyphens and curly apostrophes folded, single spaces: for "does the text name X" checks."""
    return " ".join(text.lower().replace("-", " ").replace("’", "'").split())


# A name: capitalised words joined by spaces, hyphens, possessives or short linking words ("Bank of England")
_NAME = re.compile(r"\b[A-Z][\w\-]*(?:['’]s)?(?:\s+(?:(?:of|the|de|van|von|and)\s+)?[A-Z][\w\-]*(?:['’]s)?)*")


def names(text: str) -> list[str]:
    """Capitalised phrases, leaving out a sentence's first word when it is a stopword or question word, and "I" or a
    stopword standing alone (“A crash …” after a quotation mark).

    >>> names("Who chaired the Indo-Pacific 4 meeting with Bank of England officials?")
    ['Indo-Pacific', 'Bank of England']
    >>> names("Who do I ask about it?"), names('It said: “A crash was fixed.”')
    ([], [])
    """
    found = []
    starts = {a for a, _, _ in sentences(text)} | {len(text) - len(text.lstrip())}
    for m in _NAME.finditer(text):
        words = m.group().split()
        if m.start() in starts and words[0].lower() in STOPWORDS | {"and", "what", "how", "who", "which"}:
            words = words[1:]
        while words and words[-1].lower() in {"of", "the", "de", "van", "von", "and"}:
            words.pop()
        if words and not (len(words) == 1 and words[0].lower() in STOPWORDS | {"i", "i'm", "i've", "i'd", "i'll"}):
            found.append(" ".join(words))
    return found


def named_terms(question: str) -> tuple[list[str], list[str]]:
    """What a question names that a corpus can be checked for: its numbers and acronyms as written, and its full
    names of two or more words (`rag.evidence.missing_names` declines a question whose names no document uses).
    An amount of money written with its currency sign is a value the asker supplies, not a name: "Who must approve a
    claim of £300?" is answered by "Claims above £250 need approval from a director."

    >>> named_terms("Did NATO pay Mark Rutte 1,000 euros?"), named_terms("Who approves a claim of £300 or $5,000?")
    ((['NATO', '1,000'], ['Mark Rutte']), ([], []))
    """
    return (re.findall(r"(?<![£$€¥\d,.])(?<![£$€¥] )\b(?:\d[\d,.]*\d|\d|[A-Z]{2,})\b", question),
            [n for n in names(question) if len(n.split()) >= 2])


def spells(acronym: str, text: str) -> bool:
    """Does `text` write out `acronym` as a name whose words' initials spell it (linking "of", "the", "and" left
    out)? A question may use the short form of what a document spells out.

    >>> spells("UMC", "the United Methodist Church"), spells("DPRK", "Democratic People's Republic of Korea")
    (True, True)
    >>> spells("UMC", "Union Church of Manchester")
    False
    """
    for m in _NAME.finditer(text):
        if acronym.upper() in "".join(w[0] for w in m.group().split() if w[0].isupper()):
            return True
    return False


def name_words(name: str) -> set[str]:
    """The folded words of 2+ letters of a name: a name counts as mentioned when a document uses any of them."""
    return {w for w in re.findall(r"\w+", fold(name)) if len(w) >= 2}


# ---- negation ---------------------------------------------------------------------------------------------------
_NEGATORS = frozenset({"not", "no", "never", "neither", "nor", "without", "cannot"})
_CLAUSE_END = re.compile(r"[,;:()\[\]—–]|\b(?:though|although|but|while|whereas|if|unless)\b", re.IGNORECASE)


def _negator(word: str) -> bool:
    return word in _NEGATORS or word.endswith(("n't", "n’t"))


def _negated(question: str) -> bool:
    """A question that itself negates ("Who did not attend?") is answered by what a denial says."""
    return any(_negator(w.lower()) for w in _WORD.findall(question))


def negates(text: str, question: str, within: int = 6) -> bool:
    """Whether the first `within` words of `text`, up to the end of its clause, hold a negation ("'s decision not to
    attend", " never signed"), while the question itself negates nothing. Read right after a candidate answer, it
    says the sentence denies something of it: "Who chaired the meeting?" is not answered by the name in "…to chair
    the meeting, Prime Minister Anthony Albanese's decision not to attend meant it fell to Luxon instead".

    >>> negates("’s decision not to attend meant it fell to Luxon", "Who chaired the meeting?")
    True
    >>> negates(" did not attend.", "Who did not attend the meeting?"), negates(" chaired it.", "Who chaired it?")
    (False, False)
    >>> negates(" in 1972 (though Norway did not join)", "When did Denmark join the EU?")
    False
    """
    if _negated(question):
        return False
    clause = _CLAUSE_END.split(text, maxsplit=1)[0]     # "… in 1972 (though Norway did not join)": another clause
    return any(_negator(w.lower()) for w in _WORD.findall(clause)[:within])


def negated_before(text: str, question: str, within: int = 4) -> bool:
    """Whether the last `within` words of `text`, back to the start of its clause, hold a negation, while the question
    negates nothing. Read right before a candidate answer, it says the sentence denies it: "Which operating systems
    does it support?" is not answered by "Windows Server" in "It does not run on Windows Server; use Linux", nor
    "Where should I report it?" by "the forum" in "… by e-mail, never on the forum".

    >>> negated_before("Quillpad does not run on ", "Which systems does it support?")
    True
    >>> negated_before("It was held not in London but in ", "Where was it held?")    # "but" opens another clause
    False
    >>> negated_before("Albanese's decision not to attend meant it fell to ", "Who chaired the meeting?")
    False
    """
    if _negated(question):
        return False
    clause = _CLAUSE_END.split(text)[-1]
    return any(_negator(w.lower()) for w in _WORD.findall(clause)[-within:])
