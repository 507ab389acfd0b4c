"""Shared fixtures: the real packaged model, and a real index of the seeds built once per test session."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag.config import Settings

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"


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
