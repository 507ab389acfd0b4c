"""Answers with checked citations, on a real index of the seeds: extractive answers, refusal, citation checks,
follow-up rewriting and the two renderings (terminal, JSON)."""
from __future__ import annotations

import json
import re
from dataclasses import replace

import numpy as np
import pytest

from rag.storage import Filter

from rag import answer as A, compare, dates
from rag import present as P
from rag.errors import RagError
from rag.evidence import FEATURES, Evidence
from rag.text import sentence_spans
from rag.followup import deterministic_rewrite, is_followup, rewrite
from rag.types import Answer

from conftest import indexed

AUSTRALIA = "Who represented Australia at the meeting with NATO's Indo-Pacific partners?"


@pytest.fixture(scope="module")
def retriever(seed_settings):
    from rag.retrieve import open_retriever

    return open_retriever(seed_settings)


def assert_quotes_are_verbatim(retriever, answer: Answer):
    for c in answer.citations:
        hit = A.cited_hit(answer, c.n)
        assert hit is not None and c.doc_id in hit.doc_ids  # the passage's document or a near-duplicate's
        assert retriever.store.docs[c.doc_id].text[c.start:c.end] == c.quote


@pytest.mark.parametrize("question", [
    AUSTRALIA, "How much more military and humanitarian support did New Zealand announce?",
    "How many nations are in the NATO alliance?", "Which Australian prime minister decided not to attend?",
])
def test_an_answer_is_quotes_of_its_sources_each_with_its_marker(retriever, seed_settings, question):
    """Whatever the answer says, it says it in the documents' words: a lead phrase taken from a quote, then quotes."""
    ans = A.ask(retriever, question, seed_settings)
    assert ans.citations and ans.answerer == "extractive"
    assert_quotes_are_verbatim(retriever, ans)
    leads = {}
    for c in ans.citations:                    # the first citation of a number is the quote shown for it
        leads.setdefault(c.n, c)
    for c in leads.values():                   # as shown: one line, a relative date resolved ("this year (2024)")
        assert f"“{' '.join(dates.annotate(c.quote, c.date).split())}” [{c.n}]" in ans.text
    if ans.short_answer:
        s = ans.short_answer
        assert ans.text.startswith(s.text) and retriever.store.docs[s.doc_id].text[s.start:s.end] == s.text


def test_a_sentence_two_outlets_share_is_cited_in_both(retriever, seed_settings):
    ans = A.ask(retriever, "What did the leaders express grave concern over regarding Russia and the DPRK?",
                seed_settings)
    assert "grave concern" in ans.text
    docs = {c.doc_id[:4] for c in ans.citations if "grave concern" in " ".join(c.quote.split())}   # 003 is hard-wrapped
    assert docs == {"001_", "003_"}          # the White House readout, and the article quoting it
    assert len({c.n for c in ans.citations}) == 1
    assert_quotes_are_verbatim(retriever, ans)
    assert "  also " in P.format_answer(ans)


def test_quotes_from_hard_wrapped_text_keep_their_exact_span(retriever):
    """Seed 003 is hard-wrapped: a sentence quoted across a line break is still the document's exact span."""
    q = "What other post does Richard Marles hold besides Deputy Prime Minister?"
    hits = retriever.search(q, k=5, where=Filter.of(["003_1fcb2ff00d21c651.txt"]))
    ev = Evidence(q, hits, retriever.store.docs, retriever.embedder)
    wrapped = [s for s in ev.sents if "\n" in s.text]
    assert wrapped
    for s in wrapped:
        for c in ev.citations(s):
            assert retriever.store.docs[c.doc_id].text[c.start:c.end] == c.quote == s.text


@pytest.mark.parametrize("question", [
    "What was agreed at the 2019 NATO leaders' meeting in London?",      # on topic, but the seeds never say
    "How many air defence systems did the United States pledge to Ukraine?",  # pledged, but no number given
    "How do I bake sourdough bread?",                                     # off topic: below the threshold
    "What did Mark Rutte promise the Indo-Pacific partners?",             # a full name the seeds never use
])
def test_unanswerable_question_is_refused_with_the_closest_hits(retriever, seed_settings, question):
    ans = A.ask(retriever, question, seed_settings)
    assert ans.refused
    assert ans.text.startswith((A.refusal_text(question), "The documents never mention"))
    assert len({c.n for c in ans.citations}) <= 1, "a refusal quotes at most the closest passage"
    assert "similarity" not in ans.text and "<" not in ans.text        # plain words, no scores
    assert ans.hits, "a refusal still shows the closest passages"
    assert_quotes_are_verbatim(retriever, ans)
    assert "Closest passages:" in P.format_answer(ans)


def test_the_answer_model_was_fitted_on_training_halves_only():
    from rag import scorer

    model = scorer.model()
    assert model["data"] and all(d["split"] == "train" for d in model["data"].values())
    assert all(d["split"] == "train" for d in model["support_data"].values())
    assert set(model["heldout_figures"]) == set(model["data"])
    assert 0 < scorer.threshold() < 1 and 0 < scorer.support_threshold() < 1 and 0 < scorer.answer_threshold() < 1
    assert model["question"]["features"] == list(scorer.QUESTION_FEATURES)
    # the answer model reads each feature as a broken line: evenly spaced knots, one coefficient per knot
    knots = model["question"]["knots"]
    assert len(knots) == len(scorer.QUESTION_FEATURES)
    assert all(np.allclose(np.diff(k), k[1] - k[0], atol=1e-5) and k[1] > k[0] for k in knots)
    assert len(model["question"]["coef"]) == sum(map(len, knots))


def test_a_broken_line_basis_is_one_hat_per_knot_that_sums_to_one():
    from rag import scorer

    x = np.array([[-5.0, 0.1], [0.0, 0.35], [0.7, 0.6], [9.0, 0.9]])
    basis = scorer.hats(x, [[0.0, 0.5, 1.0], [0.1, 0.4, 0.7]])
    assert basis.shape == (4, 6) and np.allclose(basis[:, :3].sum(1), 1) and np.allclose(basis[:, 3:].sum(1), 1)
    assert basis[0, :3].tolist() == [1, 0, 0] and basis[3, :3].tolist() == [0, 0, 1]      # beyond: the outer knot
    assert np.allclose(basis[2, :3], [0, 0.6, 0.4]) and np.allclose(basis[1, 3:], [1 / 6, 5 / 6, 0])


def _checked(retriever, text: str, question: str = AUSTRALIA) -> Answer:
    hits = tuple(retriever.search(question, k=5))
    base = Answer(question, question, "", (), hits, answerer="openai")
    return A.check_answer(text, Evidence(question, hits, retriever.store.docs, retriever.embedder), base)


def _n_quoting(retriever, phrase: str) -> int:
    hits = retriever.search(AUSTRALIA, k=5)
    return next(i for i, h in enumerate(hits, 1) if phrase in h.chunk.text)


def test_out_of_range_markers_are_dropped(retriever):
    n = _n_quoting(retriever, "Richard Marles")
    ans = _checked(retriever, f"Australia's Deputy Prime Minister Richard Marles attended the meeting [0][{n}][99].")
    assert "[0]" not in ans.text and "[99]" not in ans.text
    assert ans.text.endswith("[1]")                       # source n, numbered 1 as the answer's first citation
    assert [c.n for c in ans.citations] == [1] and A.cited_hit(ans, 1).chunk.id == retriever.search(AUSTRALIA)[n - 1].chunk.id
    assert "Richard Marles" in ans.citations[0].quote     # the best-supporting sentence of the cited passage
    assert_quotes_are_verbatim(retriever, ans)


def test_a_citation_that_only_points_out_of_range_is_replaced_by_the_supporting_source(retriever):
    ans = _checked(retriever, "Australia's Deputy Prime Minister Richard Marles attended the Indo-Pacific meeting [99].")
    assert not ans.refused and len(ans.citations) == 1 and "[99]" not in ans.text
    c = ans.citations[0]
    assert "Richard Marles" in c.quote and ans.text.endswith(f"[{c.n}]")
    assert_quotes_are_verbatim(retriever, ans)


def test_unsupported_sentence_is_flagged_and_marked(retriever):
    n = _n_quoting(retriever, "Richard Marles")
    ans = _checked(retriever, f"Australia's Deputy Prime Minister Richard Marles attended the Indo-Pacific meeting "
                              f"[{n}]. Bananas are yellow and grow in Ecuador [{n}].")
    assert ans.unsupported == ("Bananas are yellow and grow in Ecuador.",)
    assert not ans.refused and len(ans.citations) == 1
    assert "Bananas are yellow and grow in Ecuador. [unsupported" in P.format_answer(ans)


def test_an_answer_no_source_supports_becomes_a_refusal(retriever):
    ans = _checked(retriever, "The summit was held in London in 2019 [1].")
    assert ans.refused and ans.citations == () and ans.hits
    assert ans.unsupported == ("The summit was held in London in 2019.",)


def test_an_llm_that_declines_is_a_refusal(retriever):
    assert _checked(retriever, A.REFUSAL).refused
    assert _checked(retriever, "I'm sorry, the sources do not contain this information.").refused


def test_sentence_spans_skip_initials_and_abbreviations():
    text = "President Joseph R. Biden, Jr.\nbriefly met U.S. allies. They left.\n\nNext paragraph without end"
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "President Joseph R. Biden, Jr.\nbriefly met U.S. allies.", "They left.", "Next paragraph without end"]


def test_an_abbreviation_before_a_number_ends_no_sentence_but_no_still_can():
    """Wikipedia-style text (HotpotQA's): "No. 1", "Op. 5", "ca. 1650" are one sentence; "said no." ends one."""
    text = ("The single reached No. 1 on the Billboard Hot 100. Vivaldi wrote a set of sonatas, Op. 5, in ca. 1716. "
            "Asked to stay, she said no. 2019 was her last year.")
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "The single reached No. 1 on the Billboard Hot 100.", "Vivaldi wrote a set of sonatas, Op. 5, in ca. 1716.",
        "Asked to stay, she said no.", "2019 was her last year."]


def test_json_rendering_has_every_field_and_serialises(retriever, seed_settings):
    ans = A.ask(retriever, AUSTRALIA, seed_settings)
    data = json.loads(json.dumps(P.answer_to_json(ans)))
    assert set(data) == {"question", "standalone_question", "answer", "short_answer", "refused", "unsupported",
                         "citations", "hits", "answerer", "note"}
    assert set(data["citations"][0]) == {"n", "doc_id", "title", "date", "chunk_id", "start", "end", "quote"}
    assert set(data["hits"][0]) == {"rank", "score", "cosine", "bm25", "doc_id", "title", "date", "chunk_id", "start", "end", "page",
                                    "also_in", "text"}
    assert data["answer"] == ans.text and len(data["hits"]) == len(ans.hits)


def test_terminal_rendering_lists_numbered_sources_with_title_file_date_and_quote(retriever, seed_settings):
    ans = A.ask(retriever, "How many nations are in the NATO alliance?", seed_settings)
    out = P.format_answer(ans)
    c = ans.citations[0]
    assert out.startswith(ans.text)
    assert f"[{c.n}] " in out and c.doc_id in out and "2024-07-11" in out
    assert "NATO chief says alliance" in out          # the title from the seed's first line
    assert " ".join(c.quote.split()) in out


def test_stream_yields_text_then_the_final_answer(retriever, seed_settings):
    items = list(A.ask_stream(retriever, AUSTRALIA, seed_settings))
    assert isinstance(items[-1], Answer)
    assert all(isinstance(x, str) for x in items[:-1]) and "".join(items[:-1]) == items[-1].text


def test_unknown_answerer_is_a_one_line_error(retriever, seed_settings):
    with pytest.raises(RagError, match="RAG_ANSWERER"):
        A.ask(retriever, AUSTRALIA, replace(seed_settings, answerer="gpt"))


# ---- follow-ups -------------------------------------------------------------------------------------------
def test_followup_detection():
    assert is_followup("And who came from Japan?")
    assert is_followup("What about Japan?")
    assert is_followup("What did he say?")
    assert not is_followup(AUSTRALIA)
    assert not is_followup("Who is the head of NATO?")


@pytest.mark.parametrize("question, expected", [
    ("What about Japan?", "Who represented Japan at the meeting with NATO's Indo-Pacific partners?"),
    ("And Korea?", "Who represented Korea at the meeting with NATO's Indo-Pacific partners?"),
    ("And who came from Japan?", "Who came from Japan — represented at the meeting with NATO's Indo-Pacific partners?"),
])
def test_deterministic_rewrite_merges_the_previous_question(question, expected):
    assert deterministic_rewrite(question, AUSTRALIA) == expected


def test_pronouns_take_the_previous_turns_names():
    history = [("What did Christopher Luxon say about Russia?", "He said … [1]")]
    assert rewrite("What did he say about China?", history) == "What did Christopher Luxon say about China?"
    assert rewrite("Who is the head of NATO?", history) == "Who is the head of NATO?"   # stands alone
    chain = [("Who attended from Korea?", "x"), ("What about Australia?", "y")]
    assert rewrite("And Japan?", chain) == "Who attended from Japan?"
    gradio = [{"role": "user", "content": "Who attended from Korea?"}, {"role": "assistant", "content": "x"}]
    assert rewrite("What about Japan?", gradio) == "Who attended from Japan?"


def test_followup_is_answered_from_the_rewritten_question(retriever, seed_settings):
    history = [(AUSTRALIA, "Australia's Deputy Prime Minister Richard Marles [1]")]
    ans = A.ask(retriever, "And who came from Japan?", seed_settings, history=history)
    assert ans.question == "And who came from Japan?"
    assert "Japan" in ans.standalone_question and "Indo-Pacific" in ans.standalone_question
    assert ans.hits and any("Kishida" in h.chunk.text for h in ans.hits)   # retrieval follows the rewrite
    assert "(understood as:" in P.format_answer(ans)


def test_a_full_name_the_documents_never_use_is_named_in_the_refusal(retriever, seed_settings):
    ans = A.ask(retriever, "What did Mark Rutte promise the Indo-Pacific partners?", seed_settings)
    assert ans.refused and "never mention Mark Rutte" in ans.note
    # every word of the name is looked up: "Emmanuel Macron" is in the seeds, so this one is not refused for it
    assert "never mention" not in A.ask(retriever, "What did Luxon say about Emmanuel Macron?", seed_settings).note


def test_followup_keeps_the_group_a_new_name_belongs_to():
    """Japan is a member of the Indo-Pacific 4, not a stand-in for it; it does stand in for Australia."""
    from rag.embed import get_embedder

    e = get_embedder()
    group = rewrite("And who came from Japan?", [("Who chaired the Indo-Pacific 4 meeting?", "Luxon [1]")], None, e)
    assert "Japan" in group and "Indo-Pacific 4 meeting" in group
    country = rewrite("And who came from Japan?", [("Who represented Australia at the NATO meeting?", "Marles [1]")],
                      None, e)
    assert "Japan" in country and "Australia" not in country and "NATO meeting" in country


@pytest.mark.parametrize("question", [AUSTRALIA, "And who came from Japan?"])
def test_citations_are_numbered_in_reading_order(retriever, seed_settings, question):
    """Numbers follow the answer (1, 2, 3), not the hit ranks the sources had while the answer was made."""
    ans = A.ask(retriever, question, seed_settings, history=[(AUSTRALIA, "Richard Marles [1]")])
    order = [int(n) for n in re.findall(r"\[(\d+)\]", ans.text)]
    assert order and order[0] == 1
    assert list(dict.fromkeys(order)) == list(range(1, len(set(order)) + 1))
    assert sorted({c.n for c in ans.citations}) == sorted(set(order))
    assert_quotes_are_verbatim(retriever, ans)


FORGED = ("The tower was finished in Paris.[3] It was the tallest structure in the world until 1930.[12] "
          "Gustave Eiffel's company designed and built the tower between 1887 and 1889.")


def test_brackets_inside_a_quoted_document_are_not_citations(tmp_path):
    """A document's own "[3]" and "[12]" stay byte-identical in the quote; only the answer's markers are numbered."""
    from rag.config import Settings
    from rag.retrieve import open_retriever
    from rag.indexer import build_index

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "tower.txt").write_text("The iron tower\n\n" + FORGED + "\n")
    settings = Settings(docs=docs, index=tmp_path / "index")
    build_index(settings, progress=False)
    r = open_retriever(settings)
    ans = A.ask(r, "In which city was the iron tower finished?", settings)
    assert not ans.refused and "Paris" in ans.text
    assert_quotes_are_verbatim(r, ans)
    assert any(c.quote == "The tower was finished in Paris.[3]" for c in ans.citations)
    assert "Paris.[3]" in ans.text                       # the document's own bracket, shown as written
    markers = [int(n) for n in re.findall(r"(?<=\s)\[(\d+)\]", ans.text)]   # the answer's markers follow a space
    assert set(markers) == {c.n for c in ans.citations} == set(range(1, len(set(markers)) + 1))


def test_the_title_line_is_not_quoted_as_an_answer_sentence(tmp_path):
    """A press release's first line is its title (shown with every citation); the answer quotes the sentence that
    says what happened, not the heading that repeats the question's words."""
    r, settings = indexed(tmp_path, {
        "tidal.md": "# Tidal Energy Station Opens At Port Ellis\n\nThe new tidal energy station at Port Ellis was "
                    "opened on Monday by Energy Minister Sarah Quill. It will power 40,000 homes. The project cost 120 "
                    "million pounds and took four years to build.\n"})
    ans = A.ask(r, "Who opened the tidal energy station at Port Ellis?", settings)
    assert not ans.refused and "Sarah Quill" in ans.text
    assert ans.citations and all("Tidal Energy Station Opens" not in c.quote for c in ans.citations)
    assert "Tidal Energy Station Opens" not in ans.text
    assert_quotes_are_verbatim(r, ans)


def test_a_refusal_names_an_untitled_closest_document_by_its_file_not_as_a_quoted_title(tmp_path):
    r, settings = indexed(tmp_path, {
        "notes.txt": "The harbour board met on a wet morning and agreed, after a long debate about the dredging "
                     "contract and the cost of the new quay, to ask the council for a loan of two million pounds.\n"})
    ans = A.ask(r, "What did Mark Rutte tell the harbour board?", settings)
    assert ans.refused and ans.text.startswith("The documents never mention Mark Rutte."), ans.text
    assert "from notes.txt, says:" in ans.text and "“notes.txt”" not in ans.text, ans.text
    assert_quotes_are_verbatim(r, ans)


def test_an_acronym_a_passage_spells_out_is_not_a_name_the_documents_never_mention(tmp_path):
    """"UMC" is the United Methodist Church a passage names in full: the question is answered, not declined as
    naming something no document mentions; an acronym nothing spells out still is."""
    r, settings = indexed(tmp_path, {
        "umc.txt": "United Methodist Church\n\nThe church has about twelve million members. There was an attempt "
                   "to withdraw the United Methodist Church membership in the Religious Coalition for Reproductive "
                   "Choice at its General Conference, held in Tampa in May 2012, with a petition that failed.\n"})
    ans = A.ask(r, "In what year was there an attempt to withdraw the UMC membership?", settings)
    assert not ans.refused and "2012" in ans.text, ans.text
    other = A.ask(r, "In what year did the WCC withdraw its membership?", settings)
    assert other.refused and "never mention WCC" in other.text, other.text


def test_a_time_of_day_question_is_led_by_a_time_of_day_or_by_nothing(tmp_path):
    """"At what time of day …?" asks for a time: the reader's "Scottish Transport Minister" is no answer to it, nor is
    the document's publication date; the sentence that says "early in the afternoon" is quoted."""
    r, settings = indexed(tmp_path, {
        "bridge.md": "---\ndate: 2025-03-04\n---\n# Tay crossing reopens\n\nThe bridge was closed for two years "
                     "of repairs. The mayor is also expected to hold a news conference with Scottish Transport "
                     "Minister Ewan Rossi early in the afternoon.\n"})
    ans = A.ask(r, "At what time of day was the mayor's news conference with Ewan Rossi expected?", settings)
    assert not ans.refused and "early in the afternoon" in ans.text, ans.text
    assert not ans.text.startswith(("Scottish", "Published")), ans.text
    assert ans.short_answer is None or "afternoon" in ans.short_answer.text, ans.short_answer


def test_a_when_question_is_answered_with_the_event_date_not_the_dateline(tmp_path):
    """A news dateline's date is when the story was filed; "yesterday" after it is when the factory opened, shown
    resolved. A weekday in "Monday to Friday" is a day of the week, not a date, in the quote and in a lead."""
    r, settings = indexed(tmp_path, {
        "press.txt": "Northwind Tools opens new factory in Sheffield\n\nSHEFFIELD, 14 May 2025 — Northwind Tools Ltd "
                     "yesterday opened a new factory in Sheffield that will employ 320 people. The plant was opened "
                     "by the Mayor of South Yorkshire.\n",
        "handbook.md": "# Employee Handbook\n\nLast updated: 3 March 2025\n\nCore hours are 10:00 to 16:00, Monday "
                       "to Friday. Staff may start as early as 7:30.\n"})
    ans = A.ask(r, "When did Northwind open the factory in Sheffield?", settings)
    assert not ans.refused and ans.text.startswith("Yesterday (13 May 2025) —"), ans.text
    assert ans.short_answer.text == "yesterday" and ans.short_answer.n == 1
    doc = r.store.docs[ans.short_answer.doc_id]
    assert doc.text[ans.short_answer.start:ans.short_answer.end] == "yesterday"
    hours = A.ask(r, "When are the core hours?", settings)
    assert not hours.refused and "Monday to Friday" in hours.text and "2025)" not in hours.text, hours.text
    assert_quotes_are_verbatim(r, hours)


def test_a_sentence_that_closes_a_quotation_is_quoted_with_the_sentence_that_opened_it(tmp_path):
    """A news story quotes a statement over two sentences; the second matches the question's words ("…," the
    ministry said, referring to the agency by its acronym), the first says what it refers to. Quoted alone, the
    second does not answer: the quote opens where the quotation does."""
    r, settings = indexed(tmp_path, {
        "fisheries.txt": "Trawler fleet faces new quota\n\nThe ministry welcomed the ruling on Tuesday. \"The "
                         "quota will be enforced by the Marine Stewardship Enforcement Agency (MSEA), which reports "
                         "to parliament twice a year. The agency also monitors landings at every northern port,\" "
                         "the ministry said in a statement, referring to the agency by its official acronym. "
                         "Skippers in Peterhead said the rules would cut their catch by a fifth.\n"})
    ans = A.ask(r, "What is the official acronym of the agency that monitors landings?", settings)
    assert not ans.refused and "(MSEA)" in ans.text, ans.text
    assert "referring to the agency by its official acronym" in ans.text, ans.text
    assert_quotes_are_verbatim(r, ans)


def test_a_when_question_is_led_by_the_one_date_its_sentence_gives_or_the_weekday_it_asks_for(tmp_path):
    """The sentence that answers "When did the ferry company sign the contract?" gives one date, relative: it leads,
    resolved against the story's date. "On which day of the week …?" over a sentence with no date of its own is
    led by the story's date with its weekday."""
    r, settings = indexed(tmp_path, {
        "ferry.md": "---\ndate: 2025-10-16\n---\n# Ferry company orders two hybrid ships\n\nThe island ferry "
                    "company Norrlink ordered two hybrid ships from a yard in Gdansk. Yesterday, Norrlink signed the "
                    "contract with the yard after a long tender. The harbour master welcomed the news at a "
                    "meeting with the island council.\n"})
    signed = A.ask(r, "When did Norrlink sign the contract with the yard?", settings)
    assert not signed.refused and signed.text.startswith("Yesterday (15 October 2025) —"), signed.text
    assert_quotes_are_verbatim(r, signed)
    day = A.ask(r, "On which day of the week did the harbour master welcome the news?", settings)
    assert not day.refused and day.text.startswith("Published Thursday 16 October 2025 —"), day.text


@pytest.fixture(scope="module")
def scientists(tmp_path_factory):
    """Two Wikipedia-style articles, not from the seeds, each dating its own subject."""
    return indexed(tmp_path_factory.mktemp("compare"), {
        "lovelace.md": "# Ada Lovelace\n\nAugusta Ada King, Countess of Lovelace (10 December 1815 – 27 November "
                       "1852), known as Ada Lovelace, was an English mathematician and writer chiefly known for her "
                       "work on Charles Babbage's Analytical Engine.\n",
        "somerville.md": "# Mary Somerville\n\nMary Somerville (26 December 1780 – 29 November 1872) was a Scottish "
                         "scientist, writer and polymath who studied mathematics and astronomy.\n"})


@pytest.fixture(scope="module")
def genera(tmp_path_factory):
    """Two short Wikipedia-style articles, not from the seeds or the public sets."""
    return indexed(tmp_path_factory.mktemp("more"), {
        "quercus.md": "# Quercus\n\nQuercus, the oaks, is a genus of about 500 species of trees and shrubs in the "
                      "beech family. Oaks are native to the Northern Hemisphere.\n",
        "fagus.md": "# Fagus\n\nFagus, the beeches, is a genus of 13 species of deciduous trees in the family "
                    "Fagaceae, native to temperate Europe, Asia and North America.\n"})


@pytest.mark.parametrize("corpus, question, winner", [
    ("scientists", "Who was born first, Ada Lovelace or Mary Somerville?", "Mary Somerville"),
    ("scientists", "Who is younger, Mary Somerville or Ada Lovelace?", "Ada Lovelace"),
    ("scientists", "Who died first, Mary Somerville or Ada Lovelace?", "Ada Lovelace"),
    ("genera", "Which genus has more species, Fagus or Quercus?", "Quercus"),       # by count: "about 500 species"
    ("genera", "Which genus has fewer species, Quercus or Fagus?", "Fagus")])
def test_a_comparison_leads_with_the_winner_and_quotes_both_values(request, corpus, question, winner):
    r, settings = request.getfixturevalue(corpus)
    ans = A.ask(r, question, settings)
    assert not ans.refused and ans.text.startswith(f"{winner} —"), ans.text
    assert len({c.doc_id for c in ans.citations}) == 2                 # both dates (or counts) cited
    assert ans.short_answer is not None and ans.short_answer.text == winner
    doc = r.store.documents([ans.short_answer.doc_id])[ans.short_answer.doc_id]
    assert doc.text[ans.short_answer.start:ans.short_answer.end] == winner
    assert_quotes_are_verbatim(r, ans)


@pytest.fixture(scope="module")
def magazines(tmp_path_factory):
    return indexed(tmp_path_factory.mktemp("both"), {
        "vibe.md": "# Vibe\n\nVibe is an American music and entertainment magazine founded by producer Quincy "
                   "Jones. It covers R&B and hip-hop artists.\n",
        "cooking.md": "# Cooking Light\n\nCooking Light is an American monthly food and lifestyle magazine founded "
                      "in 1987. It publishes healthy recipes.\n"})


@pytest.fixture(scope="module")
def players(tmp_path_factory):
    return indexed(tmp_path_factory.mktemp("soft-both"), {
        "quill.md": "# Mara Quill\n\nMara Quill (born 1950) is an English pianist and composer. She recorded six "
                    "albums in London.\n",
        "bell.md": "# Jon Bell\n\nJon Bell is a Scottish guitarist who toured with folk bands. He lives in Perth.\n",
        "road.md": "# Harbour Road\n\nHarbour Road is a street in the old town of Leeds. It was paved in 1890.\n"})


@pytest.mark.parametrize("corpus, question, sources, neither", [
    ("magazines", "Are both Cooking Light and Vibe magazines?", {"vibe.md", "cooking.md"},
     "Are Vibe and Cooking Light both food magazines?"),
    # words of like meaning: each one's opening sentence has a word within `compare.SOFT_BOTH` of "musicians"
    # (MiniLM: pianist 0.65, guitarist 0.66); a street has none
    ("players", "Are Mara Quill and Jon Bell both musicians?", {"quill.md", "bell.md"},
     "Are Mara Quill and Harbour Road both musicians?"),
])
def test_both_questions_are_answered_yes_with_a_sentence_of_each(request, corpus, question, sources, neither):
    """"Yes —" and a sentence of each one's own document; where one of them is not said to be P, neither "Yes" nor
    a "No" made from a missing word."""
    r, settings = request.getfixturevalue(corpus)
    ans = A.ask(r, question, settings)
    assert ans.text.startswith("Yes —") and {c.doc_id for c in ans.citations} == sources
    assert_quotes_are_verbatim(r, ans)
    ans = A.ask(r, neither, settings)
    assert not ans.text.startswith(("Yes", "No"))


def test_which_of_two_is_answered_by_the_one_a_sentence_says_it_of(magazines):
    r, settings = magazines
    ans = A.ask(r, "Which magazine publishes healthy recipes, Vibe or Cooking Light?", settings)
    assert ans.text.startswith("Cooking Light —") and {c.doc_id for c in ans.citations} == {"vibe.md", "cooking.md"}
    assert [c.doc_id for c in ans.citations if c.n == 1] == ["cooking.md"]       # the sentence that says it first
    assert_quotes_are_verbatim(r, ans)
    # an amount ("more") is not settled by a property's words
    assert compare.parse_which("Which magazine has more readers, Vibe or Cooking Light?") is None


@pytest.fixture(scope="module")
def bands(tmp_path_factory):
    """Three articles from hotpotqa-dev500's corpus (Wikipedia): two bands, and one band's discography."""
    return indexed(tmp_path_factory.mktemp("pair"), {
        "letters.md": "# Letters to Cleo\n\nLetters to Cleo are an alternative rock band from Boston, Massachusetts, "
                      "best known for the 1994 single, \"Here & Now\", from their full-length debut album, \"Aurora "
                      "Gory Alice\". The band's members are Kay Hanley, Greg McKenna, Michael Eisenstein, Stacy Jones, "
                      "Scott Riebling, and later, Tom Polce.\n",
        "trees.md": "# Screaming Trees\n\nScreaming Trees was an American rock band formed in Ellensburg, Washington "
                    "in 1985 by vocalist Mark Lanegan, guitarist Gary Lee Conner, bass player Van Conner and drummer "
                    "Mark Pickerel. Pickerel had been replaced by Barrett Martin by the time the band reached its most "
                    "successful period. Although widely associated with grunge, the band's sound incorporated hard "
                    "rock and psychedelic elements. During Screaming Trees' existence the band released seven studio "
                    "albums, five EPs, and three compilations.\n",
        "discography.md": "# Screaming Trees discography\n\nThe discography of Screaming Trees, an Ellensburg, "
                          "Washington-based rock band, consists of seven studio albums, three compilation albums, "
                          "five extended plays (EP), and six singles, though this does not include any solo material "
                          "recorded by the individual members of Screaming Trees.\n"})


def test_a_question_about_two_named_things_quotes_a_sentence_of_each_ones_own_document(bands):
    r, settings = bands
    ans = A.ask(r, "Which band, Letters to Cleo or Screaming Trees, had more members?", settings)
    assert not ans.refused
    # the discography names Screaming Trees too, but the band's own article is quoted as well
    assert {"letters.md", "trees.md"} <= {c.doc_id for c in ans.citations}, ans.text
    assert_quotes_are_verbatim(r, ans)


@pytest.fixture(scope="module")
def bands_formed(tmp_path_factory):
    """Three short band biographies written for this test (not from the seeds or the public sets)."""
    return indexed(tmp_path_factory.mktemp("sameas"), {
        "harbour.md": "# The Harbour Lights\n\nThe Harbour Lights are an English indie band formed in 2004 in "
                      "Sheffield by the brothers Tom and Will Ashby.\n",
        "moorland.md": "# Moorland\n\nMoorland is an English folk rock band formed in March 2011 in Sheffield, "
                       "South Yorkshire.\n",
        "canal.md": "# Canal Street\n\nCanal Street is an English pop band formed in 1998 in Manchester by "
                    "singer Ruth Kay.\n"})


@pytest.fixture(scope="module")
def directors(tmp_path_factory):
    """Three short Wikipedia-style biographies, not from the seeds."""
    return indexed(tmp_path_factory.mktemp("same"), {
        "varda.md": "# Agnès Varda\n\nAgnès Varda (30 May 1928 – 29 March 2019) was a Belgian-born French film "
                    "director, screenwriter and photographer. Her work was central to the French New Wave.\n",
        "rohmer.md": "# Éric Rohmer\n\nÉric Rohmer (21 March 1920 – 11 January 2010) was a French film director, "
                     "film critic, journalist and novelist.\n",
        "ray.md": "# Satyajit Ray\n\nSatyajit Ray (2 May 1921 – 23 April 1992) was an Indian film director, "
                  "screenwriter and author, regarded as one of the greatest film-makers of the 20th century.\n"})


@pytest.mark.parametrize("corpus, question, verdict, docs", [
    ("directors", "Were Éric Rohmer and Satyajit Ray of the same nationality?", "No", {"rohmer.md", "ray.md"}),
    ("directors", "Are Agnès Varda and Éric Rohmer from the same country?", "Yes", {"varda.md", "rohmer.md"}),
    ("directors", "Were Satyajit Ray and Éric Rohmer born in the same year?", "No", {"rohmer.md", "ray.md"}),
    # any other "the same <noun>": the name each one's sentence gives after "formed … in"
    ("bands_formed", "Were The Harbour Lights and Moorland formed in the same city?", "Yes",
     {"harbour.md", "moorland.md"}),
    ("bands_formed", "Were Canal Street and Moorland formed in the same city?", "No", {"canal.md", "moorland.md"}),
])
def test_a_same_value_question_is_answered_from_each_ones_own_sentence(request, corpus, question, verdict, docs):
    r, settings = request.getfixturevalue(corpus)
    ans = A.ask(r, question, settings)
    assert ans.text.startswith(f"{verdict} —"), ans.text
    assert {c.doc_id for c in ans.citations} == docs
    assert_quotes_are_verbatim(r, ans)


def test_framing_words_of_a_both_question_need_not_be_in_the_sentences(directors):
    r, settings = directors
    ans = A.ask(r, "Are Éric Rohmer and Satyajit Ray both considered film directors?", settings)
    assert ans.text.startswith("Yes —") and {c.doc_id for c in ans.citations} == {"rohmer.md", "ray.md"}, ans.text


@pytest.mark.parametrize("question, shared, docs", [
    ("What occupation do Éric Rohmer and Satyajit Ray share?", "film director", {"rohmer.md", "ray.md"}),
    ("What occupation is shared by both Agnès Varda and Satyajit Ray?", "film director", {"varda.md", "ray.md"}),
    ("Agnès Varda and Éric Rohmer share which profession?", "film director", {"varda.md", "rohmer.md"}),
])
def test_what_two_share_is_what_both_own_sentences_call_them(directors, question, shared, docs):
    """The words the opening sentences of both describe them with, nationalities and names aside, lead; the
    sentence of each is quoted and cited; the short answer is the phrase as the first sentence writes it."""
    r, settings = directors
    ans = A.ask(r, question, settings)
    assert not ans.refused and ans.text.startswith(f"{shared}") and " — " in ans.text, ans.text
    assert {c.doc_id for c in ans.citations} == docs
    assert ans.short_answer is not None and ans.short_answer.text == "film director"
    assert_quotes_are_verbatim(r, ans)


def test_two_that_share_no_description_get_no_shared_lead(players):
    """A pianist and composer and a guitarist share no word that describes them: no lead is made up."""
    r, settings = players
    assert compare.parse_shared("What occupation do Mara Quill and Jon Bell share?") is not None
    ans = A.ask(r, "What occupation do Mara Quill and Jon Bell share?", settings)
    assert not ans.text.startswith(("pianist", "composer", "guitarist", "English", "Scottish")), ans.text


def test_a_second_sentence_that_answers_is_quoted_unless_it_repeats_the_first():
    """The sentences the model scores as answering are quoted (up to three), not only those that add a question word:
    a long answer ("Why …?") often needs the next sentence too. One that says again what is quoted, or scores under
    the sentence threshold, is left out."""
    from rag import scorer
    from rag.evidence import Sent

    def sent(n, text):
        return Sent(n, 0, len(text), text, "", True, f"Doc {n}", text, None)

    why = sent(1, "The bridge was closed because its cables had corroded after decades of salt spray.")
    more = sent(2, "Engineers found that two of the main supports had lost a third of their strength.")
    again = sent(3, "Its cables had corroded after decades of salt spray, so the bridge was closed.")
    weak = sent(4, "The city has several other bridges across the river.")
    best = 0.9
    scored = [(best, why), (max(scorer.threshold(), scorer.extra_ratio() * best) + 0.01, more), (0.5, again),
              (scorer.threshold() - 0.01, weak)]
    assert A._pick(scored, "Why was the bridge closed?") == [why, more]


def test_the_answer_encoder_is_shipped_small_and_trained_on_training_halves_only():
    """The answerer's question–sentence cosines come from the fine-tuned encoder in the repo (int8 ONNX, at most
    25 MB), not from the retrieval model; it was trained on the train halves only."""
    from rag.embed import ANSWER_ENCODER, answer_encoder, get_embedder

    record = json.loads((ANSWER_ENCODER / "answer_encoder.json").read_text())
    assert record["data"]["train halves of"] and all(n > 0 for n in record["data"]["questions"].values())
    assert (ANSWER_ENCODER / "model.onnx").stat().st_size <= 25_000_000 and (ANSWER_ENCODER / "SOURCE.md").is_file()
    enc = answer_encoder()
    v = enc.encode(["Who designed the Tyne Bridge?", "The bridge was designed by Mott, Hay and Anderson."])
    assert v.shape == (2, 384) and abs(float(np.linalg.norm(v[0])) - 1) < 1e-3
    plain = get_embedder().encode(["Who designed the Tyne Bridge?"])[0]
    assert float(v[0] @ plain) < 0.999             # a different model from the retrieval one


def test_evidence_reads_sentences_with_the_answer_encoder_and_passages_with_the_index_vectors(retriever):
    from rag.embed import answer_encoder

    found = retriever.retrieve(AUSTRALIA, k=5)
    ev = Evidence(AUSTRALIA, found.hits, found.docs, retriever.embedder, question_vector=found.question_vector,
                  passage_vectors=found.passage_vectors)
    assert ev.encoder is answer_encoder()
    x = ev.features()
    alone = lambda model, texts: np.vstack([model.engine.encode_batch([t]) for t in texts])   # each text on its own
    enc = alone(answer_encoder(), [AUSTRALIA] + [s.text for s in ev.sents])
    assert np.allclose(x[:, 0], enc[1:] @ enc[0], atol=1e-5)                        # "cos"
    passage = np.asarray(found.passage_vectors)[ev.sents[0].n - 1] @ found.question_vector
    assert abs(float(x[0, 2]) - float(passage)) < 1e-4                              # "cos_passage"
    plain = alone(retriever.embedder, [s.text for s in ev.sents]) @ np.asarray(found.question_vector)
    assert np.allclose(x[:, FEATURES.index("cos_base")], plain, atol=1e-4)         # the retrieval model's cosine
    assert not np.allclose(x[:, 0], plain, atol=1e-2)


def test_the_retrieval_cosine_ranks_sentences_but_does_not_decide_whether_to_decline(retriever):
    """`cos_base` moves a sentence's probability, not P(answered): the answer model reads its own sentence model,
    fitted without the features that only rank (eval/fit.py, RANKING_ONLY)."""
    from rag import scorer

    model = scorer.model()
    assert "cos_base" in model["sentence"]["features"]
    assert "cos_base" not in model["question"]["sentences"]["features"]
    found = retriever.retrieve(AUSTRALIA, k=5)
    ev = Evidence(AUSTRALIA, found.hits, found.docs, retriever.embedder, question_vector=found.question_vector,
                  passage_vectors=found.passage_vectors)
    x = ev.features()
    moved = x.copy()
    moved[:, FEATURES.index("cos_base")] = 1.0
    p, p_moved = scorer.sentence_probability(x, FEATURES), scorer.sentence_probability(moved, FEATURES)
    assert np.abs(p_moved - p).max() > 0.01
    decided = scorer.answer_probability(p, x, FEATURES)
    assert scorer.answer_probability(p_moved, moved, FEATURES) == pytest.approx(decided)


def test_a_missing_answer_encoder_is_a_one_line_error(tmp_path):
    from rag.embed import answer_encoder

    with pytest.raises(RagError, match="the answer encoder is missing from .*; reinstall, or rebuild it with `make encoder`"):
        answer_encoder(tmp_path)


RELEASE_NOTES = ("<html><head><title>Tidepool 3.2 release notes</title></head><body><nav>Home | Docs</nav>"
                 "<h1>Tidepool 3.2 release notes</h1><p>Released on 18 June 2025.</p><h2>New features</h2><ul>"
                 "<li>Incremental sync: only files changed since the last run are uploaded, which cut a typical "
                 "nightly backup from 40 minutes to 6 minutes.</li><li>A new --dry-run flag shows what a sync would "
                 "change without writing anything.</li><li>Support for S3-compatible storage from Wasabi and "
                 "Backblaze B2.</li></ul><h2>Fixes</h2><ul><li>Symbolic links pointing outside the source folder are "
                 "no longer followed.</li><li>A crash when a file name contained a newline character has been "
                 "fixed.</li></ul><h2>Deprecations</h2><p>The --legacy-hash option is deprecated and will be removed "
                 "in Tidepool 4.0.</p><footer>Copyright 2025 Tidepool contributors. Privacy | Terms</footer>"
                 "</body></html>")


def test_a_question_for_what_a_section_lists_quotes_its_items(tmp_path):
    """"What are the new features?" over release notes: the items under the "New features" heading, in order, each
    cited, with no lead phrase (a list item says little the question's words would find, so the answer model alone
    declined it); the page's menu and small print are not text."""
    r, settings = indexed(tmp_path, {"release-notes.html": RELEASE_NOTES})
    ans = A.ask(r, "What are the new features in Tidepool 3.2?", settings)
    quotes = [c.quote for c in ans.citations]
    assert not ans.refused and len(quotes) == 3
    assert quotes[0].startswith("Incremental sync") and quotes[1].startswith("A new --dry-run flag")
    assert quotes[2].startswith("Support for S3") and ans.text.startswith("“Incremental sync")
    fixes = A.ask(r, "What were the fixes?", settings)
    assert [c.quote[:9] for c in fixes.citations] == ["Symbolic ", "A crash w"]
    assert_quotes_are_verbatim(r, ans)
    from rag.loaders import load

    (doc,) = load(settings.docs).documents
    assert "Copyright" not in doc.text and "Home | Docs" not in doc.text and "Released on 18 June 2025." in doc.text


def test_a_list_of_short_items_is_quoted_whole(tmp_path):
    """A recipe's six ingredients, short HTML items with no full stop: every one is quoted, in order (one item was
    read as the heading of the next, so only the first was found; at most LISTED are quoted)."""
    items = ["250 g red lentils", "1 onion, chopped", "2 carrots, diced", "1.2 litres vegetable stock",
             "2 teaspoons smoked paprika", "Juice of half a lemon"]
    r, settings = indexed(tmp_path, {"soup.html": "<html><head><title>Lentil soup</title></head><body><h1>Lentil soup"
                                                  "</h1><p>Serves four.</p><h2>Ingredients</h2><ul>"
                                                  + "".join(f"<li>{i}</li>" for i in items) + "</ul><h2>Method</h2>"
                                                  "<ol><li>Simmer the lentils for 30 minutes.</li></ol></body></html>"})
    ans = A.ask(r, "What are the ingredients?", settings)
    assert not ans.refused and [c.quote for c in ans.citations] == items, ans.text
    assert_quotes_are_verbatim(r, ans)


def test_how_much_is_answered_from_the_list_item_that_gives_the_amount(tmp_path):
    """"How much RAM does Quillpad need?" over a requirements list: the item that gives an amount of RAM, led by the
    amount nearest the word asked about; the answer model alone declined it (a list item says little). A question
    with a word no item, heading or title has ("the mobile app") is not answered from the list."""
    r, settings = indexed(tmp_path, {"install.md": "# Quillpad 2.4 installation guide\n\nQuillpad is a note-taking "
                                                   "server for small teams.\n\n## Requirements\n\n- Python 3.10 or "
                                                   "newer\n- At least 2 GB of RAM and 10 GB of free disk space\n\n"
                                                   "The default port is 8410.\n"})
    for question, lead in [("How much RAM does Quillpad need?", "At least 2 GB"),
                           ("How much disk space does Quillpad need?", "10 GB")]:
        ans = A.ask(r, question, settings)
        assert not ans.refused and ans.text.startswith(f"{lead} —"), ans.text
        assert ans.short_answer.text == lead and [c.quote for c in ans.citations] == [
            "At least 2 GB of RAM and 10 GB of free disk space"]
        assert_quotes_are_verbatim(r, ans)
    other = A.ask(r, "How much RAM does the mobile app need?", settings)
    assert not other.text.startswith("At least 2 GB"), other.text


def test_what_a_document_is_about_is_its_opening(tmp_path):
    """The chat app's example question, "What is “<title>” about?", is answered by that document's opening sentences
    in order, up to its first inner heading (a two-word sentence, "Serves four.", is a sentence too), not by the
    section whose heading shares a word with the title ("Installing" for "… installation guide")."""
    r, settings = indexed(tmp_path, {
        "install.md": "# Quillpad 2.4 installation guide\n\nQuillpad is a note-taking server for small teams. This "
                      "guide covers version 2.4, released on 2 September 2025.\n\n## Requirements\n\n- Python 3.10 "
                      "or newer\n\n## Installing\n\nDownload the package with pip. Then run quillpad init to "
                      "create the data folder.\n",
        "soup.md": "# Lentil soup\n\nServes four. Preparation takes 15 minutes and cooking about 40 minutes.\n\n"
                   "## Method\n\nSimmer the lentils in the stock for 30 minutes.\n"})
    ans = A.ask(r, "What is “Quillpad 2.4 installation guide” about?", settings)
    assert [c.quote for c in ans.citations] == ["Quillpad is a note-taking server for small teams.",
                                                "This guide covers version 2.4, released on 2 September 2025."]
    assert not ans.refused and ans.text.startswith("“Quillpad is a note-taking server"), ans.text
    soup = A.ask(r, "What does “Lentil soup” report?", settings)
    assert [c.quote for c in soup.citations] == ["Serves four.",
                                                 "Preparation takes 15 minutes and cooking about 40 minutes."]
    assert_quotes_are_verbatim(r, ans)
    assert_quotes_are_verbatim(r, soup)


def test_a_phrase_given_as_examples_is_not_the_answer_when_the_clause_denies_it():
    """"Roles that …, such as warehouse and delivery staff, are not eligible": the comma after an example list does
    not end the clause, so the phrase the reader picks for "Who is eligible …?" is denied and is no lead."""
    from rag import span_reader

    question = "Who is eligible for remote work?"
    said = ["Employees who have completed their six-month probation period may request remote work.",
            "Roles that require handling physical stock, such as warehouse and delivery staff, are not eligible."]
    picked = span_reader.get_reader().best(question, said)
    assert picked.text == "warehouse and delivery staff" and picked.margin > 0     # the reader alone leads with it
    assert A.short_answer(question, said) is None


FAQ = ("# Harbourview Gym — Frequently asked questions\n\n"
       "**What are your opening hours?**\nWe are open 6:00 to 22:00 on weekdays and 8:00 to 20:00 at weekends. On "
       "bank holidays we close at 16:00.\n\n"
       "**How much does membership cost?**\nA monthly membership costs £39. There is no joining fee.\n\n"
       "**Do you have parking?**\nThere are 40 free spaces behind the building.\n\n"
       "**How do I cancel?**\nGive one month's notice by email or at reception. Refunds are not given for unused "
       "days.\n")


def test_an_faqs_questions_are_headings_not_answers(tmp_path):
    """In an FAQ the asked question stands over its answer: it is never quoted as the answer (it was: "How do I
    cancel my membership?" got “How do I cancel?”), and it is the heading its answer is read under (by the word
    overlap and by the answer encoder, which reads "How do I cancel? Give one month's notice …")."""
    from rag import text as T

    r, settings = indexed(tmp_path, {"faq.md": FAQ})
    for question, said in [("How do I cancel my membership?", "Give one month's notice"),
                           ("Where can I park?", "There are 40 free spaces"),
                           ("What are the opening hours?", "We are open 6:00 to 22:00")]:
        ans = A.ask(r, question, settings)
        assert not ans.refused and ans.citations, question
        assert all(not c.quote.endswith("?") for c in ans.citations), question
        assert any(c.quote.startswith(said) for c in ans.citations), question
    text = FAQ.replace("**", "")
    assert T.heading_above(text, text.index("Give one month")) == "How do I cancel?"


def test_an_faq_answer_is_quoted_in_the_authors_order(tmp_path):
    """Sentences quoted from one section (an FAQ's answer) read in the order the author wrote them, whichever
    scored best; the lead phrase is still taken from the best."""
    r, settings = indexed(tmp_path, {"faq.md": FAQ})
    ans = A.ask(r, "How do I cancel my membership?", settings)
    starts = [c.start for c in ans.citations if c.doc_id == "faq.md"]
    assert len(starts) >= 2 and starts == sorted(starts)


def test_word_overlap_counts_a_capital_or_a_people_as_their_country(tmp_path):
    """"Tokyo's delegation" of a sentence that says "Japan's delegation": the question's words are all in it
    (`text.overlaps`, `rag/models/places.json`), as they are not in a sentence about another country."""
    r, settings = indexed(tmp_path, {
        "talks.txt": "The talks opened in Geneva on Monday. Japan's delegation was led by Foreign Minister Yoko "
                     "Kamikawa. Brazil's delegation was led by Mauro Vieira. The weather was mild.\n"})
    q = "Who led Tokyo's delegation?"
    found = r.retrieve(q, k=5)
    ev = Evidence(q, found.hits, found.docs, r.embedder)
    lex = dict(zip((s.text for s in ev.sents), ev.features()[:, FEATURES.index("lex")]))
    assert lex["Japan's delegation was led by Foreign Minister Yoko Kamikawa."] == pytest.approx(1.0)
    assert lex["Brazil's delegation was led by Mauro Vieira."] < 0.8


def test_a_year_question_is_not_led_by_a_date_that_holds_the_questions_own_year(tmp_path):
    """"In what year was the architect of the 1889 town hall born?" over a story whose dated sentence says when the
    hall was completed ("14 March 1889"): that date is the question's own year, not the answer, so it does not lead."""
    r, settings = indexed(tmp_path, {
        "hall.md": "# The harbour town hall\n\nThe town hall in the harbour district was completed on 14 March 1889 "
                   "after six years of work. Its architect, Hendrik Vos, also designed the fish market and two "
                   "churches in the old town.\n"})
    ans = A.ask(r, "In what year was the architect of the 1889 town hall born?", settings)
    assert "1889 —" not in ans.text.split("“")[0], ans.text
    assert ans.short_answer is None or "1889" not in ans.short_answer.text, ans.short_answer
    assert_quotes_are_verbatim(r, ans)


def test_the_fit_leaves_out_the_sentence_features_it_is_told_to(monkeypatch):
    """`eval/fit.py --without F` (how a new feature is judged against the fit without it): neither the ranking's
    sentence model nor the answer model's reads F, and each still reads its other features from their own columns
    (the one that tells answering rows apart weighs most); without the option both read every feature. Synthetic
    rows: the subject is which columns the fit reads, not what it learns."""
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "eval"))
    import fit

    rng = np.random.default_rng(0)
    told = FEATURES.index("length")         # after the left-out ones: their removal shifts its column

    def one_set(questions: int) -> dict:
        q = np.repeat(np.arange(questions), 6).astype(np.int32)
        answerable = rng.random(questions) < 0.7
        y = ((np.arange(len(q)) % 6 == 0) & answerable[q]).astype(np.int8)
        x = rng.random((len(q), len(FEATURES))).astype(np.float32)
        x[:, told] += 2 * y
        return {"x": x, "y": y, "q": q, "answerable": answerable}

    def heaviest(part: dict) -> str:
        return part["features"][int(np.argmax(np.abs(part["coef"])))]

    train = {"a": one_set(80), "b": one_set(60)}
    monkeypatch.setattr(fit, "WITHOUT", ("lex", "bigram"))
    part, qpart = fit.fit_answer_model(train)
    for model in (part, qpart["sentences"]):
        assert "lex" not in model["features"] and "bigram" not in model["features"] and "cos" in model["features"]
        assert heaviest(model) == "length", model["features"]
    monkeypatch.setattr(fit, "WITHOUT", ())
    part, qpart = fit.fit_answer_model(train)
    assert part["features"] == list(FEATURES) and heaviest(part) == "length"
    assert qpart["sentences"]["features"] == [f for f in FEATURES if f not in fit.RANKING_ONLY]
    assert heaviest(qpart["sentences"]) == "length"
