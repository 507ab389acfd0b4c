"""The LLM answerers end to end against a real model: xllamacpp serving SmolLM2-135M over HTTP (the `openai`
answerer) and in-process (the `local` answerer). SmolLM2 is tiny, so these tests check the protocol, streaming,
citation parsing and checking, and the fall-back to the extractive answer, not the model's answers."""
from __future__ import annotations

import http.server
import re
import socket
import threading
from dataclasses import replace

import pytest

from llm_server import closed_port_url, llm_server, require_llm
from rag import answer as A
from rag import present as P
from rag import llm, tokens
from rag.followup import deterministic_rewrite
from rag.types import Answer

pytestmark = pytest.mark.llm
AUSTRALIA = "Who represented Australia at the meeting with NATO's Indo-Pacific partners?"


@pytest.fixture(scope="module")
def retriever(seed_settings):
    from rag.retrieve import open_retriever

    return open_retriever(seed_settings)


@pytest.fixture(scope="module")
def llm_url():
    require_llm()
    with llm_server() as url:
        yield url


@pytest.fixture(scope="module")
def locked_llm_url():
    """A server that wants the API key "right-key"."""
    require_llm()
    with llm_server(api_key="right-key") as url:
        yield url


def assert_checked(retriever, ans: Answer):
    """What every answer promises, whatever the model wrote."""
    assert isinstance(ans, Answer) and ans.hits
    for n in re.findall(r"\[(\d+)\]", ans.text):
        assert 1 <= int(n) <= len(ans.hits)
    if ans.refused:
        assert ans.text.startswith((A.refusal_text(ans.standalone_question), A.REFUSAL, "The documents never mention"))
        assert len({c.n for c in ans.citations}) <= 1
    else:
        assert ans.citations, "never an answer without a citation"
    for c in ans.citations:
        assert retriever.store.docs[c.doc_id].text[c.start:c.end] == c.quote
        assert c.doc_id in A.cited_hit(ans, c.n).doc_ids and f"[{c.n}]" in ans.text


# ---- prompt ------------------------------------------------------------------------------------------------
def test_prompt_numbers_the_sources_and_fits_the_token_budget(retriever):
    hits = retriever.search(AUSTRALIA, k=5)
    msgs = llm.build_messages(AUSTRALIA, hits)
    user = msgs[1]["content"]
    assert [f"[{i}]" in user for i in range(1, 6)] == [True] * 5
    assert "[n]" in user and A.REFUSAL in msgs[0]["content"]
    small = llm.build_messages(AUSTRALIA, hits, budget=300)
    assert sum(tokens.count(m["content"]) for m in small) <= 300
    assert "[1]" in small[1]["content"] and "[5]" not in small[1]["content"]   # low-ranked sources go first


# ---- openai: a real OpenAI-compatible server ---------------------------------------------------------------
def test_client_streams_deltas_over_sse(llm_url):
    chat = llm.OpenAIChat(llm_url, "smollm2")
    pieces = list(chat.stream([{"role": "user", "content": "Say hello."}], max_tokens=12))
    assert len(pieces) > 1 and "".join(pieces).strip()


def test_openai_answer_streams_then_returns_a_checked_answer(retriever, seed_settings, llm_url):
    settings = replace(seed_settings, answerer="openai", llm_base_url=llm_url)
    items = list(A.ask_stream(retriever, AUSTRALIA, settings))
    deltas, ans = items[:-1], items[-1]
    assert len(deltas) > 1 and all(isinstance(d, str) for d in deltas)   # the model was called and streamed
    assert ans.answerer == "openai" and "showing the extractive answer" not in ans.note
    assert_checked(retriever, ans)


class _Counting(http.server.BaseHTTPRequestHandler):
    """An 'LLM' that only counts the requests it gets."""
    calls = 0

    def do_POST(self):
        type(self).calls += 1
        self.send_response(500)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_question_nothing_answers_is_declined_without_calling_the_llm(retriever, seed_settings):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        ans = A.ask(retriever, "How do I bake sourdough bread at home?", replace(seed_settings, answerer="openai",
                                                                                 llm_base_url=url))
    finally:
        server.shutdown()
    assert ans.refused and _Counting.calls == 0
    assert_checked(retriever, ans)


def test_openai_followup_is_rewritten_and_answered(retriever, seed_settings, llm_url):
    settings = replace(seed_settings, answerer="openai", llm_base_url=llm_url)
    ans = A.ask(retriever, "And who came from Japan?", settings, history=[(AUSTRALIA, "Richard Marles [1]")])
    assert ans.question == "And who came from Japan?" and ans.standalone_question.strip()
    assert ans.answerer == "openai"
    assert_checked(retriever, ans)


def test_unreachable_server_falls_back_to_the_extractive_answer(retriever, seed_settings):
    url = closed_port_url()
    ans = A.ask(retriever, AUSTRALIA, replace(seed_settings, answerer="openai", llm_base_url=url))
    assert ans.note == f"LLM at {url} unreachable (connection refused); showing the extractive answer"
    assert ans.answerer == "extractive" and ans.text == A.ask(retriever, AUSTRALIA, seed_settings).text
    assert_checked(retriever, ans)
    assert "Note: LLM at" in P.format_answer(ans)


def test_followup_with_the_server_down_uses_the_deterministic_rewrite(retriever, seed_settings):
    settings = replace(seed_settings, answerer="openai", llm_base_url=closed_port_url())
    ans = A.ask(retriever, "What about Japan?", settings, history=[(AUSTRALIA, "Richard Marles [1]")])
    assert ans.standalone_question == deterministic_rewrite("What about Japan?", AUSTRALIA)
    assert "unreachable" in ans.note
    assert ans.text == A.ask(retriever, "What about Japan?", seed_settings, history=[(AUSTRALIA, "Richard Marles [1]")]).text


def test_rejected_api_key_falls_back_with_a_one_line_note(retriever, seed_settings, locked_llm_url):
    settings = replace(seed_settings, answerer="openai", llm_base_url=locked_llm_url, llm_api_key="wrong-key")
    ans = A.ask(retriever, AUSTRALIA, settings)
    assert "rejected the API key (HTTP 401)" in ans.note and "\n" not in ans.note
    assert ans.answerer == "extractive" and not ans.refused
    good = A.ask(retriever, AUSTRALIA, replace(settings, llm_api_key="right-key"))
    assert good.answerer == "openai" and "rejected" not in good.note


class _Junk(http.server.BaseHTTPRequestHandler):
    """A broken 'LLM': answers every request with an event stream whose events are not JSON."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        self.wfile.write(b"data: this is not json\n\n")

    def log_message(self, *args):
        pass


def test_reply_that_is_not_json_falls_back(retriever, seed_settings):
    server = http.server.HTTPServer(("127.0.0.1", 0), _Junk)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/v1"
        ans = A.ask(retriever, AUSTRALIA, replace(seed_settings, answerer="openai", llm_base_url=url))
    finally:
        server.shutdown()
        server.server_close()
    assert ans.note == f"LLM at {url} sent a reply that is not JSON; showing the extractive answer"
    assert_checked(retriever, ans)


def test_server_that_never_answers_times_out_and_falls_back(retriever, seed_settings):
    with socket.socket() as silent:     # accepts connections (backlog) but never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/v1"
        settings = replace(seed_settings, answerer="openai", llm_base_url=url, llm_timeout=0.5)
        ans = A.ask(retriever, AUSTRALIA, settings)
    assert ans.note == f"LLM at {url} timed out after 0.5s; showing the extractive answer"
    assert ans.text == A.ask(retriever, AUSTRALIA, seed_settings).text     # the extractive answer, unchanged


# ---- local: the same GGUF in-process -----------------------------------------------------------------------
def test_local_backend_streams_from_the_gguf():
    chat = llm.LocalChat(str(require_llm()))
    pieces = list(chat.stream([{"role": "user", "content": "Say hello."}], max_tokens=12))
    assert len(pieces) > 1 and "".join(pieces).strip()


def test_local_answer_is_checked(retriever, seed_settings):
    settings = replace(seed_settings, answerer="local", llm_gguf=str(require_llm()))
    items = list(A.ask_stream(retriever, AUSTRALIA, settings))
    ans = items[-1]
    assert all(isinstance(d, str) for d in items[:-1])
    assert ans.answerer == "local" and "showing the extractive answer" not in ans.note
    assert_checked(retriever, ans)


@pytest.mark.parametrize("gguf, why", [("", "needs a model file; set RAG_LLM_GGUF"),
                                       ("/nonexistent/model.gguf", "not found")])
def test_local_without_a_model_falls_back(retriever, seed_settings, gguf, why):
    ans = A.ask(retriever, AUSTRALIA, replace(seed_settings, answerer="local", llm_gguf=gguf))
    assert why in ans.note and ans.note.endswith("showing the extractive answer")
    assert ans.answerer == "extractive" and ans.text == A.ask(retriever, AUSTRALIA, seed_settings).text


def test_smollm2_is_found_without_importing_its_package():
    gguf = require_llm()
    assert gguf.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and gguf.stat().st_size > 10_000_000
