"""Evidence for an answer: the retrieved passages cut into whole sentences of their documents, scored as answers to
the question (the extractive answerer) and as support for an LLM's claims (the citation check).

A sentence keeps its character span in its document, so a quote picked here is always `doc.text[start:end]`.
"""
from __future__ import annotations

import math
import re
from typing import NamedTuple, Sequence

import numpy as np

from . import followup
from .types import Citation, Hit

# A best sentence scoring below this does not answer. Calibrated on eval/questions.jsonl against the seeds, like
# rag.answer.REFUSAL_THRESHOLD: on-topic unanswerable questions are refused here or by the checks in best_sentences.
MIN_SENTENCE_SCORE = 0.20
# sentence score = weighted sum of: cosine with the question, idf-weighted share of its words in the sentence, the
# same in the sentence's passage, "holds what was asked for" (a titled name for who, a number for how many), 1/rank
WEIGHTS = (0.40, 0.30, 0.10, 0.35, 0.05)     # tuned on eval/questions.jsonl: the answer is quoted for 50 of 54
EXTRA_SENTENCE_RATIO = 0.90     # add a 2nd/3rd sentence only when it scores this close to the best one

# ---- sentences and evidence --------------------------------------------------------------------------------
_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s|$)")
_ABBREV = {"mr", "mrs", "ms", "dr", "jr", "sr", "st", "gen", "sen", "rep", "gov", "lt", "col", "no", "vs", "etc",
           "inc", "ltd", "co", "corp", "jan", "feb", "aug", "sep", "sept", "oct", "nov", "dec", "e.g", "i.e"}
_NUMBER = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|hundred|"
                     r"thousand|million|billion|dozen|once|twice|thrice|half|several)\b", re.I)
_DATE = re.compile(r"\b(?:1[89]\d\d|20\d\d|january|february|march|april|may|june|july|august|september|october|"
                   r"november|december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|"
                   r"tomorrow|tonight|morning|afternoon|evening|week|month|year|later|earlier|ago|since)\b", re.I)
_CAP = re.compile(r"\b[A-Z][\w\-]+")
_PERSON = re.compile(r"\b(?:President|Minister|Premier|Senator|Secretary|Chancellor|Ambassador|Governor|King|Queen|"
                     r"Mr|Mrs|Ms|Dr|chief|head|leader|General)\.?\s+(?:[A-Z][\w\-]+\s+)*?([A-Z][\w\-]+)")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, whitespace trimmed; "Joseph R. Biden, Jr." and "U.S." do not end one.

    >>> t = "U.S. President Joseph R. Biden met Yoon. Then he left.\\n\\nNew paragraph"
    >>> [t[a:b] for a, b in sentence_spans(t)]
    ['U.S. President Joseph R. Biden met Yoon.', 'Then he left.', 'New paragraph']
    """
    spans, cuts = [], [m.end() for m in _END.finditer(text) if not _abbrev(text, m.start(), m.end())]
    pos = 0
    bounds = sorted({*cuts, *(m.start() for m in re.finditer(r"\n[ \t]*\n", text)), len(text)})
    for cut in bounds:
        seg = text[pos:cut]
        a, b = pos + len(seg) - len(seg.lstrip()), pos + len(seg.rstrip())
        if b > a:
            spans.append((a, b))
        pos = cut
    return spans


def _abbrev(text: str, dot: int, end: int) -> bool:
    """Is the full stop at `dot` part of an abbreviation or initial rather than a sentence end?"""
    if text[dot] != "." or end - dot > 1 and text[dot + 1] in ".":
        return False
    word = re.search(r"([\w.]+)$", text[max(0, dot - 12):dot])
    w = word.group(1) if word else ""
    nxt = re.match(r"\s*(\S)", text[end:end + 8])
    return (w.lower() in _ABBREV or bool(re.fullmatch(r"[A-Z]|(?:[A-Za-z]\.)+[A-Za-z]", w))
            or bool(nxt and nxt.group(1).islower()))


def _stem(word: str) -> str:
    """Crude but consistent: Japanese~Japan, meeting~meet, defence~defense, pledged~pledge."""
    w = re.sub(r"['’]s$", "", word.lower())
    if len(w) > 4:
        w = re.sub(r"(?:ing|ed)$", "", w)
    if len(w) > 3:
        w = re.sub(r"(?<!s)s$", "", w)
    return w[:5]


def _stems(text: str) -> set[str]:
    return {_stem(w) for w in followup.content_words(text.replace("-", " "))}


def _fold(text: str) -> str:
    """Lower case, hyphens and curly apostrophes folded, single spaces: for "does the text name X" checks."""
    return " ".join(text.lower().replace("-", " ").replace("’", "'").split())


class Sent(NamedTuple):
    n: int              # 1-based source number: hits[n-1]
    start: int          # span in the document's text
    end: int
    text: str           # == document text[start:end]
    context: str        # the sentence before it and itself: who "he" is, which country "it" is
    passage: str        # its chunk, under its document's title


class Evidence:
    """The retrieved passages cut into whole sentences of their documents, embedded once, for picking and checking."""

    def __init__(self, retriever, question: str, hits: Sequence[Hit]):
        self.embedder = retriever.embedder
        self.index = getattr(retriever, "index", None)
        self.docs = getattr(self.index, "docs", None) or {}
        self.question, self.hits = question, tuple(hits)
        self._sents: list[Sent] | None = None
        self._vecs = None

    @property
    def sents(self) -> list[Sent]:
        if self._sents is None:
            seen, out = set(), []
            for n, h in enumerate(self.hits, 1):
                c = h.chunk
                doc = self.docs.get(c.doc_id)
                text, base = (doc.text, 0) if doc is not None and doc.text[c.start:c.end] == c.text else (c.text, c.start)
                prev = ""
                for a, b in sentence_spans(text):
                    mid = base + (a + b) // 2   # sentences cut by a chunk edge belong to the chunk holding most of them
                    key = " ".join(text[a:b].lower().split())
                    if c.start <= mid < c.end and key not in seen and len(key.split()) >= 4:
                        seen.add(key)
                        out.append(Sent(n, base + a, base + b, text[a:b], prev + " " + text[a:b], f"{h.title}\n{c.text}"))
                    prev = text[a:b]
            self._sents = out
        return self._sents

    @property
    def vecs(self) -> np.ndarray:
        if self._vecs is None:
            self._vecs = self.embedder.encode([self.question] + [s.text for s in self.sents])
        return self._vecs

    def citations(self, s: Sent) -> list[Citation]:
        """The quote's citation, plus one per near-duplicate passage (another outlet) that has the same sentence."""
        h = self.hits[s.n - 1]
        out = [Citation(s.n, h.chunk.doc_id, h.title, h.date, h.chunk.id, s.start, s.end, s.text, h.source)]
        pattern = r"\s+".join(map(re.escape, s.text.split()))
        for dup in h.duplicates:
            doc = self.docs.get(dup.doc_id)
            m = re.search(pattern, doc.text[dup.start:dup.end]) if doc else None
            if m:
                a = dup.start + m.start()
                out.append(Citation(s.n, dup.doc_id, doc.title, doc.date, dup.id, a, dup.start + m.end(), m.group(),
                                    doc.source))
        return out

    def best_sentences(self) -> tuple[list[Sent], str]:
        """Up to 3 sentences answering the question, best first, or ([], why the documents do not say)."""
        plain, _, words = self._corpus()
        missing = [t for t in re.findall(r"\b(?:\d[\d,.]*|[A-Z]{2,})\b", self.question) if t not in plain]
        # a full name ("Ted Cruz") none of whose words the documents use: they are not about that person or thing
        missing += [n for n in followup._names(self.question) if len(n.split()) >= 2
                    and not {w for w in re.findall(r"\w+", _fold(n)) if len(w) > 2} & words]
        if missing:
            return [], f"the documents never mention {', '.join(missing)}"
        scored = self.scored()
        if not scored or scored[0][0] < MIN_SENTENCE_SCORE:
            kind = _answer_kind(self.question)
            return [], "no passage answers the question" + (f" with a {kind}" if kind in ("number", "date") else "")
        picked = [scored[0][1]]
        for score, s in scored[1:]:
            if len(picked) == 3 or score < EXTRA_SENTENCE_RATIO * scored[0][0]:
                break
            picked.append(s)
        return picked, ""

    def _corpus(self) -> tuple[str, str, set[str]]:
        """Every document's text, plain and folded, and its folded words: computed once per index (it is the whole
        corpus), not per question."""
        cached = getattr(self.index, "_evidence_corpus", None)
        if cached is None:
            plain = "\n".join([d.text for d in self.docs.values()] or [h.chunk.text for h in self.hits])
            folded = _fold(plain)
            cached = (plain, folded, set(re.findall(r"\w+", folded)))
            if self.index is not None:
                self.index._evidence_corpus = cached
        return cached

    def scored(self) -> list[tuple[float, Sent]]:
        """Sentences that could answer, with their score, best first (see the weights below)."""
        q = self.question
        qs = [_stem(w) for w in followup.content_words(q.replace("-", " "))]
        folded = self._corpus()[1]
        # names the documents use (not paraphrases like "Kiwi" or "Canberra"): the answer must be about them
        known = [_stems(n) for n in followup._names(q)
                 if _fold(n) in folded and re.search(rf"\b{re.escape(_fold(n))}", folded)]   # `in` first: fast
        # rare words pick the sentence (idf over the candidates): "chaired" beats "NATO", which every passage has
        df = {t: sum(t in _stems(s.text) for s in self.sents) for t in qs}
        weights = {t: math.log(1 + len(self.sents) / (1 + df[t])) for t in qs}
        total = sum(weights.values()) or 1.0
        kind = _answer_kind(q)
        cos = self.vecs[1:] @ self.vecs[0] if self.sents else []
        scored = []
        for s, c in zip(self.sents, cos):
            st, ct, pt = _stems(s.text), _stems(s.context), _stems(s.passage)
            # about the country/person asked about: named in the sentence or the one before (or at least its passage)
            if known and sum(1.0 if k & ct else 0.5 if k & pt else 0.0 for k in known) < len(known) / 2:
                continue
            fits = _fits(kind, s.text, set(qs), q)
            if kind in ("number", "date") and not fits:
                continue    # "how many …?" needs a sentence that gives a number
            lex = sum(w for t, w in weights.items() if t in st) / total
            ctx = sum(w for t, w in weights.items() if t in pt) / total
            w_cos, w_lex, w_ctx, w_fit, w_rank = WEIGHTS
            scored.append((w_cos * float(c) + w_lex * lex + w_ctx * ctx + w_fit * fits + w_rank / s.n, s))
        return sorted(scored, key=lambda x: -x[0])

    def support(self, claims: list[str]) -> list[list[tuple[float, Sent | None]]]:
        """For each claim and each source n: (best support score, the sentence of source n that gives it)."""
        cv = self.embedder.encode(claims)
        sims = cv @ self.vecs[1:].T if self.sents else np.zeros((len(claims), 0))
        rows = []
        for i, claim in enumerate(claims):
            terms, nums = _stems(claim), set(re.findall(r"\d[\d,.]*\d|\d", claim))
            row = [(0.0, None)] * len(self.hits)
            for j, s in enumerate(self.sents):
                lex = len(terms & _stems(s.text)) / (len(terms) or 1)
                score = 0.5 * float(sims[i, j]) + 0.5 * lex
                if nums - set(re.findall(r"\d[\d,.]*\d|\d", s.passage)):
                    score *= 0.5    # a figure the source never gives
                if score > row[s.n - 1][0]:
                    row[s.n - 1] = (score, s)
            rows.append(row)
        return rows


def _answer_kind(q: str) -> str:
    ql = q.lower()
    if re.search(r"\bhow (?:much|many|long|old|far)\b|\bwhat (?:share|percentage|amount|number)\b", ql):
        return "number"
    if re.match(r"\s*when\b", ql) or re.search(r"\bwhat (?:year|date|day|time|month)\b|\bwhich day\b", ql):
        return "date"
    if re.match(r"\s*(?:who|whom|whose)\b", ql) or re.search(r"\b(?:which|what) \w*\s?(?:leader|person|senator|"
                                                               r"minister|president|official|head|boss)\b", ql):
        return "person"
    if re.match(r"\s*where\b", ql) or re.search(r"\b(?:which|what) \w*\s?(?:country|countries|city|cities|nations?|"
                                               r"states?|governments?|organi[sz]ations?|compan(?:y|ies)|place)\b", ql):
        return "name"
    return ""


def _fits(kind: str, sentence: str, q_stems: set[str], q_text: str = "") -> float:
    """1.0 when the sentence holds something of the kind the question asks for that the question itself lacks."""
    if kind == "number":
        if not any(_stem(m.group()) not in q_stems for m in _NUMBER.finditer(sentence)):
            return 0.0
        # the number must count what was asked about: "how many air defence systems" is not "four nations"
        m = re.search(r"\bhow (many|much)\s+((?:[\w\-]+\s+){0,3}?)(?:did|does|do|is|are|was|were|has|have|had|will|"
                      r"would|can|could)\b", q_text, re.IGNORECASE)
        focus = _stems(m.group(2)) if m else set()
        if not focus or len(focus & _stems(sentence)) >= len(focus) / 2 or (m.group(1).lower() == "much" and re.search(r"[$€£¥]", sentence)):
            return 1.0
        return float(focus == {"time"} and bool(re.search(r"\b(?:once|twice|thrice|times)\b", sentence)))
    if kind == "date":
        return float(any(_stem(m.group()) not in q_stems for m in _DATE.finditer(sentence)))
    new = [w for w in _CAP.findall(sentence) if w.lower() not in followup.STOP and _stem(w) not in q_stems]
    if kind == "person":
        titled = [m for m in _PERSON.finditer(sentence) if _stem(m.group(1)) not in q_stems]
        # "Australia’s Deputy Prime Minister Richard Marles" answers "who represented Australia": a titled name
        # right after a name from the question beats any titled name, which beats any capitalised word
        if any(_stems(sentence[max(0, m.start() - 30):m.start()]) & q_stems for m in titled):
            return 1.0
        return 0.7 if titled else 0.3 if new else 0.0
    if kind == "name":
        return 1.0 if new else 0.0
    return 0.0
