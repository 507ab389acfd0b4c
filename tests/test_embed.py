"""Embedding backends: the ONNX exports give the vectors PyTorch gives, are made once and cached, and the index
remembers which backend built it."""
from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from rag import embed
from rag.embed import Embedder, export_onnx, onnx_ready
from rag.chunking import chunk_document
from rag.config import Settings
from rag.errors import RagError
from rag.loaders import load
from rag.retrieve import open_retriever
from rag.indexer import build_index
from rag.store import FaissStore as Index

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def seed_texts() -> list[str]:
    texts = [c.text for d in load(ROOT / "seeds").documents for c in chunk_document(d, 180, 30)]
    return texts[:24] + ["Who represented Australia?", "NATO"]


@pytest.fixture(scope="module")
def torch_vectors(seed_texts):
    return Embedder(backend="torch").encode(seed_texts)


@pytest.mark.parametrize("backend, floor", [("onnx", 0.9999), ("onnx-int8", 0.97)])
def test_onnx_vectors_match_torch(seed_texts, torch_vectors, backend, floor):
    e = Embedder(backend=backend)
    v = e.encode(seed_texts)
    assert e.backend == backend and v.shape == torch_vectors.shape and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert (v * torch_vectors).sum(axis=1).min() >= floor
    # the nearest neighbours of each text are the same ones PyTorch finds
    assert ((v @ v.T).argsort(1)[:, -3:] == (torch_vectors @ torch_vectors.T).argsort(1)[:, -3:]).mean() > 0.9


def test_onnx_counts_word_pieces_like_the_model_tokenizer(seed_texts):
    long = " ".join(seed_texts)                      # far past the 256 the model reads: counted, not truncated
    texts = seed_texts[:5] + [long]
    assert Embedder(backend="onnx").count_wordpieces(texts) == Embedder(backend="torch").count_wordpieces(texts)
    assert Embedder().max_tokens == 256 and Embedder().dim == 384


def test_export_is_made_once_into_the_cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path / "cache"))
    path = embed._model_path(embed.MODEL_NAME)
    first = export_onnx(path, quantized=True)
    assert first.is_relative_to(tmp_path / "cache") and first.name == "model-int8.onnx"
    assert (first.parent / "model.onnx").is_file() and json.loads((first.parent / "SOURCE.json").read_text())
    stamp = first.stat().st_mtime_ns
    assert export_onnx(path, quantized=True) == first and first.stat().st_mtime_ns == stamp
    assert not list(first.parent.glob("*.tmp"))      # written through a temporary name, then renamed


def test_unwritable_cache_is_one_clear_error(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path / "file"))
    with pytest.raises(RagError, match="RAG_CACHE_DIR") as e:
        export_onnx(embed._model_path(embed.MODEL_NAME), quantized=False)
    assert "\n" not in str(e.value)


def test_unknown_backend_is_refused():
    with pytest.raises(RagError, match="RAG_EMBED_BACKEND"):
        Embedder(backend="tensorrt")


def test_model_with_other_pooling_runs_on_torch(tmp_path):
    src = Path(embed._model_path(embed.MODEL_NAME))
    folder = tmp_path / "cls-model"
    shutil.copytree(src, folder)
    pooling = json.loads((folder / "1_Pooling" / "config.json").read_text())
    pooling.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    assert onnx_ready(str(src)) and not onnx_ready(str(folder))
    e = Embedder(str(folder), backend="onnx-int8")
    assert e.backend == "torch" and e.encode(["hello"]).shape == (1, 384)


def test_index_records_its_backend_and_queries_use_it(docs_copy, tmp_path):
    s = Settings(docs=docs_copy, index=tmp_path / "ix", embed_backend="onnx")
    build_index(s, progress=False)
    assert Index.load(s.index).manifest["embedding_backend"] == "onnx"
    # the retriever embeds queries the way the index was built, whatever the settings say now
    r = open_retriever(replace(s, embed_backend="torch"))
    assert r.embedder.backend == "onnx"
    switched = build_index(replace(s, embed_backend="onnx-int8"), progress=False)
    assert "embedding backend changed (onnx → onnx-int8)" in switched["full_rebuild"]
    assert switched["chunks_embedded"] == switched["chunks_total"]
    assert Index.load(s.index).manifest["embedding_backend"] == "onnx-int8"


def _reads(monkeypatch, emb: Embedder) -> list[list[str]]:
    """The batches `emb`'s model reads from now on (the test's end puts the model back)."""
    calls, real = [], emb.engine.encode_batch
    monkeypatch.setattr(emb.engine, "encode_batch", lambda batch: calls.append(list(batch)) or real(batch))
    return calls


def test_a_sentence_read_alone_has_one_vector_whatever_it_is_read_with(monkeypatch):
    """The answerer's sentences are read one by one (`encode_each`): a sentence's vector does not depend on which
    other sentences were retrieved with it, and a sentence read before is not read again."""
    texts = ["The ferry to the island leaves twice a day from the northern pier.",
             "Tickets cost four euros, and children under twelve travel free of charge on weekdays.",
             "In winter the crossing is cancelled when the wind is stronger than force seven."]
    emb = Embedder()
    first = emb.encode_each(texts[:2])
    calls = _reads(monkeypatch, emb)
    again = emb.encode_each([texts[2], texts[0]])
    assert calls == [[texts[2]]]                       # the remembered sentence was not read again
    assert np.array_equal(again[1], first[0])
    fresh = Embedder().encode_each([texts[1], texts[2]])   # another embedder, with nothing remembered
    assert np.array_equal(fresh[0], first[1]) and np.array_equal(fresh[1], again[0])
    assert np.allclose(np.linalg.norm(fresh, axis=1), 1.0, atol=1e-5)


def test_forget_drops_the_remembered_vectors(monkeypatch):
    """After `forget` a sentence is read again (what the bench's cold ask times), to the same vector."""
    emb = Embedder()
    text = "The lighthouse keeper logged every passing ship in a leather-bound book."
    first = emb.encode_each([text])
    calls = _reads(monkeypatch, emb)
    emb.encode_each([text])
    assert calls == []
    emb.forget()
    again = emb.encode_each([text])
    assert calls == [[text]] and np.array_equal(again, first)
