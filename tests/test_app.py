"""The chat app as a client sees it: a real Gradio server on a free 127.0.0.1 port over a copy of the seeds, driven
through its named API endpoints with gradio_client (and raw HTTP where a client would sanitise for us). One server
is shared by the tests of this module that do not need their own settings."""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from conftest import close_app
from gradio_client import Client, handle_file

from rag.config import Settings
from rag.errors import RagError
from rag.evaluate import load_questions
from ui.app import launch
from ui.chats import ChatStore, append_feedback, feedback_row, new_conversation
from ui.render import redact
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


@pytest.fixture(scope="module")
def server(seed_index, tmp_path_factory):
    from conftest import SEEDS

    tmp = tmp_path_factory.mktemp("app")
    shutil.copytree(SEEDS, tmp / "docs")
    app, settings = start(tmp / "docs", seed_index, tmp)
    client = Client(app.local_url, verbose=False, analytics_enabled=False, download_files=False)
    yield client, settings, app
    client.close()
    close_app(app)


def ask(client, question, history=(), **filters):
    text, data = client.predict(question, json.dumps([list(p) for p in history]), 0, "", "",
                                filters.get("doc_ids", ""), filters.get("date_from", ""), filters.get("date_to", ""),
                                api_name="/ask")
    return text, data


def upload(client, *paths) -> str:
    return client.predict([handle_file(str(p)) for p in paths], api_name="/upload")[0]


def files(client) -> list[str]:
    return [d["file"] for d in client.predict(api_name="/documents")]


def test_seed_question_gets_a_cited_answer(server):
    client, _, app = server
    text, data = ask(client, AUSTRALIA)
    assert re.search(r"\[\d+\]", text) and data["citations"] and not data["refused"]
    docs = app.holder.get().store.docs
    for c in data["citations"]:          # every quote is the document's own text at the cited span
        assert docs[c["doc_id"]].text[c["start"]:c["end"]] == c["quote"]


def test_follow_up_uses_the_history(server):
    client, _, _ = server
    first, _ = ask(client, "Who chaired the Indo-Pacific 4 meeting?")
    text, data = ask(client, "And who came from Japan?", [("Who chaired the Indo-Pacific 4 meeting?", first)])
    assert data["standalone_question"] != "And who came from Japan?" and "Japan" in data["standalone_question"]
    assert "Indo-Pacific 4" in data["standalone_question"] and data["citations"]     # the earlier turn's context


def test_a_standalone_question_after_another_is_not_rewritten(server):
    client, _, _ = server
    first, _ = ask(client, AUSTRALIA)
    q = "What are the four new flagship projects between NATO and its Indo-Pacific partners?"
    _, data = ask(client, q, [(AUSTRALIA, first)])
    assert data["standalone_question"] == q and data["citations"]


def test_off_topic_question_is_declined_with_the_closest_sources(server):
    client, _, _ = server
    _, data = ask(client, "What is the best recipe for banana bread?")
    assert data["refused"] and data["hits"]
    assert all(c["doc_id"] in {h["doc_id"] for h in data["hits"]} for c in data["citations"])   # only the closest


def test_document_and_date_filters_restrict_what_is_cited(server):
    client, _, _ = server
    only = "001_88c7197dd4cdd008.txt"
    _, data = ask(client, "Who chaired the Indo-Pacific 4 meeting?", doc_ids=only)
    assert {h["doc_id"] for h in data["hits"]} == {only}
    assert {c["doc_id"] for c in data["citations"]} <= {only}
    _, data = ask(client, AUSTRALIA, date_from="2030-01-01")       # no seed is that recent
    assert data["refused"] and not data["hits"]
    with pytest.raises(Exception, match="YYYY-MM-DD"):
        ask(client, AUSTRALIA, date_from="last week")


def test_upload_is_checked_then_indexed_without_a_rebuild(server, tmp_path):
    client, settings, _ = server
    new = tmp_path / "zorblax.md"
    new.write_text(ZORBLAX, encoding="utf-8")
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 this is not really a PDF")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\x00\x01\x02 not text")
    assert "zorblax.md" not in files(client)

    message = upload(client, new, broken, binary)
    assert "Saved zorblax.md" in message and (settings.docs / "zorblax.md").read_text(encoding="utf-8") == ZORBLAX
    assert "✗ broken.pdf" in message and "✗ binary.txt" in message          # said at upload time, with the reason
    assert not (settings.docs / "broken.pdf").exists() and not (settings.docs / "binary.txt").exists()
    assert "zorblax.md" in files(client)                                  # indexed by the upload itself
    text, data = ask(client, "Where was the Zorblax treaty signed?")
    assert "Reykjavik" in text and [c["doc_id"] for c in data["citations"]] == ["zorblax.md"]

    # a second upload of the same name replaces it, leaves no backup behind, and only it is saved again
    new.write_text(ZORBLAX.replace("Reykjavik", "Tromsø"), encoding="utf-8")
    message = upload(client, new)
    assert len(re.findall(r"✓ (?:Saved|Replaced) ", message)) == 1 and "Replaced zorblax.md" in message
    assert not [p for p in settings.docs.iterdir() if p.name.startswith(".")]
    assert "Tromsø" in ask(client, "Where was the Zorblax treaty signed?")[0]


def test_refused_uploads_leave_nothing_in_gradios_temp_folder(server, tmp_path):
    client, settings, _ = server
    exe = tmp_path / "setup.exe"
    exe.write_bytes(b"MZ\x90\x00 not a document")
    r = httpx.post(f"{client.src}gradio_api/upload", files=[("files", ("setup.exe", exe.read_bytes()))])
    temp = Path(r.json()[0])
    assert temp.is_file()
    message = client.predict([handle_file(str(temp))], api_name="/upload")[0]
    assert "unsupported file type" in message
    assert not temp.exists() and not any(p.suffix == ".exe" for p in settings.docs.iterdir())


def test_a_deleted_document_is_no_longer_cited(server, tmp_path):
    client, settings, _ = server
    doomed = tmp_path / "quux.md"
    doomed.write_text("The Quux accord was signed in Valparaíso by Admiral Oona Brekke.\n", encoding="utf-8")
    upload(client, doomed)
    assert [c["doc_id"] for c in ask(client, "Where was the Quux accord signed?")[1]["citations"]] == ["quux.md"]
    with pytest.raises(Exception, match="not an indexed document"):
        client.predict("../../etc/passwd", api_name="/delete")
    summary = client.predict("quux.md", api_name="/delete")
    assert summary["removed"] == 1 and not (settings.docs / "quux.md").exists()
    assert "quux.md" not in files(client)
    _, data = ask(client, "Where was the Quux accord signed?")
    assert "quux.md" not in [c["doc_id"] for c in data["citations"]] + [h["doc_id"] for h in data["hits"]]


def test_questions_are_answered_while_a_rebuild_runs(server):
    client, settings, app = server
    lines = [f"Bulletin {i}: the Zorblax committee met for session {i} in hall {i % 17} to review clause {i * 7}."
             for i in range(2500)]
    (settings.docs / "extra.md").write_text("# Extra\n\n" + "\n\n".join(lines), encoding="utf-8")
    job = client.submit(api_name="/rebuild")
    while not app.holder.busy and not job.done():
        time.sleep(0.01)
    during = []
    while not job.done():
        busy_before = app.holder.busy
        text, data = ask(client, AUSTRALIA)       # served by the old retriever until the swap
        during.append(busy_before and app.holder.busy and not job.done())
        assert data["citations"] and re.search(r"\[\d+\]", text)
    assert any(during), "no question was answered while the rebuild ran"
    assert job.result()["added"] == 1
    (settings.docs / "extra.md").unlink()
    client.predict(api_name="/rebuild")


def test_an_index_updated_by_another_process_is_served_without_a_restart(server):
    """`rag index` run beside a running app (or another replica's rebuild): the app follows the new build."""
    client, settings, app = server
    (settings.docs / "ferry.md").write_text("# Ferry\n\nThe Vikna ferry is crewed by Captain Ilse Marthinsen.\n",
                                           encoding="utf-8")
    env = {**os.environ, "RAG_DOCS": str(settings.docs), "RAG_INDEX": str(settings.index)}
    try:
        out = subprocess.run([str(Path(sys.executable).with_name("rag")), "index", "--json"], env=env,
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0 and json.loads(out.stdout)["added"] == 1, out.stderr
        deadline, cited = time.monotonic() + 30, []
        while time.monotonic() < deadline and "ferry.md" not in cited:
            _, data = ask(client, "Who crews the Vikna ferry?")
            cited = [c["doc_id"] for c in data["citations"]]
            time.sleep(0.5)
        assert "ferry.md" in cited and "ferry.md" in files(client)
    finally:
        (settings.docs / "ferry.md").unlink()
        client.predict(api_name="/rebuild")


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
    shutil.rmtree(settings.docs / "mirror")
    client.predict(api_name="/rebuild")


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
def test_path_traversal_upload_never_leaves_the_docs_folder(server, name):
    client, settings, app = server
    root = settings.docs.parent
    before = {p for p in root.rglob("*")}
    message = _raw_upload(app.local_url, name, b"The Evil treaty was signed nowhere.\n")
    after = {p for p in root.rglob("*") if "index" not in p.relative_to(root).parts} - before
    docs = settings.docs.resolve()
    assert all(p.resolve().parent == docs for p in after), f"{name!r} wrote {after}"
    assert not Path("/tmp/evil.txt").exists() and not Path("/tmp/evil.html").exists()
    if message is not None:
        saved = [p.name for p in after]
        assert ("Saved" in message and len(saved) == 1 and "/" not in saved[0] and "\\" not in saved[0]) \
            or ("✗" in message and not saved), message
    for p in after:
        p.unlink()


def test_twenty_concurrent_questions_are_all_answered(server):
    _, _, app = server
    questions = [AUSTRALIA, "Who chaired the Indo-Pacific 4 meeting?",
                 "What are the four new flagship projects between NATO and its Indo-Pacific partners?",
                 "Which countries make up the Indo Pacific 4?"] * 5

    def user_asks(question):
        # twenty users, each a session of their own: one gradio_client shared by threads can cancel a job it
        # submits while the event stream of another thread's finished job closes (a client-side race)
        client = Client(app.local_url, verbose=False, analytics_enabled=False, download_files=False)
        try:
            return ask(client, question)
        finally:
            client.close()

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(user_asks, questions))
    assert len(results) == 20
    for q, (text, data) in zip(questions, results):
        assert data["question"] == q and text and (data["citations"] or data["refused"])
    assert all(data["citations"] for q, (_, data) in zip(questions, results) if q == AUSTRALIA)


class Listener:
    """A TCP listener on 127.0.0.1 that records whoever connects and what they send."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"
        self.received: list[bytes] = []
        self.stop = False
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            conn.settimeout(1)
            try:
                self.received.append(conn.recv(65536) or b"(connected)")
            except OSError:
                self.received.append(b"(connected)")
            conn.close()


def test_clients_cannot_send_the_servers_llm_key_elsewhere(docs_copy, seed_index, tmp_path):
    """A client picks among the answerers the server has configured; URL, key, model and GGUF come from the
    server's environment only, and credentials in the server's URL never reach a client."""
    from llm_server import closed_port_url

    trap = Listener()
    own = closed_port_url().replace("http://", "http://admin:hunter2@")
    app, _ = start(docs_copy, seed_index, tmp_path, llm_api_key="sk-server-secret", llm_base_url=own)
    try:
        url = app.local_url
        config = httpx.get(f"{url}config").text
        assert "LLM base URL" not in config and "API key" not in config and "GGUF" not in config
        for data in ([AUSTRALIA, "[]", 0, "", "openai", "", "", "", trap.url, "stolen-model", "key", "/etc/passwd"],
                     [AUSTRALIA, "[]", 0, "", "openai", "", "", ""]):
            r = httpx.post(f"{url}gradio_api/call/ask", json={"data": data})
            stream = httpx.get(f"{url}gradio_api/call/ask/{r.json()['event_id']}", timeout=120).text
            assert "hunter2" not in stream and "sk-server-secret" not in stream
        assert "data: " in stream and "***@127.0.0.1" in stream        # the server's own (down) LLM, redacted
        client = Client(url, verbose=False, analytics_enabled=False)
        with pytest.raises(Exception, match="not available"):
            client.predict(AUSTRALIA, "[]", 0, "", "local", "", "", "", api_name="/ask")
        client.close()
        time.sleep(0.5)
        assert trap.received == []
    finally:
        trap.stop = True
        close_app(app)


def test_login_guards_the_queue_routes_gradio_leaves_open(docs_copy, seed_index, tmp_path):
    app, _ = start(docs_copy, seed_index, tmp_path, auth="alice:s3cret")
    try:
        url = app.local_url
        assert httpx.get(f"{url}config").status_code in (401, 403)
        body = {"session_hash": "abc", "fn_index": 0, "event_id": "x"}
        for route in ("gradio_api/cancel", "gradio_api/reset"):
            assert httpx.post(f"{url}{route}", json=body).status_code == 401, route
        with pytest.raises(Exception):
            Client(url, verbose=False, analytics_enabled=False, auth=("alice", "wrong"))
        client = Client(url, verbose=False, analytics_enabled=False, auth=("alice", "s3cret"))
        assert len(client.predict(api_name="/documents")) == 4
        client.close()
        with httpx.Client() as web:      # signed in, the routes answer again
            assert web.post(f"{url}login", data={"username": "alice", "password": "s3cret"}).status_code == 200
            assert web.post(f"{url}gradio_api/reset", json=body).status_code == 200
    finally:
        close_app(app)


def test_an_empty_docs_folder_starts_and_says_nothing_is_indexed(tmp_path):
    (tmp_path / "docs").mkdir()
    app = launch(Settings(docs=tmp_path / "docs", index=tmp_path / "index"), port=free_port(), block=False)
    try:
        client = Client(app.local_url, verbose=False, analytics_enabled=False)
        assert client.predict(api_name="/documents") == []
        with pytest.raises(Exception, match="nothing is indexed yet"):
            ask(client, AUSTRALIA)
        client.close()
    finally:
        close_app(app)


def test_feedback_rows_are_eval_questions(tmp_path):
    data = {"question": "Who chaired it?", "standalone_question": "Who chaired the meeting?", "refused": False,
            "answer": "Luxon chaired it [1].", "note": "",
            "citations": [{"n": 1, "doc_id": "000.txt", "quote": "Luxon chaired it."}]}
    conv = {"id": "20260101-000000-abcdef", "answers": {"1": {"json": data, "sources": ""}}}
    append_feedback(tmp_path, feedback_row(conv, 1, True))
    append_feedback(tmp_path, feedback_row(conv, 1, False))
    up, down = load_questions(tmp_path / "feedback.jsonl")
    assert up["question"] == "Who chaired the meeting?" and up["answers"] == ["Luxon chaired it."]
    assert up["gold_doc_ids"] == ["000.txt"] and up["answerable"] and up["verdict"] == "up"
    assert down["verdict"] == "down" and down["answers"] == [] and down["answer"] == data["answer"]
    assert feedback_row(conv, 3, True) is None


def test_redact_hides_url_credentials():
    assert redact("http://u:p@h:1/v1 down; https://tok@x.org") == "http://***@h:1/v1 down; https://***@x.org"


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
    (docs / "broken.pdf").write_bytes(b"")
    with pytest.raises(RagError, match="over the 1 MB upload limit"):
        save_upload(big, "big.txt", Settings(docs=docs, max_upload_mb=1))
    assert [p.name for p in docs.iterdir()] == ["broken.pdf"]
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(b"%PDF-1.4 truncated")
    with pytest.raises(RagError, match="scan.pdf: cannot be indexed"):
        save_upload(pdf, "scan.pdf", Settings(docs=docs))
    assert [p.name for p in docs.iterdir()] == ["broken.pdf"]


def test_history_formats():
    pairs = [("q1", "a1"), ("q2", "a2")]
    assert parse_history(json.dumps([list(p) for p in pairs])) == pairs
    messages = [{"role": r, "content": c} for q, a in pairs for r, c in (("user", q), ("assistant", a))]
    assert parse_history(messages) == pairs and parse_history("") == []


def test_conversations_are_kept_per_user_beside_the_index(tmp_path):
    store = ChatStore(tmp_path)
    conv = new_conversation()
    conv["messages"] = [{"role": "user", "content": "Who chaired it?"}, {"role": "assistant", "content": "Luxon [1]"}]
    store.save("alice", conv)
    assert (tmp_path / "chats" / "users" / "alice" / f"{conv['id']}.json").is_file()
    assert [cid for _, cid in store.list("alice")] == [conv["id"]] and store.list("bob") == []
    assert store.load("bob", conv["id"]) is None and store.load("alice", "../../etc/passwd") is None
    assert store.load("alice", conv["id"])["title"] == "Who chaired it?"
    assert store.delete("alice", conv["id"]) and store.list("alice") == []


def test_a_replaced_upload_comes_back_when_indexing_fails(tmp_path):
    """The old version of a re-uploaded file is kept (hidden, so never indexed) until the rebuild succeeds."""
    from types import SimpleNamespace

    from ui.state import RetrieverHolder

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notes.txt").write_text("old version\n", encoding="utf-8")
    new = tmp_path / "notes.txt"
    new.write_text("new version\n", encoding="utf-8")
    message, backup, name = save_upload(new, "notes.txt", Settings(docs=docs))
    assert message.startswith("Replaced") and backup.name.startswith(".")
    assert (docs / "notes.txt").read_text(encoding="utf-8") == "new version\n"

    def fail():
        raise RagError("disk full")
    with pytest.raises(RagError):
        RetrieverHolder.add(SimpleNamespace(rebuild=fail, shared=False), [name], [backup])
    assert (docs / "notes.txt").read_text(encoding="utf-8") == "old version\n" and not backup.exists()


def test_answer_html_escapes_document_text_and_links_each_marker_to_its_card():
    from rag.types import Answer, Citation, ShortAnswer
    from ui.render import answer_html, plain_text

    quote = '# Heading <img src=x onerror="alert(1)"> Oslo'
    cite = Citation(1, "d.txt", "d.txt", "2024-01-02", "c1", 0, len(quote), quote)
    answer = Answer("q", "q", "Oslo. " + quote + " [1]", (cite,), (), short_answer=ShortAnswer("Oslo", "d.txt", 0, 4, 1))
    html = answer_html(answer, turn=3)
    assert "<img" not in html and "&lt;img" in html and "\n\n" not in html    # one HTML block: no Markdown
    assert '<a class="cite" href="#src-3-1"' in html and html.count("<b>Oslo</b>") == 1
    text = plain_text(answer)
    assert text.startswith(answer.text) and "[1] d.txt — 2024-01-02: “# Heading" in text


def test_example_questions_name_real_titles_not_first_sentences(seed_settings):
    """Two seeds have no title (their first sentence stands in for it); examples use the documents that have one."""
    from ui.documents import example_questions
    from ui.state import RetrieverHolder

    holder = RetrieverHolder(seed_settings)
    titled = [d["title"] for d in holder.documents() if d["title_given"]]
    questions = example_questions(holder, 3)
    assert titled and len(questions) == len(titled)
    assert all(any(t in q for t in titled) for q in questions)


def test_a_state_committed_elsewhere_loads_in_the_background(docs_copy, tmp_path):
    """Another process commits a new state: the next question is answered at once from the loaded state while the
    new one loads (catalog and title index included) off the request path; then the new one is served."""
    from rag.answer import ask as do_ask
    from rag.indexer import build_index
    from ui.state import RetrieverHolder

    settings = Settings(docs=docs_copy, index=tmp_path / "index")
    holder = RetrieverHolder(settings)
    old = holder.get()
    assert "_titles" in old.__dict__                      # warmed when the app started
    opening = threading.Event()
    release = threading.Event()
    real_open = holder._open

    def slow_open(s, embedder=None):                      # hold the background load until the test lets it go
        opening.set()
        assert release.wait(60)
        return real_open(s, embedder)

    holder._open = slow_open
    (docs_copy / "ferry.md").write_text("# Ferry\n\nThe Vikna ferry is crewed by Captain Ilse Marthinsen.\n",
                                        encoding="utf-8")
    build_index(settings, progress=False)                # as `rag index` in another process would
    holder._checked = 0.0                                # due for a check now
    assert holder.get() is old and opening.wait(60)      # the check started the load and did not wait for it
    loader = holder._loading
    answer = do_ask(holder.get(), "Who crews the Vikna ferry?", settings)
    assert all(c.doc_id != "ferry.md" for c in answer.citations)   # served from the old state meanwhile
    release.set()
    loader.join(60)
    fresh = holder.get()
    assert fresh is not old and fresh.store.state() == fresh.store.latest() and "_titles" in fresh.__dict__
    answer = do_ask(fresh, "Who crews the Vikna ferry?", settings)
    assert "Ilse Marthinsen" in answer.text and any(c.doc_id == "ferry.md" for c in answer.citations)
