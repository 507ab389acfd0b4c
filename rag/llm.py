"""Talking to language models: the numbered-sources prompt (fitted to a tiktoken budget), an OpenAI-compatible
`/v1/chat/completions` client over httpx with SSE streaming, and the in-process xllamacpp backend for a GGUF file.

Both backends stream answer-text deltas. Every failure (server down, timeout, HTTP error, bad JSON, model that
will not load) becomes one `LLMError` line naming the model and the cause; the answerer shows it as a note and
falls back to the extractive answer, so nothing the LLM does can crash a question.

    >>> msgs = build_messages("Who chaired?", [])
    >>> [m["role"] for m in msgs]
    ['system', 'user']
"""
from __future__ import annotations

import json
import os
import queue
import re
import threading
from functools import lru_cache
from typing import Iterator, Sequence

import httpx

from . import tokens
from .types import Hit

PROMPT_BUDGET = 3000        # prompt tokens; with MAX_ANSWER_TOKENS it fits a 4k-token context
MAX_ANSWER_TOKENS = 256        # one to three sentences
from .config import REFUSAL  # noqa: E402  (the one refusal text, also the answer model's)

SYSTEM = (
    "You answer questions using only the numbered sources the user gives you. "
    "Write one to three short sentences. End every sentence with the number of the source that supports it "
    "in square brackets, like [1] or [2][3]. Use only numbers of sources that exist. "
    f"If the sources do not contain the answer, reply exactly: {REFUSAL}"
)


def redact(url: str) -> str:
    """`url` (or any text holding URLs) without credentials, for notes, errors and logs.

    >>> redact("http://user:secret@example.org:8080/v1")
    'http://***@example.org:8080/v1'
    """
    return re.sub(r"\b([a-z][a-z0-9+.-]*://)[^/@\s]*@", r"\1***@", url, flags=re.IGNORECASE)


class LLMError(Exception):
    """One line: which model failed and why (shown to the user as the answer's note)."""


def build_messages(question: str, hits: Sequence[Hit], budget: int = PROMPT_BUDGET) -> list[dict]:
    """System + user messages; source [n] is hits[n-1]. Lower-ranked sources are cut first to fit `budget`."""
    head = f"Question: {question}\n\nSources:\n"
    tail = f"\nAnswer the question \"{question}\" using only these sources, citing them as [n]."
    left = budget - tokens.count(SYSTEM) - tokens.count(head + tail) - 16   # 16: chat-template overhead
    parts = []
    for i, hit in enumerate(hits, 1):
        label = f"[{i}] {hit.title or hit.chunk.doc_id}" + (f" ({hit.date})" if hit.date else "") + "\n"
        body = " ".join(hit.chunk.text.split())
        need = tokens.count(label) + tokens.count(body) + 1
        if need > left:
            room = left - tokens.count(label) - 1
            if room < 40:        # a sliver of a passage helps nobody
                break
            enc = tokens.encoding()
            body = enc.decode(enc.encode(body, disallowed_special=())[:room]) + " …"
            need = left
        parts.append(label + body + "\n")
        left -= need
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": head + "\n".join(parts) + tail}]


def _delta(event: dict, where: str) -> str:
    if "error" in event:
        err = event["error"]
        raise LLMError(f"{where} returned an error: {err.get('message', err) if isinstance(err, dict) else err}")
    try:
        choice = event["choices"][0]
        piece = (choice.get("delta") or choice.get("message") or {}).get("content")
    except (KeyError, IndexError, TypeError, AttributeError):
        raise LLMError(f"{where} sent a reply that is not a chat completion") from None
    return piece or ""


class OpenAIChat:
    """Any OpenAI-compatible server (llama.cpp, vLLM, Ollama, OpenAI). Cheap to construct; connects per call."""

    def __init__(self, base_url: str, model: str, api_key: str = "", timeout: float = 60.0):
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self.where = f"LLM at {redact(self.base_url)}"

    def stream(self, messages: list[dict], max_tokens: int = MAX_ANSWER_TOKENS) -> Iterator[str]:
        body = {"model": self.model, "messages": messages, "max_tokens": max_tokens, "temperature": 0,
                "stream": True}
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            with httpx.stream("POST", self.base_url + "/chat/completions", json=body, headers=headers,
                              timeout=self.timeout) as r:
                if r.status_code >= 400:
                    r.read()
                    raise LLMError(self._http_error(r))
                if "text/event-stream" not in r.headers.get("content-type", ""):
                    yield _delta(self._json(r.read()), self.where)   # a server that ignores "stream"
                    return
                for line in r.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        return
                    piece = _delta(self._json(data), self.where)
                    if piece:
                        yield piece
        except httpx.TimeoutException:
            raise LLMError(f"{self.where} timed out after {self.timeout:g}s") from None
        except httpx.HTTPError as e:
            reason = "connection refused" if "refused" in str(e).lower() else (redact(str(e)) or type(e).__name__)
            raise LLMError(f"{self.where} unreachable ({reason})") from None

    def complete(self, messages: list[dict], max_tokens: int = MAX_ANSWER_TOKENS) -> str:
        return "".join(self.stream(messages, max_tokens))

    def _json(self, raw: str | bytes) -> dict:
        try:
            event = json.loads(raw)
        except ValueError:
            raise LLMError(f"{self.where} sent a reply that is not JSON") from None
        if not isinstance(event, dict):
            raise LLMError(f"{self.where} sent a reply that is not a chat completion")
        return event

    def _http_error(self, r: httpx.Response) -> str:
        try:
            err = r.json().get("error", {})
            msg = err.get("message", "") if isinstance(err, dict) else str(err)
        except (ValueError, AttributeError):
            msg = r.text[:120]
        if r.status_code in (401, 403):
            return f"{self.where} rejected the API key (HTTP {r.status_code}); set RAG_LLM_API_KEY"
        if r.status_code == 404:
            return f"{self.where} has no /chat/completions (HTTP 404); check RAG_LLM_BASE_URL ends in /v1"
        return f"{self.where} failed (HTTP {r.status_code}{': ' + msg if msg else ''})"


@lru_cache(maxsize=2)
def _server(gguf: str, n_ctx: int):
    """One xllamacpp server per model file, loaded once. It also listens on a free 127.0.0.1 port; we ignore it."""
    try:
        import xllamacpp
    except ImportError:
        raise LLMError("xllamacpp is not installed; run `pip install xllamacpp` for RAG_ANSWERER=local") from None
    if not os.path.isfile(gguf):
        raise LLMError(f"local model {gguf} not found; set RAG_LLM_GGUF to a .gguf file")
    p = xllamacpp.CommonParams()
    p.model.path = gguf
    p.n_ctx = n_ctx
    p.port = 0            # any free port: never collide with a real server on 8080
    p.verbosity = -1      # llama.cpp logs would drown the terminal
    try:
        return xllamacpp.Server(p)
    except Exception as e:  # the C++ side raises plain RuntimeError/ValueError for unreadable files
        raise LLMError(f"local model {gguf} could not be loaded ({e})") from None


class LocalChat:
    """A GGUF model run in-process by xllamacpp; loads on first use."""

    def __init__(self, gguf: str, n_ctx: int = 4096):
        self.gguf = gguf
        self.n_ctx = n_ctx
        self.where = f"local model {gguf}"

    def stream(self, messages: list[dict], max_tokens: int = MAX_ANSWER_TOKENS) -> Iterator[str]:
        server = _server(self.gguf, self.n_ctx)
        q: queue.Queue = queue.Queue()
        stop = threading.Event()

        def on_chunk(event):
            q.put(("chunk", event))
            return stop.is_set()          # returning True tells xllamacpp to stop generating

        def run():
            try:
                server.handle_chat_completions({"messages": messages, "max_tokens": max_tokens, "temperature": 0,
                                                "stream": True}, on_chunk)
                q.put(("done", None))
            except Exception as e:
                q.put(("error", e))

        # generation runs in a thread so deltas reach the caller while the model is still writing
        threading.Thread(target=run, daemon=True, name="xllamacpp-chat").start()
        try:
            while True:
                kind, item = q.get()
                if kind == "done":
                    return
                if kind == "error":
                    raise LLMError(f"{self.where} failed ({item})")
                piece = _delta(item, self.where) if isinstance(item, dict) else ""
                if piece:
                    yield piece
        finally:
            stop.set()

    def complete(self, messages: list[dict], max_tokens: int = MAX_ANSWER_TOKENS) -> str:
        return "".join(self.stream(messages, max_tokens))


def get_chat(settings) -> OpenAIChat | LocalChat | None:
    """The chat backend `settings.answerer` names, or None for the extractive answerer."""
    if settings.answerer == "openai":
        return OpenAIChat(settings.llm_base_url, settings.llm_model, settings.llm_api_key, settings.llm_timeout)
    if settings.answerer == "local":
        if not settings.llm_gguf:
            raise LLMError("RAG_ANSWERER=local needs a model file; set RAG_LLM_GGUF=/path/to/model.gguf")
        return LocalChat(settings.llm_gguf)
    return None
