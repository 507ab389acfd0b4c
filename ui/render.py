"""Turning an Answer into what the chat app shows: the chat message (each [n] a link to that answer's passage, ⚠ on
unsupported sentences, a plain refusal, the plain text the copy button copies) and the sources panel (each cited
passage with its quoted span in <mark>, and the whole document with that span highlighted).

Everything taken from documents or the user is HTML-escaped before markup is added, and chat messages are one HTML
block (no blank line), so Markdown never applies to quoted text ("# Heading" stays text).

    >>> mark_spans("Marles went to Washington.", [(0, 6)])
    '<mark>Marles</mark> went to Washington.'
"""
from __future__ import annotations

import re
from html import escape

from rag.answer import cited_hit
from rag.llm import redact
from rag.types import Answer, Citation, DocInfo, Hit

from .state import display_title

CONTEXT = 260          # characters of passage shown either side of the quoted span(s)
SNIPPET = 320          # characters of a passage shown when nothing in it is quoted
_CITE = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
WHOLE_DOC = 200_000    # characters of a document shown whole under a source card
EMPTY_SOURCES = ('<div class="src-empty"><b>Sources</b><br>Ask a question: the passages the answer cites appear '
                 'here, with the quoted words highlighted.</div>')


def _flat(text: str) -> str:
    return " ".join(text.split())


def mark_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """Escape `text` and wrap each (start, end) span, clipped to the text and merged when overlapping, in <mark>."""
    clipped = sorted((max(0, a), min(len(text), b)) for a, b in spans if b > 0 and a < len(text) and b > a)
    merged: list[list[int]] = []
    for a, b in clipped:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    out, pos = [], 0
    for a, b in merged:
        out += [escape(text[pos:a]), "<mark>", escape(text[a:b]), "</mark>"]
        pos = b
    out.append(escape(text[pos:]))
    return "".join(out)


def _window(text: str, spans: list[tuple[int, int]]) -> tuple[str, list[tuple[int, int]]]:
    """Cut `text` to the quoted spans plus CONTEXT characters (at word boundaries), shifting the spans to match."""
    lo = max(0, min(a for a, _ in spans) - CONTEXT)
    hi = min(len(text), max(b for _, b in spans) + CONTEXT)
    if lo > 0:
        space = text.find(" ", lo)
        lo = space + 1 if 0 <= space < min(a for a, _ in spans) else lo
    if hi < len(text):
        space = text.rfind(" ", max(b for _, b in spans), hi)
        hi = space if space > 0 else hi
    return text[lo:hi], [(a - lo, b - lo) for a, b in spans]


def passage_html(text: str, spans: list[tuple[int, int]]) -> str:
    """A passage (whitespace folded for display) with its spans highlighted and '…' where it was cut."""
    if not spans:
        cut = text[:SNIPPET]
        return escape(_flat(cut)) + ("…" if len(text) > SNIPPET else "")
    cut, shifted = _window(text, spans)
    pre, post = ("… " if not text.startswith(cut) else ""), (" …" if not text.endswith(cut) else "")
    html = mark_spans(cut, shifted)
    return pre + re.sub(r"\s+", " ", html).strip() + post


def _title(title: str, doc_id: str, docs: dict[str, DocInfo]) -> str:
    doc = docs.get(doc_id)
    return display_title(title, doc_id, doc.text if doc else "")


def _meta(n: str, title: str, doc_id: str, date: str | None, docs: dict[str, DocInfo]) -> str:
    """The card's head: marker, title (the first sentence when the document has none), file, date."""
    bits = [f'<span class="src-file">{escape(doc_id)}</span>']
    if date:
        bits.append(f'<span class="src-date">{escape(date)}</span>')
    title = _title(title, doc_id, docs)
    head = f'<div class="src-title">{escape(title)}</div>' if title and title != doc_id else ""
    return (f'<div class="src-top"><span class="src-n">{n}</span><div>{head}'
            f'<div class="src-meta">{" · ".join(bits)}</div></div></div>')


def _also_in(hit: Hit, docs: dict[str, DocInfo]) -> str:
    others = [c.doc_id for c in hit.duplicates if c.doc_id != hit.chunk.doc_id]
    if not others:
        return ""
    items = "".join(f'<li>{escape(_title("", d, docs) if d in docs else "")} '
                    f'<span class="src-file">{escape(d)}</span></li>' for d in dict.fromkeys(others))
    return f'<div class="src-also">Also reported in (near-identical passage):<ul>{items}</ul></div>'


def _whole(doc: DocInfo | None, spans: list[tuple[int, int]]) -> str:
    """The whole document, collapsed, with the cited spans highlighted."""
    if doc is None:
        return ""
    text = doc.text if len(doc.text) <= WHOLE_DOC else doc.text[:WHOLE_DOC]
    more = "" if len(doc.text) <= WHOLE_DOC else '<p class="src-meta">(first 200,000 characters)</p>'
    return (f'<details class="src-doc"><summary>Open the whole document</summary>'
            f'<div class="doc-text">{mark_spans(text, spans)}</div>{more}</details>')


def _cited_passages(hit: Hit, cites: list[Citation], docs: dict[str, DocInfo]) -> str:
    """The hit's passage with the quotes that fall inside it marked; a quote from elsewhere gets its own excerpt."""
    chunk = hit.chunk
    inside = [c for c in cites if c.doc_id == chunk.doc_id and c.start >= chunk.start and c.end <= chunk.end]
    parts = []
    if inside or not cites:
        spans = [(c.start - chunk.start, c.end - chunk.start) for c in inside]
        parts.append(f'<div class="src-text">{passage_html(chunk.text, spans)}</div>')
    for c in cites:
        if c in inside:
            continue
        doc = docs.get(c.doc_id)
        if doc is not None and doc.text[c.start:c.end] == c.quote:
            body = passage_html(doc.text, [(c.start, c.end)])
        else:
            body = f"<mark>{escape(_flat(c.quote))}</mark>"
        label = f'<div class="src-meta">from <span class="src-file">{escape(c.doc_id)}</span></div>' \
            if c.doc_id != chunk.doc_id else ""
        parts.append(f'{label}<div class="src-text">{body}</div>')
    own = [(c.start, c.end) for c in cites if c.doc_id == chunk.doc_id] or [(chunk.start, chunk.end)]
    parts.append(_whole(docs.get(chunk.doc_id), own))
    return "".join(parts)


def sources_html(answer: Answer, docs: dict[str, DocInfo], turn: int = 0) -> str:
    """The sources panel for one answer (`turn`: its message index): every cited [n] as card `src-<turn>-<n>`, or,
    for a refusal, the closest passages."""
    asked = f'<div class="src-q">for “{escape(answer.question)}”</div>'
    if answer.refused and not answer.citations:
        if not answer.hits:
            return f'<div class="src-empty"><b>Sources</b>{asked}No passage in the documents matched.</div>'
        cards = [f'<div class="src-card src-near" id="src-{turn}-{h.rank}">'
                 f'{_meta(str(h.rank), h.title, h.chunk.doc_id, h.date, docs)}'
                 f'<div class="src-text">{passage_html(h.chunk.text, [])}</div>{_also_in(h, docs)}'
                 f'{_whole(docs.get(h.chunk.doc_id), [(h.chunk.start, h.chunk.end)])}</div>' for h in answer.hits]
        return ('<div class="src-head">Closest passages <small>(none of them answers the question)</small></div>'
                + asked + "".join(cards))
    by_n: dict[int, list[Citation]] = {}
    for c in answer.citations:
        by_n.setdefault(c.n, []).append(c)
    cards = []
    for n in sorted(by_n):
        cites = by_n[n]
        hit = cited_hit(answer, n)
        if hit is None:     # cannot happen with a checked Answer; show the quote rather than nothing
            c = cites[0]
            body = (f'{_meta(f"[{n}]", c.title, c.doc_id, c.date, docs)}'
                    f'<div class="src-text"><mark>{escape(_flat(c.quote))}</mark></div>')
        else:
            body = (_meta(f"[{n}]", hit.title, hit.chunk.doc_id, hit.date, docs) + _cited_passages(hit, cites, docs)
                    + _also_in(hit, docs))
        cards.append(f'<div class="src-card" id="src-{turn}-{n}">{body}</div>')
    head = ('<div class="src-head">Closest passages <small>(none of them answers the question)</small></div>'
            if answer.refused else '<div class="src-head">Sources</div>')
    return head + asked + "".join(cards)


def _refusal_note(note: str) -> str:
    """The refusal's reason without the retrieval jargon (similarity scores, thresholds)."""
    note = re.sub(r"\s*\((?:best )?similarity[^)]*\)", "", note)
    return note.replace("no passage is close to the question", "no passage is about this question")


def _text_html(text: str) -> str:
    return escape(text, quote=False).replace("\n", "<br>")


def answer_html(answer: Answer, turn: int = 0, docs: dict[str, DocInfo] | None = None) -> str:
    """The assistant's chat message for a final Answer: one HTML block. Each [n] links to card src-<turn>-<n>; the
    short answer is bold; a hidden .plain copy is what the copy button copies."""
    out = []
    if answer.standalone_question and answer.standalone_question != answer.question:
        out.append(f'<div class="understood">Understood as: “{escape(answer.standalone_question)}”</div>')
    if answer.refused and not answer.citations:
        out.append(f"<p><b>{_text_html(answer.text)}</b> Nothing in the indexed documents answers this; the "
                   f"closest passages are listed under Sources.</p>")
    else:
        text, lead = answer.text, ""
        short = answer.short_answer
        if short and short.text and text.startswith(short.text):
            lead, text = f"<b>{_text_html(short.text)}</b>", text[len(short.text):]
        body = _text_html(text)
        for s in answer.unsupported:
            s_html = _text_html(s)
            body = body.replace(s_html, f'<span class="unsupported">⚠ {s_html} '
                                        f'<small>(no source supports this sentence)</small></span>', 1)

        def link(m: re.Match) -> str:
            ns = [x.strip() for x in m.group(1).split(",")]
            return "[" + ", ".join(f'<a class="cite" href="#src-{turn}-{n}" data-n="{n}">{n}</a>' for n in ns) + "]"
        out.append(f'<p>{_CITE.sub(link, lead + body)}</p>')
    if answer.note:
        note = _refusal_note(answer.note) if answer.refused else answer.note
        out.append(f'<div class="note">ℹ {escape(redact(note))}</div>')
    out.append(f'<div class="to-sources"><a class="cite-all" href="#src-{turn}-1">Sources ↓</a></div>')
    out.append(f'<div class="plain" hidden>{_text_html(plain_text(answer, docs))}</div>')
    return '<div class="answer">' + "".join(out) + "</div>"


def plain_text(answer: Answer, docs: dict[str, DocInfo] | None = None) -> str:
    """The answer as the copy button gives it: the text with its [n] markers, then the sources as a list."""
    if answer.refused and not answer.citations:
        return answer.text
    lines, seen = [answer.text, "", "Sources:"], set()
    for c in sorted(answer.citations, key=lambda c: c.n):
        if (c.n, c.doc_id) in seen:
            continue
        seen.add((c.n, c.doc_id))
        title = _title(c.title, c.doc_id, docs or {})
        label = " — ".join(x for x in (title if title != c.doc_id else "", c.doc_id, c.date or "") if x)
        lines.append(f"[{c.n}] {label}: “{_flat(c.quote)}”")
    return "\n".join(lines)


def streaming_html(text: str) -> str:
    return f'<div class="answer"><p>{_text_html(text)} ▌</p></div>'


def error_html(message: str) -> str:
    return f'<div class="answer"><p>⚠ {escape(redact(message))}</p></div>'
