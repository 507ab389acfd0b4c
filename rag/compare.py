"""Questions about two named things: which came first, and whether both have a property.

Date comparisons: "Who was born first, A or B?", "Which band formed earlier, A or
B?", "Who is younger, A or B?", "Who died first, A or B?". The question names both candidates; the answer is the one
whose date comes first (or last), each date read from a retrieved sentence about that candidate, and the answer
quotes both sentences, so each date is cited.

General rules, no word of any question set: the candidates are the two phrases around the question's " or ", after
its last comma or colon (else right after the comparative word); the comparative (first, earlier, older, before ...
or last, later, younger, more recent ...) must close the clause before them, so "the first Russian composer to make
a lasting impression, A or B?" is not a date comparison. A candidate's sentence is one of its own document (the
title names it) or one that opens with its name; its date is the first year the sentence gives, or for "died" the
end of a "(1859 – 1930)" range. When either date is missing or both are the same, there is no decision here.

"Which band is from England, A or B?": the option one of whose sentences holds every content word of the property,
when exactly one does (not for properties by amount: "more", "larger", "longer").

"Are A and B both P?" (also "Are both A and B P?", "Were …", "Do …"): answered "Yes" when a sentence of each one's
own document (or opening with its name) holds every content word of P (stemmed: "magazines" in "is a monthly
magazine"; framing words such as "located" or "considered" aside). Never "No": a word missing is no proof (a
"singer" is a musician), so such a question is answered as any other, quoting what was found.

"Were A and B of the same nationality?" ("from the same country"), "Were A and B released in the same year?": each
one's own sentence gives a value (the capitalised words it describes its subject with, "was a Scottish film
director"; or its first year), and the answer is "Yes" when they agree, "No" when they differ.

"Were A and B formed in the same city?" (any "the same <noun>": "directed by the same person", "in the same
family"): the name each one's own sentence gives right after what introduces the value ("formed … in Buffalo",
"directed by Marlo Poras", "in the family Cucurbitaceae"; a full name for a person); "Yes" when the two agree, "No"
when they share no word, no decision when they overlap in part (`parse_same_as`).

"Which genus has more species, A or B?" ("more", "most", "fewer", "less" of a counted noun): the option whose
sentence gives the larger (or smaller) count of that noun, the nearest number before it ("about 500 species", "in
five acts"), when each option's sentence gives one and they differ; both sentences quoted (`parse_more`).

Any question about two named things ("…, A or B?", "Are A and B …?", "Both A and B …?", "A and B are both …?"; `pair`)
quotes a sentence about each, of its own document where one was retrieved (`about_each`), so both are cited.

    >>> parse("Who was born first, Arthur Conan Doyle or Penelope Lively?")
    Comparison(options=('Arthur Conan Doyle', 'Penelope Lively'), earliest=True, died=False)
    >>> parse("who is younger Ulrich Walter or  Luca Parmitano?").options, parse("Who died first, A b or C d?").died
    (('Ulrich Walter', 'Luca Parmitano'), True)
    >>> parse("Who was the first Russian composer to be famous abroad, Alessandro Scarlatti or Tchaikovsky?") is None
    True
    >>> year_of("Sir Arthur Conan Doyle (22 May 1859 – 7 July 1930) was a British writer.", died=True)
    1930
    >>> parse_both("Are both Cooking Light and Vibe magazines?"), parse_both("Are A and B in the same city?")
    (Both(names=('Cooking Light', 'Vibe'), property='magazines'), None)
"""
from __future__ import annotations

import re
from typing import NamedTuple, Sequence

from . import text as T
from .spans import PERSON_NOUNS

_EARLY = r"first|earlier|earliest|older|oldest|before|sooner"
_LATE = r"last|later|latest|younger|youngest|more recently|more recent|newer|newest"
_COMPARATIVE = re.compile(rf"\b(?:(?P<early>{_EARLY})|(?P<late>{_LATE}))\b", re.IGNORECASE)
_LEAD_IN = re.compile(r"^(?:(?:in|on|at|of|among|during|between)\b[^,:]{0,40})?$", re.IGNORECASE)
_YEAR = re.compile(r"(?<![\w.,])(1\d{3}|20\d{2})(?![\w])")
_RANGE = re.compile(r"\([^()]*?(?:1\d{3}|20\d{2})[^()]*?[–—-][^()]*?\b(1\d{3}|20\d{2})\b[^()]*\)")
_DIED = re.compile(r"\b(?:died|dies|death)\b", re.IGNORECASE)


class Comparison(NamedTuple):
    options: tuple[str, str]
    earliest: bool      # the candidate with the earlier date is the answer
    died: bool          # compare when they died, not when they began


def parse(question: str) -> Comparison | None:
    """The two candidates of a date comparison and its direction, or None for any other question."""
    q = " ".join(question.split()).rstrip("?").strip()
    found = list(_COMPARATIVE.finditer(q))
    if len(found) != 1 or q.count(" or ") != 1:
        return None
    m = found[0]
    cut = max(q.rfind(","), q.rfind(":"))
    between, tail = (q[m.end():cut], q[cut + 1:]) if cut >= m.end() else ("", q[m.end():])
    if not _LEAD_IN.match(between.strip()):
        return None       # "first Russian composer to …": the comparative belongs to something else
    a, b = (p.strip(" ,:;\"'") for p in tail.split(" or "))
    if not a or not b or max(len(a.split()), len(b.split())) > 8:
        return None
    return Comparison((a, b), bool(m.group("early")), bool(_DIED.search(q)))


def year_of(sentence: str, died: bool = False) -> int | None:
    """The year a sentence gives for its subject: its first year, or for `died` the end of a life range."""
    if died:
        r = _RANGE.search(sentence)
        return int(r.group(1)) if r else None
    y = _YEAR.search(sentence)
    return int(y.group(1)) if y else None


_THE = re.compile(r"^the\s+")


def _about(option: str, title: str, sentence: str) -> int:
    """2: a sentence of the option's own document; 1: a sentence that opens with the option's name; 0: neither."""
    key = T.fold(option)
    own = T.fold(re.sub(r"\s*\([^)]*\)\s*$", "", title or ""))
    if own == key or _THE.sub("", own) == _THE.sub("", key):     # "The Polar Bear" of "Polar bear (cocktail)"
        return 2
    return int(T.fold(sentence).lstrip("\"'“ ").startswith(key))


def _each(names, sentences: Sequence, value) -> tuple[list, list] | None:
    """For each of `names`, its sentence that `value(name, sentence)` reads something from (a sentence of its own
    document first, then one opening with its name; the best scored among those) and what it read: ([sentences],
    [values]), or None when a name has no such sentence. None, "" or an empty set is nothing read."""
    chosen, values = [], []
    for name in names:
        found = [(about, -i, s, v) for i, s in enumerate(sentences)
                 if (about := _about(name, s.title, s.text)) and (v := value(name, s)) not in (None, "", set())]
        if not found:
            return None
        _, _, sentence, v = max(found, key=lambda f: f[:2])
        chosen.append(sentence)
        values.append(v)
    return chosen, values


def decide(comparison: Comparison, sentences: Sequence) -> tuple[int, list] | None:
    """(index of the winning option, [its sentence, the other's]) from `sentences` (best first, each with .text and
    .title), or None when the sentences do not date both candidates differently."""
    each = _each(comparison.options, sentences, lambda _, s: year_of(s.text, comparison.died))
    if each is None:
        return None
    chosen, years = each
    if years[0] == years[1]:
        return None
    win = years.index(min(years) if comparison.earliest else max(years))
    return win, [chosen[win], chosen[1 - win]]


class Both(NamedTuple):
    names: tuple[str, str]
    property: str


_BOTH = [re.compile(p, re.IGNORECASE) for p in (
    r"^(?:are|were|is|was|do|does|did)\s+both\s+(?P<a>.+?)\s+and\s+(?P<b>.+?)\s+(?P<p>.+?)$",
    r"^(?:are|were|is|was|do|does|did)\s+(?P<a>.+?)\s+and\s+(?P<b>.+?)\s+both\s+(?P<p>.+?)$")]


def parse_both(question: str) -> Both | None:
    """The two names and the property of an "Are A and B both P?" question, or None. In "Are both A and B P?" the
    second name is the name that opens what follows "and" (`_name_run`), so it may have several words.

    >>> parse_both("Are both Elko Regional Airport and Gerald R. Ford International Airport located in Michigan?")
    Both(names=('Elko Regional Airport', 'Gerald R. Ford International Airport'), property='located in Michigan')
    >>> parse_both("Were both the Battle of Stones River and the Battle of Guam fought in the 19th century?").names
    ('the Battle of Stones River', 'the Battle of Guam')
    """
    q = " ".join(question.split()).rstrip("?").strip()
    m = next((m for m in (p.match(q) for p in _BOTH) if m), None)
    if m is None or " and " in m.group("a") or " and " in m.group("b") or not T.stems(m.group("p")):
        return None
    a, b, prop = m.group("a").strip("\"' "), m.group("b").strip("\"' "), m.group("p")
    if m.re is _BOTH[0]:            # "both A and B P": B is lazily one word; take the whole name that opens B P
        rest = f"{m.group('b')} {prop}".split()
        lead = int(rest[0].lower() == "the")
        name = _name_run(rest[lead:])
        words = lead + len(name.split())
        if name and words < len(rest):
            b, prop = " ".join(rest[:words]).strip("\"' "), " ".join(rest[words:])
    return Both((a, b), prop) if T.stems(prop) else None


# Words that frame a property rather than state it: "both located in Istanbul" is said by "a bridge … in Istanbul",
# "both considered rock bands" by "an English rock band".
_FRAME = T.stems("located situated based considered regarded classified known type types kind kinds")


def decide_both(both: Both, sentences: Sequence) -> list | None:
    """A sentence about each name holding every content word of the property but its framing words (best first in
    `sentences`), or None when either is not found.

    >>> sorted(T.stems("located in Istanbul") - _FRAME)
    ['istanbul']
    """
    wanted = _stated(both)
    chosen = []
    for name in both.names:
        about = [s for s in sentences if _about(name, s.title, s.text) and wanted <= T.stems(s.text)]
        if not about:
            return None
        chosen.append(about[0])
    return chosen if chosen[0] is not chosen[1] else None


# How close (MiniLM cosine, each word embedded alone) a word of a name's opening sentences must come to every word of
# the property for "Yes": "musicians" ~ "singer" 0.67, "types of plant" ~ "cacti" 0.59, "teachers" ~ "professor"
# 0.66, "located in China" ~ "Shandong" 0.56. Chosen on the HotpotQA train half (`rag eval --split train`): of the
# "Are A and B both P?" questions the exact words leave open, 0.55 answers 5 "yes" questions right and 1 "no"
# question wrong ("both tabloid-style magazines": each is a magazine); 0.6 answers 3 right and the same 1 wrong.
SOFT_BOTH = 0.55


def decide_both_soft(both: Both, sentences: Sequence, vectors) -> list | None:
    """`decide_both` with words of like meaning: for each name, of the first two sentences of its own document (what
    it is), the one whose words come nearest every content word of the property, when each comes within SOFT_BOTH
    (`vectors(words)`: unit vectors of single words); None when either name's sentences do not."""
    wanted = _stated(both)
    asked = [w for w in T.content_words(both.property) if T.stem(w) in wanted]
    if not asked:
        return None
    asked_vectors = vectors(asked)
    chosen = []
    for name in both.names:
        own = sorted((s for s in sentences if _about(name, s.title, s.text) == 2), key=lambda s: s.start)[:2]
        scored = [(float((asked_vectors @ vectors(words).T).max(axis=1).min()), -i, s)
                  for i, s in enumerate(own) if (words := T.content_words(s.text))]
        if not scored or max(scored)[0] < SOFT_BOTH:
            return None
        chosen.append(max(scored)[2])
    return chosen if chosen[0] is not chosen[1] else None


def _stated(both: Both) -> set[str]:
    """The stems of what an "Are A and B both P?" question says of both: P's words but its framing ones."""
    return (T.stems(both.property) - _FRAME) or T.stems(both.property)


class Which(NamedTuple):
    options: tuple[str, str]
    property: str


_WHICH = re.compile(r"^(?:which|who|what)\b(?P<p>[^,:]+)[,:]\s*(?P<a>[^,:]+?)\s+or\s+(?P<b>[^,:]+)$", re.IGNORECASE)
_MEASURED = re.compile(r"\b(?:more|most|less|least|fewer|larger|largest|longer|longest|bigger|biggest|higher|"
                       r"highest|busier|further|farther|closer|greater|smaller|shorter|taller|often)\b", re.IGNORECASE)


_OF_THESE = re.compile(r"^\s*of\s+(?:the\s+following|these|those|the\s+two|them)\b\s*", re.IGNORECASE)


def parse_which(question: str) -> Which | None:
    """The options and the property of "Which band is from England, A or B?", or None (a date comparison, or one
    by amount — "more", "larger", "longer" — which a property's words cannot settle)."""
    q = " ".join(question.split()).rstrip("?").strip()
    m = _WHICH.match(q)
    if m is None or parse(q) is not None or _MEASURED.search(m.group("p")) or not T.stems(m.group("p")):
        return None
    a, b = (m.group(x).strip("\"' ") for x in "ab")
    asked = _OF_THESE.sub("", m.group("p"))    # "Which of the following stars Jeff Bridges: A or B?"
    return Which((a, b), asked) if a and b and T.stems(asked) and max(len(a.split()), len(b.split())) <= 10 else None


def decide_which(which: Which, sentences: Sequence) -> tuple[int, list] | None:
    """(index of the option, [the sentence about it that holds every content word of the property, the best sentence
    about the other]) when exactly one option's sentences hold them all; None otherwise."""
    wanted = T.stems(which.property)
    about = [[s for s in sentences if _about(o, s.title, s.text)] for o in which.options]
    holds = [[s for s in group if wanted <= T.stems(f"{s.title} {s.prev} {s.text}")] for group in about]
    if not all(about) or sum(bool(h) for h in holds) != 1:
        return None
    win = 0 if holds[0] else 1
    return win, [holds[win][0], about[1 - win][0]]


class Same(NamedTuple):
    names: tuple[str, str]
    what: str           # "nationality" (of people) or "year"


_SAME = re.compile(r"^(?:are|were|is|was|do|does|did)\s+(?:both\s+)?(?P<a>.+?)\s+and\s+(?P<b>.+?)\s+"
                   r"(?:(?:both\s+)?(?:of|from)\s+the\s+same\s+(?P<nat>nationality|country)"
                   r"|(?:both\s+)?(?:\w+\s+)?in\s+the\s+same\s+(?P<year>year))$", re.IGNORECASE)
# "is an American film director", "was a former Scottish footballer": the capitalised words of the first three after
# the article that opens what the sentence says its subject is
_IS_A = re.compile(r"\b(?:is|was|are|were)\s+(?:an?|the)\s+((?:\S+\s+){0,2}\S+)")


def parse_same(question: str) -> Same | None:
    """The two names of "Were A and B of the same nationality?" ("… from the same country?") or "Were A and B
    released in the same year?" ("born", "formed", "founded" …), or None.

    >>> parse_same("Were Thomas H. Ince and Joseph McGrath of the same nationality?")
    Same(names=('Thomas H. Ince', 'Joseph McGrath'), what='nationality')
    >>> parse_same("Were The Bomb and Rolling Papers released in the same year?")
    Same(names=('The Bomb', 'Rolling Papers'), what='year')
    >>> parse_same("Are the Laleli Mosque and Esma Sultan Mansion located in the same neighborhood?") is None
    True
    """
    q = " ".join(question.split()).rstrip("?").strip()
    m = _SAME.match(q)
    if m is None or " and " in m.group("a") or " and " in m.group("b"):
        return None
    a, b = (m.group(x).strip("\"' ") for x in "ab")
    if not a or not b or max(len(a.split()), len(b.split())) > 8:
        return None
    return Same((a, b), "nationality" if m.group("nat") else "year")


def nationality(sentence: str, name: str = "") -> set[str]:
    """The capitalised words a sentence describes its subject with ("is an Armenian American poet" -> {"Armenian",
    "American"}), leaving out the subject's own name.

    >>> sorted(nationality("Peter Balakian (born 1951) is an Armenian American poet and writer."))
    ['American', 'Armenian']
    >>> nationality("Joseph McGrath (born 1930) is a former Scottish film director."), nationality("It is a city.")
    ({'Scottish'}, set())
    """
    m = _IS_A.search(sentence)
    if m is None:
        return set()
    own = {w.lower() for w in name.split()}
    return {w.strip(",;:()") for w in m.group(1).split()
            if w[:1].isupper() and w.strip(",;:()").isalpha() and w.strip(",;:()").lower() not in own}


def decide_same(same: Same, sentences: Sequence) -> tuple[bool, list] | None:
    """(whether they are the same, [the sentence about each]) from each name's own sentence (its document's, else
    one opening with its name; best first in `sentences`), or None when either gives no nationality or year."""
    each = _each(same.names, sentences,
                 lambda name, s: nationality(s.text, name) if same.what == "nationality" else year_of(s.text))
    if each is None:
        return None
    chosen, values = each
    if chosen[0] is chosen[1]:
        return None
    alike = bool(values[0] & values[1]) if same.what == "nationality" else values[0] == values[1]
    return alike, chosen


class Shared(NamedTuple):
    names: tuple[str, str]
    property: str       # what is asked for ("occupation", "type of media"; "" when the question names nothing)


_SHARED = [re.compile(p, re.IGNORECASE) for p in (
    # "What occupation do A and B share?", "What type of media does A and B have in common?"
    r"^what\s+(?P<p>(?:\S+\s+){0,3}?)(?:do|does|did)\s+(?:both\s+)?(?P<a>.+?)\s+and\s+(?P<b>.+?)\s+(?:both\s+)?"
    r"(?:share|have\s+in\s+common)(?:\s+in\s+common)?$",
    # "What occupation is shared by both A and B?"
    r"^what\s+(?P<p>(?:\S+\s+){0,3}?)(?:is|was|are|were)\s+shared\s+by\s+(?:both\s+)?(?P<a>.+?)\s+and\s+(?P<b>.+?)$",
    # "A and B share which genre of film?", "A and B are both examples of what?", "… are both what kind of film?"
    r"^(?:both\s+)?(?P<a>.+?)\s+and\s+(?P<b>.+?)\s+(?:share|have\s+in\s+common|(?:are|were)\s+both"
    r"(?:\s+examples\s+of)?)\s+(?:which|what)\b\s*(?P<p>.*)$")]


def parse_shared(question: str) -> Shared | None:
    """The two names and what is asked of "What occupation do A and B share?" ("… have in common?", "What X is shared
    by both A and B?", "A and B share which X?", "A and B are both examples of what?"), or None.

    >>> parse_shared("What occupation is shared by both Marge Piercy and Richard Aldington?")
    Shared(names=('Marge Piercy', 'Richard Aldington'), property='occupation')
    >>> parse_shared("The Polar Bear and Daiquiri are both examples of what?")
    Shared(names=('The Polar Bear', 'Daiquiri'), property='')
    >>> parse_shared("What did they share?"), parse_shared("Are A and B both magazines?")
    (None, None)
    """
    q = " ".join(question.split()).rstrip("?").strip()
    m = next((m for m in (p.match(q) for p in _SHARED) if m), None)
    if m is None or " and " in m.group("a") or " and " in m.group("b"):
        return None
    a, b = _bare(m.group("a")), _name_run(m.group("b").split())
    if not a or not b or max(len(a.split()), len(b.split())) > 8:
        return None
    return Shared((a, b), m.group("p").strip())


# What a sentence says its subject is: the words after "is a", "was an", up to the end of the clause ("Chris Menges
# (born 1940) is an English cinematographer and film director." -> "English cinematographer and film director")
_IS_WHAT = re.compile(r"\b(?:is|was|are|were)\s+(?:(?:an?|the|one\s+of\s+the)\s+)?(?P<what>[^.;:()]{1,120}?)"
                      r"(?=[.;:(]|\s+(?:who|which|that|whose|where|based|known|best|from|by|for|with|in|on|of)\b|$)")
SHARED_ITEMS = 4        # words or runs of words given as what two things share, at most


def described(sentence: str) -> list[str]:
    """The words `sentence` describes its subject with (`_IS_WHAT`), in order, a comma kept on the word before it;
    [] when it says no "is a …".

    >>> described("Aram Avakian (April 23, 1926 – January 17, 1987) was an American film editor, and director.")
    ['American', 'film', 'editor,', 'and', 'director']
    """
    m = _IS_WHAT.search(sentence)
    return re.findall(r"[\w’'\-]+,?", m.group("what")) if m else []


def common(words: list[str], other: list[str], asked: set[str]) -> str:
    """The runs of `words` (in their order) whose stems `other` shares, but stopwords, numbers, the question's own
    words and capitalised words (a nationality, a name), joined by ", " (those that end a phrase, when any does);
    "" when they share none.

    >>> common("French film director, film critic and writer".split(), "Indian film director and writer".split(), set())
    'film director, writer'
    >>> common("a former British professional tennis player".split(), "a former tennis player".split(), set())
    'tennis player'
    """
    theirs = {T.stem(w.strip(",")) for w in other}
    keep = [w.lower() not in T.STOPWORDS and not w[:1].isupper() and not w[:1].isdigit()
            and T.stem(w) in theirs and T.stem(w) not in asked for w in (w.strip(",") for w in words)]
    runs, run, said = [], [], set()
    for w, k in zip([*words, ""], [*keep, False]):
        if k:
            run.append(w.strip(","))
        if run and (not k or w.endswith(",")):
            if not {T.stem(x) for x in run} <= said:       # "film" after "film director" adds nothing
                # a run that ends its phrase (at a comma, "and", "or", the end) names a thing; "former" of "a
                # former British tennis player" only qualifies one
                runs.append((" ".join(run), k or w in ("", "and", "or", "&")))
                said |= {T.stem(x) for x in run}
            run = []
    heads = [r for r, ends in runs if ends] or [r for r, _ in runs]
    return ", ".join(heads[:SHARED_ITEMS])


def decide_shared(shared: Shared, sentences: Sequence) -> tuple[str, list] | None:
    """(what both are, [the sentence of each that says it]) for "What occupation do A and B share?": the words the
    first sentences of each one's own document describe it with (`described`) that both share (`common`); None when
    either has no such sentence or they share nothing."""
    asked = T.stems(shared.property)
    own = []
    for name in shared.names:
        found = sorted((s for s in sentences if _about(name, s.title, s.text) == 2 and described(s.text)),
                       key=lambda s: s.start)[:2]
        if not found:
            return None
        own.append(found)
    for a in own[0]:
        for b in own[1]:
            both = common(described(a.text), described(b.text), asked)
            if both and a is not b:
                return both, [a, b]
    return None


# Words that may sit inside a name ("Truth in Science", "Letters to Cleo") but never open or close one.
_INNER = frozenset("of in to the and for on at de la le du von van a an &".split())
_AUXILIARIES = frozenset("are were is was do does did has have had can could will would".split())
_OPENERS = _AUXILIARIES | frozenset("both which who whom what whose when where how".split())
_QUOTED_PAIR = re.compile(r"[\"“]([^\"”]{1,80})[\"”]\s*,?\s+(?:and|or)\s+[\"“]([^\"”]{1,80})[\"”]")


def _name_run(words: list[str]) -> str:
    """The longest run of `words` from their start that reads as a name: capitalised words or numbers, with small
    words inside ("Truth in Science") but not at its end."""
    run: list[str] = []
    if words and words[0].strip("\"'“‘(").lower() in _INNER and not words[0][:1].isupper():
        return ""
    for i, w in enumerate(words):
        bare = w.strip("\"'“”‘’(),.:;!?")
        if bare[:1].isupper() or bare[:1].isdigit():
            run = words[:i + 1]
        elif bare.lower() not in _INNER:
            break
    return " ".join(run).strip(" \"'“”‘’,.:;!?")


def _bare(phrase: str) -> str:
    """The name that ends `phrase`: its longest final run of words that reads as a name ("the drinks Gibson" ->
    "Gibson", "the Manchester Terrier" -> "Manchester Terrier"); "" when none does."""
    words = phrase.split()
    return next((name for i in range(len(words)) if (name := _name_run(words[i:]))
                 and len(name.split()) == len(words[i:])), "")


def pair(question: str) -> tuple[str, str] | None:
    """The two named things a question asks about together, or None: the options of "…, A or B?" (any comparison,
    also "which has more …"), and the two names of "Are (both) A and B …?", "Both A and B …?" and "A and B are both
    …?". An answer should quote a sentence about each, so that both are cited.

    >>> pair("Which band, Letters to Cleo or Screaming Trees, had more members?")
    ('Letters to Cleo', 'Screaming Trees')
    >>> pair("Both Truth in Science and Discovery embrace what campaign?")
    ('Truth in Science', 'Discovery')
    >>> pair('"A Summer in the Cage" and "American Hardcore" are both what kind of film?')
    ('A Summer in the Cage', 'American Hardcore')
    >>> pair("Were the documentaries One Big Hapa Family and A Film Unfinished directed by the same person?")
    ('One Big Hapa Family', 'A Film Unfinished')
    >>> pair("Who attended the summit and the dinner?"), pair("Did they travel by train or by car?")
    (None, None)
    >>> pair("Which is older, the novel or the film?") is None
    True
    """
    q = " ".join(question.split()).rstrip("?").strip()
    quoted = _QUOTED_PAIR.search(q)
    if quoted:
        return quoted.group(1).strip(), quoted.group(2).strip()
    parsed = parse(q) or parse_which(q) or parse_same(q)
    a, b = (_bare(x) for x in getattr(parsed, "options", None) or parsed.names) if parsed else ("", "")
    if not a or not b:          # no parser, or an option that is no name as parsed ("Alison Moyet singers")
        first = q.split()[0].lower() if q else ""
        if q.count(" or ") == 1:
            left, right = q.split(" or ")
            left = re.split(r"[,:]", left)[-1]
        elif q.count(" and ") == 1 and (first in _AUXILIARIES or re.search(r"\bboth\b", q, re.IGNORECASE)):
            left, right = q.split(" and ")
        else:
            return None
        before = left.split()
        while before and before[0].lower() in _OPENERS:
            before = before[1:]
        a, b = _bare(" ".join(before)), _name_run(right.split())
    if not a or not b or max(len(a.split()), len(b.split())) > 8:
        return None             # "Which is older, the novel or the film?": no names to look for
    return a, b


def about_each(names: tuple[str, str], picked: Sequence, sentences: Sequence) -> list:
    """For each of two `names` no sentence of `picked` is about (of its own document, or opening with its name, or,
    failing those, of a document whose title begins with it: "Discovery Institute" for "Discovery"), the best sentence
    of `sentences` (best first) that is: so that an answer about two things quotes and cites both."""
    def about(name: str, s) -> float:     # also, below the others: a document whose title begins with the name
        return _about(name, s.title, s.text) or 0.5 * T.fold(s.title or "").startswith(T.fold(name) + " ")

    added: list = []
    for name in names:
        if any(_about(name, s.title, s.text) for s in [*picked, *added]):
            continue
        found = [(level, -i, s) for i, s in enumerate(sentences)
                 if s not in picked and s not in added and (level := about(name, s))]
        if found:
            added.append(max(found, key=lambda f: f[:2])[2])
    return added


class More(NamedTuple):
    options: tuple[str, str]
    noun: str           # what is counted: "species", "albums"
    most: bool          # the larger count answers ("more", "most"); else the smaller ("fewer", "less")


_MORE = re.compile(r"\b(?P<dir>more|most|fewer|fewest|less|least)\s+(?P<what>(?:[\w'’\-]+\s+){0,2}?[\w'’\-]+?)"
                   r"(?=\s*(?:[,:?]|$|\s+(?:than|in|of|for|on|at|by|to|do|does|did|has|have|had|is|are|was|were)\b))",
                   re.IGNORECASE)
_WORDS = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve thirteen "
                                     "fourteen fifteen sixteen seventeen eighteen nineteen twenty".split())}


def parse_more(question: str) -> More | None:
    """The options and the counted noun of "Which genus has more species, A or B?" ("Who has released more studio
    albums, A or B?", "… the fewest members …"), or None.

    >>> parse_more("Which genus has more species, Xanthoceras or Ehretia?")
    More(options=('Xanthoceras', 'Ehretia'), noun='species', most=True)
    >>> parse_more("Who has released more studio albums, Candlelight Red or Motion City Soundtrack?").noun
    'albums'
    >>> parse_more("Which tower is taller, A b or C d?") is None
    True
    """
    q = " ".join(question.split()).rstrip("?").strip()
    m = _MORE.search(q)
    names = pair(q)
    if m is None or names is None or q.count(" or ") != 1 or m.start() > q.find(" or "):
        return None
    noun = m.group("what").split()[-1].lower()
    if noun in T.STOPWORDS or not noun.isalpha():
        return None
    return More(names, noun, m.group("dir").lower() in ("more", "most"))


def count_of(noun: str, sentence: str) -> int | None:
    """The number a sentence gives before `noun` (up to three words between: "approximately 350 known species",
    "seven studio albums"), or None.

    >>> s = "Elatostema is a genus containing approximately 350 known species."
    >>> count_of("species", s), count_of("acts", "It is an opera in three acts."), count_of("acts", "Acts 2 and 3.")
    (350, 3, None)
    """
    stem = T.stem(noun)
    tokens = re.findall(r"\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?|[\w\-]+", sentence)
    for i, w in enumerate(tokens):
        if T.stem(w) != stem:
            continue
        for before in reversed(tokens[max(0, i - 4):i]):       # the nearest number before it
            low = before.lower()
            if low in _WORDS or re.fullmatch(r"\d{1,3}(?:,\d{3})+|\d+", before):
                return _WORDS[low] if low in _WORDS else int(before.replace(",", ""))
    return None


def decide_more(more: More, sentences: Sequence) -> tuple[int, list] | None:
    """(index of the option with the larger (or smaller) count, [its sentence, the other's]) when a sentence about
    each gives a count of the noun and the two differ; None otherwise."""
    each = _each(more.options, sentences, lambda _, s: count_of(more.noun, s.text))
    if each is None:
        return None
    chosen, counts = each
    if counts[0] == counts[1] or chosen[0] is chosen[1]:
        return None
    win = counts.index(max(counts) if more.most else min(counts))
    return win, [chosen[win], chosen[1 - win]]


class SameAs(NamedTuple):
    names: tuple[str, str]
    cues: frozenset         # stems that introduce the value in a sentence ("formed", "city"; "by" for "by the same …")
    by: bool
    person: bool            # the value is a person ("the same director"): a full name, not "Canadian"


_SAME_AS = re.compile(r"^(?:are|were|is|was|do|does|did)\b.*?\bthe\s+same\s+(?P<noun>[\w\-]+)$", re.IGNORECASE)
_MONTHS = frozenset("january february march april may june july august september october november december monday "
                    "tuesday wednesday thursday friday saturday sunday".split())


def parse_same_as(question: str) -> SameAs | None:
    """The two names of "Were A and B formed in the same city?" ("directed by the same person", "in the same
    family", …: any "the same <noun>" but nationality, country and year, which `parse_same` reads), with the words
    that introduce the value in a sentence, or None.

    >>> s = parse_same_as("Were Goo Goo Dolls and Echosmith formed in the same city?")
    >>> s.names, sorted(s.cues), s.by, s.person
    (('Goo Goo Dolls', 'Echosmith'), ['citi', 'form'], False, False)
    """
    q = " ".join(question.split()).rstrip("?").strip()
    m = _SAME_AS.match(q)
    names = pair(q)
    if m is None or names is None or parse_same(q) is not None:
        return None
    at = q.lower().rfind(names[1].lower())
    frame = q[at + len(names[1]):m.start("noun")] if at >= 0 else ""
    frame = re.sub(r"\b(?:both|the\s+same)\b", " ", frame, flags=re.IGNORECASE)
    by = bool(re.search(r"\bby\b", frame, re.I))
    return SameAs(names, frozenset(T.stems(f"{frame} {m.group('noun')}")), by,
                  by or m.group("noun").lower() in PERSON_NOUNS)


def value_of(same: SameAs, name: str, sentence: str) -> str | None:
    """The name a sentence gives right after what introduces the asked-for value ("formed in 1985 in Buffalo" ->
    "Buffalo"; "directed by Marlo Poras" -> "Marlo Poras"), leaving out months, weekdays and the subject's own name.

    >>> value_of(parse_same_as("Were A and B formed in the same city?"), "A", "A formed in May 2009 in Chino, Utah.")
    'Chino'
    """
    words = [(m.start(), m.end(), m.group()) for m in re.finditer(r"[\w\-]+", sentence)]
    own = {w.lower() for w in name.split()}
    for i, (_, end, word) in enumerate(words):
        if T.stem(word.lower()) in same.cues or same.by and word.lower() == "by" and i:
            for found in T.names(sentence[end:end + 80]):
                first = found.split()[0].lower()
                if first not in _MONTHS and not ({w.lower() for w in found.split()} & own) \
                        and (len(found.split()) > 1 or not same.person):
                    return found
            return None
    return None


def decide_same_as(same: SameAs, sentences: Sequence) -> tuple[bool, list] | None:
    """(whether the two values are the same, [the sentence of each]) from each name's own sentence (its document's,
    else one opening with its name; best first in `sentences`) that gives a value, or None when either gives none
    or the two overlap only in part ("Istanbul, Turkey" and "Ankara, Turkey" decide nothing)."""
    each = _each(same.names, sentences, lambda name, s: value_of(same, name, s.text))
    if each is None:
        return None
    chosen, values = each[0], [T.fold(v) for v in each[1]]
    if chosen[0] is chosen[1]:
        return None
    if values[0] == values[1] or values[0] in values[1] or values[1] in values[0]:
        return True, chosen
    return (False, chosen) if not set(values[0].split()) & set(values[1].split()) else None
