"""The on-disk index: incremental rebuilds embed only what changed; a killed rebuild never breaks the index."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace

import pytest

from rag.config import Settings
from rag.errors import RagError
from rag.retrieve import open_retriever
from rag.folder import active_build
from rag.indexer import build_index
from rag.store import FaissStore as Index
from conftest import ROOT, HashEmbedder


CountingEmbedder = HashEmbedder   # its subject is the index bookkeeping: what gets embedded, and how often


def test_incremental_add_change_delete(docs_copy, tmp_path):
    s = Settings(docs=docs_copy, index=tmp_path / "ix")
    emb = CountingEmbedder()
    first = build_index(s, progress=False, embedder=emb)
    assert first["added"] == 4 and first["chunks_embedded"] == first["chunks_total"] == len(emb.embedded)

    emb.embedded.clear()
    again = build_index(s, progress=False, embedder=emb)
    assert again["chunks_embedded"] == 0 and again["unchanged"] == 4 and emb.embedded == []

    (docs_copy / "new.md").write_text("---\ntitle: Ferry news\n---\nThe ferry to Tromsø now leaves at 07:15.\n")
    added = build_index(s, progress=False, embedder=emb)
    assert added["added"] == 1 and added["unchanged"] == 4
    assert added["chunks_embedded"] == 1 and "Tromsø" in emb.embedded[0]

    emb.embedded.clear()
    (docs_copy / "new.md").write_text("---\ntitle: Ferry news\n---\nThe ferry to Tromsø now leaves at 08:40.\n")
    changed = build_index(s, progress=False, embedder=emb)
    assert changed["changed"] == 1 and changed["chunks_embedded"] == 1 and "08:40" in emb.embedded[0]

    (docs_copy / "new.md").unlink()
    removed = build_index(s, progress=False, embedder=emb)
    assert removed["removed"] == 1
    index = Index.load(s.index)
    assert "new.md" not in index.docs and all(c.doc_id != "new.md" for c in index.chunk_list)


def test_changed_chunking_forces_full_rebuild(docs_copy, tmp_path):
    s = Settings(docs=docs_copy, index=tmp_path / "ix")
    emb = CountingEmbedder()
    build_index(s, progress=False, embedder=emb)
    again = build_index(replace(s, chunk_size=90), progress=False, embedder=emb)
    assert "chunking settings changed" in again["full_rebuild"] and again["added"] == 4


def test_manifest_is_readable_and_complete(seed_index):
    build = active_build(seed_index)
    manifest = json.loads((build / "manifest.json").read_text())
    assert manifest["format_version"] == 2 and manifest["dimension"] == 384
    assert manifest["chunking"]["tokenizer"] == "cl100k_base"
    documents = {d: v for seg in build.glob("seg-*")
                 for d, v in json.loads((seg / "segment.json").read_text())["documents"].items()}
    assert len(documents) == 4 and all(len(sha) == 64 and n > 0 for sha, n in documents.values())
    assert manifest["libraries"]["faiss-cpu"] and manifest["built_at"]
    assert not list(build.rglob("*.pkl")) and not list(build.rglob("*.pickle"))


def test_stored_chunks_quote_their_documents(seed_index):
    index = Index.load(seed_index)
    for c in index.chunk_list:
        assert index.docs[c.doc_id].text[c.start:c.end] == c.text
    assert sum("During a dinner hosted" in c.text for c in index.chunk_list if c.doc_id.startswith("002")) == 1


def test_index_from_another_model_is_refused(seed_index):
    with pytest.raises(RagError) as e:
        Index.load(seed_index, model="some/other-model")
    assert "rag index" in str(e.value) and "\n" not in str(e.value)


def test_missing_index_says_what_to_run(tmp_path):
    with pytest.raises(RagError, match="run `rag index`"):
        open_retriever(Settings(index=tmp_path / "nothing"))


def _rag(*args, env=None, **kw):
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], cwd=ROOT, env={**os.environ, **(env or {})},
                          capture_output=True, text=True, **kw)


def test_killed_rebuild_leaves_previous_index_usable(docs_copy, tmp_path):
    index = tmp_path / "ix"
    env = {"RAG_DOCS": str(docs_copy), "RAG_INDEX": str(index)}
    assert _rag("index", "--json", env=env).returncode == 0
    before = active_build(index)
    # enough new text (about 1,500 chunks) that the rebuild is still loading or embedding when it is killed
    for i in range(120):
        (docs_copy / f"extra{i}.txt").write_text(" ".join(f"Extra fact {i}.{j} about harbour cranes." for j in range(200)))
    proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "index"], cwd=ROOT, env={**os.environ, **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started = time.monotonic()
    while proc.poll() is None and time.monotonic() - started < 8 and not list(index.glob(".tmp-*")):
        time.sleep(0.005)  # kill mid-embedding, or at once if it already writes its temporary build
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the rebuild finished before it could be killed"
    assert active_build(index) == before
    out = _rag("search", "Who represented Australia at the Indo-Pacific meeting?", "--json", env=env)
    assert out.returncode == 0, out.stderr
    hits = json.loads(out.stdout)["hits"]
    assert hits and not any(h["doc_id"].startswith("extra") for h in hits)
    # and the next rebuild finishes, cleaning up the crashed one's leftovers
    for i in range(1, 120):
        (docs_copy / f"extra{i}.txt").unlink()
    done = _rag("index", "--json", env=env)
    assert done.returncode == 0 and json.loads(done.stdout)["added"] == 1
    assert not list(index.glob(".tmp-*"))


SEED_QUESTIONS = [
    ("Who represented Australia at the Indo-Pacific meeting?", "000_a5161bc88c4f9418.txt", "Marles"),
    ("Who chaired the meeting after Albanese decided not to attend?", "000_a5161bc88c4f9418.txt", "Luxon"),
    ("How many nations are in the alliance according to Stoltenberg?", "001_88c7197dd4cdd008.txt", "32"),
    ("What intelligence-sharing mechanism was planned for South Korea?", "002_891ee57fec840978.txt", "intelligence"),
    ("What were the four new flagship projects with the Indo-Pacific partners?", "003_1fcb2ff00d21c651.txt",
     "flagship"),
]


@pytest.mark.parametrize("question,doc,word", SEED_QUESTIONS)
def test_search_finds_the_right_seed(seed_settings, question, doc, word):
    hits = open_retriever(seed_settings).search(question, k=3)
    assert any(h.chunk.doc_id == doc or doc in h.doc_ids for h in hits)
    assert word in hits[0].chunk.text or any(word in h.chunk.text for h in hits[:2])


def test_rag_search_cli_ranks_marles_first(seed_index):
    out = _rag("search", "Who represented Australia at the Indo-Pacific meeting?", "--json",
               env={"RAG_INDEX": str(seed_index)})
    assert out.returncode == 0, out.stderr
    hits = json.loads(out.stdout)["hits"]
    assert [h["rank"] for h in hits] == list(range(1, len(hits) + 1))
    assert any("Richard Marles" in h["text"] for h in hits[:3])
    assert {"rank", "score", "doc_id", "title", "chunk_id", "start", "end", "text"} <= set(hits[0])


def test_cli_errors_are_one_line(tmp_path):
    out = _rag("search", "anything", env={"RAG_INDEX": str(tmp_path / "none")})
    assert out.returncode == 1 and out.stderr.strip().count("\n") == 0 and "rag index" in out.stderr
    out = _rag("index", "--docs", str(tmp_path / "missing"), "--index", str(tmp_path / "ix"))
    assert out.returncode == 1 and "does not exist" in out.stderr and out.stderr.strip().count("\n") == 0
    assert not (tmp_path / "ix").exists()          # nothing is made for a run that cannot start


@pytest.mark.parametrize("command", ["ask", "search"])
def test_an_empty_question_is_a_usage_error_not_a_search(command, tmp_path):
    out = _rag(command, "  ", env={"RAG_INDEX": str(tmp_path / "none")})
    assert out.returncode == 2 and "Invalid value for 'QUESTION': is empty" in out.stderr
    assert "Traceback" not in out.stderr and not (tmp_path / "none").exists()


def test_large_indexes_switch_to_hnsw_and_still_update(docs_copy, tmp_path, monkeypatch):
    """Past segments.HNSW_FROM rows a segment's vectors go into an HNSW graph; lowered here so the seeds cross it."""
    from rag import segments

    monkeypatch.setattr(segments, "HNSW_FROM", 10)
    s = Settings(docs=docs_copy, index=tmp_path / "ix")
    build_index(s, progress=False)
    ix = Index.load(s.index)
    graph = ix.segments[0].index
    assert ix.manifest["faiss_index"] == "HNSWFlat" and "HNSW" in type(graph).__name__
    assert graph.hnsw.efSearch == 128            # saved with the graph, not reset on load
    hits = open_retriever(s).search("Who represented Australia at the Indo-Pacific meeting?", k=3)
    assert any("Richard Marles" in h.chunk.text for h in hits)
    (docs_copy / "ferry.md").write_text("---\ntitle: Ferry news\n---\nThe ferry to Tromsø now leaves at 07:15.\n")
    added = build_index(s, progress=False)
    assert added["chunks_embedded"] == 1
    hits = open_retriever(s).search("When does the ferry to Tromsø leave?", k=3)
    assert hits[0].chunk.doc_id == "ferry.md"
