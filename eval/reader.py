"""An experiment, not shipped: a cross-encoder reader fine-tuned from the packaged all-MiniLM-L6-v2 (does this sentence
answer the question?). On the held-out halves it did not beat the MiniLM cosine it would have added to (eval/reader/
reader.json; README, How answers are made), so the app does not use it and its weights are not in the repository:
`python eval/train_reader.py` trains it again into eval/reader/.

It reads (question, sentence with its document title and previous sentence) together and gives the probability
that the sentence states the answer. The max over the sentences of the retrieved passages is an answerability
signal: an on-topic passage that does not answer the question scores low. The model ships with the package
(`rag/models/reader/`: int8 ONNX, its tokenizer, `reader.json` with its training data and held-out metrics) and
runs on onnxruntime with the `tokenizers` package; torch is not imported. Retrain with `eval/train_reader.py`.

    >>> p = score("When was the bridge opened?", [("Tyne Bridge", "It spans the River Tyne.",
    ...                                             "The bridge was opened on 10 October 1928."),
    ...                                            ("Tyne Bridge", "", "It spans the River Tyne.")])
    >>> bool(p[0] > p[1])    # doctest: +SKIP
    True
"""
from __future__ import annotations

import json
import os
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from rag.embed import onnx_session

MODEL_DIR = Path(__file__).resolve().parent / "reader"   # reader.json and SOURCE.md are kept; the weights are not
FORMAT_VERSION = 1
MAX_LENGTH = 160            # word pieces per pair, special tokens included; the training script uses the same
_PREV_CHARS = 300           # context is cut first so that a long previous sentence never truncates the sentence
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def format_pair(question: str, title: str, previous: str, sentence: str) -> tuple[str, str]:
    """The model's input: text A is the question, text B the sentence first, then [SEP], title and context.

    >>> format_pair("Who?", "Doc", "Before.", "Answer here.")
    ('Who?', 'Answer here. [SEP] Doc. Before.')
    """
    title, previous = " ".join(title.split()), " ".join(previous.split())[:_PREV_CHARS]
    context = f"{title}. {previous}".strip() if title else previous
    return " ".join(question.split()), f"{' '.join(sentence.split())} [SEP] {context}".strip()


class Reader:
    """Cheap to construct; the ONNX session and tokenizer load on first use."""

    # One pair per run by default: the int8 graph quantises activations with one scale per batch, so in a batch a
    # pair's score moves (by up to ~0.04) with its neighbours; alone it is the same whatever else is scored.
    def __init__(self, folder: str | Path = MODEL_DIR, threads: int | None = None, batch_size: int = 1):
        self.folder = Path(folder)
        self.threads = threads or min(2, os.cpu_count() or 1)
        self.batch_size = batch_size
        self._session = None
        self._lock = threading.Lock()

    def available(self) -> bool:
        return all((self.folder / f).is_file() for f in ("model.onnx", "tokenizer.json", "reader.json"))

    @property
    def info(self) -> dict:
        return json.loads((self.folder / "reader.json").read_text())

    def _load(self):
        with self._lock:
            if self._session is None:
                from tokenizers import Tokenizer

                info = self.info
                if info.get("format_version") != FORMAT_VERSION:
                    raise RuntimeError(f"{self.folder}/reader.json has format {info.get('format_version')}, "
                                       f"this code reads {FORMAT_VERSION}; retrain with eval/train_reader.py")
                tok = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
                tok.enable_truncation(int(info.get("max_length", MAX_LENGTH)), strategy="longest_first")
                tok.enable_padding(pad_id=0, pad_token="[PAD]")
                session = onnx_session(self.folder / "model.onnx", self.threads)
                self._tokenizer, self._session = tok, session
        return self._tokenizer, self._session

    def logits(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        """Raw logits for already formatted (text A, text B) pairs, in the order given."""
        tok, session = self._load()
        out = np.zeros(len(pairs), dtype=np.float32)
        order = np.argsort([-len(a) - len(b) for a, b in pairs], kind="stable")   # little padding per batch
        names = [i.name for i in session.get_inputs()]
        for i in range(0, len(pairs), self.batch_size):
            idx = order[i:i + self.batch_size]
            enc = tok.encode_batch([pairs[j] for j in idx])
            feed = {"input_ids": np.array([e.ids for e in enc], dtype=np.int64),
                    "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64),
                    "token_type_ids": np.array([e.type_ids for e in enc], dtype=np.int64)}
            out[idx] = session.run(None, {k: feed[k] for k in names})[0].reshape(-1)
        return out

    def score(self, question: str, passages: list[tuple[str, str, str]]) -> np.ndarray:
        """Probability that each (title, previous_sentence, sentence) answers `question`; float32, input order."""
        if not passages:
            return np.zeros(0, dtype=np.float32)
        pairs = [format_pair(question, t, p, s) for t, p, s in passages]
        return (1.0 / (1.0 + np.exp(-self.logits(pairs)))).astype(np.float32)


@lru_cache(maxsize=1)
def get_reader() -> Reader:
    """The shared reader over the shipped model, so the app and CLI load it once."""
    return Reader()


def available() -> bool:
    """Is the shipped reader model present (it is in a normal install)?"""
    return get_reader().available()


def score(question: str, passages: list[tuple[str, str, str]]) -> np.ndarray:
    """Probability that each (title, previous_sentence, sentence) states the answer to `question`.

    `previous_sentence` is the sentence before it in the same document ("" for the first one).
    """
    return get_reader().score(question, passages)
