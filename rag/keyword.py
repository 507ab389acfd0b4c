"""The keyword index: BM25 (bm25s) over English-stemmed, stopword-filtered tokens, saved without pickle.

bm25s has no incremental add, but re-indexing every passage's tokens takes about a second for 5k passages,
so each build rebuilds it beside the vectors and it is swapped in with them.
"""
from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np

from .text import STOPWORDS, stem_words

DESCRIPTION = "bm25s BM25 (Lucene), rag.text stopwords, Snowball English stemmer, lowercase"


def tokenize(texts: list[str]) -> list[list[str]]:
    return bm25s.tokenize(texts, stopwords=list(STOPWORDS), stemmer=stem_words, return_ids=False,
                          show_progress=False)


def build(texts: list[str], folder: Path) -> None:
    retriever = bm25s.BM25()
    retriever.index(tokenize(texts) if texts else [[]], show_progress=False)
    retriever.save(str(folder), show_progress=False)


def load(folder: Path):
    return bm25s.BM25.load(str(folder), mmap=False, show_progress=False)


def search(retriever, query: str, k: int, n_rows: int, allowed=None) -> list[tuple[int, float]]:
    """(row, score) of the best `k` rows with a positive score; only rows in `allowed` when it is given."""
    toks = tokenize([query])
    if not toks[0] or not n_rows:
        return []
    toks = [[t for t in toks[0] if t in retriever.vocab_dict]]
    if not toks[0]:
        return []
    mask = None
    if allowed is not None:
        if not len(allowed):
            return []
        mask = np.zeros(n_rows, dtype=np.float32)
        mask[np.asarray(allowed)] = 1.0
        k = min(k, len(allowed))
    rows, scores = retriever.retrieve(toks, k=min(k, n_rows), show_progress=False, n_threads=1, weight_mask=mask)
    return [(int(r), float(s)) for r, s in zip(rows[0], scores[0]) if s > 0]
