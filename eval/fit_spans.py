"""Fit the short-answer ranker (rag/spans.py) on XQuAD's gold spans and write rag/models/spans.json.

Data: eval/datasets/xquad-en (and HotpotQA dev500's "span" rows with --hotpot). For each question, the *gold
sentence* is the sentence of a gold paragraph that holds a gold answer (rag.text.sentence_spans; of several, the one
sharing most stems with the question). Only questions of the "train" half (rag.metrics.split_of) are fitted on;
the "heldout" half is only scored. eval/questions.jsonl and eval/heldout.jsonl are never read.

A candidate is a positive when its SQuAD-normalised text equals a gold answer's (exact match; no soft positives).
LogisticRegression on the candidates of typed questions; the threshold is the best-candidate probability above
which a short answer is worth giving: the one maximising sum(F1 - 0.6) over the answered train questions, from
5-fold out-of-fold probabilities. 0.6 rather than 0.5 because a wrong answer in bold at the top of a reply misleads
more than a missing one, which still leaves the quoted sentence (--min-f1 changes it).

    .venv/bin/python eval/fit_spans.py            # XQuAD train half; prints and stores held-out figures
    .venv/bin/python eval/fit_spans.py --hotpot   # also fit on HotpotQA's train-half span rows
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag import spans  # noqa: E402
from rag.metrics import normalize_answer, split_of, token_f1  # noqa: E402
from rag.text import sentence_spans, stems  # noqa: E402

XQUAD, HOTPOT = ROOT / "eval/datasets/xquad-en", ROOT / "eval/datasets/hotpotqa-dev500"


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def examples(folder: Path, spans_only: bool = False) -> list[dict]:
    """{id, split, question, sentence, answers} for each question whose answer lies inside one sentence."""
    docs = {d["id"]: d["text"] for d in read_jsonl(folder / "corpus.jsonl")}
    out = []
    for q in read_jsonl(folder / "questions.jsonl"):
        if not q.get("answerable", True) or spans_only and q.get("answer_type") != "span":
            continue
        qstems, found = stems(q["question"]), []
        for doc_id in q["gold_doc_ids"]:
            text = docs[doc_id]
            for a, b in sentence_spans(text):
                sent = text[a:b]
                if any(ans and ans in sent for ans in q["answers"]):
                    found.append((len(stems(sent) & qstems), -len(found), sent))
        if found:
            out.append({"id": q["id"], "split": split_of(q["id"]), "question": q["question"],
                        "sentence": max(found)[2], "answers": q["answers"]})
    return out


def matrix(rows: list[dict]):
    """Candidates, feature dicts, labels and question index of the typed questions in `rows`."""
    feats, labels, groups, cands = [], [], [], []
    for qi, r in enumerate(rows):
        if not spans.answer_type(r["question"]):
            continue
        cs = spans.candidates(r["sentence"])
        gold = {normalize_answer(a) for a in r["answers"]}
        for c, f in zip(cs, spans.features(r["question"], r["sentence"], cs)):
            feats.append(f)
            labels.append(int(normalize_answer(c.text) in gold))
            groups.append(qi)
            cands.append(c)
    return feats, labels, groups, cands


def pick(rows, probs, groups, cands) -> dict[int, tuple[float, str]]:
    """Per question index: (probability, text) of its best candidate."""
    best: dict[int, tuple[float, str]] = {}
    for p, g, c in zip(probs, groups, cands):
        if g not in best or p > best[g][0]:
            best[g] = (float(p), c.text)
    return best


def choose_threshold(rows, best, min_f1: float) -> float:
    """The probability above which the answered questions' F1 exceeds `min_f1` by the most in sum."""
    gains = sorted(((p, max(token_f1(t, a) for a in rows[g]["answers"]) - min_f1)
                    for g, (p, t) in best.items()), reverse=True)
    total, best_total, thr = 0.0, 0.0, 1.0
    for p, gain in gains:
        total += gain
        if total > best_total:
            best_total, thr = total, p
    return thr


def score(rows: list[dict], model: dict) -> dict:
    """Short-answer EM/F1 with the oracle sentence: over answered questions, and over all (unanswered = 0)."""
    em = f1 = answered = 0
    for r in rows:
        c = spans.best_span(r["question"], r["sentence"], model)
        if c is None:
            continue
        answered += 1
        em += max(normalize_answer(c.text) == normalize_answer(a) for a in r["answers"])
        f1 += max(token_f1(c.text, a) for a in r["answers"])
    n = len(rows)
    return {"questions": n, "answered": answered, "coverage": round(answered / n, 4),
            "em_answered": round(em / max(1, answered), 4), "f1_answered": round(f1 / max(1, answered), 4),
            "em_all": round(em / n, 4), "f1_all": round(f1 / n, 4)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hotpot", action="store_true", help="also fit on HotpotQA dev500's train-half span rows")
    ap.add_argument("--out", type=Path, default=spans.MODEL_PATH)
    ap.add_argument("--min-f1", type=float, default=0.6,
                    help="answer when the expected F1 beats this (0.6: a wrong lead answer costs more than none)")
    args = ap.parse_args(argv)
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    xq, hp = examples(XQUAD), examples(HOTPOT, spans_only=True)
    train = [r for r in xq + (hp if args.hotpot else []) if r["split"] == "train"]
    feats, labels, groups, cands = matrix(train)
    vec = DictVectorizer(sparse=False)
    X = vec.fit_transform(feats)

    def fit(X_, y_):
        return LogisticRegression(C=1.0, max_iter=5000).fit(X_, y_)

    oof = [0.0] * len(labels)
    for tr, te in GroupKFold(5).split(X, labels, groups):
        m = fit(X[tr], [labels[i] for i in tr])
        for i, p in zip(te, m.predict_proba(X[te])[:, 1]):
            oof[i] = p
    best = pick(train, oof, groups, cands)
    threshold = choose_threshold(train, best, args.min_f1)
    cv = [max(token_f1(t, a) for a in train[g]["answers"]) for g, (p, t) in best.items() if p >= threshold]
    train_cv = {"answered": len(cv), "coverage": round(len(cv) / len(train), 4),
                "f1_answered": round(sum(cv) / max(1, len(cv)), 4), "f1_all": round(sum(cv) / len(train), 4)}
    clf = fit(X, labels)
    model = {"format_version": spans.MODEL_VERSION, "feature_names": list(vec.get_feature_names_out()),
             "coefficients": [round(float(c), 6) for c in clf.coef_[0]], "intercept": round(float(clf.intercept_[0]), 6),
             "threshold": round(threshold, 6)}
    model["weights"] = dict(zip(model["feature_names"], model["coefficients"]))
    reachable = len({g for g, y in zip(groups, labels) if y})
    heldout = {"xquad-en": score([r for r in xq if r["split"] == "heldout"], model),
               "hotpotqa-dev500 span": score([r for r in hp if r["split"] == "heldout"], model)}
    train_fig = score(train, model)
    del model["weights"]
    model.update({
        "model": "sklearn LogisticRegression(C=1.0) over rag.spans.features; p = sigmoid(intercept + coef . x)",
        "positive": "candidate whose normalize_answer text equals a gold answer's (exact match)",
        "threshold_rule": f"maximise sum(F1 - {args.min_f1}) over answered train questions, 5-fold out-of-fold "
                          "probabilities (a wrong lead answer misleads; a missing one leaves the quote)",
        "data": {"files": [str(XQUAD.relative_to(ROOT))] + ([str(HOTPOT.relative_to(ROOT))] if args.hotpot else []),
                 "split": "train (rag.metrics.split_of)", "questions_with_gold_sentence": len(train),
                 "typed_questions": len(set(groups)), "with_an_exact_candidate": reachable,
                 "candidates": len(labels), "positives": sum(labels)},
        "heldout_oracle_sentence": heldout, "train_oracle_sentence": train_fig, "train_5fold": train_cv,
        "fitted": dt.date.today().isoformat()})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
    spans.load_model.cache_clear()
    print(json.dumps({k: model[k] for k in ("threshold", "data", "train_5fold",
                                             "heldout_oracle_sentence")}, indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
