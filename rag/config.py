"""One frozen settings object: defaults, overridden by `RAG_*` environment variables, then by CLI flags.

Every value is checked when it is read (environment, flag or constructor), so a bad one is one line naming the
variable and what it accepts (`RAG_CHUNK_SIZE=4 is out of range: use 16–2048`), never a traceback later.
The settings that shape the index (model, chunking) are recorded in the index manifest, so a mismatch
between the index on disk and the settings in use is detected rather than guessed.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from .errors import RagError

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MODES = ("dense", "bm25", "hybrid")
ANSWERERS = ("extractive", "openai", "local")
REFUSAL = "The documents do not answer this."   # every answerer declines in these words (the LLM is told them)
EMBED_BACKENDS = ("onnx-int8", "onnx", "torch")
# bump when the loaders change what a Document holds or the sentence splitter where chunks may end (v2: Markdown
# markup removed; v4: a file's date from its first lines; v5: "No. 1" and "Op. 5" end no sentence; v6: a title line
# that ends with its date dates the file, and "Brown v. Board", "Jones et al. (1998)", "c. 1650", "Warner Bros.
# Records" end no sentence; v7: a PDF's paragraphs told apart and its page furniture, ligatures and file-name
# titles dropped, a table row is a sentence, an HTML page's menu and footer are left out, a byline's date dates
# the file, an e-mail's subject titles it, .docx files are read; v8: an HTML or Word list item keeps a "- " marker,
# so it is never read as the heading of the next item), so indexes re-chunk
TEXT_VERSION = 8

# allowed range (inclusive) of each number, or the choices of each word
RANGES = {"chunk_size": (16, 2048), "chunk_overlap": (0, 1024), "batch_size": (1, 1024), "top_k": (1, 100),
          "rrf_k": (1, 1000), "candidates": (1, 10_000), "hops": (1, 2), "llm_timeout": (0.1, 3600),
          "max_upload_mb": (1, 1024), "max_file_mb": (1, 1024)}
STORES = ("faiss", "milvus")
CHOICES = {"mode": MODES, "answerer": ANSWERERS, "embed_backend": EMBED_BACKENDS, "store": STORES}
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


class SettingsError(RagError, ValueError):
    """A setting outside what it accepts; the message names the variable and the allowed values."""


@dataclass(frozen=True)
class Settings:
    docs: Path = Path("seeds")
    index: Path = Path("index")
    model: str = MODEL_NAME            # the packaged MiniLM, or a local sentence-transformers folder
    chunk_size: int = 180              # tiktoken tokens; MiniLM reads at most 256 word pieces
    chunk_overlap: int = 30
    batch_size: int = 64
    embed_backend: str = "onnx-int8"   # onnx-int8 | onnx | torch (rag/embed.py); the index records which it used
    cache_dir: str = ""                # ONNX export cache; empty: $XDG_CACHE_HOME/rag-cite or ~/.cache/rag-cite
    top_k: int = 5
    mode: str = "hybrid"               # dense | bm25 | hybrid
    rrf_k: int = 60
    candidates: int = 50               # per-retriever depth fed into fusion
    hops: int = 2                      # 2: also search with the question + the best passage (multi-hop questions)
    respell: bool = True               # read a misspelt question word as the documents' word (rag/spelling.py)
    reranker: str = ""                 # local CrossEncoder folder; off by default (none ships offline)
    answerer: str = "extractive"       # extractive | openai | local
    llm_base_url: str = "http://127.0.0.1:8080/v1"
    llm_model: str = "local"
    llm_api_key: str = field(default="", repr=False)    # a secret: never shown
    llm_gguf: str = ""
    llm_timeout: float = 60.0
    max_upload_mb: int = 20
    max_file_mb: int = 20              # larger documents are skipped with a warning (a 30 MB file is ~100k chunks)
    follow_links: bool = False         # read symlinks that lead outside the documents folder
    auth: str = ""                     # user:pass for the chat app
    store: str = "faiss"               # faiss (an index folder) | milvus (rag/storage.py)
    milvus_uri: str = ""               # empty: an embedded Milvus Lite file <index>/milvus.db; or http://host:19530
    milvus_token: str = field(default="", repr=False)  # "user:password" or an API key for a Milvus server (a secret: never logged)
    milvus_prefix: str = "rag"         # collection names: <prefix>_chunks, <prefix>_documents, <prefix>_state

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("docs", "index") and not isinstance(value, Path):
                object.__setattr__(self, f.name, Path(value))
            else:
                check(f.name, value)
        if self.chunk_overlap >= self.chunk_size:
            raise SettingsError(f"RAG_CHUNK_OVERLAP={self.chunk_overlap} is out of range: it must be below "
                                f"RAG_CHUNK_SIZE ({self.chunk_size})")

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        """Defaults < RAG_<FIELD> environment variables < explicit overrides (None means 'not given')."""
        values = {}
        for f in fields(cls):
            raw = os.environ.get(f"RAG_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            values[f.name] = coerce(f.name, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)

    def milvus_target(self) -> str:
        """The Milvus URI to connect to: RAG_MILVUS_URI, or the embedded file inside the index folder."""
        return self.milvus_uri or str(self.index / "milvus.db")

    def chunking(self) -> dict:
        return {"chunk_size": self.chunk_size, "chunk_overlap": self.chunk_overlap, "tokenizer": "cl100k_base",
                "text_version": TEXT_VERSION}


def cache_root() -> Path:
    """Where rag keeps caches (ONNX exports, the tiktoken file): RAG_CACHE_DIR, else $XDG_CACHE_HOME/rag-cite or
    ~/.cache/rag-cite."""
    base = env("cache_dir") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rag-cite"
    return Path(base)


def env(name: str):
    """One setting from its RAG_* variable (checked), or its default: for code that needs no whole Settings."""
    raw = os.environ.get(f"RAG_{name.upper()}")
    default = next(f.default for f in fields(Settings) if f.name == name)
    return default if raw is None or raw == "" else check(name, coerce(name, raw))


def coerce(name: str, raw: str):
    """The typed value of the text `raw` given for setting `name` (a one-line SettingsError if it is not one)."""
    kind = str(next(f.type for f in fields(Settings) if f.name == name))
    var = f"RAG_{name.upper()}={raw!r}"
    if kind == "bool":
        word = raw.strip().lower()
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
        raise SettingsError(f"{var} is not a yes/no value: use 1/0, true/false, yes/no or on/off")
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
    except ValueError:
        raise SettingsError(f"{var} is not a number; unset it or give a number") from None
    return raw


def check(name: str, value):
    """`value` if setting `name` accepts it, else a one-line SettingsError naming RAG_<NAME> and the allowed values."""
    var = f"RAG_{name.upper()}={value!r}"
    kind = str(next(f.type for f in fields(Settings) if f.name == name))
    if kind == "bool" and not isinstance(value, bool):
        raise SettingsError(f"{var} is not a yes/no value: use 1/0, true/false, yes/no or on/off")
    if kind in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind == "int" and value != int(value)):
            raise SettingsError(f"{var} is not {'a whole number' if kind == 'int' else 'a number'}")
        lo, hi = RANGES[name]
        if not lo <= value <= hi:
            raise SettingsError(f"RAG_{name.upper()}={value} is out of range: use {lo}–{hi}")
    if kind == "str":
        if not isinstance(value, str) or "\n" in value:
            raise SettingsError(f"{var} must be one line of text")
        if name in CHOICES and value not in CHOICES[name]:
            raise SettingsError(f"{var} is not allowed: use one of {', '.join(CHOICES[name])}")
        if name == "model" and not value.strip():
            raise SettingsError("RAG_MODEL is empty: unset it for the packaged MiniLM, or give a model folder")
        if name == "llm_base_url" and not value.startswith(("http://", "https://")):
            raise SettingsError(f"{var} is not an http(s) URL: use e.g. http://127.0.0.1:8080/v1")
        if name == "milvus_uri" and value and not (value.startswith(("http://", "https://", "tcp://"))
                                                  or value.endswith(".db")):
            raise SettingsError(f"{var} is neither a server URL (http://host:19530) nor a Milvus Lite file (*.db); "
                                f"unset it for <index>/milvus.db")
        if name == "milvus_prefix" and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,40}", value):
            raise SettingsError(f"{var} is not a collection-name prefix: use letters, digits and _ (e.g. rag)")
    return value
