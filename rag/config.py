"""One frozen settings object: defaults, overridden by `RAG_*` environment variables, then by CLI flags.

The settings that shape the index (model, chunking) are recorded in the index manifest, so a mismatch
between the index on disk and the settings in use is detected rather than guessed.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"


@dataclass(frozen=True)
class Settings:
    docs: Path = Path("seeds")
    index: Path = Path("index")
    model: str = MODEL_NAME            # the packaged MiniLM, or a local sentence-transformers folder
    chunk_size: int = 180              # tiktoken tokens; MiniLM reads at most 256 word pieces
    chunk_overlap: int = 30
    batch_size: int = 64
    embed_backend: str = "onnx-int8"   # onnx-int8 | onnx | torch (rag/embed.py); the index records which it used
    top_k: int = 5
    mode: str = "hybrid"               # dense | bm25 | hybrid
    rrf_k: int = 60
    candidates: int = 50               # per-retriever depth fed into fusion
    hops: int = 2                      # 2: also search with the question + the best passage (multi-hop questions)
    reranker: str = ""                 # local CrossEncoder folder; off by default (none ships offline)
    answerer: str = "extractive"       # extractive | openai | local
    llm_base_url: str = "http://127.0.0.1:8080/v1"
    llm_model: str = "local"
    llm_api_key: str = ""
    llm_gguf: str = ""
    llm_timeout: float = 60.0
    max_upload_mb: int = 20
    auth: str = ""                     # user:pass for the chat app

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        """Defaults < RAG_<FIELD> environment variables < explicit overrides (None means 'not given')."""
        values = {}
        for f in fields(cls):
            raw = os.environ.get(f"RAG_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            values[f.name] = _coerce(f.type, raw, f.name)
        values.update({k: v for k, v in overrides.items() if v is not None})
        for key in ("docs", "index"):
            if key in values:
                values[key] = Path(values[key])
        return replace(cls(), **values)

    def chunking(self) -> dict:
        return {"chunk_size": self.chunk_size, "chunk_overlap": self.chunk_overlap, "tokenizer": "cl100k_base"}


def _coerce(type_name, raw: str, name: str):
    type_name = str(type_name)
    try:
        if "int" in type_name:
            return int(raw)
        if "float" in type_name:
            return float(raw)
    except ValueError:
        raise ValueError(f"RAG_{name.upper()}={raw!r} is not a number; unset it or give a number") from None
    return raw
