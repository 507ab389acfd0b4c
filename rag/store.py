"""The default storage backend (`RAG_STORE=faiss`): an index folder of immutable builds, see `rag.folder`.

    build-<time>-<rand>/     one complete build, never modified after CURRENT points at it
        manifest.json        format version, model, dimension, chunking, per-document sha256, counts, versions,
                             "segments" (oldest first) and "deleted": {segment: [ids of its documents now gone]}
        seg-<rand>/          a segment: chunks, documents, vectors and term counts (see `rag.segments`)

An update does not rewrite the index: `FaissWriter` hard-links the current build's segments into `.tmp-*`, streams
new and changed documents into one new segment, lists the documents that are gone or replaced as deleted, merges
segments when `segments.merge_from` says so (amortised: small ones together, a big one once a quarter of it is
deleted), and renames the folder into place; CURRENT moves only when the build is complete, so killing `rag index`
at any moment leaves the previous index in use, and no file of a build is ever written again (a link shares it).
`FaissStore` is a loaded build: searches run over every segment and merge, BM25 scores all segments as one index
(`rag.keyword`), every lookup is by chunk or document id, searches take a `rag.storage.Filter`. No pickle anywhere.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import time
from functools import cached_property
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import faiss
import numpy as np

from . import folder, keyword
from .errors import RagError
from .segments import Segment, SegmentWriter, link, merge_from
from .storage import Filter, Store, Writer
from .text import fold
from .types import Chunk, DocInfo, DocMeta, Document

FORMAT_VERSION = 2       # 1: one vectors.faiss / chunks.jsonl / bm25s folder per build (rewritten on update)


def embed_text(title: str, source: str, text: str) -> str:
    """What gets embedded and keyword-indexed: the passage under its document title (when it has a real one)."""
    real_title = title and title != Path(source).name and title != source
    return f"{title}\n{text}" if real_title else text


class _Loaded:
    """A segment in memory: its FAISS index and where its live rows sit in the store (row -> position, -1: gone)."""

    def __init__(self, seg: Segment, index: faiss.Index, positions: np.ndarray):
        self.name, self.index, self.positions = seg.name, index, positions
        self.live = int((positions >= 0).sum())
        self.params = None
        if self.live < len(positions):    # deleted rows are skipped inside the search, so k results still come back
            self._sel = faiss.IDSelectorBatch(np.flatnonzero(positions < 0).astype(np.int64))
            self._not = faiss.IDSelectorNot(self._sel)
            hnsw = getattr(index, "hnsw", None)
            self.params = faiss.SearchParametersHNSW(sel=self._not, efSearch=hnsw.efSearch) if hnsw is not None \
                else faiss.SearchParameters(sel=self._not)


class FaissStore(Store):
    """One build of an index folder, loaded: documents and chunks in memory, vectors in FAISS, term counts for BM25."""

    backend = "faiss"

    def __init__(self, root: Path, build: Path, manifest: dict, docs: dict[str, DocInfo], chunks: list[Chunk],
                 segments: list[_Loaded], terms: list[keyword.Terms]):
        self.root, self.path, self.manifest = Path(root), build, manifest
        self.docs, self.chunk_list, self.segments = docs, chunks, segments
        self.bm25 = keyword.Keyword([(t, s.positions) for t, s in zip(terms, segments)], len(chunks)) \
            if chunks else None
        self._seg_of = np.concatenate([np.full(s.live, i, dtype=np.int32) for i, s in enumerate(segments)]) \
            if segments else np.zeros(0, dtype=np.int32)
        self._local = np.concatenate([np.flatnonzero(s.positions >= 0) for s in segments]) \
            if segments else np.zeros(0, dtype=np.int64)

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
        docs: dict[str, DocInfo] = {}
        chunks: list[Chunk] = []
        loaded, terms = [], []
        for entry in manifest["segments"]:
            seg = Segment(build / entry["name"])
            dead = frozenset(manifest["deleted"].get(seg.name, ()))
            with open(seg.path / "documents.jsonl", encoding="utf-8") as f:
                for line in f:
                    d = json.loads(line)
                    if d["id"] in dead:
                        continue
                    if d["id"] in docs:
                        raise RagError(f"index at {root}/ holds document id {d['id']!r} twice; run `rag index` to "
                                       f"rebuild it")
                    docs[d["id"]] = DocInfo(**d)
            seg.check(root)
            keep = seg.keep(dead)
            positions = np.full(seg.rows, -1, dtype=np.int64)
            with open(seg.path / "chunks.jsonl", encoding="utf-8") as f:
                for i, (kept, line) in enumerate(zip(keep, f)):
                    if kept:
                        rec = json.loads(line)
                        del rec["key"]
                        positions[i] = len(chunks)
                        chunks.append(Chunk(**rec))
            index = seg.index()
            if index.ntotal != seg.rows or len(keep) != seg.rows:
                raise RagError(f"index at {root}/ is inconsistent ({index.ntotal} vectors, {seg.rows} chunks in "
                               f"{seg.name}); delete it and run `rag index`")
            loaded.append(_Loaded(seg, index, positions))
            terms.append(seg.terms())
        return cls(root, build, manifest, docs, chunks, loaded, terms)

    # ---- Store --------------------------------------------------------------------------------------
    def state(self) -> str:
        return self.path.name

    def latest(self) -> str:
        build = folder.active_build(self.root)
        return build.name if build else ""

    def count(self) -> int:
        return len(self.chunk_list)

    def dense(self, vector: np.ndarray, k: int, where: Filter | None = None) -> list[tuple[str, float]]:
        ids = self.chunk_list
        allowed = self._allowed(where)
        if allowed is not None:
            if not len(allowed):
                return []
            scores = self._vectors_at(allowed) @ vector
            top = np.argsort(-scores, kind="stable")[:k]
            return [(ids[int(allowed[i])].id, float(scores[i])) for i in top]
        q = np.asarray(vector, dtype=np.float32)[None, :]
        found: list[tuple[float, int]] = []
        for s in self.segments:
            n = min(k, s.live)
            if n:
                scores, rows = s.index.search(q, n, params=s.params) if s.params else s.index.search(q, n)
                found += [(float(d), int(s.positions[r])) for r, d in zip(rows[0], scores[0]) if r >= 0]
        found.sort(key=lambda x: -x[0])
        return [(ids[p].id, d) for d, p in found[:k]]

    def keyword(self, text: str, k: int, where: Filter | None = None) -> list[tuple[str, float]]:
        if self.bm25 is None:
            return []
        return [(self.chunk_list[p].id, s) for p, s in self.bm25.search(text, k, self._allowed(where))]

    def vectors(self, chunk_ids: Sequence[str]) -> np.ndarray:
        return self._vectors_at(np.array([self._position[c] for c in chunk_ids], dtype=np.int64))

    def chunks(self, chunk_ids: Iterable[str]) -> dict[str, Chunk]:
        pos = self._position
        return {c: self.chunk_list[pos[c]] for c in chunk_ids if c in pos}

    def documents(self, doc_ids: Iterable[str]) -> dict[str, DocInfo]:
        return {d: self.docs[d] for d in doc_ids if d in self.docs}

    def catalog(self) -> dict[str, DocMeta]:
        return self._catalog

    def mentions(self, words: Iterable[str]) -> set[str]:
        return {w for w in words if w in self._vocabulary}

    def warm(self) -> None:
        for table in ("_catalog", "_vocabulary", "_position", "_positions_of_doc"):
            getattr(self, table)

    # ---- internals ----------------------------------------------------------------------------------
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
    def _position(self) -> dict[str, int]:
        return {c.id: i for i, c in enumerate(self.chunk_list)}

    @cached_property
    def _positions_of_doc(self) -> dict[str, range]:
        spans: dict[str, range] = {}
        for i, c in enumerate(self.chunk_list):          # a document's chunks are contiguous
            r = spans.get(c.doc_id)
            spans[c.doc_id] = range(r.start, i + 1) if r else range(i, i + 1)
        return spans

    def _allowed(self, where: Filter | None) -> np.ndarray | None:
        if where is None:
            return None
        ids = where.doc_ids if where.doc_ids is not None else self.docs.keys()
        spans = self._positions_of_doc
        wanted = sorted(d for d in ids if d in self.docs and where.allows(self.docs[d]))
        return np.array(sorted(p for d in wanted for p in spans.get(d, ())), dtype=np.int64)

    def _vectors_at(self, positions: np.ndarray) -> np.ndarray:
        dim = self.segments[0].index.d if self.segments else int(self.manifest.get("dimension") or 0)
        out = np.zeros((len(positions), dim), dtype=np.float32)
        segs = self._seg_of[positions]
        for i in np.unique(segs):
            at = np.flatnonzero(segs == i)
            out[at] = self.segments[i].index.reconstruct_batch(self._local[positions[at]])
        return out


class FaissWriter(Writer):
    """A new build of an index folder, streamed into `.tmp-*` under the folder's lock; see the module docstring."""

    def __init__(self, settings, embedder):
        self.settings, self.embedder = settings, embedder
        self.root = root = Path(settings.index)
        self._lock = None
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
            self.old, self.reuse, self.full_rebuild = _previous(root, settings, embedder)
            self.tmp = root / f".tmp-{secrets.token_hex(4)}"
            self.tmp.mkdir()
            (self.tmp / folder.BUILD_MARKER).write_text(json.dumps(
                {"index": self.index_id, "previous": self.current.name if self.current else None}))
            self.fresh = SegmentWriter(self.tmp / _segment_name(), embedder.dim)
        except BaseException:
            self.abort()
            raise
        self._kept: set[str] = set()
        self._put: set[str] = set()
        self._mine: dict[str, np.ndarray] = {}      # key -> vector put by this update (a later repeat reuses it)

    @classmethod
    def open(cls, settings, embedder) -> "FaissWriter":
        return cls(settings, embedder)

    def existing(self) -> Mapping[str, str]:
        return self.old.existing() if self.old else {}

    def known_vectors(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        out = {k: self._mine[k] for k in keys if k in self._mine}
        rest = [k for k in dict.fromkeys(keys) if k not in out]
        if rest and self.reuse:
            out.update(self.reuse.vectors(rest))
        return out

    def keep(self, doc_id: str) -> int:
        self._kept.add(doc_id)
        return self.old.live[doc_id][1]

    def put(self, doc: Document, chunks: Sequence[Chunk], keys: Sequence[str], vectors: np.ndarray) -> None:
        info = DocInfo(doc.id, doc.title, doc.source, doc.sha256, doc.date, doc.source_url, len(chunks), text=doc.text)
        vectors = np.asarray(vectors, dtype=np.float32)
        self.fresh.put(info, chunks, keys, vectors, [embed_text(doc.title, doc.source, c.text) for c in chunks])
        self._mine.update(zip(keys, vectors))
        self._put.add(doc.id)

    def commit(self, manifest: dict) -> bool:
        try:
            old = self.old
            if old and not self._put and self._kept == set(old.where):
                return False     # nothing changed: keep the build in use rather than swap in an identical copy
            segments, deleted = self._carried()
            live = [s.rows - int((~s.keep(deleted.get(s.name, set()))).sum()) for s in segments]
            fresh = bool(self.fresh.documents)
            start = merge_from(live + [self.fresh.rows] * fresh, [s.rows for s in segments] + [self.fresh.rows] * fresh)
            merged = start < len(segments) + fresh
            if fresh:
                self.fresh.finish(hnsw=False if merged else None)    # merged right away: no graph worth building
                segments.append(Segment(self.fresh.path))
            else:
                self.fresh.close()
                shutil.rmtree(self.fresh.path)
            if merged:
                out = SegmentWriter(self.tmp / _segment_name(), self.embedder.dim)
                for s in segments[start:]:
                    out.copy(s, deleted.pop(s.name, set()))
                out.finish()
                for s in segments[start:]:
                    shutil.rmtree(s.path)
                segments[start:] = [Segment(out.path)]
            kinds = [s.meta["faiss_index"] for s in segments]
            # per-document hashes and chunk counts live in each segment's segment.json
            manifest = {**manifest, "format_version": FORMAT_VERSION, "store": "faiss",
                        "faiss_index": "HNSWFlat" if "HNSWFlat" in kinds else "FlatIP", "bm25": keyword.DESCRIPTION,
                        "segments": [{"name": s.name, "rows": s.rows, "faiss_index": k}
                                     for s, k in zip(segments, kinds)],
                        "deleted": {n: sorted(d) for n, d in deleted.items() if d}}
            (self.tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
            folder.fsync_tree(self.tmp)
            name = f"build-{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
            os.replace(self.tmp, self.root / name)
            folder.point_current(self.root, name)
            folder.collect_garbage(self.root, self.index_id, keep={name, self.current.name if self.current else ""})
            return True
        finally:
            self.abort()

    def _carried(self) -> tuple[list[Segment], dict[str, set[str]]]:
        """The current build's segments, linked into the new one, and the documents each now holds deleted: those
        deleted before, and those neither kept nor live elsewhere (replaced by a put, or gone). Segments left with
        no live document are not carried."""
        if not self.old:
            return [], {}
        segments, deleted = [], {}
        for i, s in enumerate(self.old.segments):
            dead = {d for d in s.documents if self.old.where.get(d) != i or d not in self._kept}
            if len(dead) == len(s.documents):
                continue
            segments.append(link(s, self.tmp / s.name))
            deleted[s.name] = dead
        return segments, deleted

    def abort(self) -> None:
        fresh = getattr(self, "fresh", None)
        if fresh is not None:
            fresh.close()
        tmp = getattr(self, "tmp", None)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        if self._lock is not None:
            self._lock.__exit__(None, None, None)
            self._lock = None


def _segment_name() -> str:
    return f"seg-{secrets.token_hex(4)}"


class _Previous:
    """The build an update starts from, as far as planning needs it: document ids, hashes and chunk counts per
    segment (no text); embedding keys and vectors only when asked for."""

    def __init__(self, build: Path, manifest: dict):
        self.segments = [Segment(build / e["name"]) for e in manifest["segments"]]
        for s in self.segments:
            s.check(build)
        self.where: dict[str, int] = {}          # live document id -> its segment
        self.live: dict[str, list] = {}          # live document id -> [sha256, n_chunks]
        for i, s in enumerate(self.segments):
            dead = set(manifest["deleted"].get(s.name, ()))
            live = {d: m for d, m in s.documents.items() if d not in dead} if dead else s.documents
            self.live.update(live)
            self.where.update(dict.fromkeys(live, i))

    def existing(self) -> dict[str, str]:
        return {d: m[0] for d, m in self.live.items()}


class _Vectors:
    """Stored vectors by embedding key, over a build's segments (or a format-1 build's single vectors.faiss)."""

    def __init__(self, parts: list[tuple[Path, Path]]):     # (keys file or chunks.jsonl, vectors.faiss)
        self.parts = parts
        self.indexes: dict[int, faiss.Index] = {}

    @cached_property
    def rows(self) -> dict[str, int]:
        """key -> row number over all parts, one after another (self.starts: where each part begins)."""
        out: dict[str, int] = {}
        self.starts = [0]
        for keys, _ in self.parts:
            text = keys.read_text(encoding="utf-8")
            found = [json.loads(line)["key"] for line in text.splitlines()] if keys.suffix == ".jsonl" else \
                text.split()
            out.update(zip(found, range(self.starts[-1], self.starts[-1] + len(found))))
            self.starts.append(self.starts[-1] + len(found))
        return out

    def vectors(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found = [(k, self.rows[k]) for k in keys if k in self.rows]
        out = {}
        part = np.searchsorted(self.starts, [r for _, r in found], side="right") - 1
        for p in np.unique(part).tolist():
            if p not in self.indexes:
                self.indexes[p] = faiss.read_index(str(self.parts[p][1]))
            mine = [found[i] for i in np.flatnonzero(part == p)]
            vecs = self.indexes[p].reconstruct_batch(np.array([r - self.starts[p] for _, r in mine], dtype=np.int64))
            out.update((k, vecs[i]) for i, (k, _) in enumerate(mine))
        return out


def _previous(root: Path, settings, embedder=None) -> tuple[_Previous | None, _Vectors | None, str | None]:
    """The build to update and where to reuse vectors from, or None with the reason a full rebuild is needed."""
    build = folder.active_build(root)
    if build is None:
        return None, None, None
    try:
        manifest = json.loads((build / "manifest.json").read_text())
        if (reason := rebuild_reason(manifest, settings, embedder)):
            return None, None, reason
        if manifest.get("format_version") == 1:          # its vectors are still good: nothing is embedded again
            return None, _Vectors([(build / "chunks.jsonl", build / "vectors.faiss")]), \
                "index format 1 is rewritten as format 2 (stored vectors reused)"
        if manifest.get("format_version") != FORMAT_VERSION:
            raise RagError(f"format {manifest.get('format_version')}")
        old = _Previous(build, manifest)
        return old, _Vectors([(s.path / "keys.txt", s.path / "vectors.faiss") for s in old.segments]), None
    except (RagError, OSError, ValueError, KeyError, TypeError, RuntimeError) as e:
        return None, None, f"previous index unreadable ({e}); rebuilding everything"


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
