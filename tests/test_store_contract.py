"""The storage contract (rag/storage.py), one suite for every backend: after an update, searches and records agree
with what was written; filters restrict by document and date; an update is atomic (a store opened before it keeps
serving the old state until reopened) and incremental; a chunking change rebuilds everything; a model mismatch is one
line. Milvus runs embedded (a Milvus Lite file) for speed, and through a real Milvus Lite server; its writer is also
killed with SIGKILL at the points that matter.

The writer is driven directly here, as `rag.indexer` drives it: existing() -> keep / put -> commit.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from rag.chunking import iter_chunks
from rag.config import Settings
from rag.errors import RagError
from rag.storage import Filter, index_exists, open_store, open_writer
from rag.types import Chunk, Document, sha256

ROOT = Path(__file__).resolve().parents[1]


def _has_faiss_store() -> bool:
    try:
        from rag.store import FaissStore, FaissWriter  # noqa: F401
    except ImportError:
        return False
    return True


BACKENDS = [pytest.param("faiss", marks=pytest.mark.skipif(not _has_faiss_store(), reason="rag.store.FaissStore "
                                                           "has not landed yet")), "milvus"]


# ---- the corpus --------------------------------------------------------------------------------------------------

def doc(doc_id: str, title: str, text: str, date: str | None = None) -> Document:
    return Document(doc_id, title, text, doc_id, sha256(f"{title}\n{date}\n{text}"), date)


def _long_text() -> str:
    """Over 16,000 characters (several stored parts), with non-ASCII text across a part boundary."""
    words = ["harbour", "lantern", "ledger", "gale", "beacon", "keeper", "tide", "reef"]
    paras = [f"Entry {i}: the lighthouse keeper noted the {words[i % 8]} and the {words[(i * 3) % 8]} at dawn; "
             f"the logbook for night {i} says the lamp burned {i * 7 % 13} hours — Ångström, café, Zürich. " * 2
             for i in range(60)]
    return "\n\n".join(paras)


def corpus(version: int = 1) -> list[Document]:
    docs = [
        doc("volcano.md", "Volcanoes of Iceland", "Eyjafjallajokull erupted in 2010 and its ash cloud grounded "
            "flights across Europe for six days. Geologists measured the plume at nine kilometres.", "2024-03-05"),
        doc("tides.md", "Tidal energy", "The Rance barrage in Brittany has produced tidal electricity since 1966. "
            "Its turbines turn in both directions as the estuary fills and empties.", "2024-07-11"),
        doc("bread.md", "Sourdough baking", "A levain is fed with flour and water each day. Bakers judge it ready "
            "when it doubles within six hours and smells of yoghurt."),
        doc("chess.md", "Chess openings", "The Sicilian Defence answers 1.e4 with c5 and leads to sharp, "
            "unbalanced positions that club players study for years.", "2023-11-20"),
        doc("log.md", "The keeper's log", _long_text(), "2024-05-01"),
    ]
    if version == 2:     # tides changed, bread removed, bees added
        docs[1] = doc("tides.md", "Tidal energy", "The Rance barrage in Brittany was refurbished in 2024; its "
                      "twenty-four bulb turbines now run at night as well.", "2024-07-11")
        del docs[2]
        docs.append(doc("bees.md", "Honeybee waggle dance", "A forager's waggle dance tells hivemates the "
                        "direction and distance of nectar.", "2024-02-14"))
    return docs


# ---- driving a writer (what rag.indexer does) ---------------------------------------------------------------------

def update(settings: Settings, embedder, docs: list[Document]) -> tuple[bool, str | None]:
    """Bring the store up to date with `docs`; (commit's result, the writer's full_rebuild)."""
    from rag.store import embed_text

    writer = open_writer(settings, embedder)
    try:
        existing = writer.existing()
        for d in docs:
            if existing.get(d.id) == d.sha256:
                writer.keep(d.id)
                continue
            chunks = list(iter_chunks(d, settings.chunk_size, settings.chunk_overlap))
            texts = [embed_text(d.title, d.source, c.text) for c in chunks]
            keys = [sha256(t) for t in texts]
            known = writer.known_vectors(keys)
            fresh = [t for t, k in zip(texts, keys) if k not in known]
            vectors = dict(zip([k for k in keys if k not in known], embedder.encode(fresh))) if fresh else {}
            vecs = np.stack([known.get(k, vectors.get(k)) for k in keys]) if keys else np.zeros((0, embedder.dim))
            writer.put(d, chunks, keys, vecs)
        manifest = {"model": settings.model, "embedding_backend": embedder.backend, "dimension": embedder.dim,
                    "max_model_tokens": embedder.max_tokens, "chunking": settings.chunking(),
                    "counts": {"documents": len(docs)}, "documents": {d.id: {"sha256": d.sha256} for d in docs}}
        return writer.commit(manifest), writer.full_rebuild
    except BaseException:
        writer.abort()
        raise


def expected_chunks(settings: Settings, docs: list[Document]) -> dict[str, Chunk]:
    return {c.id: c for d in docs for c in iter_chunks(d, settings.chunk_size, settings.chunk_overlap)}


@pytest.fixture(scope="module")
def embedder():
    from rag.embed import get_embedder

    s = Settings()
    return get_embedder(s.model, s.batch_size, s.embed_backend)


def settings_for(backend: str, tmp_path: Path, **kw) -> Settings:
    extra = {"milvus_uri": str(tmp_path / "m.db")} if backend == "milvus" else {}
    return Settings(index=tmp_path / "index", store=backend, **{**extra, **kw})


# ---- the contract --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_an_update_is_read_back_exactly(backend, tmp_path, embedder):
    s = settings_for(backend, tmp_path)
    docs = corpus()
    assert update(s, embedder, docs) == (True, None)
    store = open_store(s)
    try:
        assert store.backend == backend and store.state() == store.latest()
        assert store.manifest["model"] == s.model and store.manifest["dimension"] == embedder.dim
        want = expected_chunks(s, docs)
        assert store.count() == len(want)
        got = store.chunks(list(want) + ["no-such-chunk"])
        assert got == want
        texts = store.documents([d.id for d in docs] + ["nope.md"])
        assert {d: t.text for d, t in texts.items()} == {d.id: d.text for d in docs}
        assert len(texts["log.md"].text) > 16_000
        for c in got.values():                          # the citation invariant, through the store
            assert texts[c.doc_id].text[c.start:c.end] == c.text
        catalog = store.catalog()
        assert catalog == {d: t.meta() for d, t in texts.items()}
        assert {d: (m.title, m.date, m.sha256, m.n_chunks) for d, m in catalog.items()} == \
            {d.id: (d.title, d.date, d.sha256, sum(c.doc_id == d.id for c in want.values())) for d in docs}
        # read again once the catalog is loaded (Milvus then reads the parts by key): the same documents
        assert store.documents([d.id for d in docs] + ["nope.md"]) == texts

        ids = sorted(want)
        vecs = store.vectors(ids)
        assert vecs.shape == (len(ids), embedder.dim) and vecs.dtype == np.float32
        assert np.allclose(np.linalg.norm(vecs, axis=1), 1, atol=1e-3)
        probe = ids[3]
        hits = store.dense(vecs[3], 5)
        assert hits[0][0] == probe and hits[0][1] == pytest.approx(1, abs=1e-3)
        assert [h[1] for h in hits] == sorted((h[1] for h in hits), reverse=True) and len(hits) == 5

        hits = store.keyword("Eyjafjallajokull ash cloud", 3)
        assert got[hits[0][0]].doc_id == "volcano.md" and all(score > 0 for _, score in hits)
        assert [h[1] for h in hits] == sorted((h[1] for h in hits), reverse=True)
        assert store.keyword("volcanoes", 3)[0][0] in [c.id for c in got.values() if c.doc_id == "volcano.md"], \
            "the title is searched with the chunk, stemmed"
        assert store.keyword("the and of", 3) == []
        assert store.mentions({"sicilian", "levain", "zanzibar", "lighthouse"}) == {"sicilian", "levain", "lighthouse"}
        assert store.contains({"1966", "Rance", "Zanzibar", "2011"}) == {"1966", "Rance"}
    finally:
        store.close()


@contextmanager
def built(backend: str, tmp_path: Path, embedder):
    """The test corpus indexed by `backend`: (open store, chunk id -> expected chunk); the store closes after."""
    s = settings_for(backend, tmp_path)
    docs = corpus()
    update(s, embedder, docs)
    store = open_store(s)
    try:
        yield store, expected_chunks(s, docs)
    finally:
        store.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_filters_by_document_and_date(backend, tmp_path, embedder):
    with built(backend, tmp_path, embedder) as (store, chunks):
        q = embedder.encode(["tidal turbines in an estuary"])[0]

        def docs_of(hits):
            return {chunks[c].doc_id for c, _ in hits}

        only = Filter.of(doc_ids=["chess.md", "bread.md"])
        assert docs_of(store.dense(q, 50, only)) == {"chess.md", "bread.md"}
        assert docs_of(store.keyword("levain Sicilian barrage", 50, only)) == {"chess.md", "bread.md"}
        spring = Filter.of(date_from="2024-01-01", date_to="2024-06-30")       # bread.md is undated: left out
        assert docs_of(store.dense(q, 50, spring)) == {"volcano.md", "log.md"}
        assert docs_of(store.dense(q, 50, Filter.of(date_to="2023-12-31"))) == {"chess.md"}
        assert docs_of(store.dense(q, 50, Filter.of(date_from="2024-07-11"))) == {"tides.md"}
        assert docs_of(store.keyword("barrage levain", 50, Filter.of(date_from="2024-01-01"))) == {"tides.md"}
        assert store.dense(q, 5, Filter(doc_ids=frozenset())) == []
        assert store.dense(q, 5, Filter.of(doc_ids=["nope.md"])) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_search_within_a_few_documents_scores_all_their_chunks(backend, tmp_path, embedder):
    """The second hop searches the documents a passage names: every chunk of theirs, scored exactly, the same
    before the catalog is loaded and after (Milvus then reads them with a search, knowing how many there are)."""
    with built(backend, tmp_path, embedder) as (store, chunks):
        few = Filter.of(doc_ids=["log.md", "chess.md", "nope.md"])
        theirs = sorted(c for c in chunks if chunks[c].doc_id in few.doc_ids)
        q = embedder.encode(["the lamp burned all night at the lighthouse"])[0]
        before = store.dense(q, 100, few)
        store.catalog()
        after = store.dense(q, 100, few)
        assert after == before
        assert sorted(c for c, _ in after) == theirs and len(theirs) > 10
        exact = dict(zip(theirs, store.vectors(theirs) @ q))
        assert [score for _, score in after] == pytest.approx([exact[c] for c, _ in after], abs=1e-5)
        assert [score for _, score in after] == sorted((score for _, score in after), reverse=True)
        assert store.dense(q, 3, few) == after[:3]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_second_update_is_atomic_and_incremental(backend, tmp_path, embedder):
    s = settings_for(backend, tmp_path)
    check_second_update(s, embedder)


def ids(hits: list[tuple[str, float]]) -> list[str]:
    """The chunks a search returned, best first: BM25 scores rest on collection-wide statistics, which in Milvus
    count rows of neighbouring generations too (and per segment in Milvus Lite), so a reader's scores may move."""
    return [c for c, _ in hits]


def check_second_update(s: Settings, embedder) -> None:
    v1, v2 = corpus(1), corpus(2)
    update(s, embedder, v1)
    old = open_store(s)
    try:
        before = (old.state(), old.catalog(), ids(old.keyword("levain flour", 3)), old.count())
        changed, rebuild = update(s, embedder, v2)
        assert changed and rebuild is None
        assert old.latest() != old.state()             # replicas poll this to reload
        # the store opened before the update still serves the old state, all of it
        assert (old.state(), old.catalog(), ids(old.keyword("levain flour", 3)), old.count()) == before
        assert old.documents(["bread.md"])["bread.md"].text == v1[2].text
        assert old.documents(["tides.md"])["tides.md"].text == v1[1].text
        assert old.documents(["bees.md"]) == {} and old.keyword("waggle", 3) == []

        new = open_store(s)
        try:
            assert new.state() == new.latest() == old.latest()
            want = expected_chunks(s, v2)
            assert set(new.catalog()) == {d.id for d in v2} and new.count() == len(want)
            assert new.chunks(list(want)) == want
            assert new.documents(["bread.md"]) == {} and new.keyword("levain", 3) == []
            assert new.documents(["tides.md"])["tides.md"].text == v2[1].text
            assert new.chunks([new.keyword("waggle dance", 1)[0][0]]).popitem()[1].doc_id == "bees.md"
            unchanged = [d.id for d in v2 if d.id in {"volcano.md", "chess.md", "log.md"}]
            assert {d: new.catalog()[d] for d in unchanged} == {d: before[1][d] for d in unchanged}
            assert new.mentions({"levain", "waggle"}) == {"waggle"}
            if s.store == "milvus":       # unchanged documents cost nothing: their rows are the first update's
                assert {r["born"] for r in raw_rows(s) if r["doc_id"] in unchanged} == {1}
        finally:
            new.close()
        state = old.latest()
        assert update(s, embedder, v2) == (False, None)          # nothing changed: no new state
        assert old.latest() == state
    finally:
        old.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_chunking_change_rebuilds_everything(backend, tmp_path, embedder):
    s = settings_for(backend, tmp_path)
    docs = corpus()
    update(s, embedder, docs)
    old = open_store(s)
    try:
        n_old = old.count()
        smaller = replace(s, chunk_size=60, chunk_overlap=10)
        writer = open_writer(smaller, embedder)
        assert "chunking" in (writer.full_rebuild or "") and writer.existing() == {}
        writer.abort()
        changed, rebuild = update(smaller, embedder, docs)
        assert changed and "chunking" in rebuild
        assert old.count() == n_old and old.chunks(list(expected_chunks(s, docs))) == expected_chunks(s, docs)
        new = open_store(smaller)
        try:
            want = expected_chunks(smaller, docs)
            assert new.count() == len(want) > n_old and new.chunks(list(want)) == want
            assert new.manifest["chunking"] == smaller.chunking()
        finally:
            new.close()
    finally:
        old.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_missing_index_and_another_model_are_one_line_errors(backend, tmp_path, embedder):
    s = settings_for(backend, tmp_path)
    assert not index_exists(s)
    with pytest.raises(RagError, match=r"^no index at .*; run `rag index`"):
        open_store(s)
    update(s, embedder, corpus()[:1])
    assert index_exists(s) and index_exists(replace(s, model="acme/other-model"))   # there, though unusable
    with pytest.raises(RagError) as e:
        open_store(replace(s, model="acme/other-model"))
    assert "\n" not in str(e.value)
    assert str(e.value).endswith(f"was built with model {s.model!r} but 'acme/other-model' is configured; run "
                                 f"`rag index` to rebuild it (or set RAG_MODEL to match)")


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_folder_that_is_not_an_index_is_refused_and_left_alone(backend, tmp_path, embedder):
    """The default Milvus file lives inside the index folder, so that folder's rules apply to both backends."""
    s = replace(settings_for(backend, tmp_path), milvus_uri="")
    s.index.mkdir()
    (s.index / "notes.txt").write_text("mine\n")
    with pytest.raises(RagError, match=r"is not empty and is not a rag index \(it holds notes.txt\)"):
        open_writer(s, embedder)
    assert sorted(p.name for p in s.index.iterdir()) == ["notes.txt"]


# ---- Milvus only ---------------------------------------------------------------------------------------------------

def test_milvus_through_a_server(tmp_path, embedder):
    """The same atomic update, over a real Milvus Lite server that the update and the readers share."""
    from milvus_server import milvus_server

    with milvus_server(tmp_path / "milvus") as uri:
        s = Settings(index=tmp_path / "index", store="milvus", milvus_uri=uri, milvus_prefix="contract")
        check_second_update(s, embedder)
        store = open_store(s)
        assert "contract" in repr(store) and store.state() == store.latest()
        assert store.contains({"ance", "ANCE", "Brit", "9999"}) == {"ance", "Brit"}    # inside words, case as written

        # the vectors a writer reuses: looked up by key alone (a query) or with the embedded texts (on a server a
        # BM25 search), the same ones; a text without keyword tokens and an unknown one are not found by either
        from rag.store import embed_text

        w = open_writer(s, embedder)
        try:
            ids = [r["chunk_id"] for r in w._all(w.chunks_coll, w.old_visible, ["chunk_id"])]
            catalog = store.catalog()
            texts = {}
            for c in store.chunks(ids).values():
                text = embed_text(catalog[c.doc_id].title, catalog[c.doc_id].source, c.text)
                texts[sha256(text)] = text
            texts.update({sha256(t): t for t in ("the of and", "no such passage anywhere")})
            by_key, by_text = w.known_vectors(list(texts)), w.known_vectors(texts)
            assert by_key.keys() == by_text.keys() == set(texts) - {sha256("the of and"),
                                                                   sha256("no such passage anywhere")}
            assert all(np.array_equal(by_key[k], by_text[k]) for k in by_key)
        finally:
            w.abort()
        store.close()

        # a second writer on the server (another replica) waits for the first one's commit, then starts from it
        first = open_writer(s, embedder)
        second: list = []
        waiting = threading.Thread(target=lambda: second.append(open_writer(s, embedder)))
        waiting.start()
        waiting.join(1.0)
        assert waiting.is_alive() and not second
        first.keep("volcano.md")
        assert first.commit({"model": s.model, "embedding_backend": embedder.backend, "dimension": embedder.dim,
                             "chunking": s.chunking()})       # everything but volcano.md removed
        waiting.join(30)
        assert second and second[0].existing().keys() == {"volcano.md"}
        second[0].abort()


def test_milvus_errors_name_the_uri_never_the_secret(tmp_path):
    from milvus_server import free_port

    s = Settings(store="milvus", milvus_uri=f"http://admin:hunter2@127.0.0.1:{free_port()}", milvus_token="tok-s3cret")
    with pytest.raises(RagError) as e:
        open_store(s)
    message = str(e.value)
    assert "\n" not in message and "http://***@127.0.0.1" in message and "RAG_MILVUS_URI" in message
    assert "hunter2" not in message and "tok-s3cret" not in message and "tok-s3cret" not in repr(s)


def test_milvus_one_writer_per_embedded_file(tmp_path, embedder):
    s = settings_for("milvus", tmp_path)
    first = open_writer(s, embedder)
    try:
        with pytest.raises(RagError, match="another `rag index` is updating"):
            open_writer(s, embedder)
    finally:
        first.abort()
    open_writer(s, embedder).abort()             # released by abort


def test_milvus_count_agrees_with_the_rows_after_each_update(tmp_path, embedder):
    """A Milvus store counts its chunks from the committed update's manifest (a filtered count(*) reads every row on
    Milvus Lite): after a build, an addition and a removal it is the number of rows a reader finds."""
    from rag.indexer import build_index

    folder = tmp_path / "docs"
    folder.mkdir()
    for d in corpus():
        (folder / d.id).write_text(f"# {d.title}\n\n{d.text}\n", encoding="utf-8")
    s = Settings(docs=folder, index=tmp_path / "index", store="milvus")
    steps = [lambda: None, lambda: (folder / "bees.md").write_text("# Bees\n\nA forager dances.\n", encoding="utf-8"),
             lambda: (folder / "log.md").unlink()]
    for step in steps:
        step()
        build_index(s, progress=False, embedder=embedder)
        store = open_store(s)
        try:
            rows = store.client.query(store.chunks_coll, filter=store.visible, output_fields=["count(*)"])
            assert store.count() == rows[0]["count(*)"] == sum(m.n_chunks for m in store.catalog().values()) > 0
        finally:
            store.close()


def test_milvus_updates_scan_the_big_collections_only_when_needed(tmp_path, embedder, monkeypatch):
    """Milvus Lite walks every row for a filtered query or delete: a writer on a cleanly committed store reads the
    document map from the state collection (point reads) and filters the chunk and document collections only where
    an update must (its own known vectors, the rows of a changed document); the map follows every update, and a
    head written before the map (no "marks") is repaired and read from the document rows once."""
    from pymilvus import MilvusClient

    from rag.milvus_writer import SHARDS, MilvusWriter

    s = settings_for("milvus", tmp_path)
    filtered: list[tuple[str, str, str]] = []
    for name in ("query", "delete"):
        original = getattr(MilvusClient, name)

        def spy(self, coll, *a, _original=original, _name=name, **kw):
            if kw.get("filter") and not coll.endswith("_state"):
                filtered.append((_name, coll, kw["filter"]))
            return _original(self, coll, *a, **kw)
        monkeypatch.setattr(MilvusClient, name, spy)

    def state_of(docs):
        return {d.id: d.sha256 for d in docs}

    def check_map(docs):
        w = open_writer(s, embedder)
        try:
            assert dict(w.existing()) == state_of(docs) and w.map_read
            assert len(w.head["docmap"]) == SHARDS
            rows = w._all(w.state_coll, 'key like "docs:%" or key like "writing:%"', ["key"])
            assert len(rows) == sum(n for g, n in w.head["docmap"] if g)      # no stray map rows, no markers
            return w.head
        finally:
            w.abort()

    v1, v2 = corpus(1), corpus(2)
    update(s, embedder, v1)
    filtered.clear()
    head = check_map(v1)
    assert filtered == [] and not head["sweep"]         # opening, reading the map, aborting: no scan
    update(s, embedder, v2)                               # changes tides, removes bread: rows marked dead
    assert check_map(v2)["sweep"]
    filtered.clear()
    v3 = v2 + [doc("owls.md", "Owls", "Barn owls hunt by sound in complete darkness.")]
    update(s, embedder, v3)                               # collects what v2 marked dead
    assert any(f[0] == "delete" and "died <" in f[2] for f in filtered)
    store = open_store(s)
    g = int(store.state())
    store.close()
    assert all(r["born"] <= g and r["died"] in (g, 2**62) for r in raw_rows(s))
    filtered.clear()
    v4 = v3 + [doc("moss.md", "Moss", "Sphagnum moss holds twenty times its weight in water.")]
    update(s, embedder, v4)                               # an addition after an addition: no delete by filter
    assert [f for f in filtered if f[0] == "delete"] == []
    assert [f[2] for f in filtered if f[0] == "query"] and all(" key in [" in f[2] for f in filtered)
    check_map(v4)

    # a head from before the map and the markers: repaired and read from the document rows, then mapped
    w = open_writer(s, embedder)
    state = w._newest_state()
    head = {k: v for k, v in json.loads(state["body"]).items() if k in ("floor", "chunks", "previous", "dimension")}
    w.client.upsert(w.state_coll, [{"key": state["key"], "gen": state["gen"], "body": json.dumps(head),
                                    "v": [1.0, 0.0]}])
    w.abort()
    w = MilvusWriter.open(s, embedder)
    assert dict(w.existing()) == state_of(v4) and not w.map_read
    w.abort()
    v5 = v4[1:]
    assert update(s, embedder, v5) == (True, None)
    check_map(v5)


# A child process runs an update and is killed with SIGKILL at a chosen point; the embedded file is only opened by
# one process at a time (Milvus Lite), so this process opens it only after the child is dead.
CHILD = textwrap.dedent("""
    import json, os, signal, sys
    sys.path[:0] = [{tests!r}, {root!r}]
    from rag.config import Settings
    from rag.embed import get_embedder
    from rag.storage import open_store
    from rag.milvus_writer import MilvusWriter
    import test_store_contract as t

    s = Settings(index={index!r}, store="milvus", milvus_uri={uri!r})
    emb = get_embedder(s.model, s.batch_size, s.embed_backend)
    t.update(s, emb, t.corpus(1))
    store = open_store(s)
    snapshot = t.snapshot(store)
    print(json.dumps(snapshot), flush=True)

    def stop(where):
        print("at " + where, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    point = {point!r}
    writer = MilvusWriter.open(s, emb)
    if point == "before-commit-row":            # everything written but the state row
        insert = writer.client.insert
        writer.client.insert = lambda coll, rows, **kw: (stop(point) if rows[0].get("key", "").startswith("state:")
                                                         else insert(coll, rows, **kw))
    if point == "after-commit-row":             # committed, the old rows not yet collected
        writer._collect = lambda: stop(point)
    original = MilvusWriter.open
    MilvusWriter.open = classmethod(lambda cls, *a: writer)
    docs = t.corpus(2)
    if point == "after-puts":
        class Stop(list):
            def __iter__(self):
                yield from docs[:3]
                stop(point)
        docs = Stop(docs)
    t.update(s, emb, docs)
    print("finished", flush=True)
""")


def snapshot(store) -> dict:
    """What a reader sees, comparable across processes."""
    return {"state": store.state(), "count": store.count(),
            "catalog": {d: list(m.__dict__.values()) for d, m in sorted(store.catalog().items())},
            "texts": {d: i.text for d, i in sorted(store.documents(store.catalog()).items())},
            "keyword": ids(store.keyword("levain barrage lighthouse", 10)),
            "chunks": sorted(store.chunks([c for c, _ in store.keyword("the keeper tide reef flour", 100)]))}


def raw_rows(s: Settings) -> list[dict]:
    from pymilvus import MilvusClient

    client = MilvusClient(s.milvus_target())
    rows = []
    for coll in client.list_collections():
        if coll.startswith(s.milvus_prefix + "_") and not coll.endswith("_state"):
            client.load_collection(coll)
            rows += client.query(coll, filter="born >= 0", output_fields=["pk", "doc_id", "born", "died"])
    return rows


@pytest.mark.parametrize("point", ["after-puts", "before-commit-row", "after-commit-row"])
def test_milvus_survives_sigkill_mid_update(point, tmp_path, embedder):
    s = settings_for("milvus", tmp_path)
    script = CHILD.format(tests=str(ROOT / "tests"), root=str(ROOT), index=str(s.index), uri=s.milvus_uri, point=point)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    lines = proc.stdout.splitlines()
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    assert lines[-1] == f"at {point}" and "finished" not in lines
    before = json.loads(lines[0])

    store = open_store(s)
    seen = json.loads(json.dumps(snapshot(store)))
    store.close()
    if point == "after-commit-row":      # the commit landed: the new state is served, whole
        assert int(seen["state"]) == int(before["state"]) + 1
        assert sorted(seen["texts"]) == sorted(d.id for d in corpus(2))
    else:                                # killed before its commit: the previous state, exactly
        assert seen == before

    assert update(s, embedder, corpus(2)) == ((point != "after-commit-row"), None)
    store = open_store(s)
    g = int(store.state())
    want = expected_chunks(s, corpus(2))
    assert store.count() == len(want) and store.chunks(list(want)) == want
    store.close()
    for row in raw_rows(s):       # no stray rows: only what readers of this state or the one before can see
        assert row["born"] <= g and row["died"] in (g, 2**62), row

    # the next update that changes something cleans up whatever the killed one left: markers, map rows, dead rows
    more = corpus(2) + [doc("owls.md", "Owls", "Barn owls hunt by sound in complete darkness.")]
    assert update(s, embedder, more) == (True, None)
    w = open_writer(s, embedder)
    try:
        assert dict(w.existing()) == {d.id: d.sha256 for d in more} and w.map_read
        rows = w._all(w.state_coll, 'key like "docs:%" or key like "writing:%"', ["key"])
        assert len(rows) == sum(n for g, n in w.head["docmap"] if g)
    finally:
        w.abort()
    store = open_store(s)
    g = int(store.state())
    store.close()
    for row in raw_rows(s):
        assert row["born"] <= g and row["died"] in (g, 2**62), row


@pytest.mark.parametrize("backend", BACKENDS)
def test_names_and_numbers_the_retrieved_documents_hold_are_not_asked_of_the_store(backend, tmp_path, embedder):
    """Whether the corpus uses a question's names and numbers (the refusal's "never mention" check) is settled from
    the retrieved documents where they hold them, with the store's own answer; only the rest is asked of the store
    (on a large Milvus collection each such call walks every row)."""
    from rag import text as T
    from rag.retrieve import Retriever

    with built(backend, tmp_path, embedder) as (store, _):
        r = Retriever(store, embedder, settings_for(backend, tmp_path))
        asked: list[set] = []
        contains, mentions = store.contains, store.mentions
        store.contains = lambda xs: asked.append(set(xs)) or contains(xs)
        store.mentions = lambda xs: asked.append(set(xs)) or mentions(xs)
        for question, sent_to_store in [("When did the Rance barrage in Brittany open, 1966?", set()),
                                        ("Did Mark Zanzibar visit the Rance barrage in 1999?", {"mark", "zanzibar",
                                                                                               "1999"})]:
            asked.clear()
            found = r.retrieve(question, k=3)
            assert set().union(*asked) == sent_to_store     # "1966", "Rance" are in the retrieved tides.md
            terms, names = T.named_terms(question)
            words = set().union(*map(T.name_words, names))
            assert found.mentioned == mentions(words) and found.contained == contains(set(terms))


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_typo_is_read_as_the_documents_word_on_every_store(backend, tmp_path, embedder):
    """`rag.spelling` asks the store whether any document uses a word (`mentions`) and reads the documents found
    (`documents`): both stores answer the same, so a misspelt word is searched as the documents write it."""
    from rag.retrieve import Retriever

    with built(backend, tmp_path, embedder) as (store, _):
        r = Retriever(store, embedder, settings_for(backend, tmp_path))
        found = r.retrieve("When did the Rance barage in Brittany open?", k=3)
        assert found.question == "When did the Rance barrage in Brittany open?"
        assert "tides.md" in {h.chunk.doc_id for h in found.hits}
        assert r.retrieve("When did the Rance barrage open?", k=3).question == "When did the Rance barrage open?"


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_store_hears_of_a_word_once_a_search(backend, tmp_path, embedder):
    """A name no document uses is asked of the store by the respelling (is it a typo?) and by the "never mention"
    check; the second gets the first's answer, also in the search made again for a typo ("barage"), since on a
    large Milvus collection each call walks every row."""
    from rag.retrieve import Retriever

    with built(backend, tmp_path, embedder) as (store, _):
        r = Retriever(store, embedder, settings_for(backend, tmp_path))
        calls: list[set] = []
        mentions = store.mentions
        store.mentions = lambda xs: calls.append(set(xs)) or mentions(xs)
        found = r.retrieve("Did Isambard Kingdom Brunel visit the Rance barage?", k=3)
        assert found.question == "Did Isambard Kingdom Brunel visit the Rance barrage?"
        asked = [w for c in calls for w in c]
        assert {"isambard", "brunel"} <= set(asked) and len(asked) == len(set(asked))
        assert not {"isambard", "brunel"} & found.mentioned      # and the answer is the store's
