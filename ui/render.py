"""Turning an Answer into what the chat app shows: the chat message (with [n] markers, ⚠ on unsupported sentences,
a plain refusal) and the sources panel (each cited passage with its quoted span in <mark>).

Everything taken from documents or the user is HTML-escaped before markup is added.

    >>> mark_spans("Marles went to Washington.", [(0, 6)])
    '<mark>Marles</mark> went to Washington.'
"""
from __future__ import annotations

import re
from html import escape

from rag.answer import cited_hit
from rag.types import Answer, Citation, DocInfo, Hit

CONTEXT = 260          # characters of passage shown either side of the quoted span(s)
SNIPPET = 320          # characters of a passage shown when nothing in it is quoted
_CITE = re.compile(r"\[(\d+)\]")
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


def _meta(n: str, title: str, doc_id: str, date: str | None) -> str:
    """The card's head: marker, title (when the document has one besides its file name), file, date."""
    bits = [f'<span class="src-file">{escape(doc_id)}</span>']
    if date:
        bits.append(f'<span class="src-date">{escape(date)}</span>')
    head = f'<div class="src-title">{escape(title)}</div>' if title and title != doc_id else ""
    return (f'<div class="src-top"><span class="src-n">{n}</span><div>{head}'
            f'<div class="src-meta">{" · ".join(bits)}</div></div></div>')


def _also_in(hit: Hit, docs: dict[str, DocInfo]) -> str:
    others = [c.doc_id for c in hit.duplicates if c.doc_id != hit.chunk.doc_id]
    if not others:
        return ""
    items = "".join(f'<li>{escape(docs[d].title if d in docs and docs[d].title != d else "")} '
                    f'<span class="src-file">{escape(d)}</span></li>' for d in dict.fromkeys(others))
    return f'<div class="src-also">Also reported in (near-identical passage):<ul>{items}</ul></div>'


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
    return "".join(parts)


def sources_html(answer: Answer, docs: dict[str, DocInfo]) -> str:
    """The sources panel: every cited [n] (or, for a refusal, the closest passages)."""
    if answer.refused:
        if not answer.hits:
            return '<div class="src-empty"><b>Sources</b><br>No passage in the documents matched.</div>'
        cards = [f'<div class="src-card src-near">{_meta(str(h.rank), h.title, h.chunk.doc_id, h.date)}'
                 f'<div class="src-text">{passage_html(h.chunk.text, [])}</div>{_also_in(h, docs)}</div>'
                 for h in answer.hits]
        return ('<div class="src-head">Closest passages <small>(none of them answers the question)</small></div>'
                + "".join(cards))
    by_n: dict[int, list[Citation]] = {}
    for c in answer.citations:
        by_n.setdefault(c.n, []).append(c)
    cards = []
    for n in sorted(by_n):
        cites = by_n[n]
        hit = cited_hit(answer, n)
        if hit is None:     # cannot happen with a checked Answer; show the quote rather than nothing
            c = cites[0]
            body = f'{_meta(f"[{n}]", c.title, c.doc_id, c.date)}<div class="src-text"><mark>{escape(_flat(c.quote))}</mark></div>'
        else:
            body = _meta(f"[{n}]", hit.title, hit.chunk.doc_id, hit.date) + _cited_passages(hit, cites, docs) + _also_in(hit, docs)
        cards.append(f'<div class="src-card" id="source-{n}">{body}</div>')
    return '<div class="src-head">Sources</div>' + "".join(cards)


def answer_markdown(answer: Answer) -> str:
    """The assistant's chat message for a final Answer."""
    lines = []
    if answer.standalone_question and answer.standalone_question != answer.question:
        lines.append(f'<div class="understood">Understood as: “{escape(answer.standalone_question)}”</div>\n')
    if answer.refused:
        lines.append("**The documents don't say.** I found nothing in the indexed documents that answers this; "
                     "the closest passages are listed under Sources.")
    else:
        text = escape(answer.text, quote=False)
        for s in answer.unsupported:
            s_html = escape(s, quote=False)
            text = text.replace(s_html, f'<span class="unsupported">⚠ {s_html} '
                                        f'<small>(no source supports this sentence)</small></span>', 1)
        lines.append(_CITE.sub(lambda m: f'<span class="cite">[{m.group(1)}]</span>', text))
    if answer.note:
        lines.append(f'\n<div class="note">ℹ {escape(answer.note)}</div>')
    return "\n".join(lines)


def streaming_markdown(text: str) -> str:
    return escape(text, quote=False) + " ▌"


# ---- Documents tab --------------------------------------------------------------------------------------
def doc_rows(holder) -> list[list]:
    return [[d["title"], d["file"], d["date"], d["chunks"]] for d in holder.documents()]


def docs_status(holder) -> str:
    rows = holder.documents()
    line = f"**{len(rows)} documents indexed** ({sum(r['chunks'] for r in rows)} passages) from `{holder.settings.docs}`."
    waiting = holder.pending()
    if waiting:
        line += (f"\n\n**Not indexed yet:** {', '.join(f'`{w}`' for w in waiting)} — press **Rebuild index** "
                 f"to add {'it' if len(waiting) == 1 else 'them'}.")
    if holder.skipped:
        line += "\n\n⚠ **Skipped at the last rebuild:** " + "; ".join(f"`{s}`" for s in holder.skipped)
    return line


def summary_markdown(summary: dict) -> str:
    parts = [f"✓ **Index rebuilt**: {summary['documents']} documents — {summary['added']} added, "
             f"{summary['changed']} changed, {summary['removed']} removed, {summary['unchanged']} unchanged, "
             f"{summary['skipped']} skipped; {summary['chunks_embedded']} passages embedded "
             f"({summary['seconds']} s)."]
    if summary.get("full_rebuild"):
        parts.append(f"Full rebuild: {summary['full_rebuild']}")
    if summary.get("skipped_files"):
        parts.append("⚠ Skipped (the rest was indexed):\n" + "\n".join(f"- `{s}`" for s in summary["skipped_files"]))
    return "\n\n".join(parts)
