"""The Milvus backend of the storage seam (`RAG_STORE=milvus`): an embedded Milvus Lite file, a Milvus Lite server or
a Milvus cluster, all through pymilvus `MilvusClient`.

Collections (`<p>` = RAG_MILVUS_PREFIX):
    <p>_chunks_<dim>   one row per chunk and generation: the chunk record, its embedding key, the document's day
                       (INT64 20240711, 0: undated), the dense vector, and `terms` (the embedded text — title +
                       chunk — as rag.keyword tokens: lowercase, stopwords out, Snowball stems) from which Milvus's
                       own BM25 function fills a sparse vector, incrementally
    <p>_documents      one row per document, part and generation: metadata and ≤ 16,000 characters of text
                       (VARCHAR holds 65,535 bytes); a 2-d dummy vector, as Milvus wants one
    <p>_state          `state:<gen>` rows {floor, chunks collection, manifest parts} and `manifest:<gen>:<i>` parts

Generations make an update atomic: rows carry `born` and `died` (MAX while alive); a reader loads the newest state
row (generation G, floor F) once and filters everything with `born >= F and born <= G and died > G`. A writer
works on N = G + 1: it inserts rows born N and marks replaced ones died N (invisible at G either way), and its
commit is the insert of one `state:N` row. Then it deletes what no reader at N or N - 1 can see (died < N, born
below the previous floor). A full rebuild sets floor = N, so the old rows vanish at once. Opening a writer first
repairs what a killed one left (rows born > G deleted, died > G set back to MAX): a SIGKILL at any point leaves G
served exactly. Readers more than one commit behind may see rows vanish: replicas poll `latest()` and reopen.

Analysis is done here, not by the Milvus analyzer, because Milvus Lite 3.2 has no stemmer or stopword presets
(its "standard" analyzer only splits on \\w+ and lowercases): the same tokens feed Milvus's BM25 on every
deployment, and they are the FAISS backend's bm25s tokens. BM25 statistics (IDF, average length) are Milvus's, over
every row of the collection, invisible generations included; Milvus Lite 3.2 keeps them per segment (an upstream
TODO), so there a chunk's score moves when an update rewrites its row, and fresh segments score differently.

One writer at a time: an embedded file is locked (fcntl, `<file>.lock`); on a server a writer holds a lease row in
<p>_state (renewed as it works, expiring LEASE_TTL seconds after a writer dies) and a second writer waits for it.
Milvus has no compare-and-set, so two writers starting within the same few milliseconds could both take it: the
lease is a guard for replicas uploading now and then, not a lock manager. The token goes to the client only.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import time
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from . import keyword
from .errors import RagError
from .llm import redact
from .storage import Filter, Store, Writer
from .types import Chunk, DocInfo, DocMeta, Document

MAX = 2**62                # `died` of a live row
PART = 16_000              # characters of document text per row (4 bytes a character at most: < 65,535 bytes)
VARCHAR = 65_535
BATCH_IDS = 1_000          # ids per `in [...]` expression
BATCH_BYTES = 8 << 20      # rows per insert call: about this much text
QUERY_CAP = 16_384         # a server's largest query window; more is read with an iterator
CHUNK_FIELDS = ["chunk_id", "doc_id", "text", "start", "end", "n_tokens", "text_hash", "page", "clipped"]
LEASE_TTL = 60.0           # seconds a server writer's lease lasts unless renewed (it renews every 15 s of work)
LEASE_WAIT = 300.0         # how long a second writer waits for the lease
META_FIELDS = ["doc_id", "title", "source", "sha256", "date", "source_url", "n_chunks", "lead"]


def lit(value: str) -> str:
    r"""A Milvus string literal.

    >>> print(lit('say "hi"\n'))
    "say \"hi\"\n"
    """
    out = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return '"' + out.replace("\t", "\\t") + '"'


def in_list(field: str, values: Iterable[str]) -> str:
    return f"{field} in [{', '.join(lit(v) for v in values)}]"


def day(date: str | None) -> int:
    """An ISO date (or its prefix) as an INT64 ordered like the string; 0 for none.

    >>> day("2024-07-11"), day("2024-07"), day(None)
    (20240711, 20240700, 0)
    """
    digits = re.sub(r"\D", "", date or "")[:8]
    return int(digits.ljust(8, "0")) if digits else 0


def where_expr(where: Filter | None) -> str | None:
    """The Milvus expression for `where` over rows with `doc_id` and `day`; None: everything ("" : nothing)."""
    if where is None:
        return None
    parts = []
    if where.doc_ids is not None:
        if not where.doc_ids:
            return ""
        parts.append(in_list("doc_id", sorted(where.doc_ids)))
    if where.date_from or where.date_to:
        parts.append(f"day >= {max(day(where.date_from), 1)}")
        if where.date_to:
            parts.append(f"day <= {day(where.date_to)}")
    return " and ".join(parts) or None


def terms(title: str, source: str, text: str) -> str:
    """What Milvus's BM25 reads for a chunk: the embedded text's keyword tokens, at most 65,535 bytes."""
    from .store import embed_text

    return cut_bytes(" ".join(keyword.tokenize([embed_text(title, source, text)])[0]))


def cut_bytes(text: str, limit: int = VARCHAR) -> str:
    return text if len(text) * 4 <= limit else text.encode("utf-8")[:limit].decode("utf-8", "ignore")


def connect(settings, create: bool = False):
    """A MilvusClient for settings.milvus_target() (one-line RagErrors naming the URI, never the token)."""
    from pymilvus import MilvusClient
    from pymilvus.exceptions import MilvusException

    uri = settings.milvus_target()
    if uri.endswith(".db"):
        if not create and not Path(uri).exists():
            raise RagError(f"no index at {uri}; run `rag index` (or set RAG_MILVUS_URI / RAG_INDEX)")
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
    try:
        return MilvusClient(uri=uri, token=settings.milvus_token or "", timeout=10)
    except MilvusException:
        if uri.endswith(".db"):
            raise RagError(f"cannot open the Milvus Lite file {uri}: another process holds it (Milvus Lite allows one "
                           f"process per file); stop it, or serve the folder with `python -m milvus_lite server "
                           f"--data-dir DIR --port 19530` and set RAG_MILVUS_URI=http://127.0.0.1:19530") from None
        raise RagError(f"cannot reach Milvus at {redact(uri)}; start it (e.g. `python -m milvus_lite server --data-dir "
                       f"DIR --port 19530`) or fix RAG_MILVUS_URI / RAG_MILVUS_TOKEN") from None


class _Base:
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


class MilvusStore(_Base, Store):
    """One committed generation of the collections, read through `visible` (see the module docstring)."""

    backend = "milvus"

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
        self._catalog = self._count = None
        return self

    def state(self) -> str:
        return str(self.gen)

    def latest(self) -> str:
        state = self._newest_state()
        return str(state["gen"]) if state else ""

    def count(self) -> int:
        if self._count is None:
            rows = self.client.query(self.chunks_coll, filter=self.visible, output_fields=["count(*)"])
            self._count = int(rows[0]["count(*)"])
        return self._count

    def _search(self, data, field: str, metric: str, k: int, where: Filter | None) -> list:
        extra = where_expr(where)
        if extra == "" or k <= 0:
            return []
        expr = self.visible + (f" and {extra}" if extra else "")
        return self.client.search(self.chunks_coll, data=[data], anns_field=field, limit=min(k, QUERY_CAP),
                                  filter=expr, output_fields=["chunk_id"], search_params={"metric_type": metric})[0]

    def dense(self, vector: np.ndarray, k: int, where: Filter | None = None) -> list[tuple[str, float]]:
        vec = np.asarray(vector, dtype=np.float32).ravel().tolist()
        return [(h["entity"]["chunk_id"], float(h["distance"])) for h in self._search(vec, "vec", "IP", k, where)]

    def keyword(self, text: str, k: int, where: Filter | None = None) -> list[tuple[str, float]]:
        query = " ".join(keyword.tokenize([text])[0])
        if not query:
            return []
        # Milvus Lite reports BM25 negated, a server positive: the order is right either way
        hits = [(h["entity"]["chunk_id"], abs(float(h["distance"]))) for h in
                self._search(query, "sparse", "BM25", k, where)]
        return [h for h in hits if h[1] > 0]

    def vectors(self, chunk_ids: Sequence[str]) -> np.ndarray:
        rows = self._by_ids(self.chunks_coll, "chunk_id", chunk_ids, self.visible, ["chunk_id", "vec"])
        found = {r["chunk_id"]: r["vec"] for r in rows}
        missing = [c for c in chunk_ids if c not in found]
        if missing:
            raise KeyError(f"unknown chunk ids: {missing[:3]}")
        dim = int(self.manifest.get("dimension") or (len(next(iter(found.values()))) if found else 0))
        return np.asarray([found[c] for c in chunk_ids], dtype=np.float32).reshape(len(chunk_ids), dim)

    def chunks(self, chunk_ids: Iterable[str]) -> dict[str, Chunk]:
        rows = self._by_ids(self.chunks_coll, "chunk_id", chunk_ids, self.visible, CHUNK_FIELDS)
        clipped = self.documents({r["doc_id"] for r in rows if r["clipped"]})
        out = {}
        for r in rows:
            text = clipped[r["doc_id"]].text[r["start"]:r["end"]] if r["clipped"] else r["text"]
            out[r["chunk_id"]] = Chunk(r["chunk_id"], r["doc_id"], text, r["start"], r["end"], r["n_tokens"],
                                       r["text_hash"], r["page"] or None)
        return out

    def documents(self, doc_ids: Iterable[str]) -> dict[str, DocInfo]:
        rows = self._by_ids(self.docs_coll, "doc_id", doc_ids, self.visible, META_FIELDS + ["part", "text"])
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

    def catalog(self) -> dict[str, DocMeta]:
        if self._catalog is None:   # a store serves one generation: its catalog never changes
            rows = self._all(self.docs_coll, f"{self.visible} and part == 0", META_FIELDS)
            self._catalog = {r["doc_id"]: _meta(r) for r in rows}
        return dict(self._catalog)

    def mentions(self, words: Iterable[str]) -> set[str]:
        """A word counts as used when its keyword stem is in some chunk's terms (titles included); a word with no
        stem (a stopword, one letter) counts as used: approximate toward "mentioned"."""
        out = set()
        for word in set(words):
            toks = keyword.tokenize([word])[0]
            if not toks or self._search(" ".join(toks), "sparse", "BM25", 1, None):
                out.add(word)
        return out

    def contains(self, strings: Iterable[str]) -> set[str]:
        """Substring search (case as written) over the documents' text parts; a string that LIKE cannot express
        as written goes through `mentions`."""
        strings = set(strings)
        plain = {x for x in strings if x and not re.search(r'[%_\\"\n\r\t]', x)}
        found = {x for x in plain if self.client.query(self.docs_coll, filter=f'{self.visible} and text like "%{x}%"',
                                                        output_fields=["doc_id"], limit=1)}
        return found | (super().contains(strings - plain) if strings - plain else set())

    def close(self) -> None:
        self.client.close()


def _lead(doc: Document) -> str:
    return DocInfo(doc.id, doc.title, doc.source, doc.sha256, doc.date, doc.source_url, 0, text=doc.text).meta().lead


def _meta(r: dict) -> DocMeta:
    return DocMeta(r["doc_id"], r["title"], r["source"], r["sha256"], r["date"] or None, r["source_url"] or None,
                   int(r["n_chunks"]), r["lead"])


class MilvusWriter(_Base, Writer):
    """An update to generation N = G + 1 (see the module docstring); one at a time."""

    @classmethod
    def open(cls, settings, embedder) -> "MilvusWriter":
        if not settings.milvus_uri:      # the embedded file inside the index folder: that folder's rules apply
            from . import folder

            folder.check_index_folder(settings.index)
            Path(settings.index).mkdir(parents=True, exist_ok=True)
            folder.claim(Path(settings.index))
        self = cls()
        self.lock, self.lease, self.client = _lock(settings.milvus_target()), None, None
        try:
            self._setup(connect(settings, create=True), settings)
            _ensure(self.client, self.state_coll, _state_schema())
            self.lease = None if self.uri.endswith(".db") else self._take_lease()
            return self._start(settings, embedder)
        except BaseException:
            self._finish()
            raise

    def _start(self, settings, embedder) -> "MilvusWriter":
        self.dim, self.chunks_coll = int(embedder.dim), f"{self.prefix}_chunks_{int(embedder.dim)}"
        _ensure(self.client, self.docs_coll, _docs_schema())
        state = self._newest_state()
        self.g = state["gen"] if state else 0
        head = json.loads(state["body"]) if state else {"floor": 0, "chunks": None}
        self.n, self.old_floor, self.old_chunks = self.g + 1, head["floor"], head["chunks"]
        self.old_visible = f"born >= {self.old_floor} and born <= {self.g} and died > {self.g}"
        self._repair()
        old = self._manifest(state) if state else {}
        backend = getattr(embedder, "backend", None)
        if not state:
            self.full_rebuild = None
        elif old.get("model") != settings.model:
            self.full_rebuild = f"model changed ({old.get('model')} → {settings.model}); rebuilding everything"
        elif backend and old.get("embedding_backend") != backend:
            self.full_rebuild = (f"embedding backend changed ({old.get('embedding_backend')} → {backend}); "
                                 f"rebuilding everything")
        elif old.get("chunking") != settings.chunking():
            self.full_rebuild = (f"chunking settings changed ({old.get('chunking')} → {settings.chunking()}); "
                                 f"rebuilding everything")
        else:
            self.full_rebuild = None
        self.reusable = bool(state) and self.old_chunks == self.chunks_coll and old.get("model") == settings.model \
            and old.get("embedding_backend") == backend
        if self.old_chunks != self.chunks_coll and self.client.has_collection(self.chunks_coll):
            self.client.drop_collection(self.chunks_coll)        # another dimension's leftovers: no reader uses it
        _ensure(self.client, self.chunks_coll, _chunks_schema(self.dim))
        self.floor = self.n if (self.full_rebuild or self.old_chunks != self.chunks_coll) else self.old_floor
        self.kept: set[str] = set()
        self.put_ids: set[str] = set()
        self._existing = None
        self.pending: dict[str, list[dict]] = {}
        self.pending_size = 0
        return self

    def _colls(self) -> list[str]:
        pattern = re.compile(re.escape(self.prefix) + r"_chunks_\d+")
        return [self.docs_coll] + [c for c in self.client.list_collections() if pattern.fullmatch(c)]

    def _repair(self) -> None:
        """Undo what writers killed before committing left: rows born after G, rows they marked dead."""
        self.client.delete(self.state_coll, filter=f'gen > {self.g} and key != "lease"')
        for coll in self._colls():
            self.client.load_collection(coll)
            self.client.delete(coll, filter=f"born > {self.g}")
            self._mark(coll, [r["pk"] for r in self._all(coll, f"died > {self.g} and died < {MAX}", ["pk"])], MAX)

    def _mark(self, coll: str, pks: list[str], died: int) -> None:
        for i in range(0, len(pks), BATCH_IDS):
            self.client.upsert(coll, [{"pk": pk, "died": died} for pk in pks[i:i + BATCH_IDS]], partial_update=True)

    def _insert(self, coll: str, rows: list[dict]) -> None:
        """Queue rows (invisible until commit anyway) and insert them some megabytes at a time."""
        self.pending.setdefault(coll, []).extend(rows)
        self.pending_size += sum(len(r.get("text", "")) + len(r.get("terms", "")) + 4 * len(r.get("vec", ""))
                                 for r in rows)
        if self.pending_size >= BATCH_BYTES or sum(map(len, self.pending.values())) >= 2048:
            self._flush()

    def _flush(self) -> None:
        for coll, rows in self.pending.items():
            for i in range(0, len(rows), 1024):
                self.client.insert(coll, rows[i:i + 1024])
        self.pending, self.pending_size = {}, 0

    # ---- the lease (servers) ---------------------------------------------------------------------------------
    def _lease_row(self) -> dict | None:
        rows = self.client.query(self.state_coll, filter='key == "lease"', output_fields=["body"])
        return json.loads(rows[0]["body"]) if rows else None

    def _write_lease(self, owner: str) -> None:
        self.renewed = time.time()
        body = json.dumps({"owner": owner, "until": self.renewed + LEASE_TTL})
        self.client.upsert(self.state_coll, [{"key": "lease", "gen": 0, "body": body, "v": [1.0, 0.0]}])

    def _take_lease(self) -> str:
        owner, deadline = secrets.token_hex(8), time.monotonic() + LEASE_WAIT
        while True:
            held = self._lease_row()
            if held is None or held["until"] < time.time():
                self._write_lease(owner)
                if (self._lease_row() or {}).get("owner") == owner:
                    return owner
            if time.monotonic() > deadline:
                raise RagError(f"another writer has been updating {redact(self.uri)} (prefix {self.prefix!r}) for "
                               f"over {LEASE_WAIT:.0f} s; try again when it has finished")
            time.sleep(0.25)

    def _renew(self) -> None:
        if self.lease and time.time() - self.renewed > LEASE_TTL / 4:
            if (self._lease_row() or {}).get("owner") != self.lease:
                raise RagError(f"this update of {redact(self.uri)} lost its lease (it paused over {LEASE_TTL:.0f} s) "
                               f"and another writer took over; run it again")
            self._write_lease(self.lease)

    def _release_lease(self) -> None:
        if self.lease and (self._lease_row() or {}).get("owner") == self.lease:
            self.client.delete(self.state_coll, filter='key == "lease"')
        self.lease = None

    def existing(self) -> Mapping[str, str]:
        if self.full_rebuild or not self.g:
            return {}
        if self._existing is None:
            rows = self._all(self.docs_coll, f"{self.old_visible} and part == 0", ["doc_id", "sha256", "n_chunks"])
            self._existing = {r["doc_id"]: (r["sha256"], r["n_chunks"]) for r in rows}
        return {d: sha for d, (sha, _) in self._existing.items()}

    def known_vectors(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        self._renew()
        # this update's rows (queued or inserted), and the current state's when the same model made them
        wanted = set(keys)
        found = {r["key"]: r["vec"] for r in self.pending.get(self.chunks_coll, ()) if r["key"] in wanted}
        expr = f"({self.old_visible}) or born == {self.n}" if self.reusable else f"born == {self.n}"
        rows = self._by_ids(self.chunks_coll, "key", wanted - set(found), expr, ["key", "vec"])
        found.update((r["key"], r["vec"]) for r in rows)
        return {k: np.asarray(v, dtype=np.float32) for k, v in found.items()}

    def keep(self, doc_id: str) -> int:
        if self.full_rebuild or doc_id not in self.existing():
            raise ValueError(f"cannot keep {doc_id!r}: the current state does not hold it")
        self.kept.add(doc_id)
        return self._existing[doc_id][1]

    def put(self, doc: Document, chunks: Sequence[Chunk], keys: Sequence[str], vectors: np.ndarray) -> None:
        if doc.id in self.put_ids or doc.id in self.kept:
            raise ValueError(f"document {doc.id!r} is already in this update")
        if len(doc.id.encode("utf-8")) > 4000:
            raise RagError(f"document id {doc.id[:60]!r}… is longer than Milvus allows (4,000 bytes); shorten its path")
        self._renew()
        self.put_ids.add(doc.id)
        d, vecs = day(doc.date), np.asarray(vectors, dtype=np.float32).tolist()
        rows = {}
        for c, key, vec in zip(chunks, keys, vecs, strict=True):
            fits = len(c.text.encode("utf-8")) <= VARCHAR
            rows[c.id] = {"pk": f"{self.n}:{c.id}", "chunk_id": c.id, "doc_id": doc.id, "text": c.text if fits else "",
                          "clipped": not fits, "start": c.start, "end": c.end, "n_tokens": c.n_tokens,
                          "text_hash": c.text_hash, "page": c.page or 0, "key": key, "day": d,
                          "terms": terms(doc.title, doc.source, c.text), "vec": vec, "born": self.n, "died": MAX}
        if not self.full_rebuild and doc.id in self.existing():
            sig = ("chunk_id", "key", "day", "start", "end", "n_tokens", "text_hash", "page")
            old = self._by_ids(self.chunks_coll, "doc_id", [doc.id], self.old_visible, ["pk", *sig])
            same = {r["chunk_id"] for r in old if r["chunk_id"] in rows and
                    all(r[f] == rows[r["chunk_id"]][f] for f in sig)}
            self._mark(self.chunks_coll, [r["pk"] for r in old if r["chunk_id"] not in same], self.n)
            self._kill_docs([doc.id], chunks=False)
            rows = {cid: r for cid, r in rows.items() if cid not in same}
        self._insert(self.chunks_coll, list(rows.values()))
        text = doc.text
        info = {"doc_id": doc.id, "title": cut_bytes(doc.title), "source": cut_bytes(doc.source),
                "sha256": doc.sha256, "date": doc.date or "", "day": d, "source_url": cut_bytes(doc.source_url or ""),
                "n_chunks": len(chunks), "lead": _lead(doc), "born": self.n, "died": MAX, "v": [1.0, 0.0]}
        self._insert(self.docs_coll, [{**info, "pk": f"{self.n}:{i}:{doc.id}", "part": i, "text": text[a:a + PART]}
                                      for i, a in enumerate(range(0, max(len(text), 1), PART))])

    def _kill_docs(self, doc_ids: list[str], chunks: bool = True) -> None:
        for coll in [self.docs_coll] + ([self.chunks_coll] if chunks else []):
            self._mark(coll, [r["pk"] for r in self._by_ids(coll, "doc_id", doc_ids, self.old_visible, ["pk"])],
                       self.n)

    def commit(self, manifest: dict) -> bool:
        gone = sorted(set(self.existing()) - self.kept - self.put_ids)
        if self.g and not self.full_rebuild and self.floor == self.old_floor and not self.put_ids and not gone:
            self.abort()
            return False
        self._flush()
        self.renewed = 0.0
        self._renew()                   # still ours: nobody else has repaired (deleted) what this update wrote
        if gone:
            self._kill_docs(gone)
        body = json.dumps({**manifest, "store": "milvus"}, ensure_ascii=False)
        self.client.insert(self.state_coll, [
            {"key": f"manifest:{self.n:012d}:{i:05d}", "gen": self.n, "body": body[a:a + PART], "v": [1.0, 0.0]}
            for i, a in enumerate(range(0, max(len(body), 1), PART))])
        head = {"floor": self.floor, "chunks": self.chunks_coll, "previous": self.old_chunks, "dimension": self.dim}
        # the commit: one row insert (atomic); until it lands, G is the newest state
        self.client.insert(self.state_coll, [{"key": f"state:{self.n:012d}", "gen": self.n, "body": json.dumps(head),
                                              "v": [1.0, 0.0]}])
        self._collect()
        for coll in (self.chunks_coll, self.docs_coll, self.state_coll):
            self.client.flush(coll)     # Milvus Lite searches unflushed rows one by one: 0.5-3 s a query at 10k rows
        self._finish()
        return True

    def _collect(self) -> None:
        """Delete what readers at N and N - 1 cannot see: rows dead before N - 1, rows below the old floor."""
        self.client.delete(self.state_coll, filter=f'gen < {self.g} and key != "lease"')
        keep = {self.docs_coll, self.chunks_coll, self.old_chunks}
        for coll in self._colls():
            if coll not in keep:
                self.client.drop_collection(coll)
            else:
                self.client.delete(coll, filter=f"died < {self.n} or born < {self.old_floor}")

    def abort(self) -> None:
        self.pending = {}
        self._repair()
        self._finish()

    def _finish(self) -> None:
        if self.client is not None:
            self._release_lease()
            self.client.close()
        self.lock.release()


class _lock:
    """One writer per embedded Milvus Lite file (fcntl; gone with the process); nothing for a server."""

    def __init__(self, uri: str):
        self.f = None
        if uri.endswith(".db"):
            Path(uri).parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(uri + ".lock", os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o644)
            self.f = os.fdopen(fd, "w")
            try:
                fcntl.flock(self.f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self.f.close()
                raise RagError(f"another `rag index` is updating {uri}; wait for it to finish") from None

    def release(self) -> None:
        if self.f is not None:
            self.f.close()
            self.f = None


def _ensure(client, name: str, schema_and_index) -> None:
    if not client.has_collection(name):
        schema, index = schema_and_index
        client.create_collection(name, schema=schema, consistency_level="Strong")
        client.create_index(name, index, sync=False)      # sync would poll: 0.5 s a field on an empty collection
    client.load_collection(name)


def _schema(fields: list[tuple], vector: tuple):
    from pymilvus import DataType, MilvusClient

    s = MilvusClient.create_schema(auto_id=False)
    for name, kind, *extra in fields:
        kw = dict(extra[0]) if extra else {}
        if kind == "str":
            s.add_field(name, DataType.VARCHAR, max_length=kw.pop("max_length", VARCHAR), **kw)
        else:
            s.add_field(name, {"int": DataType.INT64, "bool": DataType.BOOL}[kind], **kw)
    s.add_field(vector[0], DataType.FLOAT_VECTOR, dim=vector[1])
    return s


def _index(client_cls, vector: str, *lookups: str):
    index = client_cls.prepare_index_params()
    index.add_index(vector, index_type="AUTOINDEX", metric_type="IP")
    for field in lookups:                   # `field in [...]` lookups: 2x faster on Milvus Lite at 10k rows
        index.add_index(field, index_type="INVERTED")
    return index


def _state_schema():
    from pymilvus import MilvusClient

    s = _schema([("key", "str", {"max_length": 64, "is_primary": True}), ("gen", "int"), ("body", "str")], ("v", 2))
    return s, _index(MilvusClient, "v")


def _docs_schema():
    from pymilvus import MilvusClient

    s = _schema([("pk", "str", {"max_length": 4200, "is_primary": True}), ("doc_id", "str", {"max_length": 4096}),
                 ("part", "int"), ("title", "str"), ("source", "str"), ("sha256", "str", {"max_length": 128}),
                 ("date", "str", {"max_length": 64}), ("day", "int"), ("source_url", "str"), ("n_chunks", "int"),
                 ("lead", "str"), ("text", "str"), ("born", "int"), ("died", "int")], ("v", 2))
    return s, _index(MilvusClient, "v", "doc_id")


def _chunks_schema(dim: int):
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    s = _schema([("pk", "str", {"max_length": 64, "is_primary": True}), ("chunk_id", "str", {"max_length": 64}),
                 ("doc_id", "str", {"max_length": 4096}), ("text", "str"), ("clipped", "bool"), ("start", "int"),
                 ("end", "int"), ("n_tokens", "int"), ("text_hash", "str", {"max_length": 128}), ("page", "int"),
                 ("key", "str", {"max_length": 128}), ("day", "int"),
                 ("terms", "str", {"enable_analyzer": True, "analyzer_params": {"tokenizer": "standard"}}),
                 ("born", "int"), ("died", "int")], ("vec", dim))
    s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    s.add_function(Function(name="terms_bm25", function_type=FunctionType.BM25, input_field_names=["terms"],
                            output_field_names=["sparse"]))
    index = _index(MilvusClient, "vec", "chunk_id", "doc_id", "key")
    index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    return s, index
