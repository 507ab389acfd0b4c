"""Shared fixtures: the real packaged model, and a real index of the seeds built once per test session."""
from __future__ import annotations

import hashlib
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from rag.config import Settings

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"


def close_app(app) -> None:
    """Close a Gradio app launched with block=False. `Blocks.close` sets the server's asyncio stop event from this
    thread while the server's own loop may be walking that event's waiters (a clean-clone run failed a teardown with
    "deque mutated during iteration"); setting it on the loop's thread first leaves `close` nothing to race."""
    event = app.app.stop_event
    loop = getattr(event, "_loop", None)         # bound by the first `wait`; no waiter, no race
    if loop is not None and loop.is_running():
        done = threading.Event()
        loop.call_soon_threadsafe(lambda: (event.set(), done.set()))
        done.wait(5)
    app.close()


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory) -> Path:
    """A real index of seeds/ (MiniLM vectors, FAISS, BM25) in a session tmp folder; do not modify it."""
    from rag.indexer import build_index

    path = tmp_path_factory.mktemp("seed-index")
    build_index(Settings(docs=SEEDS, index=path), progress=False)
    return path


@pytest.fixture(scope="session")
def seed_settings(seed_index) -> Settings:
    return Settings(docs=SEEDS, index=seed_index)


@pytest.fixture
def docs_copy(tmp_path) -> Path:
    """A writable copy of the seeds to add, change and delete documents in."""
    target = tmp_path / "docs"
    shutil.copytree(SEEDS, target)
    return target


class HashEmbedder:
    """Vectors from a hash of the text (unit, deterministic), recording what it was asked to embed: for tests whose
    subject is index bookkeeping, not retrieval quality."""

    name, dim, max_tokens, backend = "hash", 32, 256, "hash"

    def __init__(self):
        self.embedded: list[str] = []

    def count_wordpieces(self, texts):
        return [len(t.split()) + 2 for t in texts]

    def encode(self, texts, progress=False):
        self.embedded.extend(texts)
        seeds = [int(hashlib.sha256(t.encode()).hexdigest()[:12], 16) for t in texts]
        out = np.stack([np.random.default_rng(s).normal(size=self.dim) for s in seeds]) if texts else \
            np.zeros((0, self.dim))
        return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)


def indexed(folder: Path, files: dict[str, str]):
    """A real index of `files` (name -> text) written into `folder`/docs: (retriever, settings)."""
    from rag.indexer import build_index
    from rag.retrieve import open_retriever

    docs = folder / "docs"
    docs.mkdir()
    for name, text in files.items():
        (docs / name).write_text(text, encoding="utf-8")
    settings = Settings(docs=docs, index=folder / "index")
    build_index(settings, progress=False)
    return open_retriever(settings), settings
