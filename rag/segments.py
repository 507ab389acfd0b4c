"""Segments: the immutable parts a FAISS index build (`rag.store`) is made of, and when to merge them.

    seg-<rand>/
        segment.json      {"rows": n, "faiss_index": ..., "documents": {id: [sha256, n_chunks], ...}}: what an
                          update plans with, without text; a document's chunks are contiguous rows, in this order
        chunks.jsonl      chunk records, each with its embedding key (sha256 of the embedded text)
        documents.jsonl   document metadata and text (citations quote it), line i = document i above
        keys.txt          the embedding keys again, one a line: an update finds reusable vectors without JSON
        vectors.faiss     unit vectors, row i = line i of chunks.jsonl: exact below HNSW_FROM rows, HNSW from there
        keyword.npz       term counts and row lengths (`rag.keyword.Terms`)

A segment is written once by `SegmentWriter` (fresh documents as they stream in, or the live rows of older segments
being merged: memory holds vectors and term counts, not text) and never changed; a later build hard-links the
segments it keeps (`link`). `merge_from` keeps their number logarithmic and drops deleted rows, amortised.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Sequence

import faiss
import numpy as np

from . import keyword
from .errors import RagError
from .types import Chunk, DocInfo

# Exact search costs ~7 ms per query at 50k rows and ~15 ms at 100k on 2 cores (`make bench`): past 50k it would eat
# half the 30 ms search budget, while HNSW (M 32, efSearch 128) answers in 0.2 ms with recall@10 of 0.99-1.0.
HNSW_FROM = 50_000
MAX_DEAD = 0.25            # a segment is rewritten once this share of its rows belongs to deleted documents
FILES = ("segment.json", "chunks.jsonl", "documents.jsonl", "keys.txt", "vectors.faiss", "keyword.npz")


def merge_from(live: Sequence[int], rows: Sequence[int]) -> int:
    """Where to start merging segments (oldest first; `live` and total `rows` of each) into one: the first that holds
    no more live rows than all newer ones together, or has too many dead rows; len(live) means none. Each segment
    then outweighs all newer ones, so there are at most log2(rows) of them and a row is rewritten O(log) times.

    >>> merge_from([100_000, 4, 2, 1], [100_000, 4, 2, 1])      # a binary counter: nothing to do
    4
    >>> merge_from([100_000, 4, 2, 1, 1], [100_000, 4, 2, 1, 1])   # 4 <= 2 + 1 + 1: the last four become one
    1
    >>> merge_from([70_000, 5], [100_000, 5])                     # 30% of the big one deleted: rewrite all
    0
    """
    after = 0
    start = len(live)
    for i in range(len(live) - 1, -1, -1):
        if (i < len(live) - 1 and live[i] <= after) or rows[i] - live[i] > MAX_DEAD * rows[i]:
            start = i
        after += live[i]
    return start


def faiss_index(matrix: np.ndarray, hnsw: bool | None = None) -> faiss.Index:
    """An inner-product FAISS index of `matrix`: exact below HNSW_FROM rows, an HNSW graph from there (or as
    `hnsw` says)."""
    n, dim = matrix.shape
    if hnsw if hnsw is not None else n >= HNSW_FROM:
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 128
    else:
        index = faiss.IndexFlatIP(dim)
    if n:
        index.add(matrix)
    return index


class Segment:
    """A written segment folder: its plan data at once, the rest on demand."""

    def __init__(self, path: Path, meta: dict | None = None):
        self.path, self.name = Path(path), Path(path).name
        self.meta = meta = meta or json.loads((self.path / "segment.json").read_text(encoding="utf-8"))
        self.rows: int = meta["rows"]
        self.documents: dict[str, list] = meta["documents"]      # id -> [sha256, n_chunks], in row order
        self.sizes: dict[str, int] = meta["bytes"]

    def check(self, where: Path) -> None:
        """A RagError unless every file has the size it was written with (a damaged or half-copied segment)."""
        for name, size in self.sizes.items():
            if (self.path / name).stat().st_size != size:
                raise RagError(f"index at {where}/ is damaged ({self.name}/{name} changed since it was written); "
                               f"delete it and run `rag index`")

    def keep(self, dead: set[str] | frozenset[str]) -> np.ndarray:
        """Per row: does its document stay (is not in `dead`)?"""
        return np.repeat(np.array([d not in dead for d in self.documents], dtype=bool),
                         np.array([n for _, n in self.documents.values()], dtype=np.int64))

    def keys(self) -> list[str]:
        return (self.path / "keys.txt").read_text().split()

    def index(self) -> faiss.Index:
        return faiss.read_index(str(self.path / "vectors.faiss"))

    def terms(self) -> keyword.Terms:
        return keyword.load(self.path / "keyword.npz")


def link(src: Segment, dst: Path) -> Segment:
    """Put segment `src` into a new build as folder `dst`: hard links (no data copied), a copy where linking fails."""
    dst.mkdir()
    for name in FILES:
        try:
            os.link(src.path / name, dst / name, follow_symlinks=False)
        except OSError:
            shutil.copy2(src.path / name, dst / name, follow_symlinks=False)
    return Segment(dst, src.meta)


class SegmentWriter:
    """One new segment, streamed into `path`; `finish` writes its vectors, term counts and segment.json."""

    def __init__(self, path: Path, dim: int):
        self.path, self.dim = Path(path), dim
        self.path.mkdir()
        self._chunks = open(self.path / "chunks.jsonl", "w", encoding="utf-8")
        self._docs = open(self.path / "documents.jsonl", "w", encoding="utf-8")
        self._keys = open(self.path / "keys.txt", "w", encoding="ascii")
        self._vectors: list[np.ndarray] = []
        self._terms: list[tuple[keyword.Terms, np.ndarray]] = []
        self._texts: list[str] = []             # embedded texts of fresh rows not yet counted
        self.documents: dict[str, list] = {}
        self.rows = 0

    def put(self, info: DocInfo, chunks: Sequence[Chunk], keys: Sequence[str], vectors: np.ndarray,
            texts: Sequence[str]) -> None:
        """A fresh document with its chunks, their embedding keys, vectors and embedded texts."""
        for c, k in zip(chunks, keys):
            self._chunks.write(json.dumps({**record(c), "key": k}, ensure_ascii=False) + "\n")
            self._keys.write(k + "\n")
        self._docs.write(json.dumps(record(info), ensure_ascii=False) + "\n")
        self.documents[info.id] = [info.sha256, len(chunks)]
        if len(chunks):
            self._vectors.append(np.asarray(vectors, dtype=np.float32).reshape(len(chunks), self.dim))
        self._texts.extend(texts)
        self.rows += len(chunks)
        if len(self._texts) >= 4096:
            self._count()

    def copy(self, seg: Segment, dead: set[str] | frozenset[str]) -> None:
        """The rows and documents of `seg` whose document is not in `dead`, as they are (lines copied verbatim)."""
        self._count()
        keep = seg.keep(dead)
        with open(seg.path / "chunks.jsonl", encoding="utf-8") as chunks, open(seg.path / "keys.txt") as keys:
            for kept, line, key in zip(keep, chunks, keys):
                if kept:
                    self._chunks.write(line)
                    self._keys.write(key)
        with open(seg.path / "documents.jsonl", encoding="utf-8") as docs:
            for (doc_id, meta), line in zip(seg.documents.items(), docs):
                if doc_id not in dead:
                    self._docs.write(line)
                    self.documents[doc_id] = meta
        rows = np.flatnonzero(keep)
        if len(rows):
            self._vectors.append(seg.index().reconstruct_batch(rows.astype(np.int64)))
        self._terms.append((seg.terms(), keep))
        self.rows += len(rows)

    def _count(self) -> None:
        if self._texts:
            terms = keyword.count(self._texts)
            self._terms.append((terms, np.ones(len(terms.lengths), dtype=bool)))
            self._texts = []

    def finish(self, hnsw: bool | None = None) -> str:
        """Write what is left; returns the kind of FAISS index it got (see `faiss_index` for `hnsw`)."""
        self._count()
        for f in (self._chunks, self._docs, self._keys):
            f.close()
        matrix = np.concatenate(self._vectors) if self._vectors else np.zeros((0, self.dim), dtype=np.float32)
        self._vectors.clear()
        index = faiss_index(matrix, hnsw)
        del matrix
        faiss.write_index(index, str(self.path / "vectors.faiss"))
        kind = type(index).__name__.removeprefix("Index")
        keyword.save(keyword.merge(self._terms), self.path / "keyword.npz")
        sizes = {name: (self.path / name).stat().st_size for name in FILES[1:]}
        (self.path / "segment.json").write_text(json.dumps(
            {"rows": self.rows, "faiss_index": kind, "bytes": sizes, "documents": self.documents}, ensure_ascii=False))
        return kind

    def close(self) -> None:
        for f in (self._chunks, self._docs, self._keys):
            f.close()


def record(obj) -> dict:
    """A flat dataclass as a dict: dataclasses.asdict deep-copies every field, 3x slower on a 5k-chunk index."""
    from dataclasses import fields

    return {f.name: getattr(obj, f.name) for f in fields(obj) if f.name != "lead"}   # lead: derived from the text
