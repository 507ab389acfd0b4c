"""Updates of the Milvus backend (`MilvusWriter`): generations, repair after a killed writer, commit and cleanup.
The collections and how readers see them: rag.milvus_store; one writer at a time: rag.milvus_lock.

A writer works on N = G + 1: it inserts rows born N and marks replaced ones died N (invisible at G either way), and its
commit is the insert of one `state:N` row. Then it deletes what no reader at N or N - 1 can see (died < N, born
below the previous floor). A full rebuild sets floor = N, so the old rows vanish at once. Opening a writer first
repairs what a killed one left (rows born > G deleted, died > G set back to MAX): a SIGKILL at any point leaves G
served exactly.

Milvus Lite answers every filtered query or delete by walking all rows of the collection in Python (0.1-0.6 s a
call at 100k rows), so an update touches the big collections only where it must:
- before its first write a writer inserts a `writing:N` row in the state collection, and deletes it once its commit
  and cleanup are done. A writer that finds one above G repairs (scans); one at G (a commit whose cleanup was cut
  short) makes its own commit collect in full; none: no scan at open. State heads written before this scheme
  (no "marks") are repaired and collected in full, once.
- the head records whether the next commit has anything to collect (this update marked rows dead or raised the
  floor); an update that only added rows leaves nothing, and the next commit skips the deletes by filter.
- each document's sha256 and chunk count (what `existing()` returns) live in the state collection too, as
  `docs:<gen>:<shard>:<part>` rows: the map sharded by doc id (SHARDS), each shard zlib-compressed JSON; the head
  names the generation holding each shard. A commit rewrites only the shards its documents fall in, so reading
  the map is some dozens of rows by key instead of every document row (6 s at 87k documents on Milvus Lite).
"""
from __future__ import annotations

import base64
import gc
import json
import re
import zlib
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from . import keyword
from .errors import RagError
from .milvus_lock import FileLock, Lease
from .milvus_schema import (VARCHAR, chunks_schema, connect, cut_bytes, day, docs_schema, ensure, in_list,
                            state_schema, terms)
from .milvus_store import BATCH_IDS, QUERY_CAP, MilvusBase
from .storage import Writer
from .types import Chunk, DocInfo, Document

MAX = 2**62                # `died` of a live row
PART = 16_000              # characters of document text per row (4 bytes a character at most: < 65,535 bytes)
BATCH_BYTES = 8 << 20      # rows per insert call: about this much text
SHARDS = 64                # shards of the document map (doc id -> sha256, chunks) in the state collection
MAP_PART = 60_000          # characters of a shard's base64 text per row
FEW_KEYS = 64              # at most this many keys are looked up by a BM25 search (a long query walks long lists)


class MilvusWriter(MilvusBase, Writer):
    """An update to generation N = G + 1 (see the module docstrings); one at a time."""

    frozen = False       # gc.freeze() is in force for this update (see open)

    @classmethod
    def open(cls, settings, embedder) -> "MilvusWriter":
        if not settings.milvus_uri:      # the embedded file inside the index folder: that folder's rules apply
            from . import folder

            folder.check_index_folder(settings.index)
            Path(settings.index).mkdir(parents=True, exist_ok=True)
            folder.claim(Path(settings.index))
        self = cls()
        self.lock, self.lease, self.client = FileLock(settings.milvus_target()), None, None
        try:
            self._setup(connect(settings, create=True), settings)
            ensure(self.client, self.state_coll, state_schema())
            if not self.uri.endswith(".db"):
                self.lease = Lease(self.client, self.state_coll, self.uri, self.prefix).take()
            self._start(settings, embedder)
            # An update allocates per document (87k in a one-document update at 103k chunks); each full garbage
            # collection that sets off walks every object the process holds: an embedded Milvus Lite's loaded
            # collections (same process), a reader's catalog. Those predate the update and outlive it, so they
            # are set aside until it ends (gc.freeze; unfrozen in _finish): adding one document at 103k chunks in
            # a process that had searched an embedded file took 1.3-1.6 s, now 0.6-0.85 s.
            gc.freeze()
            self.frozen = True
            return self
        except BaseException:
            self._finish()
            raise

    def _start(self, settings, embedder) -> "MilvusWriter":
        self.dim, self.chunks_coll = int(embedder.dim), f"{self.prefix}_chunks_{int(embedder.dim)}"
        ensure(self.client, self.docs_coll, docs_schema())
        state = self._newest_state()
        self.g = state["gen"] if state else 0
        head = json.loads(state["body"]) if state else {"floor": 0, "chunks": None}
        self.n, self.old_floor, self.old_chunks = self.g + 1, head["floor"], head["chunks"]
        self.old_visible = f"born >= {self.old_floor} and born <= {self.g} and died > {self.g}"
        self.head = head
        shards = head.get("docmap")         # [[generation, rows], …] per shard: where state G's map lives
        self.old_map = shards if isinstance(shards, list) and len(shards) == SHARDS else None
        self.map_read = False               # was `existing()` read from that map?
        self.began = False                  # has this writer inserted its `writing:N` row (then written anything)?
        marks = self._markers()
        self.swept = [m for m in marks if m["gen"] <= self.g]      # committed writers whose cleanup was cut short
        legacy = not head.get("marks")      # written before writers left markers: nothing says they finished
        if legacy or any(m["gen"] > self.g for m in marks):
            self._repair()
        else:
            self._clean_state()
        self.sweep = legacy or bool(self.swept) or bool(head.get("sweep"))
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
        ensure(self.client, self.chunks_coll, chunks_schema(self.dim))
        self.floor = self.n if (self.full_rebuild or self.old_chunks != self.chunks_coll) else self.old_floor
        self.kept: set[str] = set()
        self.put_ids: set[str] = set()
        self.put_info: dict[str, tuple[str, int]] = {}
        self._existing = None
        self.marked = False                 # rows marked died = N: the next commit has them to collect
        self.pending: dict[str, list[dict]] = {}
        self.pending_size = 0
        return self

    def _colls(self) -> list[str]:
        pattern = re.compile(re.escape(self.prefix) + r"_chunks_\d+")
        return [self.docs_coll] + [c for c in self.client.list_collections() if pattern.fullmatch(c)]

    def _markers(self) -> list[dict]:
        return self._all(self.state_coll, 'key like "writing:%"', ["key", "gen"])

    def _begin(self) -> None:
        """Say, before the first write of this update, that a writer is at work on N (see the module docstring)."""
        if not self.began:
            self.client.insert(self.state_coll, [{"key": f"writing:{self.n:012d}", "gen": self.n, "body": "",
                                                  "v": [1.0, 0.0]}])
            self.began = True

    def _clean_state(self) -> None:
        """Drop state rows of writers killed before committing (their manifest and map rows, their marker)."""
        self.client.delete(self.state_coll, filter=f'gen > {self.g} and key != "lease"')

    def _repair(self) -> None:
        """Undo what writers killed before committing left: rows born after G, rows they marked dead; their state
        rows (the markers among them) last, so that a repair cut short is done again."""
        for coll in self._colls():
            self.client.load_collection(coll)
            self.client.delete(coll, filter=f"born > {self.g}")
            self._mark(coll, [r["pk"] for r in self._all(coll, f"died > {self.g} and died < {MAX}", ["pk"])], MAX)
        self._clean_state()

    def _mark(self, coll: str, pks: list[str], died: int) -> None:
        if pks and died != MAX:
            self._begin()
            self.marked = True
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
        if any(self.pending.values()):
            self._begin()
        for coll, rows in self.pending.items():
            for i in range(0, len(rows), 1024):
                self.client.insert(coll, rows[i:i + 1024])
        self.pending, self.pending_size = {}, 0

    def _renew(self, force: bool = False) -> None:
        if self.lease:
            self.lease.renew(force)

    def existing(self) -> Mapping[str, str]:
        if self.full_rebuild or not self.g:
            return {}
        if self._existing is None:
            self._existing = self._read_map()
            self.map_read = self._existing is not None
            if self._existing is None:      # no map (a head from before it) or not the state's: the document rows
                rows = self._all(self.docs_coll, f"{self.old_visible} and part == 0",
                                 ["doc_id", "sha256", "n_chunks"])
                self._existing = {r["doc_id"]: (r["sha256"], r["n_chunks"]) for r in rows}
            self._shas = {d: sha for d, (sha, _) in self._existing.items()}
        return self._shas

    def _read_map(self) -> dict[str, list] | None:
        """The document map of state G from its `docs:` rows (point reads by key); None when G has none or the rows
        do not add up to it."""
        shards = self.old_map
        if shards is None:
            return None
        keys = [k for s, (g, n) in enumerate(shards) for k in _map_keys(g, s, n)]
        rows = {}
        for i in range(0, len(keys), BATCH_IDS):
            rows.update((r["key"], r["body"]) for r in self.client.get(self.state_coll, ids=keys[i:i + BATCH_IDS],
                                                                       output_fields=["key", "body"]))
        if len(rows) != len(keys):
            return None
        self.old_shards = [_unpack("".join(rows[k] for k in _map_keys(g, s, n))) for s, (g, n) in enumerate(shards)]
        out: dict[str, list] = {}
        for shard in self.old_shards:
            out.update(shard)
        return out if len(out) == self.head.get("documents") else None

    def known_vectors(self, keys: Sequence[str] | Mapping[str, str]) -> dict[str, np.ndarray]:
        """`keys` may map each key to its embedded text: then on a server a few keys are looked up with a BM25
        search instead of a query (at 103k chunks on a Milvus Lite server 60-120 ms against 180-650 ms: see
        `_keys_by_terms`). Not in an embedded file: each process starts its own engine, whose first BM25 search
        builds the sparse index (3.7 s at 103k chunks)."""
        self._renew()
        # this update's rows (queued or inserted), and the current state's when the same model made them
        wanted = set(keys)
        found = {r["key"]: r["vec"] for r in self.pending.get(self.chunks_coll, ()) if r["key"] in wanted}
        expr = f"({self.old_visible}) or born == {self.n}" if self.reusable else f"born == {self.n}"
        rest = wanted - set(found)
        if isinstance(keys, Mapping) and 0 < len(rest) <= FEW_KEYS and not self.uri.endswith(".db"):
            rows, rest = self._keys_by_terms({k: keys[k] for k in rest}, expr)
            found.update((r["key"], r["vec"]) for r in rows)
        rows = self._by_ids(self.chunks_coll, "key", rest, expr, ["key", "vec"])
        found.update((r["key"], r["vec"]) for r in rows)
        return {k: np.asarray(v, dtype=np.float32) for k, v in found.items()}

    def _keys_by_terms(self, texts: Mapping[str, str], expr: str) -> tuple[list[dict], set[str]]:
        """The rows of these keys (sha256 of the embedded text) found by a BM25 search, and the keys still to query.
        Exact: a row with key k has `terms` = the keyword tokens of texts[k], so a search for the union of the
        texts' tokens, filtered to those keys, scores every such row above 0 (unless the analyzer drops all its
        tokens; texts with no token are queried). A full answer (QUERY_CAP hits) is not trusted either."""
        toks = {k: keyword.tokenize([t])[0] for k, t in texts.items()}
        searchable = sorted(k for k, ts in toks.items() if ts)
        rest = set(texts) - set(searchable)
        if not searchable:
            return [], rest
        query = " ".join(sorted({t for k in searchable for t in toks[k]}))
        hits = self.client.search(self.chunks_coll, data=[query], anns_field="sparse", limit=QUERY_CAP,
                                  filter=f"({expr}) and {in_list('key', searchable)}", output_fields=["key", "vec"],
                                  search_params={"metric_type": "BM25"})[0]
        if len(hits) >= QUERY_CAP:
            return [], set(texts)
        rows = [h["entity"] for h in hits]
        return rows, rest

    def keep(self, doc_id: str) -> int:
        if self._existing is None:
            self.existing()
        # (keep runs once per document: 87k times in a one-document update)
        info = None if self.full_rebuild or self._existing is None else self._existing.get(doc_id)
        if info is None:
            raise ValueError(f"cannot keep {doc_id!r}: the current state does not hold it")
        self.kept.add(doc_id)
        return info[1]

    def put(self, doc: Document, chunks: Sequence[Chunk], keys: Sequence[str], vectors: np.ndarray) -> None:
        if doc.id in self.put_ids or doc.id in self.kept:
            raise ValueError(f"document {doc.id!r} is already in this update")
        if len(doc.id.encode("utf-8")) > 4000:
            raise RagError(f"document id {doc.id[:60]!r}… is longer than Milvus allows (4,000 bytes); shorten its path")
        self._renew()
        self.put_ids.add(doc.id)
        self.put_info[doc.id] = (doc.sha256, len(chunks))
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
        self._begin()
        self._renew(force=True)         # still ours: nobody else has repaired (deleted) what this update wrote
        if gone:
            self._kill_docs(gone)
        self.new_map = docmap = self._write_map(gone)
        body = json.dumps({**manifest, "store": "milvus"}, ensure_ascii=False)
        self.client.insert(self.state_coll, [
            {"key": f"manifest:{self.n:012d}:{i:05d}", "gen": self.n, "body": body[a:a + PART], "v": [1.0, 0.0]}
            for i, a in enumerate(range(0, max(len(body), 1), PART))])
        head = {"floor": self.floor, "chunks": self.chunks_coll, "previous": self.old_chunks, "dimension": self.dim,
                "marks": 1, "sweep": self.marked or (self.g > 0 and self.floor != self.old_floor), "docmap": docmap,
                "documents": len(self.kept) + len(self.put_ids)}
        # the commit: one row insert (atomic); until it lands, G is the newest state
        self.client.insert(self.state_coll, [{"key": f"state:{self.n:012d}", "gen": self.n, "body": json.dumps(head),
                                              "v": [1.0, 0.0]}])
        self._collect()
        for coll in (self.chunks_coll, self.docs_coll, self.state_coll):
            self.client.flush(coll)     # Milvus Lite searches unflushed rows one by one: 0.5-3 s a query at 10k rows
        # done: the cleanup is complete, no marker says otherwise (pk deletes: no scan)
        self.client.delete(self.state_coll, ids=[f"writing:{self.n:012d}"] + [m["key"] for m in self.swept])
        self._finish()
        return True

    def _write_map(self, gone: list[str]) -> list[list[int]]:
        """Write the shards of the document map that this update changes (all of them when there is no old map to
        start from); returns [generation, rows] of each shard for the head."""
        old = self._existing if self._existing is not None else {}
        if self.full_rebuild or not self.map_read:
            changed, shards = set(range(SHARDS)), [[0, 0] for _ in range(SHARDS)]
        else:
            changed = {_shard(d) for d in self.put_ids} | {_shard(d) for d in gone}
            shards = [list(x) for x in self.old_map]
        if self.map_read:       # the kept documents of a changed shard: those of its old rows still kept
            docs = {s: {d: v for d, v in self.old_shards[s].items() if d in self.kept} for s in changed}
        else:
            docs = {s: {} for s in changed}
            for d in self.kept:
                if (s := _shard(d)) in changed:
                    docs[s][d] = old[d]
        for d, info in self.put_info.items():
            docs[_shard(d)][d] = info
        rows = []
        for s in sorted(changed):
            text = _pack(docs[s])
            parts = [text[a:a + MAP_PART] for a in range(0, max(len(text), 1), MAP_PART)]
            rows += [{"key": k, "gen": self.n, "body": b, "v": [1.0, 0.0]}
                     for k, b in zip(_map_keys(self.n, s, len(parts)), parts)]
            shards[s] = [self.n, len(parts)]
        for i in range(0, len(rows), 64):
            self.client.insert(self.state_coll, rows[i:i + 64])
        return shards

    def _collect(self) -> None:
        """Delete what readers at N and N - 1 cannot see: rows dead before N - 1, rows below the old floor (only when
        there are any: see the module docstring), and map rows the new head no longer names."""
        self.client.delete(self.state_coll,
                           filter=f'gen < {self.g} and (key like "state:%" or key like "manifest:%")')
        live = {k for s, (g, n) in enumerate(self.new_map) for k in _map_keys(g, s, n)}
        if self.sweep or not self.map_read:     # leftovers of an update cut short may be anywhere: look
            dead = [r["key"] for r in self._all(self.state_coll, 'key like "docs:%"', ["key"]) if r["key"] not in live]
        else:                                   # exactly the old rows of the shards this update rewrote
            dead = [k for s, (g, n) in enumerate(self.old_map) for k in _map_keys(g, s, n) if k not in live]
        for i in range(0, len(dead), BATCH_IDS):
            self.client.delete(self.state_coll, ids=dead[i:i + BATCH_IDS])
        keep = {self.docs_coll, self.chunks_coll, self.old_chunks}
        for coll in self._colls():
            if coll not in keep:
                self.client.drop_collection(coll)
            elif self.sweep:
                self.client.delete(coll, filter=f"died < {self.n} or born < {self.old_floor}")

    def abort(self) -> None:
        self.pending = {}
        if self.began:                  # this update wrote something: undo it (and remove its marker)
            self._repair()
        self._finish()

    def _finish(self) -> None:
        if self.frozen:
            gc.unfreeze()
            self.frozen = False
        if self.client is not None:
            if self.lease:
                self.lease.release()
                self.lease = None
            self.client.close()
        self.lock.release()


def _shard(doc_id: str) -> int:
    return zlib.crc32(doc_id.encode("utf-8")) % SHARDS


def _map_keys(gen: int, shard: int, rows: int) -> list[str]:
    return [f"docs:{gen:012d}:{shard:03d}:{i:05d}" for i in range(rows if gen else 0)]


def _pack(docs: dict[str, Sequence]) -> str:
    """A shard of the document map as text: base64 of zlib-compressed JSON {doc id: [sha256, chunks]}."""
    raw = json.dumps({d: list(v) for d, v in sorted(docs.items())}, ensure_ascii=False, separators=(",", ":"))
    return base64.b64encode(zlib.compress(raw.encode("utf-8"), 6)).decode("ascii")


def _unpack(text: str) -> dict[str, list]:
    """{doc id: [sha256, chunks]} of a shard `_pack` wrote."""
    return json.loads(zlib.decompress(base64.b64decode(text)))


def _lead(doc: Document) -> str:
    return DocInfo(doc.id, doc.title, doc.source, doc.sha256, doc.date, doc.source_url, 0, text=doc.text).meta().lead
