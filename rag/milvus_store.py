"""The Milvus backend of the storage seam (`RAG_STORE=milvus`): an embedded Milvus Lite file, a Milvus Lite server or
a Milvus cluster, all through pymilvus `MilvusClient`. This module owns reading (`MilvusStore`) and what readers and
writers share; updates are rag.milvus_writer's, connecting, schemas and expressions rag.milvus_schema's.

Collections (`<p>` = RAG_MILVUS_PREFIX):
    <p>_chunks_<dim>   one row per chunk and generation: the chunk record, its embedding key, the document's day
                       (INT64 20240711, 0: undated), the dense vector, and `terms` (the embedded text — title +
                       chunk — as rag.keyword tokens: lowercase, stopwords out, Snowball stems) from which Milvus's
                       own BM25 function fills a sparse vector, incrementally
    <p>_documents      one row per document, part and generation: metadata and ≤ 16,000 characters of text
                       (VARCHAR holds 65,535 bytes); a 2-d dummy vector, as Milvus wants one
    <p>_state          `state:<gen>` rows {floor, chunks collection, …}, `manifest:<gen>:<i>` parts, and for writers
                       only: the document map (`docs:<gen>:<shard>:<i>`: doc id -> sha256, chunks), a
                       `writing:<gen>` marker while an update is at work, and a server writer's `lease`

Generations make an update atomic: rows carry `born` and `died` (MAX while alive); a reader loads the newest state
row (generation G, floor F) once and filters everything with `born >= F and born <= G and died > G`. How a writer
makes G + 1, and what it deletes after: rag.milvus_writer. Readers more than one commit behind may see rows vanish:
replicas poll `latest()` and reopen.

Analysis is done here, not by the Milvus analyzer, because Milvus Lite 3.2 has no stemmer or stopword presets
(its "standard" analyzer only splits on \\w+ and lowercases): the same tokens feed Milvus's BM25 on every
deployment, and they are the FAISS backend's bm25s tokens. BM25 statistics (IDF, average length) are Milvus's, over
every row of the collection, invisible generations included; Milvus Lite 3.2 keeps them per segment (an upstream
TODO), so there a chunk's score moves when an update rewrites its row, and fresh segments score differently.
"""
from __future__ import annotations

import json
import os
import re
from typing import Iterable, Sequence

import numpy as np

from . import keyword
from .errors import RagError
from .llm import redact
from .milvus_schema import connect, in_list, where_expr
from .storage import Filter, Store
from .types import Chunk, DocInfo, DocMeta

BATCH_IDS = 1_000          # ids per `in [...]` expression
QUERY_CAP = 16_384         # a server's largest query window; more is read with an iterator
EXACT_DOCS = 200           # a dense search within at most this many documents scores their chunks exactly
EF_SEARCH = 128            # HNSW search list (Milvus AUTOINDEX), as the FAISS backend's HNSW uses
FEW_DOCS_EF = 1_024        # the search list for a few documents' rows: at 103k chunks 128 left 4 of 23 second-hop
                           # searches incomplete (each then read by a 400-700 ms query), 1,024 none, for ~15 ms more
ROW_CACHE = 20_000         # chunk rows kept from searches (about 2 KB each)
CHUNK_FIELDS = ["chunk_id", "doc_id", "text", "start", "end", "n_tokens", "text_hash", "page", "clipped"]
ROW_FIELDS = CHUNK_FIELDS + ["vec"]
META_FIELDS = ["doc_id", "title", "source", "sha256", "date", "source_url", "n_chunks", "lead"]
PARTS_STEP = 4             # text parts of a document asked for at a time by primary key
FEW_ROWS = 50              # rows a combined `mentions` / `contains` check reads to settle several words at once


class MilvusBase:
    """What readers and writers share: the client, collection names, state records and visible-row queries."""

    def _setup(self, client, settings):
        self.client, self.uri, self.prefix = client, settings.milvus_target(), settings.milvus_prefix
        self.docs_coll, self.state_coll = f"{self.prefix}_documents", f"{self.prefix}_state"

    def __repr__(self):
        return f"{type(self).__name__}({redact(self.uri)!r}, prefix={self.prefix!r})"

    def _state_rows(self) -> list[dict]:
        if not self.client.has_collection(self.state_coll):
            return []
        self.client.load_collection(self.state_coll)
        return self._all(self.state_coll, 'key like "state:%"', ["key", "gen", "body"])

    def _newest_state(self) -> dict | None:
        rows = self._state_rows()
        return max(rows, key=lambda r: r["gen"]) if rows else None

    def _manifest(self, state: dict) -> dict:
        head = json.loads(state["body"])
        parts = self._all(self.state_coll, f'gen == {state["gen"]} and key like "manifest:%"', ["key", "body"])
        return json.loads("".join(p["body"] for p in sorted(parts, key=lambda p: p["key"]))) if parts else head

    def _all(self, coll: str, expr: str, fields: list[str]) -> list[dict]:
        rows = self.client.query(coll, filter=expr, output_fields=fields, limit=QUERY_CAP)
        if len(rows) < QUERY_CAP:
            return list(rows)
        it, rows = self.client.query_iterator(coll, batch_size=4096, filter=expr, output_fields=fields), []
        while batch := it.next():
            rows.extend(batch)
        it.close()
        return rows

    def _by_ids(self, coll: str, field: str, ids: Iterable[str], expr: str, fields: list[str]) -> list[dict]:
        ids, rows = sorted(set(ids)), []
        for i in range(0, len(ids), BATCH_IDS):
            rows += self._all(coll, f"({expr}) and {in_list(field, ids[i:i + BATCH_IDS])}", fields)
        return rows


class MilvusStore(MilvusBase, Store):
    """One committed generation of the collections, read through `visible` (see the module docstring)."""

    backend = "milvus"

    @classmethod
    def exists(cls, settings) -> bool:
        """Is there a committed state (built with any model) where `settings` point?"""
        uri = settings.milvus_target()
        if uri.endswith(".db") and not os.path.exists(uri):
            return False
        probe = cls()
        probe._setup(connect(settings), settings)
        try:
            return probe._newest_state() is not None
        finally:
            probe.client.close()

    @classmethod
    def open(cls, settings) -> "MilvusStore":
        client = connect(settings)
        self = cls()
        self._setup(client, settings)
        state = self._newest_state()
        if state is None:
            client.close()
            raise RagError(f"no index at {redact(self.uri)} (prefix {self.prefix!r}); run `rag index` "
                           f"(or set RAG_MILVUS_URI / RAG_MILVUS_PREFIX)")
        self.manifest = self._manifest(state)
        if self.manifest.get("model") != settings.model:
            client.close()
            raise RagError(f"index at {redact(self.uri)} was built with model {self.manifest.get('model')!r} but "
                           f"{settings.model!r} is configured; run `rag index` to rebuild it (or set RAG_MODEL to match)")
        head = json.loads(state["body"])
        self.gen, self.chunks_coll = state["gen"], head["chunks"]
        self.visible = f"born >= {head['floor']} and born <= {self.gen} and died > {self.gen}"
        for coll in (self.chunks_coll, self.docs_coll):
            client.load_collection(coll)
        self._catalog = self._count = self._born = None
        self._rows: dict[str, dict] = {}   # chunk rows (fields and vector) a search returned, by id: one generation's
        return self

    def state(self) -> str:
        return str(self.gen)

    def latest(self) -> str:
        state = self._newest_state()
        return str(state["gen"]) if state else ""

    def count(self) -> int:
        if self._count is None and isinstance(self.manifest.get("counts", {}).get("chunks"), int):
            # the committed update's own count: Milvus Lite 3.2 answers count(*) with a filter by reading every
            # row in full (6.8 s at 103k chunks, at every open)
            self._count = self.manifest["counts"]["chunks"]
        if self._count is None:
            rows = self.client.query(self.chunks_coll, filter=self.visible, output_fields=["count(*)"])
            self._count = int(rows[0]["count(*)"])
        return self._count

    def _search(self, data, field: str, metric: str, k: int, where: Filter | None, params: dict | None = None) -> list:
        extra = where_expr(where)
        if extra == "" or k <= 0:
            return []
        expr = self.visible + (f" and {extra}" if extra else "")
        hits = self.client.search(self.chunks_coll, data=[data], anns_field=field, limit=min(k, QUERY_CAP),
                                  filter=expr, output_fields=ROW_FIELDS,
                                  search_params={"metric_type": metric, **({"params": params} if params else {})})[0]
        self._remember(h["entity"] for h in hits)
        return hits

    def _remember(self, rows) -> None:
        """Keep the chunk rows a search returned: the retriever asks for their chunks and vectors next, and a
        generation's rows never change (one round trip per search instead of three)."""
        if len(self._rows) > ROW_CACHE:
            self._rows.clear()
        for r in rows:
            self._rows[r["chunk_id"]] = r

    def _chunk_rows(self, chunk_ids: Iterable[str]) -> list[dict]:
        ids = list(dict.fromkeys(chunk_ids))
        missing = [c for c in ids if c not in self._rows]
        if missing:
            self._remember(self._by_ids(self.chunks_coll, "chunk_id", missing, self.visible, ROW_FIELDS))
        return [self._rows[c] for c in ids if c in self._rows]

    def dense(self, vector: np.ndarray, k: int, where: Filter | None = None) -> list[tuple[str, float]]:
        """Exact within a few documents (Milvus's graph index misses rows a selective filter leaves: a search
        restricted to one document found nothing, so their rows are scored here), the index with a wide search
        list otherwise."""
        vec = np.asarray(vector, dtype=np.float32).ravel()
        if where is not None and where.doc_ids is not None and len(where.doc_ids) <= EXACT_DOCS:
            expr = where_expr(where)
            if expr == "" or k <= 0:
                return []
            rows = self._rows_of(vec, where, expr)
            if not rows:
                return []
            self._remember(rows)
            # one dot product a row: a matrix product's float32 rounding moves with a row's place in the matrix,
            # and _rows_of may list the same rows in another order
            scores = np.asarray([np.dot(np.asarray(r["vec"], dtype=np.float32), vec) for r in rows])
            return [(rows[i]["chunk_id"], float(scores[i])) for i in np.argsort(-scores, kind="stable")[:k]]
        return [(h["entity"]["chunk_id"], float(h["distance"]))
                for h in self._search(vec.tolist(), "vec", "IP", k, where, {"ef": max(EF_SEARCH, k)})]

    def _rows_of(self, vec: np.ndarray, where: Filter, expr: str) -> list[dict]:
        """Every visible chunk row of a few documents, in the engine's row order (which breaks score ties).
        Milvus Lite 3.2 answers a filtered `search` at a fraction of a `query`'s cost (at 103k chunks ~50 ms
        against 135-650 ms: its query builds a Python tuple for every row of the collection, and the garbage
        collections that sets off walk the BM25 posting lists), and orders equal distances as `query` orders rows.
        The graph can miss rows a selective filter leaves: the catalog (once loaded; the retriever loads it for
        its second hop) says how many rows there are, and a short answer is read again with `query`."""
        if self._catalog is not None and where.date_from is None and where.date_to is None:
            want = sum(self._catalog[d].n_chunks for d in where.doc_ids if d in self._catalog)
            if want < QUERY_CAP:
                hits = self.client.search(self.chunks_coll, data=[vec.tolist()], anns_field="vec", limit=want + 1,
                                          filter=f"{self.visible} and {expr}", output_fields=ROW_FIELDS,
                                          search_params={"metric_type": "IP",
                                                         "params": {"ef": max(FEW_DOCS_EF, want + 1)}})[0]
                if len(hits) == want:
                    return [h["entity"] for h in hits]
        return self._all(self.chunks_coll, f"{self.visible} and {expr}", ROW_FIELDS)

    def keyword(self, text: str, k: int, where: Filter | None = None) -> list[tuple[str, float]]:
        query = " ".join(keyword.tokenize([text])[0])
        if not query:
            return []
        # Milvus Lite reports BM25 negated, a server positive: the order is right either way
        hits = [(h["entity"]["chunk_id"], abs(float(h["distance"]))) for h in
                self._search(query, "sparse", "BM25", k, where)]
        return [h for h in hits if h[1] > 0]

    def vectors(self, chunk_ids: Sequence[str]) -> np.ndarray:
        found = {r["chunk_id"]: r["vec"] for r in self._chunk_rows(chunk_ids)}
        missing = [c for c in chunk_ids if c not in found]
        if missing:
            raise KeyError(f"unknown chunk ids: {missing[:3]}")
        dim = int(self.manifest.get("dimension") or (len(next(iter(found.values()))) if found else 0))
        return np.asarray([found[c] for c in chunk_ids], dtype=np.float32).reshape(len(chunk_ids), dim)

    def chunks(self, chunk_ids: Iterable[str]) -> dict[str, Chunk]:
        rows = self._chunk_rows(chunk_ids)
        clipped = self.documents({r["doc_id"] for r in rows if r["clipped"]})
        out = {}
        for r in rows:
            text = clipped[r["doc_id"]].text[r["start"]:r["end"]] if r["clipped"] else r["text"]
            out[r["chunk_id"]] = Chunk(r["chunk_id"], r["doc_id"], text, r["start"], r["end"], r["n_tokens"],
                                       r["text_hash"], r["page"] or None)
        return out

    def documents(self, doc_ids: Iterable[str]) -> dict[str, DocInfo]:
        rows = self._doc_rows(set(doc_ids))
        parts: dict[str, list[dict]] = {}
        for r in rows:
            parts.setdefault(r["doc_id"], []).append(r)
        out = {}
        for doc_id, rs in parts.items():
            rs.sort(key=lambda r: r["part"])
            m = _meta(rs[0])
            out[doc_id] = DocInfo(m.id, m.title, m.source, m.sha256, m.date, m.source_url, m.n_chunks, m.lead,
                                  "".join(r["text"] for r in rs))
        return out

    def _doc_rows(self, doc_ids: set[str]) -> list[dict]:
        """The visible text parts of these documents. Once the catalog is loaded it names each visible document's
        generation, and so the primary keys of its parts (`<born>:<part>:<doc id>`): read by key, a few ms, where a
        filtered query walks every row (~400 ms at 87k documents on a Milvus Lite server)."""
        fields = META_FIELDS + ["part", "text"]
        if self._born is None:
            return self._by_ids(self.docs_coll, "doc_id", doc_ids, self.visible, fields)
        born = {d: self._born[d] for d in doc_ids if d in self._born}    # not in the catalog: not visible
        rows, start = [], dict.fromkeys(born, 0)
        while start:
            pks = [f"{born[d]}:{i}:{d}" for d, a in start.items() for i in range(a, a + PARTS_STEP)]
            got = []
            for i in range(0, len(pks), BATCH_IDS):
                got += self.client.get(self.docs_coll, ids=pks[i:i + BATCH_IDS], output_fields=fields + ["pk"])
            rows += got
            have = {r["pk"] for r in got}
            start = {d: a + PARTS_STEP for d, a in start.items() if f"{born[d]}:{a + PARTS_STEP - 1}:{d}" in have}
        lost = set(born) - {r["doc_id"] for r in rows if r["part"] == 0}
        return [r for r in rows if r["doc_id"] not in lost] + \
            (self._by_ids(self.docs_coll, "doc_id", lost, self.visible, fields) if lost else [])

    def catalog(self) -> dict[str, DocMeta]:
        if self._catalog is None:   # a store serves one generation: its catalog never changes
            rows = self._all(self.docs_coll, f"{self.visible} and part == 0", META_FIELDS + ["pk"])
            self._catalog = {r["doc_id"]: _meta(r) for r in rows}
            self._born = {r["doc_id"]: int(r["pk"].split(":", 1)[0]) for r in rows}
        return dict(self._catalog)

    def mentions(self, words: Iterable[str]) -> set[str]:
        """A word counts as used when its keyword stem is in some chunk's terms (titles included); a word with no
        stem (a stopword, one letter) counts as used: approximate toward "mentioned"."""
        toks = {w: keyword.tokenize([w])[0] for w in set(words)}
        out = {w for w, ts in toks.items() if not ts}
        left = set(toks) - out
        if len(left) > 1:   # one search for them all: a word whose stem is in a returned row's terms is used
            query = " ".join(sorted({t for w in left for t in toks[w]}))
            hits = self.client.search(self.chunks_coll, data=[query], anns_field="sparse", limit=FEW_ROWS,
                                      filter=self.visible, output_fields=["terms"],
                                      search_params={"metric_type": "BM25"})[0]
            seen = {t for h in hits for t in h["entity"]["terms"].split(" ")}
            out |= {w for w in left if seen.intersection(toks[w])}
        for word in left - out:
            if self._search(" ".join(toks[word]), "sparse", "BM25", 1, None):
                out.add(word)
        return out

    def contains(self, strings: Iterable[str]) -> set[str]:
        """Substring search (case as written) over the documents' text parts; a string that LIKE cannot express
        as written goes through `mentions`."""
        strings = set(strings)
        plain = {x for x in strings if x and not re.search(r'[%_\\"\n\r\t]', x)}
        found, left = set(), set(plain)
        while left:     # each query walks every row (~0.4 s at 87k documents): one for all, reading some texts
            like = " or ".join(f'text like "%{x}%"' for x in sorted(left))
            rows = self.client.query(self.docs_coll, filter=f"{self.visible} and ({like})", output_fields=["text"],
                                     limit=FEW_ROWS)
            hit = {x for x in left if any(x in r["text"] for r in rows)}    # each row holds one of them at least
            if not hit:     # no row (or, were LIKE to read a string otherwise, rows that say nothing): one by one
                found |= {x for x in left if rows and self.client.query(
                    self.docs_coll, filter=f'{self.visible} and text like "%{x}%"', output_fields=["doc_id"], limit=1)}
                break
            found |= hit
            left -= hit
        return found | (super().contains(strings - plain) if strings - plain else set())

    def close(self) -> None:
        self.client.close()


def _meta(r: dict) -> DocMeta:
    return DocMeta(r["doc_id"], r["title"], r["source"], r["sha256"], r["date"] or None, r["source_url"] or None,
                   int(r["n_chunks"]), r["lead"])


def __getattr__(name: str):
    # `from rag.milvus_store import MilvusWriter` keeps working; imported late, as rag.milvus_writer imports this module
    if name == "MilvusWriter":
        from .milvus_writer import MilvusWriter

        return MilvusWriter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
