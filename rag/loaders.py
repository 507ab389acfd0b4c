"""Loading documents: a folder (recursively) of .txt, .md, .html, .pdf and .docx files, or a corpus.jsonl file.

A document's id is its path relative to the docs root (or the JSONL record id); ids are unique across every
source: a file's path always keeps its id, and a record whose id is already taken is skipped with a warning
naming both. Title: front-matter title, else a first short line, else the file name. A date in front matter or
a leading `date YYYY-MM-DD` line is kept as metadata, and that header line is dropped from the text; without one,
a date the first lines give the document (a dateline, "Last updated: …"; `dates.opening_date`) is its date. Markdown
becomes plain text here (headings, emphasis, code and link markup removed), so a quote never shows markup.

Nothing outside the docs folder is read: a symlink that leads out of it is skipped (unless `follow_links`), as
are symlink loops, FIFOs and devices, unreadable folders and documents over `max_file_mb`; each is one warning
line, and the rest loads. `iter_load` yields documents one at a time, so a corpus is never held whole.
"""
from __future__ import annotations

import errno
import json
import os
import re
import stat
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Iterator

from .dates import opening_date
from .errors import RagError
from .types import Document, sha256

SUPPORTED = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx", ".jsonl")
_DATE_LINE = re.compile(r"^\s*date:?\s+(\d{4}-\d{2}-\d{2})\b[ \t]*(.*)$", re.IGNORECASE)
_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
MB = 1024 * 1024


@dataclass
class LoadResult:
    documents: list[Document] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)   # (file, reason)


class _Skip(Exception):
    """A file that cannot be loaded; the message is the reason shown to the user."""


def load(docs: Path, max_file_mb: int = 20, follow_links: bool = False) -> LoadResult:
    """Every readable document under `docs` (a folder, or a single .jsonl/.txt/... file)."""
    result = LoadResult()
    for item in iter_load(docs, max_file_mb, follow_links):
        if isinstance(item, Document):
            result.documents.append(item)
        else:
            result.skipped.append(item)
    return result


@dataclass(frozen=True)
class Unchanged:
    """A document the index already holds as it is (same id, same sha256): not parsed again."""
    id: str
    sha256: str
    source: str


def iter_load(docs: Path, max_file_mb: int = 20, follow_links: bool = False,
              known: dict[str, str] | None = None) -> Iterator[Document | Unchanged | tuple[str, str]]:
    """Each document under `docs`, one at a time, and a (name, reason) pair for each file skipped.
    A missing `docs` is a RagError now, not at the first document. `known` (doc id -> sha256 of what an index
    holds; it may be filled after this call, before the first document is read) turns documents whose source bytes
    are unchanged into `Unchanged` records without parsing them: a PDF is not read again, a corpus.jsonl record not
    decoded."""
    docs = Path(docs)
    if not docs.exists():
        raise RagError(f"docs folder {docs} does not exist; pass --docs PATH or set RAG_DOCS")
    if not docs.is_dir() and not docs.is_file():
        raise RagError(f"docs path {docs} is neither a folder nor a file; pass --docs PATH or set RAG_DOCS")
    return _iter_load(docs, max_file_mb, follow_links, {} if known is None else known)


def load_named(docs: Path, names: list[str], max_file_mb: int = 20) -> Iterator[Document | tuple[str, str]]:
    """The documents of these files of the folder `docs` (ids: their paths relative to it, as `iter_load` makes
    them), and a (name, reason) pair for each that cannot be read: for indexing a few uploaded files."""
    root = Path(docs).resolve()
    limit = max_file_mb * MB
    for name in names:
        path = (root / name).resolve()
        if root not in path.parents or not path.is_file() or Path(name).suffix.lower() not in SUPPORTED[:-1]:
            yield name, "not a supported file in the documents folder"
            continue
        try:
            if path.stat().st_size > limit:
                raise _Skip(_too_big(path.stat().st_size, max_file_mb))
            yield load_file(path, Path(name).as_posix(), limit)
        except _Skip as e:
            yield name, str(e)
        except RecursionError:
            yield name, "too deeply nested to read"


def _iter_load(docs: Path, max_file_mb: int, follow_links: bool,
               known: dict[str, str]) -> Iterator[Document | Unchanged | tuple[str, str]]:
    limit = max_file_mb * MB
    if docs.is_dir():
        files: list[tuple[Path, str, int]] = []
        for item in _walk(docs, follow_links):
            if isinstance(item[0], Path):
                files.append(item)
            else:
                yield item
    else:
        files = [(docs.resolve(), docs.name, docs.stat().st_size)]
    # files keep their path as id whatever a corpus.jsonl says, so a record can never take over a file's id
    files.sort(key=lambda f: (f[1].lower().endswith(".jsonl"), Path(f[1])))
    owner = {rel: rel for _, rel, _ in files if Path(rel).suffix.lower() in SUPPORTED[:-1]}
    for real, rel, size in files:
        suffix = Path(rel).suffix.lower()
        if suffix not in SUPPORTED:
            yield rel, f"unsupported file type (supported: {' '.join(SUPPORTED)})"
            continue
        try:
            if suffix == ".jsonl":
                yield from _load_jsonl(real, rel, limit, owner, known)
            else:
                if size > limit:
                    raise _Skip(_too_big(size, max_file_mb))
                yield load_file(real, rel, limit, known)
        except _Skip as e:
            yield rel, str(e)
        except RecursionError:
            yield rel, "too deeply nested to read"


def _too_big(size: int, max_mb: int) -> str:
    return f"{size / MB:.1f} MB, over the {max_mb} MB limit per document (RAG_MAX_FILE_MB)"


def _walk(root: Path, follow_links: bool) -> Iterator[tuple]:
    """(real path, id, size) of each regular file under `root`, and (name, reason) of each entry skipped.
    Hidden entries (a name starting with '.') are left out silently, as before."""
    top = root.resolve()
    stack = [(root, top, (top,))]   # folder as named, its real path, the real paths above it (loop check)
    while stack:
        folder, real, chain = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as e:
            yield (folder.relative_to(root).as_posix() or "."), f"cannot read folder ({e.strerror or e})"
            continue
        subdirs = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            rel = path.relative_to(root).as_posix()
            link = entry.is_symlink()
            try:
                target = path.resolve(strict=True) if link else real / entry.name
            except RuntimeError:                     # Python 3.11 reports a symlink loop so
                yield rel, "symlink loop"
                continue
            except OSError as e:
                yield rel, "symlink loop" if e.errno == errno.ELOOP else f"broken symlink ({e.strerror or e})"
                continue
            if link and not follow_links and not target.is_relative_to(top):
                yield rel, f"symlink to {target}, outside the documents folder (--follow-links allows it)"
                continue
            try:
                st = os.stat(target)
            except OSError as e:
                yield rel, f"cannot read ({e.strerror or e})"
                continue
            if stat.S_ISDIR(st.st_mode):
                if target in chain:
                    yield rel, f"symlink loop (leads back to {target})"
                else:
                    subdirs.append((path, target, chain + (target,)))
            elif stat.S_ISREG(st.st_mode):
                yield target, rel, st.st_size
            else:
                kind = "FIFO" if stat.S_ISFIFO(st.st_mode) else "socket" if stat.S_ISSOCK(st.st_mode) else "device"
                yield rel, f"not a regular file ({kind})"
        stack.extend(reversed(subdirs))


def _read(path: Path, limit: int) -> bytes:
    """The bytes of the regular file at `path` (already resolved: a symlink swapped in since is refused)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise _Skip("became a symlink while the folder was read") from None
        raise _Skip(f"cannot read file ({e.strerror or e})") from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise _Skip("not a regular file")
        if st.st_size > limit:
            raise _Skip(_too_big(st.st_size, limit // MB))
        try:
            return f.read(limit + 1)
        except OSError as e:
            raise _Skip(f"cannot read file ({e.strerror or e})") from None


def load_file(path: Path, doc_id: str, limit: int = 20 * MB,
              known: dict[str, str] | None = None) -> Document | Unchanged:
    raw = _read(path, limit)
    if len(raw) > limit:
        raise _Skip(_too_big(len(raw), limit // MB))
    if not raw.strip():
        raise _Skip("empty file")
    if known and known.get(doc_id) == (digest := sha256(raw)):
        return Unchanged(doc_id, digest, doc_id)
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return _load_pdf(raw, path, doc_id)
    if suffix == ".docx":
        return _load_docx(raw, doc_id, limit)
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
        meta = meta or _email_subject(text)
    if suffix in (".md", ".markdown"):
        text = markdown_text(text)
    elif suffix in (".html", ".htm"):
        meta, text = _html_text(text)
    text, header = _date_header(text)
    meta = {**header, **{k: v for k, v in meta.items() if v}}
    if not text.strip():
        raise _Skip("no text after removing markup")
    return _document(doc_id, text, doc_id, sha256(raw), meta, Path(doc_id).name)


def _document(doc_id, text, source, digest, meta, fallback_title, page_starts=(), sniff_date=True) -> Document:
    title = str(meta.get("title") or "").strip() or _first_short_line(text) or fallback_title
    # a file without a date of record: the one its first lines give it ("SHEFFIELD, 14 May 2025 — …")
    date = meta.get("date") or (opening_date(text) if sniff_date else None)
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


_HEADER = re.compile(r"^(?:from|to|cc|bcc|sent|date|subject|reply-to):[ \t]", re.IGNORECASE)


def _email_subject(text: str) -> dict:
    """An e-mail saved as text ("From: …", "Subject: …" lines before a blank line): its subject is its title.

    >>> _email_subject("From: Aisha <a@x.example>\\nSubject: Re: Server move weekend\\n\\nHi all,")
    {'title': 'Re: Server move weekend'}
    """
    block = text.lstrip().split("\n\n", 1)[0].splitlines()
    if not block or not _HEADER.match(block[0]) or not all(_HEADER.match(ln) or ln[:1].isspace() for ln in block):
        return {}
    subject = next((ln.split(":", 1)[1].strip() for ln in block if ln.lower().startswith("subject:")), "")
    return {"title": subject} if subject else {}


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
    # nav and footer: a site's menu and its small print ("© 2025 …, Privacy | Terms"), not the page's text
    _SKIP = {"script", "style", "head", "noscript", "template", "svg", "nav", "footer"}
    _BLOCK = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "article",
              "header", "footer", "blockquote", "pre", "table", "ul", "ol"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self._skip = 0
        self._in_title = False
        self._cells = 0         # cells of the table row so far: a row reads "a | b | c", one line

    def handle_starttag(self, tag, attrs):
        if tag in self._SKIP:
            self._skip += 1
        if tag == "title":
            self._in_title = True
        if tag in ("td", "th"):
            if self._cells:
                self.parts.append(" | ")
            self._cells += 1
        if tag in self._BLOCK:
            self._cells = 0
            self.parts.append("\n\n")
        if tag == "li":         # a list item keeps its marker, as in Markdown: an item is no heading of the next
            self.parts.append("- ")

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
        pages = [(p.extract_text() or "").translate(_LIGATURES).strip() for p in reader.pages]
        meta_title = (reader.metadata.title if reader.metadata else None) or ""
    except Exception as e:  # pypdf raises many types for broken files
        raise _Skip(f"broken PDF ({type(e).__name__}: {str(e)[:80]})") from None
    furniture = _running_lines(pages)
    text, starts = "", []
    for page in pages:
        starts.append(len(text))
        text += pdf_paragraphs(page, furniture) + "\n\n"
    if not text.strip():
        raise _Skip("PDF has no extractable text (scanned images?)")
    title = "" if _FILE_TITLE.match(str(meta_title).strip()) else meta_title
    return _document(doc_id, text, doc_id, sha256(raw), {"title": title}, Path(doc_id).name, starts)


def _load_docx(raw: bytes, doc_id: str, limit: int) -> Document:
    """A Word file's text in reading order: each paragraph its own (headings too, so they stay headings), each table
    row one line, cells between " | " (a merged cell once). Its title is the file's Title property unless that is only
    a file name, else its first heading. A file that would unpack to more than DOCX_UNPACKED times `limit` is refused
    unread (a zip bomb)."""
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            unpacked = sum(i.file_size for i in z.infolist())
            if unpacked > DOCX_UNPACKED * limit:
                raise _Skip(f"Word file unpacks to {unpacked // MB} MB, over {DOCX_UNPACKED * limit // MB} MB")
        from docx import Document as read_docx

        word = read_docx(io.BytesIO(raw))
        blocks = []
        for block in word.iter_inner_content():
            if hasattr(block, "rows"):          # a table
                for row in block.rows:
                    cells = [c.text.strip() for c in row.cells]
                    cells = [c for i, c in enumerate(cells) if c and (i == 0 or c != cells[i - 1])]
                    if cells:
                        blocks.append(" | ".join(" ".join(c.split()) for c in cells))
            elif block.text.strip():        # a list paragraph keeps a marker, as in Markdown (no heading)
                listed = block.style is not None and block.style.name.lower().startswith("list") \
                    or block._p.pPr is not None and block._p.pPr.numPr is not None
                blocks.append(("- " if listed else "") + block.text.strip())
        title = (word.core_properties.title or "").strip()
    except _Skip:
        raise
    except Exception as e:  # python-docx and zipfile raise many types for a broken file
        raise _Skip(f"broken Word file ({type(e).__name__}: {str(e)[:80]})") from None
    text = "\n\n".join(blocks)
    if not text.strip():
        raise _Skip("Word file has no text")
    return _document(doc_id, text, doc_id, sha256(raw), {"title": "" if _FILE_TITLE.match(title) else title},
                     Path(doc_id).name)


DOCX_UNPACKED = 10      # a .docx may unpack to this many times the file size limit (a Word file is a zip)
# Typographic ligatures a PDF's text comes out with ("ﬁnancial"), spelt out so the words match; soft hyphens dropped.
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st",
                            "\u00ad": ""})
# A PDF's metadata title that is only the name of the file it was made from ("Microsoft Word - report.docx",
# "page.html", "Untitled"): not a title; the first heading of the text is used instead.
_FILE_TITLE = re.compile(r"^(?:(?:microsoft\s+\w+\s+-\s+)?[^\n]*\.(?:docx?|html?|pdf|txt|rtf|odt|pptx?|xlsx?|tex|dvi|"
                         r"ps|indd|pages|key|md)|untitled(?:\s+document)?|)$", re.IGNORECASE)
# Page furniture that is never text: a page number ("3", "- 3 -", "Page 3 of 10", "3/10"), and the header and
# footer a browser prints on each page ("11/30/26, 9:39 PM  Title", "file:///home/me/page.html 1/2").
_PAGE_NUMBER = re.compile(r"^\s*(?:[-–—]\s*)?(?:page\s+)?\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?(?:\s*[-–—])?\s*$",
                          re.IGNORECASE)
_PRINTED = re.compile(r"^\s*(?:\d{1,2}/\d{1,2}/\d{2,4},?\s+\d{1,2}:\d{2}(?:\s*[AP]M)?\b.*"
                      r"|(?:file|https?)://\S+\s+\d{1,4}/\d{1,4})\s*$", re.IGNORECASE)
# A sentence's last characters: a line ending so is not a wrapped line of a longer sentence.
_ENDS = (".", "!", "?", ":", ";", "\"", "”", "’", ")")


def _running_lines(pages: list[str]) -> set[str]:
    """Lines that stand at the top or bottom of most pages and nowhere else (digits ignored: "Page 2" = "Page 7"): a
    running header or footer. A line that also stands inside a page ("Entry 12: …" in a log) is text. Needs at least
    two pages."""
    if len(pages) < 2:
        return set()
    edge: dict[str, int] = {}
    inner: set[str] = set()
    for page in pages:
        lines = [re.sub(r"\d+", "#", ln.strip()) for ln in page.split("\n") if ln.strip()]
        ends = lines[:2] + lines[-2:]
        for key in set(ends):
            edge[key] = edge.get(key, 0) + 1
        inner.update(lines[2:-2])
    return {k for k, n in edge.items() if n >= max(2, 0.6 * len(pages)) and k not in inner}


def pdf_paragraphs(page: str, furniture: set[str] = frozenset()) -> str:
    """One PDF page's extracted text with its page furniture dropped and its paragraphs told apart: pypdf gives one
    line per printed line, so a line that ends a sentence well short of the page's width, or a short line with no
    closing punctuation (a heading, a table row), ends its paragraph (a blank line follows); the other lines are
    wrapped lines of one paragraph and stay together.

    >>> pdf_paragraphs("Field trial\\nThe plots used 31 percent less water than plots on a\\nfixed timer.\\n2")
    'Field trial\\n\\nThe plots used 31 percent less water than plots on a\\nfixed timer.'
    """
    lines = [ln.rstrip() for ln in page.split("\n") if ln.strip()]
    last = len(lines) - 1
    lines = [ln for i, ln in enumerate(lines) if not (min(i, last - i) < 2 and (
        _PAGE_NUMBER.match(ln) or _PRINTED.match(ln) or re.sub(r"\d+", "#", ln.strip()) in furniture))]
    if not lines:
        return ""
    width = max(len(ln) for ln in lines)
    # a heading: a short line with no closing punctuation over a capitalised line (or last)
    heading = [len(ln) < 0.6 * width and not ln.endswith((*_ENDS, ",", "-", "–"))
               and (i + 1 == len(lines) or lines[i + 1].lstrip()[:1].isupper()) for i, ln in enumerate(lines)]
    out = []
    for i, line in enumerate(lines):
        out.append(line)
        if i + 1 < len(lines):
            ends = line.endswith(_ENDS) and len(line) < 0.8 * width
            out.append("\n\n" if ends or heading[i] or heading[i + 1] else "\n")
    return "".join(out)


def _load_jsonl(path: Path, rel: str, limit: int, owner: dict[str, str],
                known: dict[str, str]) -> Iterator[Document | Unchanged | tuple[str, str]]:
    """The records of a corpus.jsonl, read line by line; `owner` maps each id taken so far to its source. A record
    whose line hashes to what `known` holds for an id is that id's unchanged record (its line contains the id)."""
    by_sha = None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
        f = os.fdopen(fd, "rb")
    except OSError as e:
        raise _Skip(f"cannot read JSONL ({e.strerror or e})") from None
    loaded = lines = 0      # well-formed records; lines read
    with f:
        for n in range(1, 1 << 62):
            raw = f.readline(limit + 1)
            if not raw:
                break
            where = f"{rel}:{n}"
            if len(raw) > limit and not raw.endswith(b"\n"):
                while raw and not raw.endswith(b"\n"):      # skip the rest of the record unread
                    raw = f.readline(MB)
                yield where, f"record over the {limit // MB} MB limit per document (RAG_MAX_FILE_MB)"
                continue
            lines += 1
            if not raw.strip():
                continue
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
                if known:
                    if by_sha is None:
                        by_sha = {v: k for k, v in known.items()}
                    digest = sha256(line)
                    if digest in by_sha:
                        loaded += 1
                        doc_id = by_sha[digest]
                        if doc_id in owner:
                            yield where, f"id {doc_id!r} is already used by {owner[doc_id]}; this record is left out"
                            continue
                        owner[doc_id] = where
                        yield Unchanged(doc_id, digest, rel)
                        continue
                rec = json.loads(line)
                doc_id, text = str(rec["id"]), rec["text"]
                if not isinstance(text, str) or not text.strip():
                    raise ValueError("empty text")
            except (ValueError, KeyError, TypeError) as e:
                yield where, f"malformed record ({type(e).__name__}: {str(e)[:120]}); need {{id, title, text}}"
                continue
            loaded += 1
            if doc_id in owner:
                yield where, f"id {doc_id!r} is already used by {owner[doc_id]}; this record is left out"
                continue
            owner[doc_id] = where
            meta = {k: rec.get(k) for k in ("title", "date", "source_url")}
            yield _document(doc_id, text, rel, sha256(line), meta, doc_id, sniff_date=False)
    if not loaded and lines:
        raise _Skip("no valid {id, title, text} records")


# ---- Markdown → plain text --------------------------------------------------------------------------------------
_MD_RULES = [
    (re.compile(r"^[ \t]*(?:```|~~~).*$", re.M), ""),                         # code fences (the code stays)
    (re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$", re.M), r"\1"),  # ATX headings: the text
    (re.compile(r"^[ \t]{0,3}(?:=+|-{3,}|\*{3,}|_{3,})[ \t]*$", re.M), ""),       # setext underlines, rules
    (re.compile(r"^[ \t]{0,3}\[[^\]\n]+\]:[ \t]+\S+.*$", re.M), ""),              # link reference definitions
    (re.compile(r"^[ \t]*\|?(?:[ \t]*:?-{3,}:?[ \t]*\|)+(?:[ \t]*:?-{3,}:?)?[ \t]*\n?", re.M), ""),  # table rule row
    (re.compile(r"^[ \t]*\|[ \t]*(.*?)[ \t]*\|?[ \t]*$", re.M), r"\1"),         # | a | b | -> a | b
    (re.compile(r"!\[[^\]\n]*\](?:\([^)\n]*\)|\[[^\]\n]*\])"), ""),                # images
    (re.compile(r"\[([^\]\n]+)\](?:\([^)\n]*\)|\[[^\]\n]*\])"), r"\1"),            # [text](url), [text][ref]
    (re.compile(r"<(https?://[^>\s]+)>"), r"\1"),                                 # autolinks
    (re.compile(r"(`+)(.+?)\1", re.S), r"\2"),                                    # `code`
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1", re.S), r"\2"),                   # **bold**, __bold__
    (re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])", re.S), r"\1"),  # *em*
    (re.compile(r"(?<![\w_])_(?=[^\s_])(.+?)(?<=[^\s_])_(?![\w_])", re.S), r"\1"),     # _em_ (not snake_case)
]
_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+\-.!>|])")   # \* is a literal star: hidden from the rules above


def markdown_text(md: str) -> str:
    """Markdown as the plain text a reader sees: a heading's text on its own line, emphasis and code markers
    dropped, links reduced to their text, images dropped. List bullets and quotes stay (sentence splitting
    treats them as line markup), and so do table rows, each on its line (each is a sentence).

    >>> markdown_text("# Summit *news*\\n\\nSee [the **readout**](https://x.y/r) and `code`. ![chart](c.png)")
    'Summit news\\n\\nSee the readout and code.'

    A table keeps one line per row, its cells between " | ", without its outer pipes and rule row:

    >>> markdown_text("| Type | Length |\\n|------|:------:|\\n| Paternity leave | 4 weeks |")
    'Type | Length\\nPaternity leave | 4 weeks'
    """
    md = _ESCAPED.sub(lambda m: chr(0xE000 + ord(m.group(1))), md)     # private-use stand-ins, restored below
    for pattern, repl in _MD_RULES:
        md = pattern.sub(repl, md)
    md = re.sub("[\ue000-\ue07f]", lambda m: chr(ord(m.group()) - 0xE000), md)
    md = re.sub(r"[ \t]+$", "", md, flags=re.M)
    return re.sub(r"\n{3,}", "\n\n", md).strip()
