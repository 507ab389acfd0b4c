"""Conversations and feedback kept on the server, beside the index (the store never deletes them):

    <index>/chats/<id>.json                  a conversation (RAG_AUTH off)
    <index>/chats/users/<user>/<id>.json     a signed-in user's conversation (RAG_AUTH on)
    <index>/feedback.jsonl                   one row per thumbs up/down, readable by `rag eval --questions`

A conversation is one JSON object: id, title (its first question), updated (ISO time), messages (the chat as shown),
pairs ([question, answer text] for follow-ups) and answers ({message index: {json, sources}}).
"""
from __future__ import annotations

import json
import os
import re
import secrets
import threading
import time
from pathlib import Path

_ID = re.compile(r"^[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$")
_USER = re.compile(r"[^\w.\-]+")
_feedback_lock = threading.Lock()


def new_conversation() -> dict:
    return {"id": time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3), "title": "", "updated": "",
            "messages": [], "pairs": [], "answers": {}}


class ChatStore:
    """Conversations of one index, one folder per signed-in user."""

    def __init__(self, index: str | Path):
        self.root = Path(index) / "chats"

    def _dir(self, user: str | None) -> Path:
        if not user:
            return self.root
        return self.root / "users" / (_USER.sub("_", user).strip("._") or "_")

    def secret(self) -> str:
        """A key for the browser's stored conversation id that survives server restarts."""
        path = self.root / ".browser-key"
        if not path.is_file():
            self.root.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(16), encoding="utf-8")
        return path.read_text(encoding="utf-8").strip()

    def save(self, user: str | None, conv: dict) -> None:
        if not conv.get("messages") or not _ID.match(conv.get("id", "")):
            return
        folder = self._dir(user)
        folder.mkdir(parents=True, exist_ok=True)
        conv["updated"] = time.strftime("%Y-%m-%dT%H:%M:%S")
        conv["title"] = conv.get("title") or next((m["content"] for m in conv["messages"] if m["role"] == "user"), "")
        tmp = folder / f".{conv['id']}.{secrets.token_hex(3)}.tmp"
        tmp.write_text(json.dumps(conv, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, folder / f"{conv['id']}.json")

    def load(self, user: str | None, cid: str) -> dict | None:
        if not isinstance(cid, str) or not _ID.match(cid):
            return None
        try:
            return json.loads((self._dir(user) / f"{cid}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def list(self, user: str | None) -> list[tuple[str, str]]:
        """(label, id) of the user's conversations, newest first."""
        rows = []
        for path in self._dir(user).glob("*.json"):
            try:
                conv = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            title = conv.get("title") or "(empty)"
            rows.append((conv.get("updated", ""), f"{conv.get('updated', '')[:16].replace('T', ' ')} · "
                                                  f"{title[:70]}", conv.get("id", path.stem)))
        return [(label, cid) for _, label, cid in sorted(rows, reverse=True)]

    def delete(self, user: str | None, cid: str) -> bool:
        if not isinstance(cid, str) or not _ID.match(cid):
            return False
        path = self._dir(user) / f"{cid}.json"
        existed = path.is_file()
        path.unlink(missing_ok=True)
        return existed


def feedback_row(conv: dict, index: int, liked: bool, user: str | None = None) -> dict | None:
    """The eval row for a thumbs up/down on assistant message `index`: id, question, answers, gold_doc_ids,
    answerable (what `rag eval --questions` reads), plus verdict, the answer given and its citations.

    A thumbs up makes the answer and its cited documents the gold; a thumbs down keeps them out of the gold (the
    right answer is not known) and marks a declined question as answerable."""
    entry = conv.get("answers", {}).get(str(index))
    if not entry:
        return None
    data = entry["json"]
    cited = list(dict.fromkeys(c["doc_id"] for c in data["citations"]))
    plain = re.sub(r"\s*\[\d+(?:\s*,\s*\d+)*\]", "", data["answer"]).strip()
    up = bool(liked)
    return {"id": f"feedback-{conv['id']}-{index}", "question": data.get("standalone_question") or data["question"],
            "answers": [plain] if up and not data["refused"] else [],
            "gold_doc_ids": cited if up else [],
            "answerable": (not data["refused"]) if up else bool(data["refused"]),
            "verdict": "up" if up else "down", "asked": data["question"], "answer": data["answer"],
            "refused": data["refused"], "citations": data["citations"], "user": user or "",
            "time": time.strftime("%Y-%m-%dT%H:%M:%S")}


def append_feedback(index: str | Path, row: dict) -> Path:
    path = Path(index) / "feedback.jsonl"
    with _feedback_lock, path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path
