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

from . import spelling, text as T
from .config import Settings
from .embed import Embedder, get_embedder
from .errors import RagError
from .storage import Filter, Store, only, open_store
from .types import Chunk, Found, Hit

from .config import MODES as RETRIEVAL_MODES  # noqa: E402  (one list of modes: config.MODES)
NEAR_DUPLICATE_COSINE = 0.95   # vectors this close: the same passage reworded or re-wrapped
SHARED_SHINGLES = 0.30         # or this share of the shorter passage's word 6-grams quoted verbatim in the other


class Retriever:
    """Searches a `rag.storage.Store` by chunk ids: fusion, the second hop and near-duplicate collapse live here,
    storage behind the store. `retrieve` hands the answerer everything it needs as data (`types.Found`)."""

    def __init__(self, store: Store, embedder: Embedder, settings: Settings):
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self._reranker = None

    # ---- public -------------------------------------------------------------------------------------
    def search(self, query: str, k: int | None = None, mode: str | None = None,
               where: Filter | None = None) -> list[Hit]:
        """The k best passages for `query`, best first, only from the documents `where` allows."""
        return list(self.retrieve(query, k, mode, where, with_docs=False).hits)

    def warm(self) -> "Retriever":
        """Load the store's lookup tables, the title index of the second hop and the English word list typos are
        told from now rather than on the first question (at 87k documents the catalog alone takes seconds);
        returns itself."""
        self.store.warm()
        self._titles
        spelling.is_english("warm")
        return self

    def retrieve(self, query: str, k: int | None = None, mode: str | None = None, where: Filter | None = None,
                 with_docs: bool = True) -> Found:
        """The k best passages for `query` with what answering them needs: their documents, the question's and
        passages' vectors, and which of the question's words the corpus uses. A word no document uses, one typo
        from a word of the passages found ("ARPNET" where they say "ARPANET"), is read as that word and the search
        made again (`rag.spelling`); `Found.question` is then the question as searched."""
        # the respelling and the "never mention" check, in both searches, share the store's answers
        return self._retrieve(query, k, mode, where, with_docs, _asked_once(self.store.mentions),
                              self.settings.respell)

    def _retrieve(self, query: str, k: int | None, mode: str | None, where: Filter | None, with_docs: bool,
                  mentions, respell: bool) -> Found:
        k = k or self.settings.top_k
        mode = mode or self.settings.mode
        if mode not in RETRIEVAL_MODES:
            raise RagError(f"unknown retrieval mode {mode!r}; use one of {', '.join(RETRIEVAL_MODES)}")
        size = self.store.count()
        qvec = self.embedder.encode([query])[0] if query.strip() else None
        if qvec is None or not size:
            dim = self.store.manifest.get("dimension") or getattr(self.embedder, "dim", 0)
            return Found(query, (), {}, qvec, np.zeros((0, dim), dtype=np.float32), indexed=size)
        depth = max(self.settings.candidates, 4 * k)
        rankings = self._rankings(query, qvec, mode, depth, where)
        scored = rrf(rankings, self.settings.rrf_k)     # Hit.score has one meaning: the fused rank score
        if self.settings.hops > 1 and scored:
            linked = self._linked(query, scored[0][0], mode, depth, where)
            if linked:
                fused = rrf([*rankings, linked], self.settings.rrf_k)
                top = scored[0][0]      # the first hop's best passage keeps rank 1; the hop fills the rest
                rest = [(r, x) for r, x in fused if r != top]
                bridge = linked[0][0]   # and a bridge named as a name is among the k, second
                if bridge != top and bridge not in [c for c, _ in rest[:k - 1]] and self._named_in(top, bridge):
                    rest = [(bridge, dict(fused)[bridge]), *[(r, x) for r, x in rest if r != bridge]]
                scored = [(top, dict(fused)[top]), *rest]
        if self.settings.reranker:
            fused = dict(scored)
            scored = [(c, fused[c]) for c in self._rerank(query, [c for c, _ in scored[:depth]])]
        bm25 = dict(rankings[-1]) if mode in ("bm25", "hybrid") else {}
        hits, vectors = self._collapse(scored, k, qvec, bm25)
        found_ids = {d for h in hits for d in h.doc_ids}
        docs = self.store.documents(found_ids) if with_docs else {}
        if respell:
            # a typo is read as a word of the documents found, fetched only for a word no document uses
            texts = lambda: [d.text for d in (docs or self.store.documents(found_ids)).values()]  # noqa: E731
            fixed = spelling.respell(query, [h.chunk.text for h in hits], mentions, texts)
            if fixed != query:
                return self._retrieve(fixed, k, mode, where, with_docs, mentions, respell=False)
        terms, full_names = T.named_terms(query) if with_docs else ((), ())
        words = set().union(*map(T.name_words, full_names))
        mentioned, contained = self._used(words, set(terms), [h.chunk.text for h in hits], mentions)
        return Found(query, tuple(hits), docs, qvec, vectors, mentioned, contained, size)

    def _used(self, words: set[str], terms: set[str], texts: list[str], mentions) -> tuple[frozenset, frozenset]:
        """Which of the question's name `words` some document uses (`mentions`: `Store.mentions`) and which of its
        `terms` some document contains (`Store.contains`). What the retrieved passages' `texts` (spans of their
        documents) already hold as whole words is settled here, the same answer the store gives; only the rest goes
        to the store (on a large Milvus collection, a call that walks every row)."""
        vocabulary = set().union(*(re.findall(r"\w+", T.fold(t)) for t in texts)) if words else set()
        seen_words = words & vocabulary
        seen_terms = {t for t in terms if any(re.search(rf"(?<!\w){re.escape(t)}(?!\w)", x) for x in texts)
                      or t.isalpha() and any(T.spells(t, x) for x in texts)}     # "UMC": "United Methodist Church"
        rest_words, rest_terms = words - seen_words, terms - seen_terms
        return (frozenset(seen_words | (mentions(rest_words) if rest_words else set())),
                frozenset(seen_terms | (self.store.contains(rest_terms) if rest_terms else set())))

    def _linked(self, query: str, best_id: str, mode: str, depth: int, where) -> list[tuple[str, float]]:
        """Second hop: the passages of documents whose title the best passage mentions (the bridge entity a
        multi-hop question leaves implicit), ranked by a search for the question plus that passage."""
        best = self.store.chunks([best_id])[best_id]
        catalog = self._catalog
        # a bridge is another entity: documents sharing the best passage's own title (other passages of the same
        # article, as in XQuAD) are not followed
        own = catalog[best.doc_id].title.lower() if best.doc_id in catalog else ""
        linked = {d for d in self._titles_in(best.text) - {best.doc_id} if catalog[d].title.lower() != own}
        if not linked:
            return []
        where = only(linked, where)
        if where.doc_ids is not None and not where.doc_ids:
            return []
        text = f"{query}\n{best.text}"
        found = self._rankings(text, self.embedder.encode([text])[0], mode, depth, where)
        return found[0] if len(found) == 1 else rrf(found, self.settings.rrf_k)

    def _named_in(self, chunk_id: str, other_id: str) -> bool:
        """Does passage `chunk_id` write the title of `other_id`'s document as written, capitals and all ("…in
        "Lemony Snicket's A Series of Unfortunate Events"…"), as a name is? "began construction" does not name the
        article "Construction": the second hop may follow it, but it takes no place of its own among the k."""
        chunks = self.store.chunks([chunk_id, other_id])
        title = self._catalog[chunks[other_id].doc_id].title
        words = re.findall(r"\w+", title)
        return bool(words) and re.search(r"(?<!\w)" + r"\W+".join(map(re.escape, words)) + r"(?!\w)",
                                         chunks[chunk_id].text) is not None

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
    def _catalog(self):
        return self.store.catalog()

    @cached_property
    def _titles(self) -> dict[tuple[str, ...], set[str]]:
        """Document ids by their title's words (titles that are only a file name left out)."""
        titles: dict[tuple[str, ...], set[str]] = {}
        for d in self._catalog.values():
            words = tuple(re.findall(r"\w+", d.title.lower()))
            if len(" ".join(words)) > 3 and d.title != d.source:
                titles.setdefault(words, set()).add(d.id)
        return titles

    def _rankings(self, query: str, qvec, mode: str, depth: int, where) -> list[list[tuple[str, float]]]:
        out = []
        if mode in ("dense", "hybrid"):
            out.append(self.store.dense(qvec, depth, where))
        if mode in ("bm25", "hybrid"):
            out.append(self.store.keyword(query, depth, where))
        return out

    def _rerank(self, query: str, ids: list[str]) -> list[str]:
        """`ids` reordered by the cross-encoder in RAG_RERANKER."""
        if self._reranker is None:
            from .embed import hf_offline

            hf_offline()
            from sentence_transformers import CrossEncoder

            try:
                self._reranker = CrossEncoder(self.settings.reranker, device="cpu")
            except (OSError, ValueError) as e:
                raise RagError(f"cannot load reranker {self.settings.reranker!r} ({e}); "
                               f"unset RAG_RERANKER or point it at a local CrossEncoder folder") from None
        chunks = self.store.chunks(ids)
        scores = self._reranker.predict([(query, chunks[c].text) for c in ids], show_progress_bar=False)
        return [c for _, c in sorted(zip((-float(s) for s in scores), ids))]

    # ---- near-duplicate collapse --------------------------------------------------------------------
    def _collapse(self, scored: list[tuple[str, float]], k: int, qvec, bm25: dict) -> tuple[list[Hit], np.ndarray]:
        """The k best passages as Hits, near-copies folded into the passage they copy; and the hits' vectors."""
        ids = [c for c, _ in scored]
        chunks = self.store.chunks(ids)
        matrix = self.store.vectors(ids) if ids else np.zeros((0, len(qvec)), dtype=np.float32)
        vecs = dict(zip(ids, matrix))
        catalog = self._catalog
        groups: list[tuple[str, float, list[str]]] = []   # lead id, score, duplicate ids
        grams: dict[str, set] = {}

        def shingles_of(c: Chunk) -> set:
            if c.id not in grams:
                grams[c.id] = shingles(c.text)
            return grams[c.id]

        for cid, score in scored:
            if cid not in chunks:
                continue
            for lead, _, dups in groups:
                if _same_passage(chunks[lead], chunks[cid], float(vecs[lead] @ vecs[cid]), shingles_of):
                    dups.append(cid)
                    break
            else:
                if len(groups) == k:
                    continue   # keep scanning: later passages may still be copies of a kept one
                groups.append((cid, score, []))
        hits = []
        for rank, (lead, score, dups) in enumerate(groups, 1):
            c = chunks[lead]
            d = catalog.get(c.doc_id)
            dup_chunks = tuple(chunks[r] for r in dups if chunks[r].doc_id != c.doc_id)
            hits.append(Hit(c, score, rank, d.title if d else c.doc_id, d.date if d else None, d.source if d else "",
                            _one_per_doc(dup_chunks), float(vecs[lead] @ qvec), bm25.get(lead)))
        lead_vectors = np.stack([vecs[h.chunk.id] for h in hits]) if hits else np.zeros((0, len(qvec)), np.float32)
        return hits, lead_vectors


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


def rrf(rankings: list[list[tuple[str, float]]], k: int = 60) -> list[tuple[str, float]]:
    """Reciprocal-rank fusion: score(id) = Σ 1 / (k + rank) over the rankings that hold it, best first.

    >>> rrf([[("a", .9), ("b", .5)], [("b", 12.0)]], k=60)[0][0]
    'b'
    """
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, (cid, _) in enumerate(ranking, 1):
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (k + rank)
    return sorted(fused.items(), key=lambda x: -x[1])


def open_retriever(settings: Settings, embedder: Embedder | None = None) -> Retriever:
    """Open the configured index (checking it was built with settings.model) and a retriever on it."""
    store = open_store(settings)
    # queries are embedded the way the index was (a torch-built index keeps torch queries)
    backend = store.manifest.get("embedding_backend", "torch")
    return Retriever(store, embedder or get_embedder(settings.model, settings.batch_size, backend), settings)


def _asked_once(mentions):
    """`Store.mentions` for one search: a word already asked about is answered from the first answer, so the store
    (a walk over every row of a large Milvus collection) hears of each word once."""
    known: dict[str, bool] = {}

    def ask(words):
        new = set(words) - known.keys()
        if new:
            used = mentions(new)
            known.update((w, w in used) for w in new)
        return {w for w in words if known[w]}
    return ask
