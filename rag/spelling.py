"""Misspelt question words read as the word the documents use: "When did ARPNET become operational?" is searched and
answered as "When did ARPANET become operational?" when a retrieved passage says ARPANET.

Search engines correct against their own index (Lucene's DirectSpellChecker): a word is only a candidate for
correction when the corpus never uses it, and it is corrected to a word of the corpus. Here the suggestions come
from the documents the question retrieved (dense retrieval reads word pieces and usually finds the right passage
despite a typo; keyword search and the answer's word overlap do not), and a word is left alone when it is an
English word or a form of one (it is in the packaged MiniLM's word-piece vocabulary, or its stem is: "walking",
"impacting"), so "mercy" is never read as "Percy". A typo is one slip (a letter left out, added, swapped with its
neighbour, or typed for its neighbour on the keyboard or for another vowel: `distance`) in a word of 5 to 8
letters, two in a longer one, and keeps the first letter; shorter words are left alone, and so are forms of one
word (`word_form`). Accents count for nothing ("Maiziere" is "Maizière"). The question shown with the answer
says what was searched ("Understood as: …").

    >>> respell("When did ARPNET become operational?", ["ARPANET became operational in 1969."], lambda ws: set())
    'When did ARPANET become operational?'
    >>> respell("Who is the tallest in the wolrd?", ["the tallest building in the world"], lambda ws: set())
    'Who is the tallest in the world?'
    >>> respell("Which famous Indian put himself at the mercy of the courts?", ["Percy Shelley"], lambda ws: set())
    'Which famous Indian put himself at the mercy of the courts?'
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable

from . import text as T

VOCAB = Path(__file__).resolve().parent / "models" / "answer_encoder" / "vocab.txt"   # BERT uncased word pieces
MIN_LENGTH = 5          # shorter words are too often a real word one letter from another ("Iran", "Iraq")
TWO_EDITS_FROM = 9      # words this long may be two edits from the right one ("prostution")
_WORD = re.compile(r"[^\W\d_]+")    # letters only: numbers, codes and underscores are never respelt


def _bare(word: str) -> str:
    """Lower case without accents: "Maiziere" and "Maizière" are one word."""
    return "".join(c for c in unicodedata.normalize("NFKD", word.lower()) if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def _english() -> tuple[frozenset[str], frozenset[str]]:
    """The whole words of the word-piece vocabulary and their stems."""
    words = [w for w in VOCAB.read_text(encoding="utf-8").split() if w.isalpha()]
    return frozenset(words), frozenset(T.stem(w) for w in words)


def is_english(word: str) -> bool:
    """Is lower-case `word` an English word or a form of one (by the MiniLM vocabulary)?"""
    words, stems = _english()
    return word in words or T.stem(word) in stems


_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_KEYS = {c: (r, i) for r, row in enumerate(_ROWS) for i, c in enumerate(row)}
_VOWELS = set("aeiouy")


def _slip(x: str, y: str) -> bool:
    """Is typing `y` for `x` a slip: neighbouring keys, or one vowel for another ("aquaduct")?"""
    if x in _VOWELS and y in _VOWELS:
        return True
    if x not in _KEYS or y not in _KEYS:
        return False
    (r1, c1), (r2, c2) = _KEYS[x], _KEYS[y]
    return abs(r1 - r2) <= 1 and abs(c1 - c2 + (r1 - r2) * 0.5) <= 1     # the rows are offset by half a key


def distance(a: str, b: str, limit: int) -> int:
    """Edits from `a` to `b` (insert, delete, swap two neighbours, or a slip of the finger: one letter typed for
    its neighbour on the keyboard or one vowel for another; any other letter for a letter counts two), or
    limit + 1 when more.

    >>> distance("wolrd", "world", 2), distance("arpnet", "arpanet", 2), distance("aquaduct", "aqueduct", 2)
    (1, 1, 1)
    >>> distance("mercy", "percy", 2), distance("parton", "payton", 1)     # p is far from m, y from r
    (2, 2)
    """
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2, prev = [], list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            swap = 0 if a[i - 1] == b[j - 1] else 1 if _slip(a[i - 1], b[j - 1]) else 2
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + swap)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], prev2[j - 2] + 1)
        if min(row) > limit:
            return limit + 1
        prev2, prev = prev, row
    return prev[-1]


def word_form(a: str, b: str) -> bool:
    """Are `a` and `b` forms of one word rather than a word and its typo? The same stem ("divisor", "divisors"), one
    inside the other and two or more letters longer ("desegregation", "segregation"; one letter more is a slip:
    "Cruze", "Cruz") or only the last letter differs ("septicemia", "septicemic"). Searching for the documents'
    form would gain nothing (stemming matches it) or change the meaning.

    >>> word_form("desegregation", "segregation"), word_form("septicemia", "septicemic"), word_form("cruze", "cruz")
    (True, True, False)
    """
    return T.stem(a) == T.stem(b) or (abs(len(a) - len(b)) >= 2 and (a in b or b in a)) \
        or (len(a) == len(b) and a[:-1] == b[:-1])


def _surface(word: str, forms: Counter) -> str:
    """How the passages write a word, in the case the question wrote the misspelling: "ARPANET" for "ARPNET",
    "Albanese" for "albanse" (a name keeps its capital), "world" for "wolrd"."""
    if word.isupper() and len(word) > 1:
        return forms.most_common(1)[0][0].upper()
    lower = [f for f in forms if f.islower()]
    best = lower[0] if lower else forms.most_common(1)[0][0]
    return best[0].upper() + best[1:] if word[0].isupper() else best


def _forms(texts: Iterable[str]) -> dict[str, Counter]:
    """Each word of `texts`, lower case without accents -> how often each way of writing it occurs."""
    written = Counter(w for text in texts for w in _WORD.findall(text))
    forms: dict[str, Counter] = {}
    for w, n in written.items():
        forms.setdefault(_bare(w), Counter())[w] += n
    return forms


def corrections(question: str, passages: Iterable[str], used: Callable[[set[str]], set[str]],
                documents: Callable[[], Iterable[str]] | None = None) -> dict[str, str]:
    """Misspelt word of `question` -> the word it stands for. A word is misspelt when it is no English word, no
    passage holds it and `used` (the store: which of these words any document uses) says no document does; it is
    read as the word within its edit limit that the passages, and the `documents` they come from (a function, called
    only for a misspelt word), use most (a tie: left alone), or as the passages write it when only accents differ
    ("Maiziere": "Maizière"). The passages answer first: on a large Milvus collection the store's answer costs a
    walk over every row.

    >>> corrections("Who is Thomas de Maiziere?", ["Thomas de Maizière is a minister."], lambda words: set())
    {'Maiziere': 'Maizière'}
    """
    unknown = {w: _bare(w) for w in _WORD.findall(question) if len(w) >= MIN_LENGTH and not is_english(_bare(w))}
    if not unknown:
        return {}
    forms = _forms(passages)
    out = {w: _surface(w, forms[b]) for w, b in unknown.items()
           if b in forms and w.lower() not in {f.lower() for f in forms[b]}}
    unknown = {w: b for w, b in unknown.items() if b not in forms}
    known = used({w.lower() for w in unknown}) if unknown else set()      # one question to the store
    unknown = {w: b for w, b in unknown.items() if w.lower() not in known}
    if not unknown:
        return out
    if documents is not None:
        forms = _forms(documents())
    by_first: dict[str, list[str]] = {}     # a typo keeps the first letter, as Lucene's spell checker assumes
    for c in forms:
        if len(c) >= MIN_LENGTH - 1:
            by_first.setdefault(c[0], []).append(c)
    for word, bare in unknown.items():
        limit = 2 if len(bare) >= TWO_EDITS_FROM else 1
        near = [(distance(bare, c, limit), -sum(forms[c].values()), c) for c in by_first.get(bare[0], ())
                if abs(len(c) - len(bare)) <= limit and not word_form(bare, c)]
        near = sorted(x for x in near if x[0] <= limit)
        if near and (len(near) == 1 or near[0][:2] != near[1][:2]):
            out[word] = _surface(word, forms[near[0][2]])
    return out


def respell(question: str, passages: Iterable[str], used: Callable[[set[str]], set[str]],
            documents: Callable[[], Iterable[str]] | None = None) -> str:
    """`question` with its misspelt words (`corrections`) written as the documents write them."""
    fixed = corrections(question, passages, used, documents)
    if not fixed:
        return question
    return _WORD.sub(lambda m: fixed.get(m.group(0), m.group(0)), question)
