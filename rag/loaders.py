"""Loading documents: a folder (recursively) of .txt, .md, .html and .pdf files, or a corpus.jsonl file.

A document's id is its path relative to the docs root (or the JSONL record id). Title: front-matter title,
else a first short line, else the file name. A date in front matter or a leading `date YYYY-MM-DD` line is
kept as metadata, and that header line is dropped from the text. Files that cannot be read are reported,
one warning line each, and skipped; the rest loads.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from .errors import RagError
from .types import Document, sha256

SUPPORTED = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".jsonl")
_DATE_LINE = re.compile(r"^\s*date:?\s+(\d{4}-\d{2}-\d{2})\b[ \t]*(.*)$", re.IGNORECASE)
_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)


@dataclass
class LoadResult:
    documents: list[Document] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)   # (file, reason)


class _Skip(Exception):
    """A file that cannot be loaded; the message is the reason shown to the user."""


def load(docs: Path) -> LoadResult:
    """Every readable document under `docs` (a folder, or a single .jsonl/.txt/... file)."""
    docs = Path(docs)
    if not docs.exists():
        raise RagError(f"docs folder {docs} does not exist; pass --docs PATH or set RAG_DOCS")
    result = LoadResult()
    if docs.is_file():
        root, files = docs.parent, [docs]
    else:
        root = docs
        files = sorted(p for p in docs.rglob("*") if p.is_file() and not _hidden(p.relative_to(docs)))
    for path in files:
        rel = path.relative_to(root).as_posix()
        if path.suffix.lower() not in SUPPORTED:
            result.skipped.append((rel, f"unsupported file type (supported: {' '.join(SUPPORTED)})"))
            continue
        try:
            if path.suffix.lower() == ".jsonl":
                docs_, bad = _load_jsonl(path, rel)
                result.documents.extend(docs_)
                result.skipped.extend(bad)
            else:
                result.documents.append(load_file(path, rel))
        except _Skip as e:
            result.skipped.append((rel, str(e)))
    return result


def _hidden(rel: Path) -> bool:
    return any(part.startswith(".") for part in rel.parts)


def load_file(path: Path, doc_id: str) -> Document:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise _Skip(f"cannot read file ({e.strerror or e})") from None
    if not raw.strip():
        raise _Skip("empty file")
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return _load_pdf(raw, path, doc_id)
    if b"\x00" in raw[:8192]:
        raise _Skip("binary file (contains NUL bytes)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise _Skip(f"not UTF-8 text (bad byte at offset {e.start}); re-save it as UTF-8") from None
    text = text.replace("\r\n", "\n")
    meta: dict = {}
    if suffix in (".md", ".markdown", ".txt"):
        meta, text = _front_matter(text)
    elif suffix in (".html", ".htm"):
        meta, text = _html_text(text)
    text, header = _date_header(text)
    meta = {**header, **{k: v for k, v in meta.items() if v}}
    if not text.strip():
        raise _Skip("no text after removing markup")
    return _document(doc_id, text, doc_id, sha256(raw), meta, path.name)


def _document(doc_id, text, source, digest, meta, fallback_title, page_starts=()) -> Document:
    title = str(meta.get("title") or "").strip() or _first_short_line(text) or fallback_title
    date = meta.get("date")
    return Document(id=doc_id, title=title, text=text, source=source, sha256=digest,
                    date=str(date)[:10] if date else None,
                    source_url=str(meta["source_url"]) if meta.get("source_url") else None,
                    page_starts=tuple(page_starts))


def _first_short_line(text: str) -> str | None:
    """A first line short enough to be a heading (and not a sentence of the body)."""
    first = text.strip().split("\n", 1)[0].strip().lstrip("#").strip()
    if first and len(first) <= 120 and len(first.split()) <= 16 and not first.endswith((".", ",", ";", ":")):
        return first
    return None


def _front_matter(text: str) -> tuple[dict, str]:
    m = _FRONT.match(text)
    if not m:
        return {}, text
    import yaml

    try:
        meta = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError as e:
        raise _Skip(f"malformed YAML front matter ({str(e).splitlines()[0]})") from None
    if not isinstance(meta, dict):
        raise _Skip("malformed YAML front matter (not a mapping)")
    return meta, text[m.end():]


def _date_header(text: str) -> tuple[str, dict]:
    """A leading `date YYYY-MM-DD [title]` line becomes metadata and leaves the text."""
    stripped = text.lstrip()
    first, _, rest = stripped.partition("\n")
    m = _DATE_LINE.match(first)
    if not m:
        return text, {}
    meta = {"date": m.group(1)}
    if m.group(2).strip():
        meta["title"] = m.group(2).strip()
    return rest.lstrip("\n"), meta


class _Visible(HTMLParser):
    _SKIP = {"script", "style", "head", "noscript", "template", "svg"}
    _BLOCK = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "article",
              "header", "footer", "blockquote", "pre", "table", "ul", "ol"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        if tag in self._SKIP:
            self._skip += 1
        if tag == "title":
            self._in_title = True
        if tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag):
        if tag in self._SKIP and self._skip:
            self._skip -= 1
        if tag == "title":
            self._in_title = False
        if tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        elif not self._skip:
            self.parts.append(data)


def _html_text(html: str) -> tuple[dict, str]:
    parser = _Visible()
    parser.feed(html)
    parser.close()
    text = re.sub(r"[ \t\r\f\v]+", " ", "".join(parser.parts))
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return {"title": parser.title.strip()}, text


def _load_pdf(raw: bytes, path: Path, doc_id: str) -> Document:
    import io
    import logging

    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(raw))
        pages = [(p.extract_text() or "").strip() for p in reader.pages]
        meta_title = (reader.metadata.title if reader.metadata else None) or ""
    except Exception as e:  # pypdf raises many types for broken files
        raise _Skip(f"broken PDF ({type(e).__name__}: {str(e)[:80]})") from None
    text, starts = "", []
    for page in pages:
        starts.append(len(text))
        text += page + "\n\n"
    if not text.strip():
        raise _Skip("PDF has no extractable text (scanned images?)")
    return _document(doc_id, text, doc_id, sha256(raw), {"title": meta_title}, path.name, starts)


def _load_jsonl(path: Path, rel: str) -> tuple[list[Document], list[tuple[str, str]]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise _Skip(f"cannot read JSONL ({e})") from None
    docs, bad, seen = [], [], set()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            doc_id, text = str(rec["id"]), rec["text"]
            if not isinstance(text, str) or not text.strip():
                raise ValueError("empty text")
        except (ValueError, KeyError, TypeError) as e:
            bad.append((f"{rel}:{n}", f"malformed record ({type(e).__name__}: {e}); need {{id, title, text}}"))
            continue
        if doc_id in seen:
            bad.append((f"{rel}:{n}", f"duplicate id {doc_id!r}"))
            continue
        seen.add(doc_id)
        meta = {k: rec.get(k) for k in ("title", "date", "source_url")}
        docs.append(_document(doc_id, text, rel, sha256(line), meta, doc_id))
    if not docs and lines:
        raise _Skip("no valid {id, title, text} records")
    return docs, bad
