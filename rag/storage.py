"""The storage seam: what indexing, retrieval and answering need from an index, keyed by ids, whatever engine holds it.

Two backends implement it:
- `rag.store.FaissStore` (`RAG_STORE=faiss`, the default): an index folder of immutable builds (FAISS vectors,
  BM25, JSONL records) switched by an atomic `CURRENT` file;
- `rag.milvus_store.MilvusStore` (`RAG_STORE=milvus`): a Milvus collection pair (chunks with dense and BM25-sparse
  vectors, documents with their text) in an embedded Milvus Lite file, a Milvus Lite server or a Milvus cluster.

`open_store(settings)` loads the configured one, `open_writer(settings, embedder)` starts an update of it.
Reading: a `Store` answers searches with chunk ids and scores, and hands out records by id; a `Filter` says which
documents a search may return. Writing: `open_writer` starts an update that readers cannot see until
`Writer.commit()`; `rag.indexer.build_index` plans it (the content-hash diff: which documents are new, changed,
unchanged or gone) and feeds the writer, so planning never depends on the engine.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np

from .types import Chunk, DocInfo, DocMeta, Document


@dataclass(frozen=True)
class Filter:
    """Which documents a search may return: those in `doc_ids` (None: any) dated within [date_from, date_to]
    (ISO YYYY-MM-DD, inclusive; a bound excludes undated documents)."""
    doc_ids: frozenset[str] | None = None
    date_from: str | None = None
    date_to: str | None = None

    @staticmethod
    def of(doc_ids: Iterable[str] | None = None, date_from: str | None = None,
           date_to: str | None = None) -> "Filter | None":
        """The filter for these arguments, or None when they restrict nothing."""
        if not doc_ids and not date_from and not date_to:
            return None
        return Filter(frozenset(doc_ids) if doc_ids else None, date_from or None, date_to or None)

    def allows(self, doc: DocMeta) -> bool:
        if self.doc_ids is not None and doc.id not in self.doc_ids:
            return False
        if self.date_from or self.date_to:
            if not doc.date:
                return False
            if self.date_from and doc.date < self.date_from:
                return False
            if self.date_to and doc.date > self.date_to:
                return False
        return True

    def narrowed(self, doc_ids: Iterable[str]) -> "Filter":
        """This filter, also limited to `doc_ids`."""
        ids = frozenset(doc_ids)
        return Filter(ids if self.doc_ids is None else self.doc_ids & ids, self.date_from, self.date_to)


def only(doc_ids: Iterable[str], where: Filter | None) -> Filter:
    """A filter for `doc_ids` within `where` (itself when given)."""
    return (where or Filter()).narrowed(doc_ids)


class Store(ABC):
    """A loaded index: read-only, the state of one committed update (`state`). Implementations are thread-safe for
    reads. Scores: `dense` gives cosines of unit vectors (higher is better), `keyword` positive BM25 scores (higher
    is better; only rank order is comparable across backends)."""

    backend: str                       # one of BACKENDS
    manifest: dict                     # what built it: model, embedding_backend, dimension, chunking, counts, …

    @abstractmethod
    def state(self) -> str:
        """An id of the committed state this store serves; another value once a newer update has landed (cheap:
        replicas poll it to reload)."""

    @abstractmethod
    def latest(self) -> str:
        """The id of the newest committed state in the storage (== state() while nothing newer has landed)."""

    @abstractmethod
    def count(self) -> int:
        """Number of chunks."""

    @abstractmethod
    def dense(self, vector: np.ndarray, k: int, where: Filter | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine) of the k chunks nearest to unit `vector`, best first, within `where`."""

    @abstractmethod
    def keyword(self, text: str, k: int, where: Filter | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the k best keyword matches for `text`, best first, scores > 0, within `where`."""

    @abstractmethod
    def vectors(self, chunk_ids: Sequence[str]) -> np.ndarray:
        """The stored unit vectors (float32, one row per id, in order) of these chunks."""

    @abstractmethod
    def chunks(self, chunk_ids: Iterable[str]) -> dict[str, Chunk]:
        """The chunks with these ids (unknown ids are left out)."""

    @abstractmethod
    def documents(self, doc_ids: Iterable[str]) -> dict[str, DocInfo]:
        """These documents with their text (unknown ids are left out)."""

    @abstractmethod
    def catalog(self) -> dict[str, DocMeta]:
        """Every document's metadata (no text): the document list, titles for the second hop, date filters."""

    @abstractmethod
    def mentions(self, words: Iterable[str]) -> set[str]:
        """Those of `words` (folded: lowercase, accents stripped, see `rag.text.fold`) that some document uses as
        a word."""

    def contains(self, strings: Iterable[str]) -> set[str]:
        """Those of `strings` (numbers, acronyms, as written) that occur in some document's text, inside a longer
        word too ("SP" in "MSPs"). This default asks `mentions` for their folded words; backends that can search
        text for a substring do that instead."""
        import re

        from .text import fold

        parts = {s: set(re.findall(r"\w+", fold(s))) for s in strings}
        used = self.mentions(set().union(*parts.values())) if parts else set()
        return {s for s, words in parts.items() if words and words <= used}

    def warm(self) -> None:
        """Load now what the first question would otherwise wait for (the catalog, lookup tables), so a replica
        can prepare a new state in the background while it serves the old one."""
        self.catalog()

    def close(self) -> None:
        """Release connections and files."""


class Writer(ABC):
    """One update in progress. Every document of the new corpus is either kept (unchanged) or put (new or
    changed); `commit` makes exactly that set current in one step, dropping documents neither kept nor put.
    Until then readers see the previous state; a writer killed at any moment leaves it served."""

    full_rebuild: str | None = None    # why nothing can be reused (model or chunking changed), or None

    @abstractmethod
    def existing(self) -> Mapping[str, str]:
        """doc id -> sha256 of the documents the current state holds (empty when `full_rebuild`)."""

    @abstractmethod
    def known_vectors(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """Vectors the store already holds for these embedding keys (sha256 of the embedded text), to reuse. `keys`
        may be a mapping key -> embedded text, which a backend may search by."""

    @abstractmethod
    def keep(self, doc_id: str) -> int:
        """Carry the document unchanged into the new state; returns its number of chunks."""

    @abstractmethod
    def put(self, doc: Document, chunks: Sequence[Chunk], keys: Sequence[str], vectors: np.ndarray) -> None:
        """Add or replace a document with its chunks, their embedding keys and unit vectors (row i: chunks[i])."""

    @abstractmethod
    def commit(self, manifest: dict) -> bool:
        """Make the new state current atomically; False when nothing changed (the current state is kept)."""

    @abstractmethod
    def abort(self) -> None:
        """Drop the update; the current state stays."""


def open_store(settings) -> Store:
    """The committed index that `settings` point at (a one-line RagError when there is none, or when it was built
    with another model than settings.model)."""
    if settings.store == "milvus":
        from .milvus_store import MilvusStore

        return MilvusStore.open(settings)
    from .store import FaissStore

    return FaissStore.open(settings)


def index_exists(settings) -> bool:
    """Is there a committed index where `settings` point (of any model)?"""
    if settings.store == "milvus":
        from .milvus_store import MilvusStore

        return MilvusStore.exists(settings)
    from .folder import active_build

    return active_build(settings.index) is not None


def open_writer(settings, embedder) -> Writer:
    """Start an update of the index that `settings` point at (made when it does not exist yet)."""
    if settings.store == "milvus":
        from .milvus_writer import MilvusWriter

        return MilvusWriter.open(settings, embedder)
    from .store import FaissWriter

    return FaissWriter.open(settings, embedder)
