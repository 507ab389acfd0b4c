"""The keyword index: BM25 (bm25s) over English-stemmed, stopword-filtered tokens, saved without pickle.

bm25s has no incremental add, but re-indexing every passage's tokens takes about a second for 5k passages,
so each build rebuilds it beside the vectors and it is swapped in with them. An index of no passages is a folder
holding only `EMPTY`; it loads as None and finds nothing.
"""
from __future__ import annotations

import sys
from itertools import islice
from pathlib import Path
from typing import Iterable

import bm25s
import numpy as np

from .text import STOPWORDS, stem_words

DESCRIPTION = "bm25s BM25 (Lucene), rag.text stopwords, Snowball English stemmer, lowercase"


def tokenize(texts: list[str]) -> list[list[str]]:
    return bm25s.tokenize(texts, stopwords=list(STOPWORDS), stemmer=stem_words, return_ids=False,
                          show_progress=False)


def build(texts: Iterable[str], folder: Path, batch: int = 2048) -> int:
    """Index `texts` (any iterable, tokenized a batch at a time) into `folder`; returns the number of rows."""
    corpus: list[list[str]] = []
    texts = iter(texts)
    while part := list(islice(texts, batch)):
        corpus.extend([sys.intern(t) for t in toks] for toks in tokenize(part))   # one copy of each word
    if not corpus:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / "EMPTY").write_text("no passages\n")
        return 0
    retriever = bm25s.BM25()
    retriever.index(corpus, show_progress=False)
    retriever.save(str(folder), show_progress=False)
    return len(corpus)


def load(folder: Path):
    if (Path(folder) / "EMPTY").is_file():
        return None
    return bm25s.BM25.load(str(folder), mmap=False, show_progress=False)


def search(retriever, query: str, k: int, n_rows: int, allowed=None) -> list[tuple[int, float]]:
    """(row, score) of the best `k` rows with a positive score; only rows in `allowed` when it is given."""
    if retriever is None or not n_rows:
        return []
    toks = tokenize([query])
    if not toks[0]:
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
