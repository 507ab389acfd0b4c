"""Issue #12: what `rag index` must never do — delete what it did not make, read outside the documents folder,
hold one id twice, die on an empty corpus, swallow a huge file, keep a killed run's leftovers, take a bad setting.

Each test reproduces the attack or fault as the issue reports it, with the real CLI, model and index files.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from rag import indexer
from rag.cli import main
from rag.config import Settings
from rag.errors import RagError
from rag.loaders import load
from rag.retrieve import open_retriever
from rag.folder import active_build
from rag.indexer import build_index
from rag.store import FaissStore as Index
from rag.types import Document, sha256
from conftest import ROOT, SEEDS

RAG = str(Path(sys.executable).parent / "rag")
SEED = "000_a5161bc88c4f9418.txt"


def rag(*args, env=None):
    """The installed `rag` command in a real subprocess."""
    return subprocess.run([RAG, *args], cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=True, text=True)


def warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("warning:")]


@pytest.fixture
def small_docs(tmp_path) -> Path:
    """One short seed: enough for a real index, cheap to embed."""
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(SEEDS / SEED, docs / SEED)
    return docs


# ---- 1. the index folder's cleanup deletes folders it did not make ------------------------------------------------

def test_index_refuses_a_folder_it_did_not_make_and_deletes_nothing(small_docs, tmp_path):
    p = tmp_path / "p"
    (p / "build-artifacts").mkdir(parents=True)
    (p / "build-artifacts" / "important.bin").write_text("precious\n")
    out = rag("index", "--docs", str(small_docs), "--index", str(p))
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.strip().count("\n") == 0 and "not a rag index" in out.stderr and "build-artifacts" in out.stderr
    assert (p / "build-artifacts" / "important.bin").read_text() == "precious\n"
    assert sorted(x.name for x in p.iterdir()) == ["build-artifacts"]      # not even a lock file was left


def test_cleanup_removes_only_builds_this_index_made(small_docs, tmp_path):
    p = tmp_path / "p"
    assert rag("index", "--docs", str(small_docs), "--index", str(p)).returncode == 0
    # things that are not this index's builds, some with names that look like its own
    (p / "build-artifacts").mkdir()
    (p / "build-artifacts" / "important.bin").write_text("precious\n")
    lookalike = p / "build-20240101T000000-abcdef"
    lookalike.mkdir()
    (lookalike / "manifest.json").write_text("{}")
    (p / "chats").mkdir()
    (p / "chats" / "c1.json").write_text("[]")
    (p / "feedback.jsonl").write_text('{"up": true}\n')
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    (p / "build-20240101T000001-abcdef").symlink_to(outside, target_is_directory=True)
    for i in range(3):   # three builds: every one collects what it considers garbage
        (small_docs / "extra.txt").write_text(f"The ferry timetable changed {i} times this spring.")
        out = rag("index", "--docs", str(small_docs), "--index", str(p))
        assert out.returncode == 0, out.stderr
    assert (p / "build-artifacts" / "important.bin").read_text() == "precious\n"
    assert (lookalike / "manifest.json").is_file() and (p / "chats" / "c1.json").is_file()
    assert (p / "feedback.jsonl").read_text() == '{"up": true}\n' and (outside / "keep.txt").is_file()
    ours = [b for b in p.glob("build-2*") if (b / ".rag-build").is_file() and not b.is_symlink()]
    assert len(ours) == 2 and active_build(p) in ours            # the current build and the previous one


def test_empty_or_new_folder_becomes_an_index(small_docs, tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "readme").mkdir()
    (tmp_path / "readme" / "README.md").write_text("The index lives here.\n")   # as in a fresh clone's index/
    for folder in (tmp_path / "empty", tmp_path / "new" / "deeper", tmp_path / "readme"):
        out = rag("index", "--docs", str(small_docs), "--index", str(folder), "--json")
        assert out.returncode == 0, out.stderr
        assert (folder / ".rag-index").is_file() and active_build(folder)
    assert (tmp_path / "readme" / "README.md").read_text() == "The index lives here.\n"


# ---- 3. symlinks leave the documents folder -------------------------------------------------------------------

def test_symlink_to_etc_passwd_is_skipped_not_quoted(small_docs, tmp_path):
    (small_docs / "passwd.txt").symlink_to("/etc/passwd")
    env = {"RAG_DOCS": str(small_docs), "RAG_INDEX": str(tmp_path / "ix")}
    out = rag("index", env=env)
    assert out.returncode == 0, out.stderr
    assert warnings(out.stderr) == ["warning: skipped passwd.txt: symlink to /etc/passwd, outside the documents "
                                    "folder (--follow-links allows it)"]
    index = Index.load(tmp_path / "ix")
    assert list(index.docs) == [SEED] and not any("root:x:0:0" in c.text for c in index.chunk_list)
    ask = rag("ask", "What is in root:x:0:0 passwd?", "--json", env=env)
    assert ask.returncode == 0, ask.stderr
    answer = json.loads(ask.stdout)
    quoted = [answer["answer"], *(c["quote"] for c in answer["citations"]), *(h["text"] for h in answer["hits"])]
    assert not any("root:x:0:0" in q or "/bin/" in q for q in quoted)
    assert all(c["doc_id"] == SEED for c in answer["citations"])
    # asked for explicitly, it is read
    out = rag("index", "--follow-links", "--json", env=env)
    assert out.returncode == 0 and "passwd.txt" in Index.load(tmp_path / "ix").docs


def test_links_inside_the_folder_still_load(tmp_path):
    docs = tmp_path / "docs"
    (docs / "real").mkdir(parents=True)
    (docs / "real" / "a.txt").write_text("Alpha text about ferries.")
    (docs / "alias.txt").symlink_to(docs / "real" / "a.txt")
    result = load(docs)
    assert sorted(d.id for d in result.documents) == ["alias.txt", "real/a.txt"] and result.skipped == []


def test_loops_fifos_and_broken_links_are_warned_about(tmp_path):
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "good.txt").write_text("A perfectly fine document about ferries.")
    (docs / "sub" / "back").symlink_to(docs, target_is_directory=True)   # sub/back/sub/back/...
    (docs / "self.txt").symlink_to(docs / "self.txt")                     # a link to itself
    (docs / "gone.txt").symlink_to(tmp_path / "missing.txt")
    os.mkfifo(docs / "pipe.txt")                                          # reading it would block forever
    result = load(docs)
    assert [d.id for d in result.documents] == ["good.txt"]
    reasons = dict(result.skipped)
    assert set(reasons) == {"sub/back", "self.txt", "gone.txt", "pipe.txt"}
    assert "loop" in reasons["sub/back"] and "loop" in reasons["self.txt"]
    assert "broken symlink" in reasons["gone.txt"] and "FIFO" in reasons["pipe.txt"]
    assert all("\n" not in r for r in reasons.values())


def as_user_without_overrides(*cmd) -> list[str]:
    """`cmd` under permission checks: as root, drop the capabilities that let root read any file or folder."""
    if os.geteuid() != 0:
        return list(cmd)
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("root without setpriv cannot be denied a folder")
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search", *cmd]


def test_unreadable_folder_and_file_are_warned_about(small_docs, tmp_path):
    (small_docs / "locked").mkdir()
    (small_docs / "locked" / "x.txt").write_text("hidden")
    (small_docs / "secret.txt").write_text("hidden too")
    (small_docs / "locked").chmod(0)
    (small_docs / "secret.txt").chmod(0)
    try:
        out = subprocess.run(as_user_without_overrides(RAG, "index", "--docs", str(small_docs), "--index",
                                                       str(tmp_path / "ix")), capture_output=True, text=True)
    finally:
        (small_docs / "locked").chmod(0o755)
    assert out.returncode == 0, out.stderr
    assert warnings(out.stderr) == ["warning: skipped locked: cannot read folder (Permission denied)",
                                    "warning: skipped secret.txt: cannot read file (Permission denied)"]
    assert list(Index.load(tmp_path / "ix").docs) == [SEED]


# ---- 4. duplicate document ids -----------------------------------------------------------------------------------

def test_jsonl_record_with_a_files_id_does_not_grow_the_index(small_docs, tmp_path):
    (small_docs / "corpus.jsonl").write_text(
        json.dumps({"id": SEED, "title": "Clash", "text": "A record claiming the seed's id."}) + "\n"
        + json.dumps({"id": "r1", "title": "R1", "text": "Record one about harbours."}) + "\n"
        + json.dumps({"id": "r1", "title": "R1 again", "text": "A second record with id r1."}) + "\n")
    env = {"RAG_DOCS": str(small_docs), "RAG_INDEX": str(tmp_path / "ix")}
    runs = []
    for _ in range(3):
        out = rag("index", "--json", env=env)
        assert out.returncode == 0, out.stderr
        runs.append((json.loads(out.stdout), warnings(out.stderr)))
    first, lines = runs[0]
    assert lines == [f"warning: skipped corpus.jsonl:1: id '{SEED}' is already used by {SEED}; this record is left out",
                     "warning: skipped corpus.jsonl:3: id 'r1' is already used by corpus.jsonl:2; this record is "
                     "left out"]
    assert [r["chunks_total"] for r, _ in runs] == [first["chunks_total"]] * 3
    assert all(r["changed"] == 0 and r["added"] == 0 and r["unchanged"] == 2 for r, _ in runs[1:])
    ids = [json.loads(line)["id"] for f in active_build(tmp_path / "ix").glob("seg-*/documents.jsonl")
           for line in f.open()]
    assert sorted(ids) == [SEED, "r1"] and Index.load(tmp_path / "ix").docs[SEED].title != "Clash"


@pytest.mark.parametrize("name", ["hijack.jsonl", "0.jsonl"])     # sorting before or after the seed files
def test_uploaded_jsonl_cannot_hijack_a_seed(docs_copy, tmp_path, name):
    # an upload is saved into the docs folder; the next rebuild reads it like any file there
    (docs_copy / name).write_text(json.dumps({"id": SEED, "title": "Hijacked title",
                                              "text": "Richard Marles did not represent Australia."}) + "\n")
    s = Settings(docs=docs_copy, index=tmp_path / "ix")
    summary = build_index(s, progress=False)
    assert summary["documents"] == 4 and summary["skipped_files"] == [
        f"{name}:1: id '{SEED}' is already used by {SEED}; this record is left out"]
    hits = open_retriever(s).search("Who represented Australia at the Indo-Pacific meeting?", k=5)
    assert hits and all(h.title != "Hijacked title" and "did not represent" not in h.chunk.text for h in hits)


def test_a_build_never_holds_one_id_twice(tmp_path):
    a = Document("same", "A", "Alpha text about ferries.", "a.txt", sha256("a"))
    b = Document("same", "B", "Beta text about harbours.", "b.jsonl", sha256("b"))
    summary = build_index(Settings(docs=tmp_path, index=tmp_path / "ix"), progress=False, docs_override=[a, b])
    assert summary["documents"] == 1 and summary["skipped_files"] == ["b.jsonl: id 'same' is already used by a.txt"]
    assert [d.title for d in Index.load(tmp_path / "ix").docs.values()] == ["A"]
    # an index an older version corrupted so is not loaded as if it were whole, and the next build repairs it
    build = active_build(tmp_path / "ix")
    docs_file = next(build.glob("seg-*/documents.jsonl"))
    docs_file.write_text(docs_file.read_text() * 2)
    with pytest.raises(RagError, match="twice"):
        Index.load(tmp_path / "ix")
    again = build_index(Settings(docs=tmp_path, index=tmp_path / "ix"), progress=False, docs_override=[a])
    assert "rebuilding everything" in again["full_rebuild"] and len(Index.load(tmp_path / "ix").docs) == 1


# ---- 6. no documents -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("content", ["nothing", "only bad files"])
def test_empty_corpus_is_a_valid_empty_index(tmp_path, content):
    docs = tmp_path / "docs"
    docs.mkdir()
    if content == "only bad files":
        (docs / "empty.txt").write_text("")
        (docs / "binary.txt").write_bytes(b"\x00\x01ELF\x00")
    env = {"RAG_DOCS": str(docs), "RAG_INDEX": str(tmp_path / "ix")}
    out = rag("index", "--json", env=env)
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    assert json.loads(out.stdout)["documents"] == 0 and "the index is empty" in out.stderr
    retriever = open_retriever(Settings(docs=docs, index=tmp_path / "ix"))   # what the chat app does at start
    assert retriever.store.bm25 is None and retriever.store.chunk_list == []
    assert all(retriever.search("anything at all", mode=m) == [] for m in ("dense", "bm25", "hybrid"))
    ask = rag("ask", "Who represented Australia?", "--json", env=env)
    assert ask.returncode == 0 and "Traceback" not in ask.stderr, ask.stderr
    assert json.loads(ask.stdout)["refused"] is True


def test_deleting_every_document_empties_the_index(small_docs, tmp_path):
    env = {"RAG_DOCS": str(small_docs), "RAG_INDEX": str(tmp_path / "ix")}
    assert rag("index", env=env).returncode == 0
    (small_docs / SEED).unlink()
    out = rag("index", "--json", env=env)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["removed"] == 1 and Index.load(tmp_path / "ix").docs == {}
    search = rag("search", "Who represented Australia at the Indo-Pacific meeting?", "--json", env=env)
    assert search.returncode == 0 and json.loads(search.stdout)["hits"] == []


# ---- 7. size guard and streaming -----------------------------------------------------------------------------------

def test_a_30_mb_file_is_skipped_with_one_warning(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "good.txt").write_text("A perfectly fine document about ferries.")
    sentence = "The harbour crane lifted another container onto the ship. "
    with open(docs / "huge.txt", "w") as f:
        for _ in range(30 * 1024 * 1024 // len(sentence) + 1):
            f.write(sentence)
    result = load(docs)                                   # default limit: 20 MB, like uploads
    assert [d.id for d in result.documents] == ["good.txt"]
    assert result.skipped == [("huge.txt", "30.0 MB, over the 20 MB limit per document (RAG_MAX_FILE_MB)")]


def test_max_file_mb_setting_reaches_rag_index(small_docs, tmp_path):
    (small_docs / "big.txt").write_text("Cranes lift containers. " * 60_000)       # about 1.4 MB
    out = rag("index", "--json", env={"RAG_DOCS": str(small_docs), "RAG_INDEX": str(tmp_path / "ix"),
                                      "RAG_MAX_FILE_MB": "1"})
    assert out.returncode == 0, out.stderr
    assert warnings(out.stderr) == ["warning: skipped big.txt: 1.4 MB, over the 1 MB limit per document "
                                    "(RAG_MAX_FILE_MB)"]
    assert list(Index.load(tmp_path / "ix").docs) == [SEED]


class BatchRecorder:
    """Records the size of every embedding call (and how much of the corpus was read by then); the subject is
    how build_index feeds the model, not the vectors."""

    name, dim, max_tokens, backend, batch_size = "hash", 8, 256, "hash", 4

    def __init__(self, docs_read):
        self.calls: list[tuple[int, int]] = []
        self.docs_read = docs_read

    def count_wordpieces(self, texts):
        return [len(t.split()) + 2 for t in texts]

    def encode(self, texts, progress=False):
        self.calls.append((len(texts), len(self.docs_read)))
        return np.ones((len(texts), self.dim), dtype=np.float32) / np.sqrt(self.dim)


def test_chunks_are_embedded_in_batches_as_documents_stream_in(tmp_path):
    docs_read: list[str] = []

    def documents():
        for i in range(20):
            docs_read.append(f"d{i}")
            text = " ".join(f"Fact {i}.{j} about harbour cranes number {j}." for j in range(80))
            yield Document(f"d{i}", f"Doc {i}", text, f"d{i}.txt", sha256(text))

    emb = BatchRecorder(docs_read)
    summary = build_index(Settings(docs=tmp_path, index=tmp_path / "ix", chunk_size=32, chunk_overlap=0),
                          progress=False, embedder=emb, docs_override=documents())
    limit = indexer.EMBED_BATCHES * emb.batch_size
    assert summary["chunks_embedded"] > 3 * limit and sum(n for n, _ in emb.calls) == summary["chunks_embedded"]
    assert max(n for n, _ in emb.calls) <= limit
    assert emb.calls[0][1] < 20            # the first batch went to the model before the corpus was read
    assert Index.load(tmp_path / "ix").count() == summary["chunks_total"]


# ---- 8. leftovers of a killed run; settings -------------------------------------------------------------------

def test_no_change_run_cleans_what_a_killed_run_left(small_docs, tmp_path):
    ix = tmp_path / "ix"
    env = {"RAG_DOCS": str(small_docs), "RAG_INDEX": str(ix)}
    assert rag("index", env=env).returncode == 0
    current = active_build(ix)
    # a real kill -9 of a rebuild: it leaves its temporary build behind
    for i in range(40):
        (small_docs / f"extra{i}.txt").write_text(" ".join(f"Extra fact {i}.{j} about cranes." for j in range(200)))
    proc = subprocess.Popen([RAG, "index"], cwd=ROOT, env={**os.environ, **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started = time.monotonic()
    while proc.poll() is None and time.monotonic() - started < 60 and not list(ix.glob(".tmp-*")):
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL and list(ix.glob(".tmp-*"))
    for i in range(40):
        (small_docs / f"extra{i}.txt").unlink()
    # a kill at the two other steps leaves a CURRENT not yet renamed and a build CURRENT never named: made here
    # as those steps make them, since a kill cannot be timed to land on each
    (ix / ".CURRENT.abc123").write_text("build-20990101T000000-abcdef\n")
    shutil.copytree(current, ix / "build-20990101T000000-abcdef")
    (ix / "chats").mkdir()
    (ix / "feedback.jsonl").write_text("{}\n")
    out = rag("index", "--json", env=env)                  # the documents are as the current build has them
    assert out.returncode == 0 and json.loads(out.stdout)["unchanged"] == 1, out.stderr
    assert active_build(ix) == current
    left = sorted(p.name for p in ix.iterdir() if p.name not in (".lock", ".rag-index"))
    assert left == sorted(["CURRENT", current.name, "chats", "feedback.jsonl"])


@pytest.mark.parametrize("var,value,message", [
    ("RAG_CHUNK_SIZE", "4", "RAG_CHUNK_SIZE=4 is out of range: use 16–2048"),
    ("RAG_CHUNK_OVERLAP", "400", "RAG_CHUNK_OVERLAP=400 is out of range: it must be below RAG_CHUNK_SIZE (180)"),
    ("RAG_TOP_K", "0", "RAG_TOP_K=0 is out of range: use 1–100"),
    ("RAG_MAX_FILE_MB", "-1", "RAG_MAX_FILE_MB=-1 is out of range: use 1–1024"),
    ("RAG_BATCH_SIZE", "many", "RAG_BATCH_SIZE='many' is not a number"),
    ("RAG_MODE", "fuzzy", "RAG_MODE='fuzzy' is not allowed: use one of dense, bm25, hybrid"),
    ("RAG_EMBED_BACKEND", "tensorrt", "RAG_EMBED_BACKEND='tensorrt' is not allowed: use one of onnx-int8, onnx, torch"),
    ("RAG_FOLLOW_LINKS", "maybe", "RAG_FOLLOW_LINKS='maybe' is not a yes/no value"),
    ("RAG_HOPS", "3", "RAG_HOPS=3 is out of range: use 1–2"),
])
def test_bad_setting_is_one_line_naming_the_variable(tmp_path, var, value, message):
    result = CliRunner().invoke(main, ["index", "--docs", str(SEEDS), "--index", str(tmp_path / "ix")],
                                env={var: value})
    assert result.exit_code == 1 and message in result.output
    assert result.output.strip().count("\n") == 0 and "Traceback" not in result.output
    assert not (tmp_path / "ix").exists()


def test_rag_chunk_size_4_in_a_real_shell(tmp_path):
    out = rag("index", "--index", str(tmp_path / "ix"), env={"RAG_CHUNK_SIZE": "4"})
    assert out.returncode == 1 and out.stderr.strip() == "Error: RAG_CHUNK_SIZE=4 is out of range: use 16–2048"


def test_settings_are_checked_however_they_are_given(monkeypatch):
    monkeypatch.setenv("RAG_FOLLOW_LINKS", "yes")
    assert Settings.from_env().follow_links is True
    monkeypatch.setenv("RAG_FOLLOW_LINKS", "0")
    assert Settings.from_env().follow_links is False
    with pytest.raises(ValueError, match="RAG_TOP_K=0"):
        Settings.from_env(top_k=0)                      # a flag
    with pytest.raises(ValueError, match="RAG_CHUNK_SIZE=4"):
        Settings(chunk_size=4)                          # code
