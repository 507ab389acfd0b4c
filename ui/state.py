"""What the chat app holds between requests: the live retriever (swapped after a rebuild), the docs folder that
uploads land in, and each request's own settings (never a global change).

The index is loaded once; a rebuild writes a new build on disk, loads it, then swaps one reference, so questions
asked meanwhile are answered from the old index. Upload names are reduced to one safe file name inside the docs
folder, or refused:

    >>> safe_name("../../evil.md"), safe_name("C:\\\\tmp\\\\Notes 2024 (v2).md"), safe_name(".bashrc.txt")
    ('evil.md', 'Notes_2024_v2.md', 'bashrc.txt')
"""
from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shutil
import threading
import time
import unicodedata
from dataclasses import replace
from pathlib import Path

from rag.config import ANSWERERS, Settings
from rag.llm import redact
from rag.errors import RagError
from rag.followup import turns
from rag.indexer import build_index
from rag.loaders import SUPPORTED, load_file, load_named
from rag.retrieve import RETRIEVAL_MODES, Retriever, open_retriever
from rag.storage import index_exists

log = logging.getLogger(__name__)
_UNSAFE = re.compile(r"[^\w.\-]+")
RELOAD_CHECK = 2.0    # seconds between checks for a state committed elsewhere (another replica, `rag index`)
MAX_NAME = 120


class RetrieverHolder:
    """The retriever in use, behind a lock; `rebuild` builds the new index first and only then swaps it in."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()           # guards the reference swap
        self._rebuilding = threading.Lock()     # one rebuild at a time
        if not index_exists(settings):
            build_index(settings, progress=True)     # first run (e.g. on the seeds): nothing to load yet
        try:
            base = self._open(settings)
        except RagError:
            # an index from another model/format: rebuild it once rather than refuse to start
            build_index(settings, progress=True)
            base = self._open(settings)
        base.embedder.encode(["warm up"])       # load the model now, not during the first question
        self._by_mode = {settings.mode: base.warm()}
        self._checked = time.monotonic()
        self._loading: threading.Thread | None = None   # loads a state committed elsewhere, off the request path
        self.skipped: list[str] = []            # "file: reason" lines of the last rebuild

    @staticmethod
    def _open(settings: Settings, embedder=None) -> Retriever:
        return open_retriever(settings, embedder)

    def get(self, mode: str | None = None) -> Retriever:
        """The live retriever; for another retrieval mode, a view over the same loaded index. When another process
        (a `rag index`, another replica) has committed a newer state, it is loaded first (checked at most every
        RELOAD_CHECK seconds)."""
        mode = mode or self.settings.mode
        if mode not in RETRIEVAL_MODES:
            raise RagError(f"unknown retrieval mode {mode!r}; use one of {', '.join(RETRIEVAL_MODES)}")
        self._follow()
        with self._lock:
            found = self._by_mode.get(mode)
            if found is None:
                base = next(iter(self._by_mode.values()))
                found = Retriever(base.store, base.embedder, replace(self.settings, mode=mode))
                self._by_mode[mode] = found
            return found

    def _follow(self) -> None:
        """When another process (`rag index`, another replica) has committed a newer state, start loading it in the
        background; questions are answered from the loaded state until the new one is ready (catalog and lookup
        tables included, `Retriever.warm`), then one reference is swapped."""
        now = time.monotonic()
        if now - self._checked < RELOAD_CHECK or self.busy or self._loading is not None:
            return
        self._checked = now
        base = next(iter(self._by_mode.values()))
        try:
            if base.store.latest() in ("", base.store.state()):
                return
        except (RagError, OSError):
            return      # keep serving what is loaded; the next check tries again
        self._loading = threading.Thread(target=self._load_newer, args=(base,), name="rag-reload", daemon=True)
        self._loading.start()

    def _load_newer(self, base: Retriever) -> None:
        try:
            fresh = self._open(self.settings, base.embedder).warm()
        except Exception as e:      # a background thread: keep serving what is loaded; the next check tries again
            fresh = None
            if not isinstance(e, (RagError, OSError)):
                log.warning("loading the newer index state failed (%s); still serving the loaded one",
                            redact(f"{type(e).__name__}: {e}"))
        with self._lock:
            # a rebuild in this process may have swapped in its own state meanwhile: that one stays
            if fresh is not None and next(iter(self._by_mode.values())) is base:
                self._by_mode = {self.settings.mode: fresh}
            self._loading = None

    @property
    def store(self):
        return self.get().store

    @property
    def busy(self) -> bool:
        return self._rebuilding.locked()

    def rebuild(self) -> dict:
        """Make the index hold exactly the docs folder's documents, load it, swap it in; returns the summary."""
        return self._update()

    def _update(self, **how) -> dict:
        with self._rebuilding:
            summary = build_index(self.settings, progress=True, **how)
            fresh = self._open(self.settings, self.get().embedder).warm()    # ready before it is swapped in
            with self._lock:
                self._by_mode = {self.settings.mode: fresh}
                self.skipped = list(summary.get("skipped_files", []))
            return summary

    @property
    def shared(self) -> bool:
        """Is the index shared with other replicas (Milvus)? Then uploads are added to it and deletions taken out
        of it, leaving what other replicas added; a rebuild still makes it equal to this replica's docs folder."""
        return self.settings.store == "milvus"

    def add(self, names: list[str], backups: list[Path] = ()) -> dict:
        """Index the uploaded files `names` (paths in the docs folder): a rebuild of the docs folder, or, for a shared
        index, an update that adds just these. The replaced files' old versions go once it succeeds and come back if
        it fails."""
        try:
            if self.shared:
                summary = self._update(docs_override=load_named(self.settings.docs, names, self.settings.max_file_mb),
                                       keep_others=True)
            else:
                summary = self.rebuild()
        except BaseException:
            for b in backups:
                os.replace(b, b.with_name(b.name.split("-", 2)[2]))
            raise
        for b in backups:
            b.unlink(missing_ok=True)
        return summary

    def delete(self, doc_id: str) -> dict:
        """Delete an indexed document: its file (only ever inside the docs folder), then rebuild; from a shared index,
        the document itself (and its file here, if this replica has it)."""
        root = Path(self.settings.docs).resolve()
        if doc_id not in self.store.catalog():
            raise RagError(f"{doc_id!r} is not an indexed document")
        path = (root / doc_id).resolve()
        on_disk = root.is_dir() and root in path.parents and path.is_file()
        if self.shared:
            summary = self._update(docs_override=[], keep_others=True, remove=[doc_id])
            if on_disk:
                path.unlink()
            return summary
        if not on_disk:
            raise RagError(f"{doc_id!r} is not a file in the docs folder (a corpus.jsonl record is removed by "
                           f"editing that file)")
        path.unlink()
        return self.rebuild()

    def documents(self) -> list[dict]:
        docs = self.store.catalog()
        return [{"title": display_title(d.title, d.id, d.lead), "file": d.id, "date": d.date or "",
                 "chunks": d.n_chunks, "title_given": display_title(d.title, d.id, "") == d.title}
                for d in sorted(docs.values(), key=lambda d: d.id)]

    def documents_of(self, answer) -> dict:
        """The documents (with text) an answer's passages come from, for its source cards."""
        return self.store.documents({d for h in answer.hits for d in h.doc_ids})

    def pending(self) -> list[str]:
        """Supported files in the docs folder that the live index does not hold yet (uploaded, not rebuilt)."""
        root = Path(self.settings.docs)
        if not root.is_dir():
            return []
        indexed = set(self.store.catalog()) | {line.split(": ", 1)[0] for line in self.skipped}
        found = []
        for p in sorted(root.rglob("*")):
            rel = p.relative_to(root)
            if p.is_file() and p.suffix.lower() in SUPPORTED and p.suffix.lower() != ".jsonl" \
                    and not any(part.startswith(".") for part in rel.parts) and rel.as_posix() not in indexed:
                found.append(rel.as_posix())
        return found


def display_title(title: str, doc_id: str, text: str) -> str:
    """The title to show: the loader's, unless it is only the file name; then the text's first sentence (cut).

    >>> display_title("003_1fc.txt", "003_1fc.txt", "NATO leaders met in Washington. They agreed.")
    'NATO leaders met in Washington.'
    """
    if title and title != doc_id and title != Path(doc_id).name:
        return title
    first = " ".join(text.split())
    m = re.match(r"(.{12,}?[.!?])(?:\s|$)", first)
    first = m.group(1) if m else first
    return first if len(first) <= 90 else first[:87].rsplit(" ", 1)[0] + "…"


def safe_name(name: str) -> str:
    """One file name with no directory part and only letters, digits, `_`, `-`, `.`; raises RagError if none is left
    or the type is not one the loader reads."""
    base = unicodedata.normalize("NFKC", str(name)).replace("\\", "/").split("/")[-1]
    base = _UNSAFE.sub("_", base).strip("._-")       # no leading dot: the loader skips hidden files
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    ext = "." + ext.lower() if ext else ""
    if ext not in SUPPORTED:
        raise RagError(f"{name!r}: unsupported file type; upload one of {' '.join(SUPPORTED)}")
    stem = stem.strip("._-")[:MAX_NAME]
    if not stem:
        raise RagError(f"{name!r}: no usable file name left; rename the file (letters, digits, - and _)")
    return stem + ext


def check_upload(src: str | Path, name: str, settings: Settings) -> str:
    """The safe name an uploaded file will get, after checking it the way the index will read it (size, type,
    readable text); raises RagError naming what is wrong."""
    docs = Path(settings.docs)
    if not docs.is_dir():
        raise RagError(f"the docs location {docs} is a single file, not a folder; uploads need a docs folder")
    clean = safe_name(name)
    size = os.path.getsize(src)
    if size > settings.max_upload_mb * 1024 * 1024:
        raise RagError(f"{clean}: {size / 1024 / 1024:.1f} MB is over the {settings.max_upload_mb} MB upload limit "
                       f"(RAG_MAX_UPLOAD_MB)")
    if size == 0:
        raise RagError(f"{clean}: the file is empty")
    if (docs / clean).resolve().parent != docs.resolve():   # belt and braces: safe_name left no directory part
        raise RagError(f"{name!r}: refused, the name points outside the docs folder")
    if not clean.endswith(".jsonl"):
        probe = Path(src).with_name(f"probe-{secrets.token_hex(4)}-{clean}")   # the loader reads by suffix
        try:
            os.link(src, probe)
        except OSError:
            shutil.copyfile(src, probe)
        try:
            load_file(probe, clean)
        except RagError:
            raise
        except Exception as e:      # the loader's own "cannot be read" reason
            raise RagError(f"{clean}: cannot be indexed ({e})") from None
        finally:
            probe.unlink(missing_ok=True)
    return clean


def save_upload(src: str | Path, name: str, settings: Settings) -> tuple[str, Path | None, str]:
    """Check an uploaded file and copy it into the docs folder under a safe name. Returns a one-line message,
    where the old version of a replaced file is kept (hidden, so not indexed) until the rebuild succeeds (or None),
    and the name it was saved under."""
    docs = Path(settings.docs)
    clean = check_upload(src, name, settings)
    target = docs / clean
    backup = None
    if target.exists():
        backup = docs / f".replaced-{secrets.token_hex(4)}-{clean}"
        os.replace(target, backup)
    tmp = docs / f".upload-{secrets.token_hex(4)}"    # hidden: a rebuild running meanwhile never reads half a file
    shutil.copyfile(src, tmp)
    os.replace(tmp, target)
    renamed = f" (renamed from {name!r})" if clean != Path(str(name)).name else ""
    return f"{'Replaced' if backup else 'Saved'} {clean}{renamed}", backup, clean


def configured_answerers(settings: Settings) -> tuple[str, ...]:
    """The answerers this server can run with its own (environment) settings; clients choose among these only."""
    found = ["extractive"]
    if settings.answerer == "openai" or settings.llm_api_key or settings.llm_base_url != Settings().llm_base_url:
        found.append("openai")
    if settings.answerer == "local" or settings.llm_gguf:
        found.append("local")
    return tuple(a for a in ANSWERERS if a in found)


def request_settings(base: Settings, top_k=None, mode=None, answerer=None) -> Settings:
    """This request's settings: the app's, with the client's choice of top-k, retrieval mode and answerer (empty
    means 'keep'). The LLM's URL, key, model and GGUF file come from the server's environment only."""
    mode, answerer = (mode or base.mode), (answerer or base.answerer)
    if mode not in RETRIEVAL_MODES:
        raise RagError(f"unknown retrieval mode {mode!r}; use one of {', '.join(RETRIEVAL_MODES)}")
    allowed = configured_answerers(base)
    if answerer not in allowed:
        raise RagError(f"answerer {answerer!r} is not available on this server; use one of {', '.join(allowed)}")
    return replace(base, top_k=max(1, min(20, int(top_k or base.top_k))), mode=mode, answerer=answerer)


def parse_history(history) -> list[tuple[str, str]]:
    """(user, assistant) pairs from a JSON string, or a list of pairs or of {role, content} messages."""
    if isinstance(history, str):
        history = json.loads(history) if history.strip() else []
    return turns(history)
