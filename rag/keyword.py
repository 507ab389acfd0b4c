"""The keyword index: Lucene BM25 over English-stemmed, stopword-filtered tokens, stored as term counts per segment.

A FAISS index build is a list of immutable segments (`rag.segments`) and an update adds a small one, yet BM25 must
score them as ONE index — N, each word's document frequency and the average length taken over every live row of
every segment — or a word would weigh differently depending on which segment its passage landed in. bm25s cannot do
that: it has no incremental add, and the index it saves holds final scores with N, df and the average length baked
in. So a segment stores only what does not depend on the others — its term counts (`Terms`: a CSC matrix, rows =
the segment's chunks, columns = its own words) and each row's length — and `Keyword` takes the statistics at load,
over live rows, and scores with bm25s's "lucene" formula (Kamphuis et al., ECIR 2020), so rankings are bm25s's:

    score(q, d) = sum over words t of q:  ln(1 + (N - df + 0.5) / (df + 0.5)) * tf / (tf + k1 (1 - b + b |d| / avgdl))

with k1 = 1.5 and b = 0.75 (bm25s's defaults), a query word counted as often as it occurs. `tokenize` stays bm25s's
tokenizer with rag.text stopwords and the Snowball English stemmer; the Milvus backend feeds Milvus the same tokens.
Saved with numpy, no pickle.
"""
from __future__ import annotations

import math
import sys
from array import array
from collections import Counter
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Iterable, Sequence

import bm25s
import numpy as np

from .text import STOPWORDS, stem_words

DESCRIPTION = "BM25 (Lucene variant, k1 1.5, b 0.75) over bm25s tokens, rag.text stopwords, Snowball English stemmer"
K1, B = 1.5, 0.75


def tokenize(texts: list[str]) -> list[list[str]]:
    return bm25s.tokenize(texts, stopwords=list(STOPWORDS), stemmer=stem_words, return_ids=False,
                          show_progress=False)


@dataclass(frozen=True)
class Terms:
    """One segment's term counts: column j (word vocab[j]) lists its rows rows[indptr[j]:indptr[j+1]] with their
    counts; lengths[r] is row r's number of tokens."""
    vocab: list[str]
    indptr: np.ndarray     # int64, len(vocab) + 1
    rows: np.ndarray       # int32
    counts: np.ndarray     # int32
    lengths: np.ndarray    # int32, one per row

    @staticmethod
    def of(vocab: list[str], rows, cols, counts, lengths) -> "Terms":
        """From (row, column, count) triples in any order; words no row uses are dropped."""
        rows, cols = np.asarray(rows, dtype=np.int32), np.asarray(cols, dtype=np.int64)
        counts, lengths = np.asarray(counts, dtype=np.int32), np.asarray(lengths, dtype=np.int32)
        used = np.flatnonzero(np.bincount(cols, minlength=len(vocab)))
        renum = np.full(len(vocab), -1, dtype=np.int64)
        renum[used] = np.arange(len(used))
        cols = renum[cols]
        order = np.lexsort((rows, cols))
        indptr = np.zeros(len(used) + 1, dtype=np.int64)
        np.cumsum(np.bincount(cols, minlength=len(used)), out=indptr[1:])
        return Terms([vocab[i] for i in used], indptr, rows[order], counts[order], lengths)


def count(texts: Iterable[str], batch: int = 2048) -> Terms:
    """The term counts of `texts` (any iterable, tokenized a batch at a time)."""
    vocab: dict[str, int] = {}
    rows, cols, counts, lengths = array("i"), array("q"), array("i"), array("i")
    texts, n = iter(texts), 0
    while part := list(islice(texts, batch)):
        for toks in tokenize(part):
            lengths.append(len(toks))
            for word, c in Counter(toks).items():
                rows.append(n)
                cols.append(vocab.setdefault(sys.intern(word), len(vocab)))
                counts.append(c)
            n += 1
    return Terms.of(list(vocab), rows, cols, counts, lengths)


def merge(parts: Sequence[tuple[Terms, np.ndarray]]) -> Terms:
    """One Terms of the rows each part keeps (a boolean mask per part), in order."""
    vocab: dict[str, int] = {}
    rows, cols, counts, lengths, offset = [], [], [], [], 0
    for t, keep in parts:
        keep = np.asarray(keep, dtype=bool)
        new_row = np.where(keep, np.cumsum(keep) - 1 + offset, -1)
        col_map = np.array([vocab.setdefault(w, len(vocab)) for w in t.vocab], dtype=np.int64)
        r = new_row[t.rows]
        live = r >= 0
        rows.append(r[live])
        cols.append(np.repeat(col_map, np.diff(t.indptr))[live])
        counts.append(t.counts[live])
        lengths.append(t.lengths[keep])
        offset += int(keep.sum())
    cat = lambda xs, dt: np.concatenate(xs).astype(dt) if xs else np.zeros(0, dtype=dt)  # noqa: E731
    return Terms.of(list(vocab), cat(rows, np.int32), cat(cols, np.int64), cat(counts, np.int32),
                    cat(lengths, np.int32))


def save(terms: Terms, path: Path) -> None:
    words = np.frombuffer("\n".join(terms.vocab).encode("utf-8"), dtype=np.uint8)   # tokens never hold "\n"
    with open(path, "wb") as f:
        np.savez(f, vocab=words, indptr=terms.indptr, rows=terms.rows, counts=terms.counts, lengths=terms.lengths)


def load(path: Path) -> Terms:
    with np.load(path, allow_pickle=False) as z:
        text = z["vocab"].tobytes().decode("utf-8")
        return Terms(text.split("\n") if text else [], z["indptr"], z["rows"], z["counts"], z["lengths"])


class Keyword:
    """BM25 over several segments' Terms as one index. `parts` pairs each Terms with `positions`: row -> the row's
    place in the store (-1: a deleted row, left out of every statistic)."""

    def __init__(self, parts: Sequence[tuple[Terms, np.ndarray]], n_positions: int):
        self.parts, self.size = [], n_positions
        total_len, self.n = 0, 0
        for t, pos in parts:
            live = pos[t.rows] >= 0
            seen = np.concatenate([[0], np.cumsum(live)])
            df = seen[t.indptr[1:]] - seen[t.indptr[:-1]]          # live rows per word
            self.parts.append((t, pos, {w: j for j, w in enumerate(t.vocab)}, df))
            alive = pos >= 0
            self.n += int(alive.sum())
            total_len += int(t.lengths[alive].sum())
        self.avgdl = total_len / self.n if self.n else 0.0

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(position, score) of the best `k` positions with a positive score; only those in `allowed` if given."""
        words = Counter(tokenize([query])[0])
        if not words or not self.n or not self.avgdl or (allowed is not None and not len(allowed)):
            return []
        where, weights = [], []
        for word, times in words.items():
            cols = [(p, p[2][word]) for p in self.parts if word in p[2]]
            df = sum(int(p[3][j]) for p, j in cols)
            if not df:
                continue
            idf = times * math.log(1 + (self.n - df + 0.5) / (df + 0.5))
            for (t, pos, _, _), j in cols:
                s, e = t.indptr[j], t.indptr[j + 1]
                at, tf = pos[t.rows[s:e]], t.counts[s:e].astype(np.float64)
                norm = K1 * (1 - B + B * t.lengths[t.rows[s:e]] / self.avgdl)
                live = at >= 0
                where.append(at[live])
                weights.append((idf * tf / (tf + norm))[live])
        if not where:
            return []
        scores = np.bincount(np.concatenate(where), weights=np.concatenate(weights), minlength=self.size)
        if allowed is not None:
            mask = np.zeros(self.size, dtype=bool)
            mask[np.asarray(allowed)] = True
            scores[~mask] = 0.0
        hits = np.flatnonzero(scores > 0)
        top = hits[np.argsort(-scores[hits], kind="stable")[:k]]
        return [(int(r), float(scores[r])) for r in top]
