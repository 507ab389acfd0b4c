"""Updating an index from a folder of documents, whatever backend stores it (`rag.storage`).

Planning is the content-hash diff: a document whose sha256 the store already holds is kept as it is; a new or
changed one is chunked and embedded (texts the store already has a vector for are not embedded again); documents
that are gone are dropped when the writer commits. Documents stream through: each is read, chunked and embedded in
batches as it comes, so memory holds vectors, not the corpus. The writer makes the result current in one step.
"""
from __future__ import annotations

import sys
import time
from itertools import islice
from typing import Iterable, Iterator

import numpy as np

from .chunking import fit_to_model, iter_chunks
from .config import Settings
from .embed import Embedder, get_embedder
from .loaders import iter_load
from .storage import Writer, open_writer
from .store import embed_text
from .types import Chunk, Document, sha256

EMBED_BATCHES = 16   # new chunks are embedded this many model batches at a time, length-sorted within


def build_index(settings: Settings, progress: bool = True, embedder: Embedder | None = None,
                docs_override: Iterable[Document | tuple[str, str]] | None = None, keep_others: bool = False,
                remove: Iterable[str] = ()) -> dict:
    """Bring the index that `settings` point at up to date with settings.docs (or with `docs_override`: documents,
    and (name, reason) pairs for files skipped, as `loaders.iter_load` yields them); returns a summary dict.
    `keep_others`: the documents given are added or updated and every other indexed one stays, except those in
    `remove` (how a chat replica adds an upload to a shared store without dropping what others added)."""
    t0 = time.perf_counter()
    known: dict[str, str] = {}    # what the index holds: unchanged documents are not parsed again
    documents = docs_override if docs_override is not None else \
        iter_load(settings.docs, settings.max_file_mb, settings.follow_links, known)  # a missing folder fails here
    embedder = embedder or get_embedder(settings.model, settings.batch_size, settings.embed_backend)
    writer = open_writer(settings, embedder)
    known.update(writer.existing())
    try:
        summary = _feed(writer, documents, settings, embedder, progress, keep_others, set(remove))
    except BaseException:
        writer.abort()
        raise
    summary.update(full_rebuild=writer.full_rebuild, store=settings.store, index=_where(settings),
                   docs=str(settings.docs))
    if not summary["documents"]:
        warn(f"warning: no documents to index in {settings.docs}; the index is empty and questions are declined "
             f"until documents are added")
    summary["seconds"] = round(time.perf_counter() - t0, 2)
    if not writer.commit(manifest(settings, embedder, summary)):
        summary["full_rebuild"] = None     # nothing changed: the state in use stays
    summary["seconds"] = round(time.perf_counter() - t0, 2)
    return summary


def _feed(writer: Writer, documents, settings: Settings, embedder, progress: bool, keep_others: bool = False,
          remove: set[str] = frozenset()) -> dict:
    """Keep or put every document into `writer`; returns the summary counts."""
    existing = writer.existing()
    counts = {"added": 0, "changed": 0, "unchanged": 0}
    skipped: list[tuple[str, str]] = []
    owner: dict[str, str] = {}              # document id -> its source: the index never holds one id twice
    chunks = 0                              # in the new state
    batch = _Batch(writer, embedder, progress)
    for doc in documents:
        if isinstance(doc, tuple):
            skipped.append(doc)
            warn(f"warning: skipped {doc[0]}: {doc[1]}")
            continue
        if doc.id in owner:
            skipped.append((doc.source, f"id {doc.id!r} is already used by {owner[doc.id]}"))
            warn(f"warning: skipped {doc.source}: id {doc.id!r} is already used by {owner[doc.id]}")
            continue
        owner[doc.id] = doc.source
        if existing.get(doc.id) == doc.sha256:      # an `Unchanged` record, or a document parsed anyway
            counts["unchanged"] += 1
            chunks += writer.keep(doc.id)
        else:
            counts["changed" if doc.id in existing else "added"] += 1
            chunks += batch.add(doc, list(_cut(doc, settings, embedder)))
    batch.flush()
    batch.close()
    gone = set(existing) - set(owner)
    if keep_others:
        for doc_id in sorted(gone - remove):
            chunks += writer.keep(doc_id)
            counts["unchanged"] += 1
        gone &= remove
    return {**counts, "removed": len(gone), "skipped": len(skipped),
            "skipped_files": [f"{n}: {w}" for n, w in skipped], "chunks_embedded": batch.embedded,
            "chunks_total": chunks, "documents": counts["added"] + counts["changed"] + counts["unchanged"]}


class _Batch:
    """New and changed documents waiting for their vectors: looked up in the store together (one `known_vectors`
    call for a batch's keys: a round trip per document costs minutes on a server at 100k documents), the rest
    embedded a few model batches at a time, then put into the writer in the order they came."""

    def __init__(self, writer: Writer, embedder, progress: bool):
        self.writer, self.embedder, self.progress = writer, embedder, progress
        self.waiting: list[tuple[Document, list[Chunk], list[str]]] = []
        self.text_of: dict[str, str] = {}    # key -> embedded text, for the waiting documents' chunks
        self.embedded = 0
        self.bar = None                      # made at the first batch: a run that embeds nothing shows no bar
        self.limit = EMBED_BATCHES * (getattr(embedder, "batch_size", 0) or 64)

    def add(self, doc: Document, chunks: list[Chunk]) -> int:
        texts = [embed_text(doc.title, doc.source, c.text) for c in chunks]
        keys = [sha256(t) for t in texts]
        self.text_of.update(zip(keys, texts))
        self.waiting.append((doc, chunks, keys))
        if len(self.text_of) >= self.limit:
            self.flush()
        return len(chunks)

    def flush(self) -> None:
        if not self.waiting:
            return
        vectors = self.writer.known_vectors(dict(self.text_of)) if self.text_of else {}
        fresh = [k for k in self.text_of if k not in vectors]      # each distinct new text is embedded once
        if fresh:
            if self.progress and self.bar is None:
                from tqdm import tqdm

                self.bar = tqdm(unit="chunk", desc="embedding", leave=False)
            for i in range(0, len(fresh), self.limit):     # a long document is embedded a batch at a time too
                part = fresh[i:i + self.limit]
                vectors.update(zip(part, self.embedder.encode([self.text_of[k] for k in part])))
                if self.bar is not None:
                    self.bar.update(len(part))
            self.embedded += len(fresh)
        dim = getattr(self.embedder, "dim", 0)
        for doc, chunks, keys in self.waiting:
            matrix = np.stack([vectors[k] for k in keys]) if keys else np.zeros((0, dim), dtype=np.float32)
            self.writer.put(doc, chunks, keys, matrix)
        self.waiting.clear()
        self.text_of.clear()     # what a later document repeats is found again through known_vectors

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _cut(doc: Document, settings: Settings, embedder) -> Iterator[Chunk]:
    """`doc`'s chunks as they are cut, re-split where the model would truncate them (checked 256 at a time)."""
    chunks = iter_chunks(doc, settings.chunk_size, settings.chunk_overlap)
    while part := list(islice(chunks, 256)):
        yield from fit_to_model(part, doc, embedder.max_tokens - 2, embedder.count_wordpieces, settings.chunk_size)


def manifest(settings: Settings, embedder, summary: dict) -> dict:
    """What built the index, recorded with it: a mismatch with the settings in use is detected, not guessed. (Each
    document's sha256 lives with the document in the store: a list here would be rewritten whole by every update.)"""
    from importlib.metadata import version

    def v(pkg):
        try:
            return version(pkg)
        except Exception:
            return None

    return {
        "model": settings.model,
        "embedding_backend": getattr(embedder, "backend", "custom"),
        "dimension": embedder.dim,
        "max_model_tokens": embedder.max_tokens,
        "chunking": settings.chunking(),
        "embedded_text": "title + newline + chunk text (title omitted when it is only the file name)",
        "counts": {"documents": summary["documents"], "chunks": summary["chunks_total"]},
        "libraries": {p: v(p) for p in ("rag-cite", "faiss-cpu", "pymilvus", "sentence-transformers", "torch",
                                        "bm25s", "tiktoken", "transformers")},
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "build": {k: summary[k] for k in ("added", "changed", "removed", "unchanged", "skipped",
                                          "chunks_embedded", "seconds")},
    }


def _where(settings: Settings) -> str:
    if settings.store == "milvus":
        from .llm import redact

        return redact(settings.milvus_target())
    return str(settings.index)


def warn(line: str) -> None:
    print(line, file=sys.stderr)
