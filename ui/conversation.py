"""The conversation side of the Chat tab: starting, reopening and deleting conversations (kept by `ui.chats`),
showing the sources of the answer a user clicks, thumbs up/down, Stop, and the request helpers shared with /ask."""
from __future__ import annotations

import re

import gradio as gr

from rag.answer import cited_hit
from rag.present import answer_to_json
from rag.errors import RagError
from rag.storage import Filter

from .chats import ChatStore, append_feedback, feedback_row, new_conversation
from .render import EMPTY_SOURCES, error_html, redact

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def filters(doc_ids, date_from, date_to) -> Filter | None:
    """ask_stream's document filter from the page or the API (doc_ids: a list or comma-separated ids)."""
    if isinstance(doc_ids, str):
        doc_ids = [d.strip() for d in doc_ids.split(",") if d.strip()]
    dates = []
    for value in (date_from, date_to):
        value = (value or "").strip()
        if value and not _DATE.match(value):
            raise RagError(f"{value!r} is not a date; write it as YYYY-MM-DD")
        dates.append(value or None)
    return Filter.of(doc_ids or None, *dates)


def answer_json(answer) -> dict:
    data = answer_to_json(answer)
    data["note"] = redact(data["note"])
    for c in data["citations"]:      # near-identical passages in other documents corroborate the citation
        hit = cited_hit(answer, c["n"])
        c["also_in"] = list(dict.fromkeys(d.doc_id for d in hit.duplicates)) if hit else []
    return data


class Conversations:
    """Event handlers over one ChatStore; each returns the chat outputs (chatbot, sources, conv, box, browser id,
    conversation list) where it changes them."""

    def __init__(self, store: ChatStore, index):
        self.store, self.index = store, index

    @staticmethod
    def user(request) -> str | None:
        return request.username if request else None

    def choices(self, user):
        return self.store.list(user)

    @staticmethod
    def show_sources(conv, evt: gr.SelectData):
        """Clicking an answer (or one of its [n]) shows that answer's sources."""
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        entry = (conv or {}).get("answers", {}).get(str(index))
        return entry["sources"] if entry else gr.skip()

    def feedback(self, conv, evt: gr.LikeData, request: gr.Request):
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        if evt.liked is None or evt.liked == "":
            return
        row = feedback_row(conv or {}, int(index), bool(evt.liked), self.user(request))
        if row:
            append_feedback(self.index, row)
            gr.Info("Thanks: your verdict was recorded.")

    def start_new(self, request: gr.Request):
        conv = new_conversation()
        user = self.user(request)
        return [], EMPTY_SOURCES, conv, "", conv["id"], gr.update(choices=self.choices(user), value=None)

    def open_conv(self, cid, request: gr.Request):
        user = self.user(request)
        conv = self.store.load(user, cid) if cid else None
        if conv is None:
            return self.start_new(request)
        latest = max((int(k) for k in conv["answers"]), default=None)
        src = conv["answers"][str(latest)]["sources"] if latest is not None else EMPTY_SOURCES
        return conv["messages"], src, conv, "", conv["id"], gr.update(choices=self.choices(user), value=conv["id"])

    def delete_conv(self, cid, current, request: gr.Request):
        self.store.delete(self.user(request), cid)
        if current and cid == current.get("id"):
            return self.start_new(request)
        return (gr.skip(),) * 5 + (gr.update(choices=self.choices(self.user(request)),
                                              value=None),)

    @staticmethod
    def stopped(messages, conv):
        """After Stop: the unfinished answer says so, and stays in the conversation (without sources)."""
        messages = list(messages or [])
        if messages and messages[-1]["role"] == "assistant" and "answer" not in str(messages[-1]["content"])[:40]:
            messages[-1] = {"role": "assistant", "content": error_html("Stopped.")}
        elif messages and "▌" in str(messages[-1]["content"]):
            messages[-1] = {"role": "assistant", "content": str(messages[-1]["content"]).replace(" ▌", " (stopped)")}
        return messages, {**(conv or new_conversation()), "messages": messages}
