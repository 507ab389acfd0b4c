"""Retrieval: dense (FAISS), keyword (BM25) or hybrid (reciprocal-rank fusion), then near-duplicate collapse.

News corpora repeat passages across outlets; such copies collapse into one Hit that lists every document it
stands in (`Hit.duplicates`), so an answer can cite them all and the top k holds k different passages.
An optional sentence-transformers CrossEncoder (a local folder in RAG_RERANKER) reorders the fused
candidates; none ships offline, so it is off by default.
"""
from __future__ import annotations

import re
from functools import cached_property

import numpy as np

from . import keyword
from .config import Settings
from .embed import Embedder, get_embedder
from .errors import RagError
from .store import Index
from .types import Chunk, Hit

from .config import MODES as RETRIEVAL_MODES  # noqa: E402  (one list of modes: config.MODES)
NEAR_DUPLICATE_COSINE = 0.95   # vectors this close: the same passage reworded or re-wrapped
SHARED_SHINGLES = 0.30         # or this share of the shorter passage's word 6-grams quoted verbatim in the other


class Retriever:
    def __init__(self, index: Index, embedder: Embedder, settings: Settings):
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self._reranker = None

    # ---- public -------------------------------------------------------------------------------------
    def search(self, query: str, k: int | None = None, mode: str | None = None, doc_ids=None,
               date_from: str | None = None, date_to: str | None = None) -> list[Hit]:
        """The k best passages for `query`, best first, optionally only from `doc_ids` / a date range."""
        k = k or self.settings.top_k
        mode = mode or self.settings.mode
        if mode not in RETRIEVAL_MODES:
            raise RagError(f"unknown retrieval mode {mode!r}; use one of {', '.join(RETRIEVAL_MODES)}")
        if not query.strip() or not self.index.chunks:
            return []
        allowed = self._allowed_rows(doc_ids, date_from, date_to)
        depth = max(self.settings.candidates, 4 * k)
        rankings = self._rankings(query, mode, depth, allowed)
        scored = rankings[0] if len(rankings) == 1 else rrf(rankings, self.settings.rrf_k)
        if self.settings.hops > 1 and scored:
            linked = self._linked(query, scored[0][0], mode, depth, allowed)
            if linked:
                fused = rrf([*rankings, linked], self.settings.rrf_k)
                top = scored[0]          # the first hop's best passage keeps rank 1; the hop fills the rest
                scored = [top, *[(r, x) for r, x in fused if r != top[0]]]
        if self.settings.reranker:
            scored = self._rerank(query, scored[:depth])
        return self._collapse(scored, k)

    def _linked(self, query: str, best_row: int, mode: str, depth: int, allowed) -> list[tuple[int, float]]:
        """Second hop: the passages of documents whose title the best passage mentions (the bridge entity a
        multi-hop question leaves implicit), ranked by a search for the question plus that passage."""
        best = self.index.chunks[best_row]
        # a bridge is another entity: documents sharing the best passage's own title (other passages of the same
        # article, as in XQuAD) are not followed
        own = self.index.docs[best.doc_id].title.lower() if best.doc_id in self.index.docs else ""
        linked = {d for d in self._titles_in(best.text) - {best.doc_id} if self.index.docs[d].title.lower() != own}
        rows = [r for d in linked for r in self._rows_of_doc.get(d, ())]
        if allowed is not None:
            rows = sorted(set(rows) & set(allowed.tolist()))
        if not rows:
            return []
        found = self._rankings(f"{query}\n{best.text}", mode, depth, np.array(rows, dtype=np.int64))
        return found[0] if len(found) == 1 else rrf(found, self.settings.rrf_k)

    def _titles_in(self, text: str) -> set[str]:
        """Ids of the documents whose title (4+ characters, as whole words) appears in `text`."""
        titles = self._titles
        longest = min(12, max(map(len, titles), default=0))
        words = re.findall(r"\w+", text.lower())
        found: set[str] = set()
        for n in range(1, longest + 1):
            for i in range(len(words) - n + 1):
                found |= titles.get(tuple(words[i:i + n]), set())
        return found

    @cached_property
    def _titles(self) -> dict[tuple[str, ...], set[str]]:
        """Document ids by their title's words (titles that are only a file name left out)."""
        titles: dict[tuple[str, ...], set[str]] = {}
        for d in self.index.docs.values():
            words = tuple(re.findall(r"\w+", d.title.lower()))
            if len(" ".join(words)) > 3 and d.title != d.source:
                titles.setdefault(words, set()).add(d.id)
        return titles

    @cached_property
    def _rows_of_doc(self) -> dict[str, list[int]]:
        rows: dict[str, list[int]] = {}
        for i, c in enumerate(self.index.chunks):
            rows.setdefault(c.doc_id, []).append(i)
        return rows

    def _rankings(self, query: str, mode: str, depth: int, allowed) -> list[list[tuple[int, float]]]:
        out = []
        if mode in ("dense", "hybrid"):
            out.append(self._dense(self.query_vector(query), depth, allowed))
        if mode in ("bm25", "hybrid"):
            out.append(self._bm25(query, depth, allowed))
        return out

    @cached_property
    def _query_vectors(self) -> dict[str, np.ndarray]:
        return {}

    @cached_property
    def _row_of_chunk(self) -> dict[str, int]:
        return {c.id: i for i, c in enumerate(self.index.chunks)}

    def query_vector(self, query: str) -> np.ndarray:
        """The query's embedding; the last few are kept, so the answerer reuses the one the search made."""
        cache = self._query_vectors
        if query not in cache:
            if len(cache) >= 32:
                cache.pop(next(iter(cache)))
            cache[query] = self.embedder.encode([query])[0]
        return cache[query]

    def passage_vectors(self, hits) -> np.ndarray:
        """The stored vectors of the hits' passages (what was embedded: title and passage), row i for hits[i]."""
        rows = self._row_of_chunk
        if not hits:
            return np.zeros((0, self.index.vectors.d), dtype=np.float32)
        return self.index.vectors.reconstruct_batch(np.array([rows[h.chunk.id] for h in hits], dtype=np.int64))

    # ---- candidates ---------------------------------------------------------------------------------
    def _allowed_rows(self, doc_ids, date_from, date_to) -> np.ndarray | None:
        if not doc_ids and not date_from and not date_to:
            return None
        docs = self.index.docs
        wanted = set(doc_ids) if doc_ids else set(docs)
        if date_from or date_to:
            wanted = {d for d in wanted if d in docs and docs[d].date
                      and (not date_from or docs[d].date >= date_from) and (not date_to or docs[d].date <= date_to)}
        return np.array(sorted(r for d in wanted for r in self._rows_of_doc.get(d, ())), dtype=np.int64)

    def _dense(self, qvec, depth: int, allowed) -> list[tuple[int, float]]:
        if allowed is not None:
            if not len(allowed):
                return []
            scores = self.index.vectors.reconstruct_batch(allowed) @ qvec
            top = np.argsort(-scores)[:depth]
            return [(int(allowed[i]), float(scores[i])) for i in top]
        n = min(depth, self.index.vectors.ntotal)
        scores, rows = self.index.vectors.search(qvec[None, :].astype(np.float32), n)
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0]) if r >= 0]

    def _bm25(self, query: str, depth: int, allowed) -> list[tuple[int, float]]:
        return keyword.search(self.index.bm25, query, depth, len(self.index.chunks), allowed)

    def _rerank(self, query: str, scored: list[tuple[int, float]]) -> list[tuple[int, float]]:
        if self._reranker is None:
            from sentence_transformers import CrossEncoder

            try:
                self._reranker = CrossEncoder(self.settings.reranker, device="cpu")
            except (OSError, ValueError) as e:
                raise RagError(f"cannot load reranker {self.settings.reranker!r} ({e}); "
                               f"unset RAG_RERANKER or point it at a local CrossEncoder folder") from None
        chunks = self.index.chunks
        scores = self._reranker.predict([(query, chunks[r].text) for r, _ in scored], show_progress_bar=False)
        return sorted(((r, float(s)) for (r, _), s in zip(scored, scores)), key=lambda x: -x[1])

    # ---- near-duplicate collapse --------------------------------------------------------------------
    def _collapse(self, scored: list[tuple[int, float]], k: int) -> list[Hit]:
        chunks, docs = self.index.chunks, self.index.docs
        groups: list[tuple[int, float, list[int]]] = []   # lead row, score, duplicate rows
        vecs: dict[int, np.ndarray] = {}
        grams: dict[str, set] = {}

        def shingles_of(c: Chunk) -> set:
            if c.id not in grams:
                grams[c.id] = shingles(c.text)
            return grams[c.id]

        for row, score in scored:
            vecs[row] = self.index.vectors.reconstruct(int(row))
            for lead, _, dups in groups:
                if _same_passage(chunks[lead], chunks[row], float(vecs[lead] @ vecs[row]), shingles_of):
                    dups.append(row)
                    break
            else:
                if len(groups) == k:
                    continue   # keep scanning: later rows may still be copies of a kept passage
                groups.append((row, score, []))
        hits = []
        for rank, (lead, score, dups) in enumerate(groups, 1):
            c = chunks[lead]
            d = docs.get(c.doc_id)
            dup_chunks = tuple(chunks[r] for r in dups if chunks[r].doc_id != c.doc_id)
            hits.append(Hit(c, score, rank, d.title if d else c.doc_id, d.date if d else None,
                            d.source if d else "", _one_per_doc(dup_chunks)))
        return hits


def shingles(text: str, n: int = 6) -> set[tuple[str, ...]]:
    """Word n-grams, case and punctuation folded (so straight and curly quotes agree)."""
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def _same_passage(a: Chunk, b: Chunk, cosine: float, shingles_of=None) -> bool:
    """Is b a near-copy of a (another document quoting the same passage)? `shingles_of(chunk)` may memoise."""
    if a.doc_id == b.doc_id:
        return False        # overlapping chunks of one document are not corroboration
    if cosine >= NEAR_DUPLICATE_COSINE:
        return True
    shingles_of = shingles_of or (lambda c: shingles(c.text))
    sa, sb = shingles_of(a), shingles_of(b)
    return bool(sa and sb) and len(sa & sb) >= SHARED_SHINGLES * min(len(sa), len(sb))


def _one_per_doc(chunks: tuple[Chunk, ...]) -> tuple[Chunk, ...]:
    seen, out = set(), []
    for c in chunks:
        if c.doc_id not in seen:
            seen.add(c.doc_id)
            out.append(c)
    return tuple(out)


def rrf(rankings: list[list[tuple[int, float]]], k: int = 60) -> list[tuple[int, float]]:
    """Reciprocal-rank fusion: score(row) = Σ 1 / (k + rank) over the rankings that hold it.

    >>> rrf([[(7, .9), (3, .5)], [(3, 12.0)]], k=60)[0][0]
    3
    """
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, (row, _) in enumerate(ranking, 1):
            fused[row] = fused.get(row, 0.0) + 1.0 / (k + rank)
    return sorted(fused.items(), key=lambda x: -x[1])


def open_retriever(settings: Settings, embedder: Embedder | None = None) -> Retriever:
    """Load the index at settings.index (checking it was built with settings.model) and a retriever on it."""
    index = Index.load(settings.index, model=settings.model)
    # queries are embedded the way the index was (a torch-built index keeps torch queries)
    backend = index.manifest.get("embedding_backend", "torch")
    return Retriever(index, embedder or get_embedder(settings.model, settings.batch_size, backend), settings)
