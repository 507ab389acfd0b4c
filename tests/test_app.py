"""The chat app as a client sees it: a real Gradio server on a free 127.0.0.1 port over a copy of the seeds, driven
through its named API endpoints with gradio_client (and raw HTTP where a client would sanitise for us)."""
from __future__ import annotations

import json
import re
import shutil
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from gradio_client import Client, handle_file

from rag.config import Settings
from rag.errors import RagError
from ui.app import launch
from ui.state import parse_history, safe_name, save_upload

AUSTRALIA = "Who represented Australia at the meeting with NATO's Indo-Pacific partners?"
ZORBLAX = "The Zorblax treaty was signed in Reykjavik on 3 March 2031 by Minister Halvard Strøm.\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(docs: Path, seed_index: Path, tmp: Path, **overrides):
    """The app over `docs` with its own index (a copy of the session's seed index, so nothing is re-embedded)."""
    index = tmp / "index"
    shutil.copytree(seed_index, index)
    settings = Settings(docs=docs, index=index, **overrides)
    app = launch(settings, port=free_port(), block=False)
    return app, settings


@pytest.fixture
def server(docs_copy, seed_index, tmp_path):
    app, settings = start(docs_copy, seed_index, tmp_path)
    client = Client(app.local_url, verbose=False, analytics_enabled=False, download_files=False)
    yield client, settings, app
    client.close()
    app.close()


def ask(client, question, history=()):
    text, data = client.predict(question, json.dumps([list(p) for p in history]), api_name="/ask")
    return text, data


def test_seed_question_gets_a_cited_answer(server):
    client, _, app = server
    text, data = ask(client, AUSTRALIA)
    assert "Marles" in text and re.search(r"\[\d+\]", text)
    marles = [c for c in data["citations"] if "Marles" in c["quote"]]
    assert marles and any(c["doc_id"].startswith("000_") for c in marles)   # the seed that names him first
    docs = app.holder.get().index.docs
    for c in data["citations"]:          # every quote is the document's own text at the cited span
        assert docs[c["doc_id"]].text[c["start"]:c["end"]] == c["quote"]


def test_follow_up_uses_the_history(server):
    client, _, _ = server
    first, _ = ask(client, "Who chaired the Indo-Pacific 4 meeting?")
    text, data = ask(client, "And who came from Japan?", [("Who chaired the Indo-Pacific 4 meeting?", first)])
    assert data["standalone_question"] != "And who came from Japan?"
    assert "Kishida" in text and data["citations"]


def test_off_topic_question_is_declined_with_the_closest_sources(server):
    client, _, _ = server
    text, data = ask(client, "What is the best recipe for banana bread?")
    assert data["refused"] and "do not say" in text
    assert data["hits"] and not data["citations"]


def test_upload_rebuild_then_the_new_fact_is_answered(server, tmp_path):
    client, settings, _ = server
    new = tmp_path / "zorblax.md"
    new.write_text(ZORBLAX, encoding="utf-8")
    broken = tmp_path / "broken.txt"
    broken.write_bytes(b"\x00\x01\x02 not text")
    files = [d["file"] for d in client.predict(api_name="/documents")]
    assert len(files) == 4 and "zorblax.md" not in files

    message = client.predict([handle_file(str(new)), handle_file(str(broken))], api_name="/upload")
    assert "Saved zorblax.md" in message and (settings.docs / "zorblax.md").read_text(encoding="utf-8") == ZORBLAX

    summary = client.predict(api_name="/rebuild")
    assert summary["added"] == 1 and summary["unchanged"] == 4 and summary["removed"] == 0
    assert summary["skipped"] == 1 and "broken.txt" in summary["skipped_files"][0]   # reported, the rest indexed
    assert "zorblax.md" in [d["file"] for d in client.predict(api_name="/documents")]

    text, data = ask(client, "Where was the Zorblax treaty signed?")
    assert "Reykjavik" in text
    assert [c["doc_id"] for c in data["citations"]] == ["zorblax.md"]


def test_questions_are_answered_while_a_rebuild_runs(server, tmp_path):
    client, settings, _ = server
    (settings.docs / "extra.md").write_text("# Extra\n\n" + ZORBLAX * 40, encoding="utf-8")
    job = client.submit(api_name="/rebuild")
    texts = [ask(client, AUSTRALIA)[0] for _ in range(3)]     # served by the old retriever until the swap
    summary = job.result()
    assert summary["added"] == 1
    assert all("[" in t for t in texts)
    assert "Reykjavik" in ask(client, "Where was the Zorblax treaty signed?")[0]


def test_near_duplicate_documents_are_listed_as_corroboration(server):
    client, settings, app = server
    original = settings.docs / "003_1fcb2ff00d21c651.txt"
    (settings.docs / "mirror").mkdir()
    shutil.copyfile(original, settings.docs / "mirror" / "readout-copy.txt")
    assert client.predict(api_name="/rebuild")["added"] == 1
    question = "What are the four new flagship projects between NATO and its Indo-Pacific partners?"
    _, data = ask(client, question)
    cited = {c["doc_id"]: c["also_in"] for c in data["citations"]}
    assert any(set(ids) | {doc} >= {original.name, "mirror/readout-copy.txt"} for doc, ids in cited.items())


def _raw_upload(url: str, name: str, body: bytes) -> str | None:
    """Upload a file under an arbitrary name the way a hostile client could (no client-side cleaning), then call
    /upload on it through the REST API; returns the app's message, or None when Gradio refused the upload itself."""
    r = httpx.post(f"{url}gradio_api/upload", files=[("files", (name, body, "text/plain"))])
    if r.status_code != 200:
        return None
    path = r.json()[0]
    r = httpx.post(f"{url}gradio_api/call/upload",
                   json={"data": [[{"path": path, "orig_name": name, "meta": {"_type": "gradio.FileData"}}]]})
    event = r.json()["event_id"]
    stream = httpx.get(f"{url}gradio_api/call/upload/{event}", timeout=60).text
    data = [line[len("data: "):] for line in stream.splitlines() if line.startswith("data: ")]
    return json.loads(data[-1])[0]


@pytest.mark.parametrize("name", ["../../evil.md", "/etc/passwd", "..\\..\\evil.md", "/tmp/evil.txt",
                                  "../../../../../tmp/evil.html"])
def test_path_traversal_upload_never_leaves_the_docs_folder(server, tmp_path, name):
    client, settings, app = server
    before = {p for p in tmp_path.rglob("*")}
    message = _raw_upload(app.local_url, name, b"The Evil treaty was signed nowhere.\n")
    after = {p for p in tmp_path.rglob("*")} - before
    docs = settings.docs.resolve()
    assert all(p.resolve().parent == docs for p in after), f"{name!r} wrote {after}"
    assert not Path("/tmp/evil.txt").exists() and not Path("/tmp/evil.html").exists()
    if message is not None:
        saved = [p.name for p in after]
        assert ("Saved" in message and len(saved) == 1 and "/" not in saved[0] and "\\" not in saved[0]) \
            or ("✗" in message and not saved), message


def test_odd_names_are_sanitised_and_unsupported_types_rejected(server, tmp_path):
    client, settings, _ = server
    odd = tmp_path / "Notes; rm -rf ~ (draft).md"
    odd.write_text("Draft notes about nothing in particular.\n", encoding="utf-8")
    message = client.predict([handle_file(str(odd))], api_name="/upload")
    assert "Saved Notes_rm_-rf_draft.md" in message and (settings.docs / "Notes_rm_-rf_draft.md").is_file()

    exe = tmp_path / "setup.exe"
    exe.write_bytes(b"MZ\x90\x00 not a document")
    message = client.predict([handle_file(str(exe))], api_name="/upload")
    assert "unsupported file type" in message and ".md" in message
    assert not any(p.suffix == ".exe" for p in settings.docs.iterdir())


def test_twenty_concurrent_questions_are_all_answered(server):
    client, _, _ = server
    questions = [AUSTRALIA, "Who chaired the Indo-Pacific 4 meeting?",
                 "What are the four new flagship projects between NATO and its Indo-Pacific partners?",
                 "Which countries make up the Indo Pacific 4?"] * 5
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda q: ask(client, q), questions))
    assert len(results) == 20
    for q, (text, data) in zip(questions, results):
        assert data["question"] == q and text and (data["citations"] or data["refused"])
    assert all(data["citations"] for q, (_, data) in zip(questions, results) if q == AUSTRALIA)


def test_password_from_rag_auth(docs_copy, seed_index, tmp_path):
    app, _ = start(docs_copy, seed_index, tmp_path, auth="alice:s3cret")
    try:
        assert httpx.get(f"{app.local_url}config").status_code in (401, 403)
        with pytest.raises(Exception):
            Client(app.local_url, verbose=False, analytics_enabled=False, auth=("alice", "wrong"))
        client = Client(app.local_url, verbose=False, analytics_enabled=False, auth=("alice", "s3cret"))
        assert len(client.predict(api_name="/documents")) == 4
        client.close()
    finally:
        app.close()


@pytest.mark.parametrize("name, saved", [("../../evil.md", "evil.md"), ("/etc/passwd.txt", "passwd.txt"),
                                         ("..\\..\\win.md", "win.md"), (".hidden.md", "hidden.md"),
                                         ("a b\x00c.html", "a_b_c.html"), ("Report.PDF", "Report.pdf")])
def test_safe_name(name, saved):
    assert safe_name(name) == saved


@pytest.mark.parametrize("name", ["/etc/passwd", "..", "evil.exe", "../.md", "", "notes.md.sh"])
def test_safe_name_refuses(name):
    with pytest.raises(RagError):
        safe_name(name)


def test_upload_size_limit(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    big = tmp_path / "big.txt"
    big.write_bytes(b"word " * 300_000)          # 1.5 MB
    with pytest.raises(RagError, match="over the 1 MB upload limit"):
        save_upload(big, "big.txt", Settings(docs=docs, max_upload_mb=1))
    assert not list(docs.iterdir())


def test_history_formats():
    pairs = [("q1", "a1"), ("q2", "a2")]
    assert parse_history(json.dumps([list(p) for p in pairs])) == pairs
    messages = [{"role": r, "content": c} for q, a in pairs for r, c in (("user", q), ("assistant", a))]
    assert parse_history(messages) == pairs and parse_history("") == []
