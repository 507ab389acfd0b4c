"""Judge extra answer-model (question-level) features as `eval/fit.py --cv` judges a change: 5 folds and leave one
set out, train halves only, on fit.py's feature cache (the fold encoders must exist: `make fit` makes them).

    .venv/bin/python eval/experiments/question_features.py spread best_rank top_passage_best bigram_max lex_ctx_best

Prints the baseline, then each feature added alone to `rag.scorer.QUESTION_FEATURES`. Session 21: none shipped
(README › Evaluation)."""
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "eval")]

from rag import scorer  # noqa: E402
import fit  # noqa: E402

base_qf = scorer.question_features
BASE = scorer.QUESTION_FEATURES
def extra(name, p, x, F):
    col = F.index
    order = np.argsort(-p)
    top = order[:3]
    if name == 'spread':      # distinct passages among the three best sentences
        return float(len(set(np.round(1 / x[top, col('rank')]).astype(int))))
    if name == 'best_rank':   # 1/rank of the passage of the best sentence
        return float(x[order[0], col('rank')])
    if name == 'top_passage_best':   # best p among sentences of the top passage
        m = np.isclose(x[:, col('rank')], 1.0)
        return float(p[m].max()) if m.any() else 0.0
    if name == 'names_best':
        return float(x[order[0], col('names')])
    if name == 'bigram_max':
        return float(x[:, col('bigram')].max())
    if name == 'lex_ctx_best':
        return float(x[order[0], col('lex_ctx')])
    raise KeyError(name)
for name in [None] + sys.argv[1:]:
    if name:
        scorer.QUESTION_FEATURES = BASE + (name,)
        scorer.question_features = lambda p, x, F, n=name: (base_qf(p, x, F) + [extra(n, p, x, F)]) if len(p) else [0.0] * len(scorer.QUESTION_FEATURES)
    else:
        scorer.QUESTION_FEATURES = BASE; scorer.question_features = base_qf
    r = fit.cross_validate(fit.DATASETS, fit.DATASETS, folds=5)
    mean = np.mean([v["refusal_f1"] for v in r.values() if "refusal_f1" in v])
    loo = fit.leave_one_out(fit.DATASETS)
    print(name or 'baseline', 'mean F1 %.3f' % mean, {k: (v['answerable_answered'], v.get('refusal_f1')) for k, v in r.items()},
          'LOO', {k: (v['answerable_answered'], v['refusal_f1']) for k, v in loo.items()}, flush=True)
