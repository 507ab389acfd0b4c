"""Follow-up rewriting: only a question that leans on the conversation is rewritten; one that stands alone goes
through unchanged, whatever came before it."""
from __future__ import annotations

import pytest

from rag.embed import Embedder
from rag.followup import is_followup, rewrite


@pytest.fixture(scope="module")
def embedder():
    """The packaged MiniLM: it decides which earlier name a new one stands in for (Spain for France, not VAT)."""
    return Embedder()

STANDALONE = [
    ("What are the four new flagship projects between NATO and its Indo-Pacific partners?",
     "Who represented Australia at the meeting with NATO's Indo-Pacific partners?"),
    ("What are the four new flagship projects between NATO and its Indo-Pacific partners?",
     "Who chaired the Indo-Pacific 4 meeting?"),
    ("How tall is the Eiffel Tower?", "What is the capital of France?"),
    ("When did Apple release its first iPhone?", "Who founded Microsoft?"),
    ("Who is Angela Merkel?", "What is the VAT rate in France?"),
    ("Who is the treasurer?", "How long is the warranty?"),     # one word of its own, asked about by "who is"
]


@pytest.mark.parametrize("question, previous", STANDALONE)
def test_a_question_that_stands_alone_is_not_rewritten(question, previous):
    assert not is_followup(question)
    assert rewrite(question, [(previous, "Some answer [1].")]) == question


@pytest.mark.parametrize("question, previous, expected", [
    ("And in Germany?", "What is the VAT rate in France?", "What is the VAT rate in Germany?"),
    ("And Spain?", "What is the VAT rate in France?", "What is the VAT rate in Spain?"),
    ("What about its population?", "What is the capital of France?", "What is France's population?"),
    ("What about in Ohio?", "How many people live in Texas?", "How many people live in Ohio?"),
])
def test_elliptic_follow_ups_take_the_previous_question(question, previous, expected, embedder):
    assert is_followup(question)
    assert rewrite(question, [(previous, "An answer [1].")], embedder=embedder) == expected


def test_a_dangling_pronoun_takes_the_previous_answers_person():
    out = rewrite("When was he born?", [("Who wrote Hamlet?", "William Shakespeare wrote it [1].")])
    assert "William Shakespeare" in out and " he " not in f" {out} "


def test_a_pronoun_after_a_one_word_question_takes_its_answers_person():
    history = [("How long is the warranty?", "two-year — “The router comes with a two-year limited warranty.” [1]"),
               ("Who is the treasurer?", "Priya Shah — “The treasurer, Priya Shah, reported a balance of £4,210.” [1]")]
    assert rewrite("What balance did she report?", history) == "What balance did Priya Shah report?"


def test_the_first_turn_is_never_rewritten():
    assert rewrite("And in Germany?", []) == "And in Germany?"


@pytest.mark.parametrize("question, previous, expected", [
    # "it" is the thing the previous question's name qualifies, when that phrase ends the question
    ("And where was it held?", "Who chaired the Indo-Pacific 4 meeting?", "Where was the Indo-Pacific 4 meeting held?"),
    ("How much did it cost?", "Who opened the Sheffield tool factory?",
     "How much did the Sheffield tool factory cost?"),
    # otherwise the name itself: "the capital of France" is not France, and a phrase in mid-question is not taken
    ("What about its population?", "What is the capital of France?", "What is France's population?"),
    ("When was it founded?", "What did the Lancaster Canal Trust say about the aqueduct?",
     "When was Lancaster Canal Trust founded?"),
])
def test_it_stands_for_the_thing_the_previous_question_asked_about(question, previous, expected, embedder):
    assert rewrite(question, [(previous, "…")], None, embedder) == expected


@pytest.mark.parametrize("question, previous, expected", [
    # a follow-up about another thing of the same kind, in lower case: it takes the place of the phrase that ends in
    # the same word, or, said with a preposition, is added to the previous question
    ("And paternity leave?", "How long is maternity leave?", "How long is paternity leave?"),
    ("And the Pro plan?", "How much does the Basic plan cost per month?", "How much does the Pro plan cost per month?"),
    ("And for part-time staff?", "How many days of annual leave do employees get?",
     "How many days of annual leave do employees get for part-time staff?"),
    # "it" with no name before it: the one thing the previous question asked about
    ("Is it paid?", "How long is paternity leave?", "Is paternity leave paid?"),
    ("Who do I ask about it?", "How long is paternity leave?", "Who do I ask about paternity leave?"),
    # a leading "And" on a question with words enough of its own adds nothing
    ("And what did the probes cost?", "How much water did the sensor plots save?", "What did the probes cost?"),
])
def test_follow_ups_about_things_without_names(question, previous, expected, embedder):
    assert rewrite(question, [(previous, "An answer [1].")], None, embedder) == expected


def test_a_chain_of_follow_ups_keeps_its_thing():
    history = [("How long is maternity leave?", "26 weeks — “Maternity leave | 26 weeks | full pay for 16 weeks” [1]"),
               ("And paternity leave?", "4 weeks — “Paternity leave | 4 weeks | full pay” [1]"),
               ("Who do I ask about it?", "“Questions about this policy go to Priya Raman, Head of People.” [1]")]
    assert rewrite("Is it paid?", history) == "Is paternity leave paid?"
    assert rewrite("And who reported it?", [("What was fixed?", "“A crash was fixed.” [1]")]) != "Who reported A?"
