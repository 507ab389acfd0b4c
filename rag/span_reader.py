"""The short-answer reader: which words of the quoted sentences answer the question, or none.

all-MiniLM-L6-v2 fine-tuned for extractive QA (a start and an end logit per word piece; [CLS] means "no answer
here", as in SQuAD 2.0 readers) on the train halves of XQuAD, HotpotQA and ClapNQ by eval/train_span_reader.py,
shipped as int8 ONNX in rag/models/span_reader/ (model.onnx, its tokenizer, span_reader.json with the training data,
threshold and held-out figures; SOURCE.md with origin and licences). Runs on onnxruntime and `tokenizers`; torch is
not imported.

`best(question, sentences)` reads the sentences together (joined by one space, as in training), takes the reader's
ten best spans that lie inside one sentence (snapped to whole words) and picks one with a small logistic reranker
fitted on the dev fifth of the train half, out of the reader's sight: the reader's score beside whether the span is
a name, number or date (rag.spans.candidates) and what the question asks for (rag.spans.answer_type), so "How many
times…?" is not answered with a place. The answerer shows it when the reader's best span beats "no answer"
(margin > threshold, 0).

    >>> ctx = "It was built by (John Rennie) in 1797."
    >>> ctx[slice(*_snap(ctx, 17, 28))]     # widened to whole words, the unbalanced bracket left out
    'John Rennie'
    >>> hours = "Core hours are 10:00 to 16:00."
    >>> hours[slice(*_snap(hours, 24, 26))]  # a time is not cut at its colon
    '16:00'
"""
from __future__ import annotations

import json
import math
import os
import threading
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import spans as S
from .dates import has_date
from .embed import onnx_session
from .text import stems

MODEL_DIR = Path(__file__).resolve().parent / "models" / "span_reader"
FORMAT_VERSION = 1
MAX_LENGTH = 256       # word pieces per (question, context) pair, special tokens included
MAX_ANSWER = 30        # word pieces in an answer span
MAX_QUESTION = 96      # word pieces of the question read (a longer one is cut)
_TRIM = " \t\n,;:"
_IN_NUMBER = ":.,"     # between two digits: part of the number ("16:00", "3.5", "1,200")


def _joins(left: str, mark: str, right: str) -> bool:
    """Is `mark` between `left` and `right` a number's separator ("16:00")? A compound's hyphen is not joined:
    "24" of "24-yard" answers "On what yard line…?" as SQuAD's spans are cut (3 of 3 such changes on the train halves
    were for the worse)."""
    return mark in _IN_NUMBER and left.isdigit() and right.isdigit()


@dataclass(frozen=True)
class Span:
    sentence: int      # index into the sentences given
    start: int         # character offsets inside that sentence
    end: int
    text: str
    margin: float      # the reader's best span's logit sum minus the no-answer logit sum (is there an answer?)


def _snap(ctx: str, a: int, b: int) -> tuple[int, int]:
    """Widen to whole words (a number keeps its separators: "16:00", "3.5", "1,200"), then trim spaces and clause
    punctuation, and quotes or brackets left unbalanced at either end; a bracket opened inside and closed right after
    the span is taken in.

    >>> c = "enforced by the Marine Stewardship Enforcement Agency (MSEA), which reports to parliament"
    >>> c[slice(*_snap(c, 16, 58))], c[slice(*_snap(c, 54, 59))]
    ('Marine Stewardship Enforcement Agency (MSEA)', 'MSEA')
    """
    while a > 0 and (ctx[a - 1].isalnum() or a > 1 and _joins(ctx[a - 2], ctx[a - 1], ctx[a])):
        a -= 1
    while b < len(ctx) and (ctx[b].isalnum() or 0 < b < len(ctx) - 1 and _joins(ctx[b - 1], ctx[b], ctx[b + 1])):
        b += 1
    while a < b and ctx[a] in _TRIM:
        a += 1
    while b > a and ctx[b - 1] in _TRIM:
        b -= 1
    for o, c in ('()', '[]', '""', "“”"):
        while a < b and ctx[a] == o and c not in ctx[a + 1:b]:
            a += 1
        while b > a and ctx[b - 1] == c and o not in ctx[a:b - 1]:
            b -= 1
        if o != c and b < len(ctx) and ctx[b] == c and ctx.count(o, a, b) > ctx.count(c, a, b):
            b += 1      # "Agency (MSEA" -> "Agency (MSEA)": a bracket opened inside is closed right after
    if b > a and ctx[b - 1] == "." and " " not in ctx[a:b] and ctx[a:b - 1].count(".") == 0:
        b -= 1          # a sentence's full stop after a one-word answer; "U.S." keeps its own
    return a, b


def _context_tokens(offsets, seq_ids) -> np.ndarray:
    return np.asarray([k for k, s in enumerate(seq_ids) if s == 1 and offsets[k][1] > offsets[k][0]], dtype=int)


def top_spans(start: np.ndarray, end: np.ndarray, offsets, seq_ids, ctx: str, bounds: list[tuple[int, int]],
              n: int = 1) -> list[tuple[int, int, float]]:
    """The `n` best distinct (char start, char end, margin) in `ctx`, both ends inside one of `bounds`, snapped to
    whole words, best first; [] if there is no context."""
    idx = _context_tokens(offsets, seq_ids)
    if not len(idx):
        return []
    starts = np.asarray([offsets[k][0] for k in idx])
    sent = np.searchsorted(np.asarray([b for _, b in bounds]), starts, side="right")
    total = start[idx][:, None] + end[idx][None, :]
    i, j = np.indices(total.shape)
    ok = (j >= i) & (idx[j] - idx[i] < MAX_ANSWER) & (sent[i] == sent[j])
    flat = np.where(ok, total, -np.inf).ravel()
    null = float(start[0] + end[0])
    out, seen = [], set()
    for f in np.argsort(-flat, kind="stable")[:max(4 * n, 20)]:
        if not np.isfinite(flat[f]) or len(out) == n:
            break
        bi, bj = divmod(int(f), total.shape[1])
        a, b = _snap(ctx, offsets[idx[bi]][0], offsets[idx[bj]][1])
        if b > a and (a, b) not in seen:
            seen.add((a, b))
            out.append((a, b, float(flat[f]) - null))
    return out


def decode(start, end, offsets, seq_ids, ctx: str, bounds) -> tuple[int, int, float] | None:
    """The best (char start, char end, margin) of `top_spans`, or None."""
    found = top_spans(start, end, offsets, seq_ids, ctx, bounds, 1)
    return found[0] if found else None


@lru_cache(maxsize=256)
def _candidates(sentence: str) -> tuple:
    return tuple(S.candidates(sentence))


TOP = 10               # reader spans the reranker chooses from
_KINDS = ("name", "number", "date")


def features(question: str, sentence: str, start: int, end: int, margin: float, best: float, rank: int) -> dict:
    """The reranker's features of the span sentence[start:end] (the reader's `rank`-th best, `margin` against the
    best's `best`): reader score, length, words shared with the question, and whether it is (or holds) a name,
    number or date, crossed with what the question asks for.

    >>> f = features("How many points did they score?", "They scored 24 points.", 12, 14, 3.0, 3.0, 0)
    >>> f["exact_number"], f["number*exact_number"], f["top"]
    (1.0, 1.0, 1.0)
    """
    kind, words = S.answer_type(question), sentence[start:end].split()
    cands = _candidates(sentence)
    f = {"rel": max(-20.0, margin - best), "top": float(rank == 0), "log_rank": math.log1p(rank),
         "margin": max(-10.0, min(15.0, margin)), "log_words": math.log(max(1, len(words))),
         "one_word": float(len(words) == 1), "comma": float("," in sentence[start:end]),
         "lower_start": float(sentence[start:start + 1].islower())}
    span_stems = stems(sentence[start:end])
    f["in_question"] = len(span_stems & stems(question)) / max(1, len(span_stems))
    for k in _KINDS:
        f[f"exact_{k}"] = float(any(c.kind == k and (c.start, c.end) == (start, end) for c in cands))
        f[f"holds_{k}"] = float(any(c.kind == k and start <= c.start and c.end <= end for c in cands))
    f["holds_date"] = float(f["holds_date"] or has_date(sentence[start:end]))     # "yesterday", "last week" too
    for t in S.TYPES[:-1]:
        for k in _KINDS:
            f[f"{t}*exact_{k}"] = f[f"exact_{k}"] * (kind == t)
            f[f"{t}*holds_{k}"] = f[f"holds_{k}"] * (kind == t)
    return f


class SpanReader:
    """Cheap to construct; the ONNX session and tokenizer load on first use."""

    def __init__(self, folder: str | Path = MODEL_DIR, threads: int | None = None):
        self.folder = Path(folder)
        self.threads = threads or min(2, os.cpu_count() or 1)
        self._session = None
        self._lock = threading.Lock()

    def available(self) -> bool:
        return all((self.folder / f).is_file() for f in ("model.onnx", "tokenizer.json", "span_reader.json"))

    @property
    def info(self) -> dict:
        return json.loads((self.folder / "span_reader.json").read_text())

    @property
    def threshold(self) -> float:
        return float(self._load()[2]["threshold"])

    def _load(self):
        with self._lock:
            if self._session is None:
                from tokenizers import Tokenizer

                info = self.info
                if info.get("format_version") != FORMAT_VERSION:
                    raise RuntimeError(f"{self.folder}/span_reader.json has format {info.get('format_version')}, "
                                       f"this code reads {FORMAT_VERSION}; retrain with eval/train_span_reader.py")
                tok = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
                tok.enable_truncation(int(info.get("max_length", MAX_LENGTH)), strategy="only_second")
                tok.no_padding()
                self._plain = Tokenizer.from_file(str(self.folder / "tokenizer.json"))   # for the question alone
                self._plain.no_truncation()
                self._plain.no_padding()
                session = onnx_session(self.folder / "model.onnx", self.threads)
                model = info.get("reranker")
                self._rerank = (dict(zip(model["feature_names"], model["coefficients"])), model["intercept"]) \
                    if model else None
                self._tokenizer, self._session, self._info = tok, session, info
        return self._tokenizer, self._session, self._info, self._rerank

    def logits(self, question: str, context: str):
        """(start logits, end logits, offsets, sequence ids) for one (question, context) pair."""
        tok, session, _, _ = self._load()
        question = " ".join(question.split())
        q = self._plain.encode(question, add_special_tokens=False)
        if len(q.ids) > MAX_QUESTION:       # the context must keep room: the question is cut, never the pair refused
            question = question[:q.offsets[MAX_QUESTION - 1][1]]
        e = tok.encode(question, context)
        feed = {"input_ids": np.array([e.ids], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids], dtype=np.int64)}
        names = [i.name for i in session.get_inputs()]
        start, end = session.run(None, {k: feed[k] for k in names})
        return start[0], end[0], e.offsets, e.sequence_ids

    def candidates(self, question: str, sentences: list[str]) -> list[tuple[Span, dict]]:
        """The reader's `TOP` best spans inside one of `sentences` (read together), best first, with their reranker
        features; [] if nothing fits."""
        if not sentences:
            return []
        ctx, bounds = "", []
        for s in sentences:
            a = len(ctx) + (1 if ctx else 0)
            ctx = f"{ctx} {s}" if ctx else s
            bounds.append((a, a + len(s)))
        top = top_spans(*self.logits(question, ctx), ctx, bounds, TOP)
        out = []
        for rank, (a, b, margin) in enumerate(top):
            k = next(i for i, (x, y) in enumerate(bounds) if x <= a < y + 1)
            off = bounds[k][0]
            out.append((Span(k, a - off, b - off, ctx[a:b], margin),
                        features(question, sentences[k], a - off, b - off, margin, top[0][2], rank)))
        return out

    def best(self, question: str, sentences: list[str]) -> Span | None:
        """The reranker's choice among the reader's best spans, carrying the reader's best margin (is there an
        answer at all); None if nothing fits."""
        found = self.candidates(question, sentences)
        if not found:
            return None
        rerank = self._load()[3]
        if rerank is None:
            return found[0][0]
        coef, intercept = rerank
        _, span = max(((intercept + sum(coef[n] * v for n, v in f.items() if n in coef), span) for span, f in found),
                      key=lambda x: x[0])
        return replace(span, margin=found[0][0].margin)


@lru_cache(maxsize=1)
def get_reader() -> SpanReader:
    """The shared reader over the shipped model, so the app and CLI load it once."""
    return SpanReader()
