"""Presenting answers: the terminal rendering (the answer, then numbered sources with their quoted spans) and the JSON
shapes of an Answer and of a Hit that the CLI, the eval report and the chat app share."""
from __future__ import annotations

from .types import Answer, Hit


def format_answer(answer: Answer) -> str:
    """Terminal rendering: the answer (unsupported sentences marked), then numbered sources with quoted spans."""
    lines = []
    if answer.standalone_question and answer.standalone_question != answer.question:
        lines.append(f"(understood as: {answer.standalone_question})")
    text = answer.text
    for s in answer.unsupported:
        text = text.replace(s, f"{s} [unsupported: no source says this]", 1)
    lines.append(text)
    if answer.citations:
        lines += ["", "Sources:"]
        last = None
        for c in sorted(answer.citations, key=lambda c: (c.n, answer.citations.index(c))):
            if (c.n, c.doc_id) != last:
                head = f"  [{c.n}]" if not last or last[0] != c.n else "  also"   # near-duplicate in another doc
                lines.append(f"{head} {_label(c.title, c.doc_id, c.date)}")
                last = (c.n, c.doc_id)
            lines.append(f"      “{' '.join(c.quote.split())}” (chars {c.start}–{c.end})")
    if answer.refused and answer.hits:
        lines += ["", "Closest passages:"]
        for h in answer.hits:
            snippet = " ".join(h.chunk.text.split())
            lines.append(f"  {h.rank}. {_label(h.title, h.chunk.doc_id, h.date)}: "
                         f"{snippet[:160] + '…' if len(snippet) > 160 else snippet}")
    if answer.note:
        lines += ["", f"Note: {answer.note}"]
    return "\n".join(lines)


def _label(title: str, doc_id: str, date: str | None) -> str:
    parts = [title] if title and title != doc_id else []
    parts.append(doc_id)
    if date:
        parts.append(date)
    return " — ".join(parts)


def hit_to_json(h: Hit) -> dict:
    """A retrieved passage as JSON: the one shape the CLI, the answer JSON and the chat app share. `score` is the
    fused rank score (reciprocal-rank fusion), `cosine` the question-passage cosine, `bm25` the keyword score (None
    when the keyword ranking did not hold it)."""
    return {"rank": h.rank, "score": round(h.score, 6), "cosine": None if h.cosine is None else round(h.cosine, 4),
            "bm25": None if h.bm25 is None else round(h.bm25, 4), "doc_id": h.chunk.doc_id, "title": h.title, "date": h.date,
            "chunk_id": h.chunk.id, "start": h.chunk.start, "end": h.chunk.end, "page": h.chunk.page,
            "also_in": [c.doc_id for c in h.duplicates], "text": h.chunk.text}


def answer_to_json(answer: Answer) -> dict:
    short = answer.short_answer
    return {
        "question": answer.question, "standalone_question": answer.standalone_question, "answer": answer.text,
        "short_answer": None if short is None else {"text": short.text, "doc_id": short.doc_id, "start": short.start,
                                                    "end": short.end, "n": short.n},
        "refused": answer.refused, "unsupported": list(answer.unsupported),
        "citations": [{"n": c.n, "doc_id": c.doc_id, "title": c.title, "date": c.date, "chunk_id": c.chunk_id,
                       "start": c.start, "end": c.end, "quote": c.quote} for c in answer.citations],
        "hits": [hit_to_json(h) for h in answer.hits],
        "answerer": answer.answerer, "note": answer.note,
    }
