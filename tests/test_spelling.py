"""Misspelt question words are read as the documents' word (`rag.spelling`), on Wikipedia- and press-style text
that is not the seeds; English words and words some document uses are never changed. The integration tests use
the real model and a real index in a temporary folder."""
from __future__ import annotations

import pytest

from rag import answer as A, spelling as S

from conftest import indexed

PACKETS = ("ARPANET and SITA HLN became operational in 1969. Before the introduction of X.25 in 1973, about "
           "twenty different network technologies had been developed.")
TOWER = "At 280 m, it was also the tallest building in the world outside North America until 1989."


def nothing_used(words):
    return set()


@pytest.mark.parametrize("question, passage, read_as", [
    ("When did ARPNET become operational?", PACKETS, "When did ARPANET become operational?"),   # a letter left out
    ("Which was the tallest building in the wolrd?", TOWER, "Which was the tallest building in the world?"),  # swapped
    ("when did arpanet and sita hln become operatoinal", PACKETS,
     "when did arpanet and sita hln become operational"),
    ("Where was the soundtrak of the film recorded in Hollywood?", "The soundtrack was recorded in Los Angeles.",
     "Where was the soundtrack of the film recorded in Hollywood?"),
])
def test_a_misspelt_word_is_read_as_the_passages_word(question, passage, read_as):
    assert S.respell(question, [passage], nothing_used) == read_as


@pytest.mark.parametrize("question, passage", [
    # an English word the passages do not use is no typo, however close a word of theirs is
    ("Which famous Indian put himself at the mercy of the courts?", "Percy Bysshe Shelley wrote the poem."),
    ("Who mapped the St. Johns River in 1562?", "The river was capped by ice in 1562."),
    ("What is walking meant to represent?", "The talking heads represent the narrator."),
    # short words are too often another real word one letter away
    ("Did Iran sign the treaty?", "Iraq signed the treaty in 1980."),
    # too far from every word of the passages
    ("Who is Mark Rutte?", "The route runs from Utrecht to The Hague."),
    ("Who sang it with Dolly Parton?", "Payton Rogers sang it."),          # r and y are not neighbouring keys
])
def test_a_word_that_is_no_typo_is_left_alone(question, passage):
    assert S.respell(question, [passage], nothing_used) == question


def test_a_word_some_document_uses_is_left_alone_even_if_the_passages_do_not():
    question = "What did Kallis say about the treaty?"       # another document writes "Kallis"
    assert S.respell(question, ["Kallas said the treaty holds."], lambda words: {"kallis"} & words) == question
    assert S.respell(question, ["Kallas said the treaty holds."], nothing_used) == \
        "What did Kallas say about the treaty?"


def test_two_equally_likely_readings_are_left_alone_and_the_commoner_one_wins():
    assert S.respell("Who owns the Hungy Horse chain?", ["Hungry Horse and Hunty Dory pubs."], nothing_used) \
        == "Who owns the Hungy Horse chain?"       # "hungry" and "hunty" are each one edit away, each said once
    assert S.respell("Who owns the Hungy Horse chain?", ["Hungry Horse pubs and Hunty Dory.", "Hungry Horse."],
                     nothing_used) == "Who owns the Hungry Horse chain?"


def test_distance_counts_a_swap_of_neighbours_as_one_edit():
    assert S.distance("supernatrual", "supernatural", 2) == 1
    assert S.distance("prostution", "prostitution", 2) == 2
    assert S.distance("prostution", "prosecution", 1) == 2      # over the limit: limit + 1


DOCS = {
    "aqueduct.txt": "The Lune Aqueduct\n\n"
                    "The Lune Aqueduct carries the Lancaster Canal over the River Lune. It was designed by John "
                    "Rennie and opened in 1797. Its five arches are built of sandstone.",
    "bridge.txt": "Waterloo Bridge\n\n"
                  "Waterloo Bridge crosses the Thames in London. The first bridge on the site, designed by John "
                  "Rennie, opened in 1817; the present bridge was designed by Giles Gilbert Scott and opened in 1945.",
    "station.md": "---\ntitle: Tidal station opens\ndate: 2024-07-11\n---\n"
                  "Mayor Anna Berg cut the ribbon at the tidal energy station in Harwick Bay on Wednesday. The station "
                  "will power 4,000 homes.",
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return indexed(tmp_path_factory.mktemp("respell"), DOCS)


def test_a_typo_in_a_name_is_answered_as_the_name_and_says_how_it_was_read(corpus):
    retriever, settings = corpus
    ans = A.ask(retriever, "When did the Lune Aquaduct open?", settings)
    assert ans.standalone_question == "When did the Lune Aqueduct open?"
    assert not ans.refused and "1797" in ans.text
    assert ans.citations[0].doc_id == "aqueduct.txt"


def test_a_misspelt_name_is_not_declined_as_never_mentioned(corpus):
    retriever, settings = corpus
    ans = A.ask(retriever, "Who designed the present Waterlo Bridge?", settings)
    assert "never mention" not in ans.text
    assert not ans.refused and "Giles Gilbert Scott" in ans.text


def test_a_name_no_document_uses_is_still_declined_by_name(corpus):
    retriever, settings = corpus
    ans = A.ask(retriever, "When did Isambard Brunel open the aqueduct?", settings)
    assert ans.refused and "never mention Isambard Brunel" in ans.text
    assert ans.standalone_question == "When did Isambard Brunel open the aqueduct?"


def test_bare_search_reads_the_typo_too(corpus):
    retriever, _ = corpus
    found = retriever.retrieve("ribbon at the tidal enegry staton", k=2, with_docs=False)
    assert found.question == "ribbon at the tidal energy station"
    assert found.hits[0].chunk.doc_id == "station.md"


def test_respelling_can_be_turned_off(corpus, monkeypatch):
    from rag.config import Settings
    from rag.retrieve import open_retriever

    _, settings = corpus
    monkeypatch.setenv("RAG_RESPELL", "0")
    off = Settings.from_env(docs=settings.docs, index=settings.index)
    found = open_retriever(off).retrieve("When did the Lune Aquaduct open?", k=2)
    assert found.question == "When did the Lune Aquaduct open?"       # searched as written


def test_the_store_is_asked_once_and_only_about_words_that_are_no_english():
    asked = []
    S.respell("Did Zorbatek and Quillmaro meet the senator in Washington?", ["The senator met Zorbatec."],
              lambda words: asked.append(set(words)) or set())
    assert asked == [{"zorbatek", "quillmaro"}]      # "senator", "washington", "meet" are never sent
    asked.clear()
    S.respell("Did the senator meet the minister?", ["The senator met the minister."],
              lambda words: asked.append(set(words)) or set())
    assert asked == []


def test_a_letter_added_at_the_end_is_a_slip_but_a_different_first_letter_is_no_typo():
    assert S.respell("Did Luxon meet Ted Cruze?", ["Senator Ted Cruz (Texas)."], nothing_used) == \
        "Did Luxon meet Ted Cruz?"
    assert S.respell("Who owns Korbelt Mills?", ["Norbelt Mills was sold."], nothing_used) == \
        "Who owns Korbelt Mills?"           # one edit, but typos keep the first letter (as Lucene assumes)


def test_the_documents_are_read_only_for_a_word_no_document_uses():
    read = []

    def documents():
        read.append(1)
        return ["Jens Stoltenberg said the alliance must work closely together."]

    passage = ["The alliance must work closely together."]
    assert S.respell("What did Stoltenbeg say?", passage, nothing_used, documents) == "What did Stoltenberg say?"
    assert read == [1]
    read.clear()
    assert S.respell("What did Stoltenbeg say?", passage, lambda words: set(words), documents) == \
        "What did Stoltenbeg say?"          # some document writes it so: no typo, and nothing read
    assert read == []
