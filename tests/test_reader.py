"""The shipped reader (rag/models/reader): small enough to ship, and it prefers the sentence that answers."""
import json

import numpy as np
import pytest

from rag import reader

# Hand-written, Wikipedia-style; none of these topics occurs in seeds/ or eval/datasets/.
CASES = [
    ("Who wrote the novel Middlemarch?", "Middlemarch",
     "Middlemarch, A Study of Provincial Life is a novel in eight books.",
     "It was written by the English author Mary Ann Evans, who published under the pen name George Eliot.",
     "It first appeared in eight instalments in 1871 and 1872."),
    ("At what temperature does liquid nitrogen boil?", "Liquid nitrogen",
     "Liquid nitrogen is nitrogen in a liquid state at low temperature.",
     "At normal atmospheric pressure it boils at 77 K (−196 °C).",
     "It is produced industrially by the fractional distillation of liquid air."),
    pytest.param(
     "How long is the Danube?", "Danube",
     "The Danube is a river in Central and Southeastern Europe.",
     "It flows for about 2,850 km from the Black Forest in Germany to the Black Sea.",
     "It passes through or borders ten countries, more than any other river in the world.",
     # a known weakness of this model, kept visible: an article's defining sentence outranks the answer
     marks=pytest.mark.xfail(strict=True, reason="'The Danube is a river in …' scores 0.76, the length 0.44")),
    ("When was the Tyne Bridge opened?", "Tyne Bridge",
     "The Tyne Bridge is a through arch bridge over the River Tyne in North East England.",
     "It was opened by King George V on 10 October 1928.",
     "Its towers were built of Cornish granite and were designed to be warehouses with five storeys."),
]


def test_shipped_model_fits_and_is_available():
    assert reader.available()
    assert (reader.MODEL_DIR / "model.onnx").stat().st_size <= 25 * 1024 * 1024


def test_reader_json_records_heldout_metrics():
    info = json.loads((reader.MODEL_DIR / "reader.json").read_text())
    assert info["format_version"] == reader.FORMAT_VERSION and info["max_length"] == reader.MAX_LENGTH
    for scorer in ("reader", "cosine_baseline"):
        held = info["heldout"][scorer]
        for name in ("xquad", "clapnq"):
            assert 0.0 <= held[name]["sentence_auc"] <= 1.0 and 0.0 <= held[name]["top1_accuracy"] <= 1.0
        assert 0.0 <= held["clapnq"]["answerability_auc"] <= 1.0
        assert 0.0 <= held["xquad"]["answerability_auc_own_paragraph_removed"] <= 1.0


@pytest.mark.parametrize("question,title,first,answer,other", CASES, ids=["Middlemarch", "Liquid nitrogen", "Danube", "Tyne Bridge"])
def test_answering_sentence_ranks_first(question, title, first, answer, other):
    p = reader.score(question, [(title, first, other), (title, first, answer), (title, "", first)])
    assert p.shape == (3,) and p.dtype == np.float32 and np.all((p >= 0) & (p <= 1))
    assert p[1] > p[0] and p[1] > p[2], p


def test_scores_do_not_depend_on_batch_order():
    question, title, first, answer, other = CASES[0]   # scored alone, each pair's score ignores its batch
    alone = reader.score(question, [(title, first, answer)])
    both = reader.score(question, [(title, "", other), (title, first, answer)])
    assert np.allclose(alone[0], both[1], atol=1e-5)
    assert reader.score(question, []).shape == (0,)
