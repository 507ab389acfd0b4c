"""The on-disk index: build it (incrementally, crash-safely, streaming) and load it.

Layout of the index folder (default `index/`):

    .rag-index               {"id": ...}: this folder is a rag index; made when the folder is new or empty
    CURRENT                  name of the active build folder; replaced atomically (os.replace)
    build-<time>-<rand>/     one complete build, never modified after CURRENT points at it
        .rag-build           {"index": id, "previous": build}: made by this index (only such builds are removed)
        manifest.json        format version, model, dimension, chunking, per-document sha256, counts, versions
        vectors.faiss        unit-length vectors, row i = line i of chunks.jsonl
        chunks.jsonl         chunk records
        documents.jsonl      document metadata and text (citations quote it)
        bm25/                bm25s keyword index over the same rows

A build is written to `.tmp-*` and renamed into place; CURRENT moves only when the build is complete, so
killing `rag index` at any moment leaves the previous index in use. Every run, under the lock, removes what
killed runs left (`.tmp-*`, `.CURRENT.*`, builds neither current nor previous) and nothing else: a folder that
holds other things (a chat app's `chats/`, `feedback.jsonl`) keeps them, and a non-empty folder that is not an
index is refused rather than used. Documents stream through: each is chunked and embedded in batches as it is
read, and written out at once, so memory holds the vectors, not the corpus. No pickle anywhere.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import time
from array import array
from dataclasses import dataclass, fields
from itertools import islice
from pathlib import Path
from typing import Iterable, Iterator

import faiss
import numpy as np

from . import keyword
from .chunking import fit_to_model, iter_chunks
from .config import Settings
from .embed import Embedder, get_embedder
from .errors import RagError
from .loaders import iter_load
from .types import Chunk, DocInfo, Document, sha256

FORMAT_VERSION = 1
# Exact search costs ~7 ms per query at 50k rows and ~15 ms at 100k on 2 cores (`make bench`): past 50k it would eat
# half the 30 ms search budget, while HNSW (M 32, efSearch 128) answers in 0.2 ms with recall@10 of 0.99-1.0.
HNSW_FROM = 50_000
INDEX_MARKER, BUILD_MARKER = ".rag-index", ".rag-build"
_BUILD = re.compile(r"build-\d{8}T\d{6}-[0-9a-f]{6}")
_TMP = re.compile(r"\.tmp-[0-9a-f]{8}")
_CURRENT_TMP = re.compile(r"\.CURRENT\.[0-9a-f]{6}")
# what may sit beside the builds (never touched here): the lock, the chat app's conversations and feedback, and a
# README.md like the one this repository keeps in its default index/ folder
NEIGHBOURS = frozenset({".lock", "chats", "feedback.jsonl", "README.md"})
EMBED_BATCHES = 16   # new chunks are embedded this many model batches at a time, length-sorted within


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
        return cls(build, manifest, docs, chunks, vectors, keys)


def active_build(root: Path) -> Path | None:
    current = Path(root) / "CURRENT"
    if not current.is_file():
        return None
    name = current.read_text().strip()
    if not _BUILD.fullmatch(name):
        return None
    build = Path(root) / name
    return build if (build / "manifest.json").is_file() else None


def embed_text(title: str, source: str, text: str) -> str:
    """What gets embedded and keyword-indexed: the passage under its document title (when it has a real one)."""
    real_title = title and title != Path(source).name and title != source
    return f"{title}\n{text}" if real_title else text


def build_index(settings: Settings, progress: bool = True, embedder: Embedder | None = None,
                docs_override: Iterable[Document | tuple[str, str]] | None = None) -> dict:
    """(Re)build the index at settings.index from settings.docs (or from `docs_override`: documents, and
    (name, reason) pairs for files skipped, as `loaders.iter_load` yields them); returns a summary dict."""
    t0 = time.perf_counter()
    root = Path(settings.index)
    documents = docs_override if docs_override is not None else \
        iter_load(settings.docs, settings.max_file_mb, settings.follow_links)     # a missing folder fails here
    check_index_folder(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RagError(f"cannot create the index folder {root} ({e.strerror}); pass --index DIR or set RAG_INDEX") from None
    with _lock(root):
        index_id = _claim(root)
        current = active_build(root)
        _collect_garbage(root, index_id, keep=_in_use(root))     # what a killed run left
        embedder = embedder or get_embedder(settings.model, settings.batch_size, settings.embed_backend)
        old, reason = _previous(root, settings, embedder)
        tmp = root / f".tmp-{secrets.token_hex(4)}"
        tmp.mkdir()
        try:
            (tmp / BUILD_MARKER).write_text(json.dumps({"index": index_id, "previous": current.name if current else None}))
            summary = _write_build(tmp, settings, embedder, old, documents, progress)
            manifest_docs = summary.pop("manifest_docs")
            summary.update(full_rebuild=reason, index=str(root), docs=str(settings.docs))
            if not summary["documents"]:
                _warn(f"warning: no documents to index in {settings.docs}; the index is empty and questions are "
                      f"declined until documents are added")
            if summary.pop("unchanged_build"):
                # nothing changed: keep the build in use rather than swap in an identical copy
                return {**summary, "full_rebuild": None, "seconds": round(time.perf_counter() - t0, 2)}
            summary["seconds"] = round(time.perf_counter() - t0, 2)
            manifest = _manifest(settings, embedder, manifest_docs, summary)
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
            _fsync_tree(tmp)
            name = f"build-{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
            os.replace(tmp, root / name)
            _point_current(root, name)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        _collect_garbage(root, index_id, keep={name, current.name if current else ""})
        summary["seconds"] = round(time.perf_counter() - t0, 2)
        return summary


def _write_build(tmp: Path, settings: Settings, embedder, old: "Index | None", documents, progress: bool) -> dict:
    """Stream `documents` into the build folder `tmp`: each document's chunks (reused or newly cut) are written as
    they come and new texts embedded a batch at a time; then the vectors and BM25 are written from them."""
    old_docs = old.docs if old else {}
    old_rows: dict[str, int] = {k: i for i, k in enumerate(old.keys)} if old else {}
    old_by_doc: dict[str, list[int]] = {}
    for i, c in enumerate(old.chunks if old else ()):
        old_by_doc.setdefault(c.doc_id, []).append(i)
    counts = {"added": 0, "changed": 0, "unchanged": 0}
    skipped: list[tuple[str, str]] = []
    owner: dict[str, str] = {}              # document id -> its source: the index never holds one id twice
    titles: dict[str, tuple[str, str]] = {}
    manifest_docs: dict[str, dict] = {}
    source = array("q")                     # per row: old row (>= 0) or -1 - position among the fresh vectors
    fresh_at: dict[str, int] = {}           # embedding key -> position among the fresh vectors
    pending: list[str] = []
    parts: list[np.ndarray] = []
    bar = None     # made at the first batch: a run that embeds nothing shows no bar

    def flush():
        nonlocal bar
        if pending:
            if progress and bar is None:
                from tqdm import tqdm

                bar = tqdm(unit="chunk", desc="embedding", leave=False)
            parts.append(embedder.encode(pending))
            if bar is not None:
                bar.update(len(pending))
            pending.clear()

    with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as cf, \
            open(tmp / "documents.jsonl", "w", encoding="utf-8") as df:
        for doc in documents:
            if isinstance(doc, tuple):
                skipped.append(doc)
                _warn(f"warning: skipped {doc[0]}: {doc[1]}")
                continue
            if doc.id in owner:
                skipped.append((doc.source, f"id {doc.id!r} is already used by {owner[doc.id]}"))
                _warn(f"warning: skipped {doc.source}: id {doc.id!r} is already used by {owner[doc.id]}")
                continue
            owner[doc.id] = doc.source
            prev = old_docs.get(doc.id)
            if prev and prev.sha256 == doc.sha256:
                counts["unchanged"] += 1
                doc_chunks = (old.chunks[i] for i in old_by_doc.get(doc.id, []))
            else:
                counts["changed" if prev else "added"] += 1
                doc_chunks = _cut(doc, settings, embedder)
            n = 0
            for c in doc_chunks:
                text = embed_text(doc.title, doc.source, c.text)
                key = sha256(text)
                if key in old_rows:
                    source.append(old_rows[key])
                else:
                    if key not in fresh_at:       # each distinct new text is embedded once
                        fresh_at[key] = len(fresh_at)
                        pending.append(text)
                        if len(pending) >= EMBED_BATCHES * (getattr(embedder, "batch_size", 0) or 64):
                            flush()
                    source.append(-1 - fresh_at[key])
                cf.write(json.dumps({**_record(c), "key": key}, ensure_ascii=False) + "\n")
                n += 1
            info = DocInfo(doc.id, doc.title, doc.source, doc.sha256, doc.date, doc.source_url, n, doc.text)
            df.write(json.dumps(_record(info), ensure_ascii=False) + "\n")
            titles[doc.id] = (doc.title, doc.source)
            manifest_docs[doc.id] = {"sha256": doc.sha256, "title": doc.title, "chunks": n}
    removed = sorted(set(old_docs) - set(owner))
    summary = {**counts, "removed": len(removed), "skipped": len(skipped),
               "skipped_files": [f"{n}: {w}" for n, w in skipped], "chunks_embedded": len(fresh_at),
               "chunks_total": len(source), "documents": len(owner), "manifest_docs": manifest_docs,
               "unchanged_build": bool(old) and not removed and not fresh_at and counts["unchanged"] == len(owner)}
    if summary["unchanged_build"]:
        if bar is not None:
            bar.close()
        return summary
    flush()
    if bar is not None:
        bar.close()
    rows = np.frombuffer(source, dtype=np.int64) if len(source) else np.zeros(0, dtype=np.int64)
    matrix = np.zeros((len(rows), embedder.dim), dtype=np.float32)
    reused = np.flatnonzero(rows >= 0)
    if len(reused):
        matrix[reused] = old.vectors.reconstruct_batch(rows[reused])
    if parts:
        new = np.flatnonzero(rows < 0)
        matrix[new] = np.concatenate(parts)[-1 - rows[new]]
    parts.clear()
    faiss.write_index(_faiss_index(matrix), str(tmp / "vectors.faiss"))
    del matrix
    keyword.build(_keyword_texts(tmp / "chunks.jsonl", titles), tmp / "bm25")
    return summary


def _keyword_texts(chunks_file: Path, titles: dict[str, tuple[str, str]]) -> Iterator[str]:
    with open(chunks_file, encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            yield embed_text(*titles[rec["doc_id"]], rec["text"])


def _cut(doc: Document, settings: Settings, embedder) -> Iterator[Chunk]:
    """`doc`'s chunks as they are cut, re-split where the model would truncate them (checked 256 at a time)."""
    chunks = iter_chunks(doc, settings.chunk_size, settings.chunk_overlap)
    while part := list(islice(chunks, 256)):
        yield from fit_to_model(part, doc, embedder.max_tokens - 2, embedder.count_wordpieces, settings.chunk_size)


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


def _manifest(settings, embedder, docs: dict[str, dict], summary: dict) -> dict:
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
        "faiss_index": "HNSWFlat" if summary["chunks_total"] >= HNSW_FROM else "FlatIP",
        "bm25": keyword.DESCRIPTION,
        "counts": {"documents": len(docs), "chunks": summary["chunks_total"]},
        "documents": docs,
        "libraries": {p: v(p) for p in ("rag-cite", "faiss-cpu", "sentence-transformers", "torch",
                                        "bm25s", "tiktoken", "transformers")},
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "build": {k: summary[k] for k in ("added", "changed", "removed", "unchanged", "skipped",
                                          "chunks_embedded", "seconds")},
    }


def _record(obj) -> dict:
    """A flat dataclass as a dict: dataclasses.asdict deep-copies every field, 3x slower on a 5k-chunk index."""
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


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


def check_index_folder(root: Path) -> None:
    """A RagError unless `root` is absent, empty, or a rag index (possibly with a chat app's files beside it)."""
    root = Path(root)
    if not root.exists():
        return
    if not root.is_dir():
        raise RagError(f"index path {root} is not a folder; pass --index (or set RAG_INDEX) to a new or empty folder")
    if (root / INDEX_MARKER).is_file():
        return
    foreign = sorted(p.name for p in root.iterdir() if not _legacy_part(p))
    if foreign:
        shown = ", ".join(foreign[:3]) + (", …" if len(foreign) > 3 else "")
        raise RagError(f"{root}/ is not empty and is not a rag index (it holds {shown}); pass --index (or set "
                       f"RAG_INDEX) to a new or empty folder, so nothing in it is overwritten or deleted")


def _legacy_part(p: Path) -> bool:
    """Could `p` be part of an index made before folders were marked (or what may sit beside one)?"""
    if p.is_symlink():
        return False
    if p.name in NEIGHBOURS or (_CURRENT_TMP.fullmatch(p.name) and p.is_file()):
        return True
    if p.name == "CURRENT":
        return p.is_file() and p.stat().st_size < 100 and bool(_BUILD.fullmatch(p.read_text(errors="replace").strip()))
    if _TMP.fullmatch(p.name) and p.is_dir():
        return True
    return bool(_BUILD.fullmatch(p.name)) and p.is_dir() and (p / "manifest.json").is_file()


def _claim(root: Path) -> str:
    """This index folder's id (see INDEX_MARKER), made now for a new folder or an index from before markers;
    the builds such an index already holds are adopted (check_index_folder found nothing else in it)."""
    marker = root / INDEX_MARKER
    if marker.is_file():
        try:
            return str(json.loads(marker.read_text())["id"])
        except (ValueError, KeyError, TypeError, OSError):
            raise RagError(f"{marker} is damaged; delete the index folder {root} and run `rag index`") from None
    index_id = secrets.token_hex(8)
    for p in root.iterdir():
        if _BUILD.fullmatch(p.name) and _legacy_part(p):
            _write_json(p / BUILD_MARKER, {"index": index_id, "previous": None})
    _write_json(marker, {"index": "rag-cite", "format_version": FORMAT_VERSION, "id": index_id})
    return index_id


def _in_use(root: Path) -> set[str]:
    """The current build and the one before it (a reader may still be on it)."""
    build = active_build(root)
    if build is None:
        return set()
    previous = _read_json(build / BUILD_MARKER).get("previous")
    return {build.name, previous} if isinstance(previous, str) else {build.name}


def _collect_garbage(root: Path, index_id: str, keep: set[str]) -> None:
    """Remove what this index made and no longer needs: builds not kept, and what killed runs left (`.tmp-*`,
    `.CURRENT.*`). Only names of those patterns, and only folders carrying this index's mark (or a `.tmp-*` killed
    before it got one, still empty); symlinks are never followed. Runs under the lock."""
    for p in root.iterdir():
        if p.is_symlink() or p.name in keep:
            continue
        if _CURRENT_TMP.fullmatch(p.name) and p.is_file():
            p.unlink(missing_ok=True)
        elif (_TMP.fullmatch(p.name) or _BUILD.fullmatch(p.name)) and p.is_dir():
            if _read_json(p / BUILD_MARKER).get("index") == index_id:
                shutil.rmtree(p, ignore_errors=True)
            elif _TMP.fullmatch(p.name) and _unmarked_start(p):
                for child in p.iterdir():
                    child.unlink()
                p.rmdir()


def _unmarked_start(folder: Path) -> bool:
    """A `.tmp-*` killed before its mark was complete: nothing in it but (part of) the mark."""
    return all(c.name.startswith(BUILD_MARKER) and c.is_file() and not c.is_symlink() for c in folder.iterdir())


def _read_json(path: Path) -> dict:
    try:
        if path.is_symlink():
            return {}
        value = json.loads(path.read_text())
        return value if isinstance(value, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_json(path: Path, value: dict) -> None:
    """Write through a temporary name and rename, so a planted symlink at `path` is replaced, not followed."""
    tmp = path.with_name(f"{path.name}.{secrets.token_hex(3)}.tmp")
    with open(tmp, "x") as f:
        f.write(json.dumps(value) + "\n")
    os.replace(tmp, path)


class _lock:
    """One builder at a time per index folder (a second `rag index` waits)."""

    def __init__(self, root: Path):
        self.path = root / ".lock"

    def __enter__(self):
        import fcntl

        # no O_TRUNC, no following a symlink: the lock file is never a way to write outside the folder
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        self.f = os.fdopen(fd, "w")
        fcntl.flock(self.f, fcntl.LOCK_EX)

    def __exit__(self, *exc):
        self.f.close()


def _warn(line: str) -> None:
    import sys

    print(line, file=sys.stderr)
