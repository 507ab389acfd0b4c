"""Scale-out end to end: a real Milvus Lite server, the seeds indexed through it, two `rag chat` replicas (separate
processes, separate folders, nothing shared but the server) answering at once while one of them takes an upload.

Nothing here is mocked: the server is `python -m milvus_lite server`, the replicas are the `rag chat` command, the
questions go through gradio_client.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from gradio_client import Client, handle_file

from conftest import SEEDS
from milvus_server import free_port, milvus_server

RAG = str(Path(sys.executable).with_name("rag"))
QUESTIONS = ["Who represented Australia at the Indo-Pacific meeting?",
             "Who chaired the Indo-Pacific 4 meeting?",
             "What did the leaders discuss about China's support to Russia's defense industrial base?"]
NEW_DOC = ("# Harbour crane contract\n\nThe port of Vikna ordered three electric harbour cranes "
           "from Lindqvist Maskin on Friday. The cranes will be delivered in March 2025.\n")
NEW_QUESTION = "Which company will deliver the electric harbour cranes to the port of Vikna?"


def connect(url: str) -> Client:
    """A client of its own. gradio_client multiplexes one client's jobs over one event stream per session and can
    cancel a job submitted on one thread while the stream closes after another thread's job (CancelledError), so
    every thread that asks at the same time as another gets its own client, as every browser tab has its own session.
    """
    return Client(url, verbose=False, analytics_enabled=False, download_files=False)


def ask(client: Client, question: str) -> dict:
    """The answer's JSON, with the answer text (as shown, with its [n] markers) under "shown"."""
    text, data = client.predict(question, "[]", 0, "", "", "", "", "", api_name="/ask")
    return {**data, "shown": text}


def wait_up(url: str, proc: subprocess.Popen, log: Path, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"replica exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"replica at {url} did not start:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("replicas")
    with milvus_server(tmp / "milvus") as uri:
        env = {**os.environ, "RAG_STORE": "milvus", "RAG_MILVUS_URI": uri, "RAG_MILVUS_PREFIX": "replicas"}
        env.pop("RAG_INDEX", None)
        shutil.copytree(SEEDS, tmp / "seeds")
        out = subprocess.run([RAG, "index", "--docs", str(tmp / "seeds"), "--index", str(tmp / "indexer"), "--json"],
                             env=env, capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["added"] == 4
        procs, urls = [], []
        for name in ("a", "b"):
            (tmp / name / "docs").mkdir(parents=True)        # each replica's own (empty) folder for uploads
            port = free_port()
            log = tmp / f"{name}.log"
            procs.append((subprocess.Popen([RAG, "chat", "--docs", str(tmp / name / "docs"), "--index",
                                            str(tmp / name / "index"), "--port", str(port)],
                                           env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT), log))
            urls.append(f"http://127.0.0.1:{port}/")
        try:
            for url, (proc, log) in zip(urls, procs):
                wait_up(url, proc, log)
            yield tmp, urls
        finally:
            for proc, _ in procs:
                proc.terminate()
            for proc, _ in procs:
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()


def test_two_replicas_share_one_milvus_server_through_an_upload(cluster):
    tmp, urls = cluster
    clients = [connect(u) for u in urls]
    # both answer, at once, from the shared store (each asker a session of its own)
    with ThreadPoolExecutor(6) as pool:
        first = list(pool.map(lambda uq: ask(connect(uq[0]), uq[1]), [(u, q) for u in urls for q in QUESTIONS]))
    assert all(d["citations"] and not d["refused"] for d in first)
    assert {h["doc_id"] for d in first for h in d["hits"]} <= {p.name for p in SEEDS.iterdir()}

    # an upload through replica A while questions keep coming to both
    answers, errors, stop = [], [], threading.Event()

    def keep_asking(url, n):
        client = connect(url)
        while not stop.is_set():
            try:
                answers.append(ask(client, QUESTIONS[n % len(QUESTIONS)]))
            except Exception as e:       # noqa: BLE001 — every failure is reported below
                errors.append(repr(e))
            n += 1

    askers = [threading.Thread(target=keep_asking, args=(u, i)) for i, u in enumerate(urls)]
    for t in askers:
        t.start()
    try:
        doc = tmp / "cranes.md"
        doc.write_text(NEW_DOC, encoding="utf-8")
        message = clients[0].predict([handle_file(str(doc))], api_name="/upload")[0]
        assert "Index rebuilt" in message or "indexed" in message.lower(), message
        # every replica answers from the new state within a few seconds, with no restart
        deadline, seen = time.monotonic() + 30, {}
        while time.monotonic() < deadline and len(seen) < 2:
            for i, c in enumerate(clients):
                data = ask(c, NEW_QUESTION)
                if "cranes.md" in [x["doc_id"] for x in data["citations"]]:
                    seen[i] = data
            time.sleep(0.5)
    finally:
        stop.set()
        for t in askers:
            t.join(120)
    assert not errors, errors[:3]
    assert len(answers) >= 4 and all(d["citations"] and re.search(r"\[\d\]", d["shown"]) for d in answers)
    assert set(seen) == {0, 1}, "the uploaded document is not cited by every replica"
    assert all("Lindqvist Maskin" in d["shown"] for d in seen.values())
    # the upload went into the shared store, not into replica B's folders
    assert not any((tmp / "b" / "docs").iterdir())
    assert "cranes.md" in [d["file"] for d in clients[1].predict(api_name="/documents")]
    for c in clients:
        c.close()
