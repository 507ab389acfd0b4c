"""The on-disk index: build it (incrementally, crash-safely) and load it.

Layout of the index folder (default `index/`):

    CURRENT                  name of the active build folder; replaced atomically (os.replace)
    build-<time>-<rand>/     one complete build, never modified after CURRENT points at it
        manifest.json        format version, model, dimension, chunking, per-document sha256, counts, versions
        vectors.faiss        unit-length vectors, row i = line i of chunks.jsonl
        chunks.jsonl         chunk records
        documents.jsonl      document metadata and text (citations quote it)
        bm25/                bm25s keyword index over the same rows

A build is written to `.tmp-*` and renamed into place; CURRENT moves only when the build is complete, so
killing `rag index` at any moment leaves the previous index in use. No pickle anywhere.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from dataclasses import dataclass, fields
from pathlib import Path

import faiss
import numpy as np

from . import keyword
from .chunking import chunk_document, fit_to_model
from .config import Settings
from .embed import Embedder, get_embedder
from .errors import RagError
from .loaders import load
from .types import Chunk, DocInfo, Document, sha256

FORMAT_VERSION = 1
# Exact search costs ~7 ms per query at 50k rows and ~15 ms at 100k on 2 cores (`make bench`): past 50k it would eat
# half the 30 ms search budget, while HNSW (M 32, efSearch 128) answers in 0.2 ms with recall@10 of 0.99-1.0.
HNSW_FROM = 50_000


@dataclass
class Index:
    path: Path
    manifest: dict
    docs: dict[str, DocInfo]
    chunks: list[Chunk]
    vectors: faiss.Index
    keys: list[str]          # embedding key per row (sha256 of the embedded text)
    _bm25: object = None

    @property
    def bm25(self):
        if self._bm25 is None:
            self._bm25 = keyword.load(self.path / "bm25")
        return self._bm25

    @classmethod
    def load(cls, root: Path, model: str | None = None) -> "Index":
        root = Path(root)
        build = active_build(root)
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
        return cls(build, manifest, docs, chunks, vectors, keys)


def active_build(root: Path) -> Path | None:
    current = Path(root) / "CURRENT"
    if not current.is_file():
        return None
    build = Path(root) / current.read_text().strip()
    return build if (build / "manifest.json").is_file() else None


def embed_text(title: str, source: str, text: str) -> str:
    """What gets embedded and keyword-indexed: the passage under its document title (when it has a real one)."""
    real_title = title and title != Path(source).name and title != source
    return f"{title}\n{text}" if real_title else text


def build_index(settings: Settings, progress: bool = True, embedder: Embedder | None = None,
                docs_override: list[Document] | None = None) -> dict:
    """(Re)build the index at settings.index from settings.docs; returns a summary dict."""
    t0 = time.perf_counter()
    root = Path(settings.index)
    root.mkdir(parents=True, exist_ok=True)
    with _lock(root):
        loaded = load(settings.docs)
        documents = loaded.documents if docs_override is None else docs_override
        for name, why in loaded.skipped:
            _warn(f"warning: skipped {name}: {why}")
        embedder = embedder or get_embedder(settings.model, settings.batch_size, settings.embed_backend)
        old, reason = _previous(root, settings, embedder)
        old_docs = old.docs if old else {}
        old_rows: dict[str, int] = {k: i for i, k in enumerate(old.keys)} if old else {}

        counts = {"added": 0, "changed": 0, "unchanged": 0}
        chunks: list[Chunk] = []
        infos: list[DocInfo] = []
        old_by_doc: dict[str, list[int]] = {}
        if old:
            for i, c in enumerate(old.chunks):
                old_by_doc.setdefault(c.doc_id, []).append(i)
        for doc in documents:
            prev = old_docs.get(doc.id)
            if prev and prev.sha256 == doc.sha256:
                counts["unchanged"] += 1
                doc_chunks = [old.chunks[i] for i in old_by_doc.get(doc.id, [])]
            else:
                counts["changed" if prev else "added"] += 1
                doc_chunks = chunk_document(doc, settings.chunk_size, settings.chunk_overlap)
                doc_chunks = fit_to_model(doc_chunks, doc, embedder.max_tokens - 2,
                                          embedder.count_wordpieces, settings.chunk_size)
            chunks.extend(doc_chunks)
            infos.append(DocInfo(doc.id, doc.title, doc.source, doc.sha256, doc.date, doc.source_url,
                                 len(doc_chunks), doc.text))
        removed = sorted(set(old_docs) - {d.id for d in infos})
        if old and not removed and counts["unchanged"] == len(infos):
            # nothing changed: keep the build in use rather than writing an identical copy
            return {**counts, "removed": 0, "skipped": len(loaded.skipped),
                    "skipped_files": [f"{n}: {w}" for n, w in loaded.skipped], "chunks_embedded": 0,
                    "chunks_total": len(chunks), "documents": len(infos), "full_rebuild": None,
                    "index": str(root), "docs": str(settings.docs), "seconds": round(time.perf_counter() - t0, 2)}
        titles = {d.id: (d.title, d.source) for d in infos}
        texts = [embed_text(*titles[c.doc_id], c.text) for c in chunks]
        keys = [sha256(t) for t in texts]

        # embed each distinct new text once; reuse vectors of texts the previous build already had
        todo = list(dict.fromkeys(k for k in keys if k not in old_rows))
        todo_text = {k: t for k, t in zip(keys, texts) if k in set(todo)}
        fresh = embedder.encode([todo_text[k] for k in todo], progress=progress)
        fresh_row = {k: i for i, k in enumerate(todo)}
        dim = embedder.dim
        matrix = np.zeros((len(chunks), dim), dtype=np.float32)
        reuse = [(i, old_rows[k]) for i, k in enumerate(keys) if k in old_rows]
        if reuse:
            rows = np.array([r for _, r in reuse])
            matrix[[i for i, _ in reuse]] = old.vectors.reconstruct_batch(rows)
        for i, k in enumerate(keys):
            if k in fresh_row:
                matrix[i] = fresh[fresh_row[k]]

        tmp = root / f".tmp-{secrets.token_hex(4)}"
        tmp.mkdir()
        try:
            faiss.write_index(_faiss_index(matrix), str(tmp / "vectors.faiss"))
            keyword.build(texts, tmp / "bm25")
            _write_jsonl(tmp / "chunks.jsonl", ({**_record(c), "key": k} for c, k in zip(chunks, keys)))
            _write_jsonl(tmp / "documents.jsonl", (_record(d) for d in infos))
            summary = {**counts, "removed": len(removed), "skipped": len(loaded.skipped),
                       "skipped_files": [f"{n}: {w}" for n, w in loaded.skipped],
                       "chunks_embedded": len(todo), "chunks_total": len(chunks), "documents": len(infos),
                       "full_rebuild": reason, "index": str(root), "docs": str(settings.docs)}
            summary["seconds"] = round(time.perf_counter() - t0, 2)
            manifest = _manifest(settings, embedder, infos, chunks, summary)
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
            _fsync_tree(tmp)
            name = f"build-{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
            os.replace(tmp, root / name)
            _point_current(root, name)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        _collect_garbage(root, keep={name, old.path.name if old else ""})
        summary["seconds"] = round(time.perf_counter() - t0, 2)
        return summary


def _previous(root: Path, settings: Settings, embedder=None) -> tuple[Index | None, str | None]:
    """The build to reuse vectors from, or None with the reason a full rebuild is needed."""
    build = active_build(root)
    if build is None:
        return None, None
    try:
        old = Index.load(root)
    except (RagError, OSError, ValueError, KeyError, RuntimeError) as e:
        return None, f"previous index unreadable ({e}); rebuilding everything"
    m = old.manifest
    if m.get("model") != settings.model:
        return None, f"model changed ({m.get('model')} → {settings.model}); rebuilding everything"
    backend = getattr(embedder, "backend", None)
    if backend and m.get("embedding_backend", "torch") != backend:
        return None, (f"embedding backend changed ({m.get('embedding_backend', 'torch')} → {backend}); "
                      f"rebuilding everything")
    if m.get("chunking") != settings.chunking():
        return None, f"chunking settings changed ({m.get('chunking')} → {settings.chunking()}); rebuilding everything"
    return old, None


def _faiss_index(matrix: np.ndarray) -> faiss.Index:
    n, dim = matrix.shape
    if n >= HNSW_FROM:
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 128
    else:
        index = faiss.IndexFlatIP(dim)
    if n:
        index.add(matrix)
    return index


def _manifest(settings, embedder, infos, chunks, summary) -> dict:
    from importlib.metadata import version

    def v(pkg):
        try:
            return version(pkg)
        except Exception:
            return None

    return {
        "format_version": FORMAT_VERSION,
        "model": settings.model,
        "embedding_backend": getattr(embedder, "backend", "custom"),
        "dimension": embedder.dim,
        "max_model_tokens": embedder.max_tokens,
        "chunking": settings.chunking(),
        "embedded_text": "title + newline + chunk text (title omitted when it is only the file name)",
        "faiss_index": "HNSWFlat" if len(chunks) >= HNSW_FROM else "FlatIP",
        "bm25": keyword.DESCRIPTION,
        "counts": {"documents": len(infos), "chunks": len(chunks)},
        "documents": {d.id: {"sha256": d.sha256, "title": d.title, "chunks": d.n_chunks} for d in infos},
        "libraries": {p: v(p) for p in ("rag-cite", "faiss-cpu", "sentence-transformers", "torch",
                                        "bm25s", "tiktoken", "transformers")},
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "build": {k: summary[k] for k in ("added", "changed", "removed", "unchanged", "skipped",
                                          "chunks_embedded", "seconds")},
    }


def _record(obj) -> dict:
    """A flat dataclass as a dict: dataclasses.asdict deep-copies every field, 3x slower on a 5k-chunk index."""
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


def _write_jsonl(path: Path, rows) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def _fsync_tree(folder: Path) -> None:
    for p in folder.rglob("*"):
        if p.is_file():
            with open(p, "rb") as f:
                os.fsync(f.fileno())


def _point_current(root: Path, name: str) -> None:
    tmp = root / f".CURRENT.{secrets.token_hex(3)}"
    with open(tmp, "w") as f:
        f.write(name + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, root / "CURRENT")
    fd = os.open(root, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _collect_garbage(root: Path, keep: set[str]) -> None:
    """Drop old builds and leftovers of crashed ones; the previous build stays for readers still on it."""
    for p in root.iterdir():
        if p.is_dir() and (p.name.startswith(".tmp-") or p.name.startswith("build-")) and p.name not in keep:
            shutil.rmtree(p, ignore_errors=True)
        elif p.name.startswith(".CURRENT."):
            p.unlink(missing_ok=True)


class _lock:
    """One builder at a time per index folder (a second `rag index` waits)."""

    def __init__(self, root: Path):
        self.path = root / ".lock"

    def __enter__(self):
        import fcntl

        self.f = open(self.path, "w")
        fcntl.flock(self.f, fcntl.LOCK_EX)

    def __exit__(self, *exc):
        self.f.close()


def _warn(line: str) -> None:
    import sys

    print(line, file=sys.stderr)
