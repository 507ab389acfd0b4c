"""The FAISS index as segments (rag/segments.py, rag/store.py): an update links the current build's segments and
writes one small new one; changed and removed documents vanish from every search; merges and compactions change
nothing a search returns (BM25 over segments scores as one index); a SIGKILL at any step leaves the previous build.

The embedder is a deterministic hash: the subject here is the index bookkeeping, not the model (the storage contract
suite and test_index run the real one)."""
from __future__ import annotations

import doctest
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import bm25s
import numpy as np
import pytest

from rag import keyword, segments
from rag.config import Settings
from rag.errors import RagError
from rag.folder import active_build
from rag.indexer import build_index
from rag.storage import Filter
from rag.store import FaissStore
from conftest import HashEmbedder

ROOT = Path(__file__).resolve().parents[1]
WORDS = ["harbour", "lantern", "glacier", "orchard", "violin", "comet", "bakery", "tunnel", "falcon", "meadow",
         "quarry", "saddle"]


def text_of(i: int, version: int = 1) -> str:
    w, v = WORDS[i % len(WORDS)], WORDS[(i * 5 + 3) % len(WORDS)]
    extra = f" Revision {version} mentions the word rev{version}x{i}." if version > 1 else ""
    return f"The {w} near the {v} was recorded as code{i}k. Every {w} has a story about a {v}.{extra}"


def write(docs: Path, i: int, version: int = 1) -> None:
    title = f"Note {i} on the {WORDS[i % len(WORDS)]}"
    (docs / f"d{i:02d}.md").write_text(f"---\ntitle: {title}\n---\n{text_of(i, version)}\n")


@pytest.fixture
def docs(tmp_path) -> Path:
    d = tmp_path / "docs"
    d.mkdir()
    for i in range(8):
        write(d, i)
    return d


def index(docs: Path, where: Path, emb=None) -> FaissStore:
    s = Settings(docs=docs, index=where)
    build_index(s, progress=False, embedder=emb or HashEmbedder())
    return FaissStore.load(where)


def seg_files(store: FaissStore) -> dict[str, os.stat_result]:
    return {str(p.relative_to(store.path)): p.stat() for p in store.path.glob("seg-*/*")}


QUERIES = ["harbour lantern", "glacier orchard story", "violin comet code4k", "rev2x3 revision", "falcon meadow quarry"]


def answers(store: FaissStore, emb: HashEmbedder) -> list:
    """What every search returns, comparable between two builds of the same documents."""
    out = []
    for q in QUERIES:
        vec = emb.encode([q])[0]
        for where in (None, Filter.of(doc_ids=["d01.md", "d03.md", "d05.md"])):
            out.append(sorted((c, round(s, 5)) for c, s in store.keyword(q, 20, where)))   # 20: all, so ties
            out.append(sorted((c, round(s, 5)) for c, s in store.dense(vec, 20, where)))   # cannot reorder
    return out


def test_keyword_scores_over_segments_are_bm25s_scores_over_one_index():
    texts = [text_of(i, 1 + i % 2) for i in range(12)] + ["", "the and of"]
    gone = 4                                           # a deleted row: left out of N, df and the average length
    parts = [keyword.count(texts[:7]), keyword.count(texts[7:])]
    positions = [np.arange(7), np.arange(7, len(texts))]
    positions[0][gone:] -= 1
    positions[0][gone] = -1
    positions[1] -= 1
    ours = keyword.Keyword(list(zip(parts, positions)), len(texts) - 1)
    kept = [t for i, t in enumerate(texts) if i != gone]
    ref = bm25s.BM25()                                 # defaults: method "lucene", k1 1.5, b 0.75
    ref.index(keyword.tokenize(kept), show_progress=False)
    for q in QUERIES + ["story story harbour"]:
        want = ref.get_scores(keyword.tokenize([q])[0])
        got = np.zeros(len(kept))
        for p, s in ours.search(q, 100):
            got[p] = s
        assert np.allclose(got, want, rtol=1e-5, atol=1e-6), q
    assert ours.search("zebra", 5) == [] and ours.search("the of", 5) == []


def test_term_counts_survive_save_load_and_merge(tmp_path):
    a, b = keyword.count(["Ångström café harbour", "lantern lantern"]), keyword.count(["", "harbour glacier"])
    keyword.save(a, tmp_path / "k.npz")
    back = keyword.load(tmp_path / "k.npz")
    assert back.vocab == a.vocab and all(np.array_equal(getattr(back, f), getattr(a, f))
                                         for f in ("indptr", "rows", "counts", "lengths"))
    merged = keyword.merge([(a, np.array([False, True])), (b, np.array([True, True]))])
    assert merged.lengths.tolist() == [2, 0, 2]
    assert sorted(merged.vocab) == ["glacier", "harbour", "lantern"]     # words only a dropped row had are gone


def test_merge_policy_examples():
    assert doctest.testmod(segments).failed == 0


def test_adding_one_document_links_the_old_segment_and_writes_one_small_one(docs, tmp_path):
    emb = HashEmbedder()
    first = index(docs, tmp_path / "ix", emb)
    before = seg_files(first)
    write(docs, 8)
    emb.embedded.clear()
    second = index(docs, tmp_path / "ix", emb)
    assert len(emb.embedded) == 1 and second.path != first.path
    after = seg_files(second)
    old = [f for f in after if f in before]
    assert old and all(after[f].st_ino == before[f].st_ino for f in old)     # the same files, linked
    new = {f: st for f, st in after.items() if f not in before}
    assert {Path(f).parent.name for f in new} == {second.manifest["segments"][-1]["name"]}
    assert json.loads((second.path / next(f for f in new if f.endswith("segment.json"))).read_text())["documents"] \
        .keys() == {"d08.md"}
    assert sum(st.st_size for st in new.values()) < sum(st.st_size for f, st in after.items() if f in before)
    assert [s["rows"] for s in second.manifest["segments"]] == [8, 1] and second.manifest["deleted"] == {}
    assert second.keyword("code8k", 1)[0][0] in {c.id for c in second.chunk_list if c.doc_id == "d08.md"}


def test_changed_and_removed_documents_disappear_from_every_search(docs, tmp_path):
    emb = HashEmbedder()
    first = index(docs, tmp_path / "ix", emb)
    stale = {c.id: c for c in first.chunk_list if c.doc_id in ("d03.md", "d06.md")}
    write(docs, 3, version=2)
    (docs / "d06.md").unlink()
    store = index(docs, tmp_path / "ix", emb)
    assert store.manifest["deleted"] == {store.manifest["segments"][0]["name"]: ["d03.md", "d06.md"]}
    assert "d06.md" not in store.catalog() and store.documents(["d06.md"]) == {}
    assert store.documents(["d03.md"])["d03.md"].text == text_of(3, 2)
    everything = store.dense(emb.encode(["anything"])[0], 100)
    assert len(everything) == store.count() == 7
    assert not {c for c, _ in everything} & set(stale) and store.chunks(stale) == {}
    assert store.keyword("rev2x3", 5)[0][0] in {c.id for c in store.chunk_list if c.doc_id == "d03.md"}
    assert all(store.chunks([c])[c].doc_id != "d06.md" for c, _ in store.keyword("violin comet falcon", 50))
    assert store.mentions({"revision", "code6k", "code3k"}) == {"revision", "code3k"}


def test_merges_and_compaction_change_no_search_result(docs, tmp_path):
    emb = HashEmbedder()
    names = []
    for step in range(6):       # adds, changes, removals: segments merge, the first is compacted
        if step % 2 == 0:
            write(docs, 8 + step)
        else:
            write(docs, step, version=2)
        if step == 4:
            for i in (0, 2):
                (docs / f"d{i:02d}.md").unlink()
        store = index(docs, tmp_path / "ix", emb)
        names.append([s["name"] for s in store.manifest["segments"]])
        fresh = index(docs, tmp_path / f"fresh{step}", emb)
        assert len(fresh.manifest["segments"]) == 1
        assert answers(store, emb) == answers(fresh, emb)
        assert store.catalog() == fresh.catalog() and store.count() == fresh.count()
    assert any(len(a) > len(b) for a, b in zip(names, names[1:]))          # segments were merged
    assert names[0][0] not in names[-1]                                      # and the first one rewritten


def test_deleted_rows_of_an_hnsw_segment_are_skipped_inside_the_search(docs, tmp_path, monkeypatch):
    monkeypatch.setattr(segments, "HNSW_FROM", 4)
    emb = HashEmbedder()
    index(docs, tmp_path / "ix", emb)
    for i in (1, 2):
        write(docs, i, version=2)
    store = index(docs, tmp_path / "ix", emb)
    assert [s["faiss_index"] for s in store.manifest["segments"]] == ["HNSWFlat", "FlatIP"]
    for q in QUERIES:
        hits = store.dense(emb.encode([q])[0], 8)
        assert len(hits) == 8 and {c for c, _ in hits} == {c.id for c in store.chunk_list}


# A child process runs an update and kills itself with SIGKILL at one step of the commit.
CHILD = textwrap.dedent("""
    import os, signal, sys
    sys.path[:0] = [{tests!r}, {root!r}]
    from rag import folder, segments, store
    from rag.config import Settings
    from rag.indexer import build_index
    from test_segments import HashEmbedder

    def stop(*a, **k):
        print("killed", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    point = {point!r}
    if point == "linking":                   # half the old segment's files linked into the new build
        link = segments.link
        def half(src, dst):
            dst.mkdir()
            os.link(src.path / "chunks.jsonl", dst / "chunks.jsonl")
            stop()
        store.link = half
    elif point == "merging":                 # the merged segment written, its sources not yet removed
        finish = segments.SegmentWriter.finish
        calls = []
        def finish_then_stop(self, *a, **k):
            kind = finish(self, *a, **k)
            calls.append(1)
            if len(calls) == 2:
                stop()
            return kind
        segments.SegmentWriter.finish = finish_then_stop
    elif point == "swapping":                # the build renamed into place, CURRENT not yet moved
        folder.point_current = stop
    build_index(Settings(docs={docs!r}, index={index!r}), progress=False, embedder=HashEmbedder())
    print("finished", flush=True)
""")


@pytest.mark.parametrize("point", ["linking", "merging", "swapping"])
def test_sigkill_during_an_update_leaves_the_previous_build(docs, tmp_path, point):
    emb = HashEmbedder()
    index(docs, tmp_path / "ix", emb)
    write(docs, 8)
    before = index(docs, tmp_path / "ix", emb)            # two segments: the next add merges the small one
    seen = answers(before, emb), before.catalog()
    write(docs, 9)
    write(docs, 4, version=2)
    script = CHILD.format(tests=str(ROOT / "tests"), root=str(ROOT), point=point, docs=str(docs),
                          index=str(tmp_path / "ix"))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL and proc.stdout.strip() == "killed", proc.stderr[-2000:]
    assert active_build(tmp_path / "ix") == before.path
    again = FaissStore.load(tmp_path / "ix")                # every file of the build as it was (sizes checked)
    assert (answers(again, emb), again.catalog()) == seen
    done = index(docs, tmp_path / "ix", emb)                # the next run finishes and cleans up
    assert "d09.md" in done.catalog() and done.documents(["d04.md"])["d04.md"].text == text_of(4, 2)
    left = sorted(p.name for p in (tmp_path / "ix").iterdir() if p.name.startswith((".tmp", "build-", ".CURRENT")))
    assert left == sorted([before.path.name, done.path.name])
    assert answers(done, emb) == answers(index(docs, tmp_path / "fresh", emb), emb)


def test_a_format_1_build_is_rewritten_without_embedding_again(docs, tmp_path):
    """Indexes made before segments (one vectors.faiss / chunks.jsonl per build) keep their vectors."""
    emb = HashEmbedder()
    store = index(docs, tmp_path / "ix", emb)
    seg = store.path / store.manifest["segments"][0]["name"]
    for name in ("vectors.faiss", "chunks.jsonl", "documents.jsonl"):          # the old layout, made by hand
        os.replace(seg / name, store.path / name)
    manifest = {k: v for k, v in store.manifest.items() if k not in ("segments", "deleted")}
    (store.path / "manifest.json").write_text(json.dumps({**manifest, "format_version": 1}))
    with pytest.raises(RagError, match="has format 1, this version reads 2; run `rag index`"):
        FaissStore.load(tmp_path / "ix")
    emb.embedded.clear()
    summary = build_index(Settings(docs=docs, index=tmp_path / "ix"), progress=False, embedder=emb)
    assert "format 1" in summary["full_rebuild"] and summary["chunks_embedded"] == 0 and emb.embedded == []
    assert answers(FaissStore.load(tmp_path / "ix"), emb) == answers(index(docs, tmp_path / "fresh", emb), emb)
