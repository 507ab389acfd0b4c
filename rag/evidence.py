"""Evidence for an answer: the retrieved passages cut into whole sentences of their documents, described by general
features, and scored by the fitted answer model (`rag.scorer`, fitted by `eval/fit.py` on public training halves).

A sentence keeps its character span in its document, so a quote picked here is always `doc.text[start:end]`.
The evidence gets data (the question, the hits, the documents' texts and an embedder), never a retriever.
"""
from __future__ import annotations

import copy
import math
import re
from functools import cached_property
from typing import Mapping, NamedTuple, Sequence

import numpy as np

from . import spans, text as T
from .embed import answer_encoder
from .types import Citation, Hit


class Sent(NamedTuple):
    n: int              # 1-based source number: hits[n-1]
    start: int          # span in the document's text
    end: int
    text: str           # == document text[start:end]
    prev: str           # the sentence before it: who "he" is, which country "it" is
    first: bool         # the first sentence of its passage
    title: str
    passage: str        # its chunk's text
    date: str | None    # its document's date
    section: str = ""   # the heading it stands under ("New features"), when its document has inner headings


# Features of a (question, sentence) pair, in the order the fitted model reads them; every one is general text or
# retrieval evidence, none names a word of any question set. "cos" is the answer encoder's question–sentence
# cosine, "cos_base" the retrieval model's: beside "cos" it says what the fine-tuning adds over topic alone. It
# ranks sentences; the decision to decline does not read it (eval/fit.py, RANKING_ONLY).
# How sentences, questions and LLM claims are read by both models; eval/fit.py keys its feature cache and the model
# file on it, so a change here means `make fit`.
READING = "each sentence alone (Embedder.encode_each)"
FEATURES = ("cos", "cos_rel", "cos_passage", "cos_base", "lex", "lex_rel", "lex_ctx", "lex_passage", "bigram", "names",
            "names_passage", "type_asked", "type_match", "type_missing", "novel", "rank", "first", "length", "qlen")


# which candidate spans (rag.spans) answer which kind of question
_FITS = {"person": {"name"}, "place": {"name"}, "name": {"name"}, "date": {"date"}, "number": {"number"}}


def _read(s: Sent) -> str:
    """A sentence as the answer encoder reads it: with the heading it stands under, if any ("How do I cancel? Give
    one month's notice …", "Equipment: A laptop with encrypted storage."), since a list item or an FAQ answer does
    not say what it is about."""
    if not s.section:
        return s.text
    return f"{s.section} {s.text}" if s.section.endswith("?") else f"{s.section}: {s.text}"


class Evidence:
    """The sentences of the retrieved passages, embedded once, for picking answers and checking claims."""

    def __init__(self, question: str, hits: Sequence[Hit], docs: Mapping, embedder,
                 question_vector: np.ndarray | None = None, passage_vectors: np.ndarray | None = None, encoder=None):
        """`embedder` is the retrieval model: `question_vector` and `passage_vectors` (row i for hits[i], as the index
        stores them) are its vectors, given when the retriever already has them. `encoder` reads the question
        against each sentence: the answer encoder (`rag.embed.answer_encoder`, fine-tuned to tell the sentence that
        answers from one that is only on topic) unless another is given."""
        self.question, self.hits, self.docs, self.embedder = question, tuple(hits), docs, embedder
        self.encoder = encoder if encoder is not None else answer_encoder()
        self.sents = self._sentences()
        self._given = (question_vector, passage_vectors)

    def _sentences(self) -> list[Sent]:
        seen, out = set(), []
        for n, h in enumerate(self.hits, 1):
            c = h.chunk
            doc = self.docs.get(c.doc_id)
            # whole sentences of the document (a sentence cut by a chunk edge belongs to the chunk holding most of it)
            text, base = (doc.text, 0) if doc is not None and doc.text[c.start:c.end] == c.text else (c.text, c.start)
            lo, hi = (max(0, c.start - 400), min(len(text), c.end + 400)) if base == 0 else (0, len(text))
            prev, first = "", True
            # the document's title line is a heading, not a claim: the citation shows it already
            title = " ".join((h.title or "").lower().split()).rstrip(".:")
            for a, b in T.sentence_spans(text[lo:hi]):
                a, b = a + lo, b + lo
                mid = base + (a + b) // 2
                key = " ".join(text[a:b].lower().split())
                # a question in the text (an FAQ's) answers nothing: it is the heading of the answer below it
                words = len(key.split())        # a short sentence ("Serves four.") ends with its stop; a heading not
                sentence = words >= 3 or words == 2 and key.endswith((".", "!"))
                if c.start <= mid < c.end and key not in seen and sentence and key.rstrip(".:") != title \
                        and not T.is_question(key):
                    seen.add(key)
                    section = T.heading_above(text, a)
                    section = "" if " ".join(section.lower().split()).rstrip(".:") == title else section
                    out.append(Sent(n, base + a, base + b, text[a:b], prev, first, h.title, c.text, h.date, section))
                    first = False
                prev = text[a:b]
        return out

    def asking(self, question: str) -> Evidence:
        """The same sentences read against another question (a part of this one, `rag.parts`): only the question
        is embedded again; the sentences' vectors are shared. Asked twice, the same reading is returned."""
        views = self.__dict__.setdefault("_views", {})
        if question not in views:
            other = copy.copy(self)
            other.__dict__ = {k: v for k, v in self.__dict__.items()
                              if k in ("hits", "docs", "embedder", "encoder", "sents", "sentence_vectors")}
            other.question, other._given = question, (None, self._given[1])
            other.__dict__["vecs"] = np.vstack([self.encoder.encode_each([question]), self.vecs[1:]])
            views[question] = other
        return views[question]

    @cached_property
    def vecs(self) -> np.ndarray:
        """Row 0: the question, then one row per sentence, both by the answer encoder."""
        return self.encoder.encode_each([self.question] + [_read(s) for s in self.sents])

    @cached_property
    def question_vector(self) -> np.ndarray:
        """The retrieval model's vector of the question (the retriever's own when given)."""
        qv = self._given[0]
        return np.asarray(qv) if qv is not None else self.embedder.encode([self.question])[0]

    @cached_property
    def sentence_vectors(self) -> np.ndarray:
        """The retrieval model's vector of each sentence: for "cos_base" and for checking LLM claims."""
        return self.embedder.encode_each([s.text for s in self.sents])

    @cached_property
    def passage_cos(self) -> np.ndarray:
        """The retrieval model's cosine of the question with each hit's passage (its own vectors when given)."""
        pv = self._given[1]
        if pv is None:
            pv = self.embedder.encode([f"{h.title}\n{h.chunk.text}" for h in self.hits])
        return (np.asarray(pv) @ self.question_vector).astype(np.float32) if len(self.hits) else np.zeros(0, np.float32)

    @cached_property
    def base_cos(self) -> np.ndarray:
        """The retrieval model's cosine of the question with each sentence: a second reading beside the answer
        encoder's, from the model before it was fine-tuned on a few thousand Wikipedia questions."""
        return (self.sentence_vectors @ self.question_vector).astype(np.float32) if self.sents \
            else np.zeros(0, np.float32)

    def features(self) -> np.ndarray:
        """One row of FEATURES per sentence, worked out once (a question in two parts reads its parts' rows when it
        is decided and again when it is answered)."""
        return self._rows

    @cached_property
    def _rows(self) -> np.ndarray:
        sents, q = self.sents, self.question
        if not sents:
            return np.zeros((0, len(FEATURES)), dtype=np.float32)
        v = self.vecs
        cos = v[1:] @ v[0]
        cos_p = self.passage_cos
        cos_b = self.base_cos
        q_stems = [T.stem(w) for w in T.content_words(q.replace("-", " "))]
        s_words = [[T.stem(w) for w in T.content_words(s.text.replace("-", " "))] for s in sents]
        s_stems = [set(words) for words in s_words]          # == T.stems(s.text)
        # the passage of each hit, once (several sentences share it)
        passages = {s.n: (T.stems(f"{s.title} {s.passage}"), T.fold(f"{s.title} {s.passage}")) for s in sents}
        df = {t: sum(T.overlaps(t, st) for st in s_stems) for t in set(q_stems)}
        weight = {t: math.log(1 + len(sents) / (1 + df[t])) for t in set(q_stems)}
        total = sum(weight.values()) or 1.0
        bigrams = {tuple(q_stems[i:i + 2]) for i in range(len(q_stems) - 1)}
        q_names = [T.fold(x) for x in T.names(q)]
        kind = spans.answer_type(q)
        q_folded = T.fold(q)
        rows = []
        for i, s in enumerate(sents):
            own = s_stems[i] | T.stems(s.section)       # a list item says what it is under its heading
            ctx = own | T.stems(s.prev)
            passage, folded_p = passages[s.n]
            lex = sum(w for t, w in weight.items() if T.overlaps(t, own)) / total
            words = s_words[i]
            s_bigrams = {tuple(words[j:j + 2]) for j in range(len(words) - 1)}
            folded = T.fold(f"{s.prev} {s.text}")
            cands = [c for c in spans.candidates(s.text) if T.fold(c.text) not in q_folded]
            match = any(c.kind in _FITS.get(kind, ()) for c in cands)
            rows.append([
                cos[i], 0.0, cos_p[s.n - 1], cos_b[i], lex, 0.0,
                sum(w for t, w in weight.items() if T.overlaps(t, ctx)) / total,
                sum(w for t, w in weight.items() if T.overlaps(t, passage)) / total,
                len(bigrams & s_bigrams) / len(bigrams) if bigrams else 0.0,
                sum(n in folded for n in q_names) / len(q_names) if q_names else 1.0,
                sum(n in folded_p for n in q_names) / len(q_names) if q_names else 1.0,
                float(kind not in ("", "phrase")), float(match), float(kind not in ("", "phrase") and not match),
                min(len(cands), 5) / 5, 1.0 / s.n, float(s.first), math.log1p(len(s.text.split())),
                math.log1p(len(q_stems))])
        x = np.asarray(rows, dtype=np.float32)
        for col in ("cos", "lex"):   # how far below the best candidate: the best of a weak set still loses
            j = FEATURES.index(col)
            x[:, FEATURES.index(col + "_rel")] = x[:, j] - x[:, j].max()
        return x

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

    def support(self, claims: list[str]) -> list[list[tuple[float, Sent | None]]]:
        """For each claim and each source n: (best support score, the sentence of source n that gives it)."""
        from . import scorer

        # the retrieval model's cosine, as the support model was fitted with (eval/fit.py, support_pairs)
        cv = self.embedder.encode_each(claims)
        sims = cv @ self.sentence_vectors.T if self.sents else np.zeros((len(claims), 0))
        rows = []
        for i, claim in enumerate(claims):
            row = [(0.0, None)] * len(self.hits)
            for j, s in enumerate(self.sents):
                score = scorer.support(claim, s.text, f"{s.title} {s.passage}", float(sims[i, j]))
                if score > row[s.n - 1][0]:
                    row[s.n - 1] = (score, s)
            rows.append(row)
        return rows


def missing_names(question: str, mentioned: set[str] | frozenset[str], contained: set[str] | frozenset[str]) -> list[str]:
    """What the question names that no document mentions (`types.Found` says which of the question's named terms the
    corpus has): numbers and acronyms no document contains, and full names none of whose words (of 2+ letters) any
    document uses ("Mark Rutte" in a corpus that never says Rutte)."""
    terms, full_names = T.named_terms(question)
    return [t for t in terms if t not in contained] + [n for n in full_names if not T.name_words(n) & mentioned]
