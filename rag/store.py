"""The default storage backend (`RAG_STORE=faiss`): an index folder of immutable builds, see `rag.folder`.

    build-<time>-<rand>/     one complete build, never modified after CURRENT points at it
        manifest.json        format version, model, dimension, chunking, per-document sha256, counts, versions
        vectors.faiss        unit-length vectors, row i = line i of chunks.jsonl
        chunks.jsonl         chunk records (with the embedding key: sha256 of the embedded text)
        documents.jsonl      document metadata and text (citations quote it)
        bm25/                bm25s keyword index over the same rows

`FaissWriter` streams a new build into `.tmp-*` (unchanged documents' chunks and vectors are copied from the
current build, new ones written as they come) and renames it into place; CURRENT moves only when the build is
complete, so killing `rag index` at any moment leaves the previous index in use. `FaissStore` is a loaded build:
every lookup is by chunk or document id, searches take a `rag.storage.Filter`. No pickle anywhere.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import time
from array import array
from dataclasses import fields
from functools import cached_property
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import faiss
import numpy as np

from . import folder, keyword
from .errors import RagError
from .storage import Filter, Store, Writer
from .text import fold
from .types import Chunk, DocInfo, DocMeta, Document

FORMAT_VERSION = folder.FORMAT_VERSION
# Exact search costs ~7 ms per query at 50k rows and ~15 ms at 100k on 2 cores (`make bench`): past 50k it would eat
# half the 30 ms search budget, while HNSW (M 32, efSearch 128) answers in 0.2 ms with recall@10 of 0.99-1.0.
HNSW_FROM = 50_000


def embed_text(title: str, source: str, text: str) -> str:
    """What gets embedded and keyword-indexed: the passage under its document title (when it has a real one)."""
    real_title = title and title != Path(source).name and title != source
    return f"{title}\n{text}" if real_title else text


class FaissStore(Store):
    """One build of an index folder, loaded: documents and chunks in memory, vectors in FAISS, BM25 on demand."""

    backend = "faiss"

    def __init__(self, root: Path, build: Path, manifest: dict, docs: dict[str, DocInfo], chunks: list[Chunk],
                 vectors: faiss.Index, keys: list[str]):
        self.root, self.path, self.manifest = Path(root), build, manifest
        self.docs, self.chunk_list, self.vectors_index, self.keys = docs, chunks, vectors, keys

    # ---- opening ------------------------------------------------------------------------------------
    @classmethod
    def open(cls, settings) -> "FaissStore":
        return cls.load(settings.index, model=settings.model)

    @classmethod
    def load(cls, root: Path, model: str | None = None) -> "FaissStore":
        """The build CURRENT points at in index folder `root` (checked to be built with `model` when given)."""
        root = Path(root)
        build = folder.active_build(root)
        if build is None:
            raise RagError(f"no index at {root}/; run `rag index` (or pass --index DIR / set RAG_INDEX)")
        manifest = json.loads((build / "manifest.json").read_text())
        if manifest.get("format_version") != FORMAT_VERSION:
            raise RagError(f"index at {root}/ has format {manifest.get('format_version')}, this version reads "
                           f"{FORMAT_VERSION}; run `rag index` to rebuild it")
        if model and manifest.get("model") != model:
            raise RagError(f"index at {root}/ was built with model {manifest.get('model')!r} but {model!r} is "
                           f"configured; run `rag index` to rebuild it (or set RAG_MODEL to match)")
        docs = {}
        for line in (build / "documents.jsonl").read_text(encoding="utf-8").splitlines():
            d = json.loads(line)
            if d["id"] in docs:
                raise RagError(f"index at {root}/ holds document id {d['id']!r} twice; run `rag index` to rebuild it")
            docs[d["id"]] = DocInfo(**d)
        chunks, keys = [], []
        for line in (build / "chunks.jsonl").read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            keys.append(rec.pop("key"))
            chunks.append(Chunk(**rec))
        vectors = faiss.read_index(str(build / "vectors.faiss"))
        if vectors.ntotal != len(chunks):
            raise RagError(f"index at {root}/ is inconsistent ({vectors.ntotal} vectors, {len(chunks)} chunks); "
                           f"delete it and run `rag index`")
        store = cls(root, build, manifest, docs, chunks, vectors, keys)
        store.bm25   # load the keyword index now: its build folder may be collected after a later swap
        return store

    # ---- Store --------------------------------------------------------------------------------------
    def state(self) -> str:
        return self.path.name

    def latest(self) -> str:
        build = folder.active_build(self.root)
        return build.name if build else ""

    def count(self) -> int:
        return len(self.chunk_list)

    def dense(self, vector: np.ndarray, k: int, where: Filter | None = None) -> list[tuple[str, float]]:
        allowed = self._allowed_rows(where)
        ids = self.chunk_list
        if allowed is not None:
            if not len(allowed):
                return []
            scores = self.vectors_index.reconstruct_batch(allowed) @ vector
            top = np.argsort(-scores)[:k]
            return [(ids[int(allowed[i])].id, float(scores[i])) for i in top]
        n = min(k, self.vectors_index.ntotal)
        if not n:
            return []
        scores, rows = self.vectors_index.search(np.asarray(vector, dtype=np.float32)[None, :], n)
        return [(ids[int(r)].id, float(s)) for r, s in zip(rows[0], scores[0]) if r >= 0]

    def keyword(self, text: str, k: int, where: Filter | None = None) -> list[tuple[str, float]]:
        found = keyword.search(self.bm25, text, k, len(self.chunk_list), self._allowed_rows(where))
        return [(self.chunk_list[r].id, s) for r, s in found]

    def vectors(self, chunk_ids: Sequence[str]) -> np.ndarray:
        if not len(chunk_ids):
            return np.zeros((0, self.vectors_index.d), dtype=np.float32)
        rows = np.array([self._row_of[c] for c in chunk_ids], dtype=np.int64)
        return self.vectors_index.reconstruct_batch(rows)

    def chunks(self, chunk_ids: Iterable[str]) -> dict[str, Chunk]:
        rows = self._row_of
        return {c: self.chunk_list[rows[c]] for c in chunk_ids if c in rows}

    def documents(self, doc_ids: Iterable[str]) -> dict[str, DocInfo]:
        return {d: self.docs[d] for d in doc_ids if d in self.docs}

    def catalog(self) -> dict[str, DocMeta]:
        return self._catalog

    def mentions(self, words: Iterable[str]) -> set[str]:
        return set(words) & self._vocabulary

    def contains(self, strings: Iterable[str]) -> set[str]:
        return {s for s in strings if s in self._plain}

    # ---- in memory ----------------------------------------------------------------------------------
    @property
    def bm25(self):
        if "_bm25" not in self.__dict__:
            self.__dict__["_bm25"] = keyword.load(self.path / "bm25")
        return self.__dict__["_bm25"]

    @cached_property
    def _catalog(self) -> dict[str, DocMeta]:
        return {d.id: d.meta() for d in self.docs.values()}

    @cached_property
    def _vocabulary(self) -> frozenset[str]:
        """Every folded word of the documents (computed once per loaded build, on the first question)."""
        words: set[str] = set()
        for d in self.docs.values():
            words.update(re.findall(r"\w+", fold(d.text)))
        return frozenset(words)

    @cached_property
    def _plain(self) -> str:
        return "\n".join(d.text for d in self.docs.values())

    @cached_property
    def _row_of(self) -> dict[str, int]:
        return {c.id: i for i, c in enumerate(self.chunk_list)}

    @cached_property
    def _rows_of_doc(self) -> dict[str, list[int]]:
        rows: dict[str, list[int]] = {}
        for i, c in enumerate(self.chunk_list):
            rows.setdefault(c.doc_id, []).append(i)
        return rows

    def _allowed_rows(self, where: Filter | None) -> np.ndarray | None:
        if where is None:
            return None
        ids = where.doc_ids if where.doc_ids is not None else self.docs.keys()
        wanted = [d for d in ids if d in self.docs and where.allows(self.docs[d])]
        return np.array(sorted(r for d in wanted for r in self._rows_of_doc.get(d, ())), dtype=np.int64)


class FaissWriter(Writer):
    """A new build of an index folder, streamed into `.tmp-*` under the folder's lock; see the module docstring."""

    def __init__(self, settings, embedder):
        self.settings, self.embedder = settings, embedder
        self.root = root = Path(settings.index)
        folder.check_index_folder(root)
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise RagError(f"cannot create the index folder {root} ({e.strerror}); pass --index DIR or set "
                           f"RAG_INDEX") from None
        self._lock = folder.lock(root)
        self._lock.__enter__()
        try:
            self.index_id = folder.claim(root)
            self.current = folder.active_build(root)
            folder.collect_garbage(root, self.index_id, keep=folder.in_use(root))     # what a killed run left
            self.old, self.full_rebuild = _previous(root, settings, embedder)
            self.tmp = root / f".tmp-{secrets.token_hex(4)}"
            self.tmp.mkdir()
            (self.tmp / folder.BUILD_MARKER).write_text(json.dumps(
                {"index": self.index_id, "previous": self.current.name if self.current else None}))
            self._cf = open(self.tmp / "chunks.jsonl", "w", encoding="utf-8")
            self._df = open(self.tmp / "documents.jsonl", "w", encoding="utf-8")
        except BaseException:
            self.abort()
            raise
        old = self.old
        self._old_rows = {k: i for i, k in enumerate(old.keys)} if old else {}
        self._rows = array("q")          # per row: old row (>= 0) or -1 - position among the new vectors
        self._new: list[np.ndarray] = []
        self._n_new = 0
        self._titles: dict[str, tuple[str, str]] = {}
        self._kept, self._put = 0, 0

    @classmethod
    def open(cls, settings, embedder) -> "FaissWriter":
        return cls(settings, embedder)

    def existing(self) -> Mapping[str, str]:
        return {d.id: d.sha256 for d in self.old.docs.values()} if self.old else {}

    def known_vectors(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        rows = [(k, self._old_rows[k]) for k in dict.fromkeys(keys) if k in self._old_rows]
        if not rows:
            return {}
        vecs = self.old.vectors_index.reconstruct_batch(np.array([r for _, r in rows], dtype=np.int64))
        return {k: vecs[i] for i, (k, _) in enumerate(rows)}

    def keep(self, doc_id: str) -> int:
        old = self.old
        info = old.docs[doc_id]
        for i in old._rows_of_doc.get(doc_id, ()):
            self._rows.append(i)
            self._cf.write(json.dumps({**_record(old.chunk_list[i]), "key": old.keys[i]}, ensure_ascii=False) + "\n")
        self._df.write(json.dumps(_record(info), ensure_ascii=False) + "\n")
        self._titles[doc_id] = (info.title, info.source)
        self._kept += 1
        return info.n_chunks

    def put(self, doc: Document, chunks: Sequence[Chunk], keys: Sequence[str], vectors: np.ndarray) -> None:
        if len(chunks):
            self._new.append(np.asarray(vectors, dtype=np.float32))
        for i, c in enumerate(chunks):
            self._rows.append(-1 - (self._n_new + i))
            self._cf.write(json.dumps({**_record(c), "key": keys[i]}, ensure_ascii=False) + "\n")
        self._n_new += len(chunks)
        info = DocInfo(doc.id, doc.title, doc.source, doc.sha256, doc.date, doc.source_url, len(chunks), text=doc.text)
        self._df.write(json.dumps(_record(info), ensure_ascii=False) + "\n")
        self._titles[doc.id] = (doc.title, doc.source)
        self._put += 1

    def commit(self, manifest: dict) -> bool:
        try:
            self._cf.close()
            self._df.close()
            old = self.old
            if old and not self._put and self._kept == len(old.docs):
                return False     # nothing changed: keep the build in use rather than swap in an identical copy
            rows = np.frombuffer(self._rows, dtype=np.int64) if len(self._rows) else np.zeros(0, dtype=np.int64)
            matrix = np.zeros((len(rows), self.embedder.dim), dtype=np.float32)
            reused = np.flatnonzero(rows >= 0)
            if len(reused):
                matrix[reused] = old.vectors_index.reconstruct_batch(rows[reused])
            if self._new:
                fresh = np.flatnonzero(rows < 0)
                matrix[fresh] = np.concatenate(self._new)[-1 - rows[fresh]]
            self._new.clear()
            faiss.write_index(faiss_index(matrix), str(self.tmp / "vectors.faiss"))
            del matrix
            keyword.build(self._keyword_texts(), self.tmp / "bm25")
            manifest = {**manifest, "format_version": FORMAT_VERSION, "store": "faiss",
                        "faiss_index": "HNSWFlat" if len(rows) >= HNSW_FROM else "FlatIP", "bm25": keyword.DESCRIPTION}
            (self.tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
            folder.fsync_tree(self.tmp)
            name = f"build-{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
            os.replace(self.tmp, self.root / name)
            folder.point_current(self.root, name)
            folder.collect_garbage(self.root, self.index_id, keep={name, self.current.name if self.current else ""})
            return True
        finally:
            self.abort()

    def abort(self) -> None:
        for f in (getattr(self, "_cf", None), getattr(self, "_df", None)):
            if f is not None:
                f.close()
        tmp = getattr(self, "tmp", None)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        if self._lock is not None:
            self._lock.__exit__(None, None, None)
            self._lock = None

    def _keyword_texts(self):
        with open(self.tmp / "chunks.jsonl", encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                yield embed_text(*self._titles[rec["doc_id"]], rec["text"])


def _previous(root: Path, settings, embedder=None) -> tuple[FaissStore | None, str | None]:
    """The build to reuse vectors from, or None with the reason a full rebuild is needed."""
    if folder.active_build(root) is None:
        return None, None
    try:
        old = FaissStore.load(root)
    except (RagError, OSError, ValueError, KeyError, RuntimeError) as e:
        return None, f"previous index unreadable ({e}); rebuilding everything"
    return (None, reason) if (reason := rebuild_reason(old.manifest, settings, embedder)) else (old, None)


def rebuild_reason(manifest: Mapping, settings, embedder=None) -> str | None:
    """Why an index built as `manifest` says cannot be updated in place for these settings (None: it can)."""
    m = manifest
    if m.get("model") != settings.model:
        return f"model changed ({m.get('model')} → {settings.model}); rebuilding everything"
    backend = getattr(embedder, "backend", None)
    if backend and m.get("embedding_backend", "torch") != backend:
        return (f"embedding backend changed ({m.get('embedding_backend', 'torch')} → {backend}); "
                f"rebuilding everything")
    if m.get("chunking") != settings.chunking():
        return f"chunking settings changed ({m.get('chunking')} → {settings.chunking()}); rebuilding everything"
    return None


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


def _record(obj) -> dict:
    """A flat dataclass as a dict: dataclasses.asdict deep-copies every field, 3x slower on a 5k-chunk index."""
    return {f.name: getattr(obj, f.name) for f in fields(obj) if f.name != "lead"}   # lead: derived from the text
