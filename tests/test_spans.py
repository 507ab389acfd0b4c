"""Short answers (rag/spans.py): answer types, candidate spans and the fitted ranker."""
import json
import random

import pytest

from rag import spans
from rag.spans import answer_type, best_span, candidates


def found(sentence: str) -> dict[str, str]:
    return {c.text: c.kind for c in candidates(sentence)}


# ---- candidates -------------------------------------------------------------------------------------------------
def _random_text(rng: random.Random) -> str:
    pieces = ["OK", "Go", "J.", "R.", "Tolkien's", "the", "of", "von", "1530", "$16", "million", "3.5", "km", "25%",
              "10", "July", "2024", "2024-07-10", "1990s", "19th", "century", "four", "twenty-one", "Mr.", "no.", "U.S.",
              "“quoted", "title”", "(ARTS)", "—", ",", ";", "'", "\"", "é", "Zürich", "O'Brien", "AD", "476", "BC",
              "between", "and", "over", "late", "\n", "  ", "Bank", "England", "NATO's", "½", "€1.2", "billion"]
    return " ".join(rng.choice(pieces) for _ in range(rng.randint(0, 40)))


def test_offsets_always_point_at_the_text():
    rng = random.Random(7)
    texts = [_random_text(rng) for _ in range(400)] + [
        "", " ", "...", "$", "1", "A", "Dr. J. R. R. Tolkien (1892–1973) wrote it.", "’s", "OK Go's video, 2006."]
    with open("eval/datasets/xquad-en/corpus.jsonl", encoding="utf-8") as f:
        texts += [json.loads(line)["text"] for line in list(f)[:40]]
    for text in texts:
        for c in candidates(text):
            assert text[c.start:c.end] == c.text and c.text == c.text.strip() and c.text, (text, c)
            assert c.kind in spans.KINDS


@pytest.mark.parametrize("sentence, text, kind", [
    ("The American rock band OK Go released the video in 2006.", "OK Go", "name"),
    ("The Hobbit was written by J. R. R. Tolkien and published in 1937.", "J. R. R. Tolkien", "name"),
    ("Australia's Deputy Prime Minister Richard Marles attended.", "Richard Marles", "name"),
    ("NATO's summit in Washington ended.", "NATO", "name"),           # possessive left out of the span
    ("He met the Bank of England's governor.", "Bank of England", "name"),
    ("In 1530 he published a French language Bible.", "1530", "date"),
    ("Luther died in 1546, Charlemagne in 814 and Augustus in AD 14.", "814", "date"),
    ("The renovation cost $16 million.", "$16 million", "number"),
    ("The deal is worth 1.2 billion euros.", "1.2 billion euros", "number"),
    ("The trail is 3.5 km long.", "3.5 km", "number"),
    ("Turnout rose by 25% in no. 10 Downing Street.", "25%", "number"),
    ("He made four tackles.", "four", "number"),
    ("He made four tackles.", "four tackles", "number"),
    ("The leaders met on 10 July 2024 in Washington.", "10 July 2024", "date"),
    ("The leaders met on July 10, 2024 in Washington.", "July 10, 2024", "date"),
    ("The file is dated 2024-07-10.", "2024-07-10", "date"),
    ("Grunge peaked in the 1990s.", "1990s", "date"),
    ("Schools spread in the nineteenth century.", "nineteenth century", "date"),
    ("It happened on a Thursday.", "Thursday", "date"),
    ("Rome was founded in 753 BC.", "753 BC", "date"),
    ("Tesla wrote \"A Machine to End War\" in 1937.", "A Machine to End War", "name"),
    ("Only 100–150 species have been validated.", "100–150", "number"),
    ("The network carries over 37 million passengers.", "over 37 million", "number"),
    ("The principle of nonviolent protest spread.", "nonviolent protest", "phrase"),
])
def test_candidates_include(sentence, text, kind):
    assert found(sentence).get(text) == kind


def test_no_is_not_an_abbreviation_and_names_do_not_swallow_sentence_openers():
    got = found("The band played in no. 7 venues. In Paris the crowd cheered.")
    assert "7" in got and "Paris" in got
    assert "In Paris" not in got and "The" not in got


# ---- answer types ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("question, expected", [
    ("How many bridges cross the Seine in Paris?", "number"),
    ("How much did the stadium cost?", "number"),
    ("How old was the queen at her coronation?", "number"),
    ("How long is the Danube?", "number"),
    ("What percentage of voters turned out?", "number"),
    ("What is the population of Lagos?", "number"),
    ("When did the Ottoman Empire capture Constantinople?", "date"),
    ("In what year was the treaty signed?", "date"),
    ("Which century saw the rise of the printing press?", "date"),
    ("Who painted the ceiling of the Sistine Chapel?", "person"),
    ("Whose theory replaced the geocentric model?", "person"),
    ("Which composer wrote the Brandenburg Concertos?", "person"),
    ("What Roman emperor built the wall?", "person"),
    ("Where is the headquarters of the company?", "place"),
    ("In which city did the riots begin?", "place"),
    ("The river flows into what sea?", "place"),
    ("What is the name of the ship that sank?", "name"),
    ("Which team won the 1966 World Cup?", "name"),
    ("What gas do plants absorb?", "phrase"),
    ("Why did the empire collapse?", ""),
    ("How does photosynthesis work?", ""),
    ("Is the Nile longer than the Amazon?", ""),
    ("Did the treaty end the war?", ""),
    ("Tell me about the Hanseatic League.", ""),
])
def test_answer_type(question, expected):
    assert answer_type(question) == expected


# ---- the fitted ranker ------------------------------------------------------------------------------------------
# Hand-written, Wikipedia-style; none of these sentences is in the eval sets.
CONFIDENT = [
    ("When was the Sydney Opera House opened?",
     "The Sydney Opera House was formally opened by Queen Elizabeth II on 20 October 1973.", "20 October 1973"),
    ("How many moons does Mars have?",
     "Mars has two moons, Phobos and Deimos, which are small and irregularly shaped.", "two"),
    ("Where was Marie Curie born?", "Marie Curie was born in Warsaw, then part of the Russian Empire, in 1867.",
     "Warsaw"),
    ("When did Luther publish his German New Testament?",
     "Luther published his German translation of the New Testament in 1522, while hiding at Wartburg Castle.", "1522"),
    ("When did the empire collapse?", "The empire collapsed in 1453 because its armies were exhausted.", "1453"),
]
HARDER = [  # ranked first, but (today) below the threshold, so no short answer is shown for them
    pytest.param("What river flows through Vienna?", "Vienna lies on the Danube, the second-longest river in Europe.",
                 "Danube", marks=pytest.mark.xfail(strict=True, reason="the ranker fitted on quoted sentences puts "
                                                   "Europe (0.31) a hair above Danube (0.31)")),
    ("Which band released the treadmill video?",
     "The treadmill video was released in 2006 by the American rock band OK Go.", "OK Go"),
    ("Who wrote The Hobbit?",
     "The Hobbit is a children's fantasy novel written by the English author J. R. R. Tolkien.", "J. R. R. Tolkien"),
    ("How much did the renovation of the museum cost?",
     "The renovation of the museum, completed in 2019, cost $16 million and took four years.", "$16 million"),
]


@pytest.mark.parametrize("question, sentence, answer", CONFIDENT)
def test_best_span_picks_the_answer(question, sentence, answer):
    c = best_span(question, sentence)
    assert c is not None and c.text == answer
    assert sentence[c.start:c.end] == c.text and spans.load_model()["threshold"] <= c.score <= 1


@pytest.mark.parametrize("question, sentence, answer", CONFIDENT + HARDER)
def test_the_answer_ranks_first(question, sentence, answer):
    ranked = spans.rank(question, sentence)
    assert ranked[0].text == answer
    assert ranked[0].score > ranked[1].score and all(0 <= c.score <= 1 for c in ranked)


def test_the_issue_example_leads_with_the_name():
    c = best_span("Who represented Australia at the meeting?",
                  "The meeting was attended by Australia's Deputy Prime Minister Richard Marles.")
    assert c is not None and c.text == "Richard Marles"


def test_the_short_answer_may_come_from_a_later_quoted_sentence():
    quoted = [(0.8, "The Lune Aqueduct is one of the finest canal aqueducts in England."),
              (0.6, "It was built by John Rennie in 1797 to carry the Lancaster Canal over the river.")]
    found = spans.best_of("When was the Lune Aqueduct built?", quoted)
    assert found is not None and found[0] == 1 and found[1].text == "1797"
    assert quoted[1][1][found[1].start:found[1].end] == "1797"


def test_a_weakly_answering_sentence_lowers_its_phrases_scores():
    sentence = "Mars has two moons, Phobos and Deimos, which are small and irregularly shaped."
    strong = spans.rank("How many moons does Mars have?", sentence, p=0.9, best_p=0.9)
    weak = spans.rank("How many moons does Mars have?", sentence, p=0.1, best_p=0.9, rank_=1)
    assert strong[0].text == weak[0].text == "two" and strong[0].score > weak[0].score


def test_best_span_declines_questions_without_a_short_answer():
    s = "The empire collapsed in 1453 because its armies were exhausted."
    assert best_span("Why did the empire collapse?", s) is None
    assert best_span("How does the empire collapse?", s) is None


def test_model_file_is_json_with_provenance_and_heldout_figures():
    model = json.loads(spans.MODEL_PATH.read_text(encoding="utf-8"))
    assert model["format_version"] == spans.MODEL_VERSION
    assert len(model["feature_names"]) == len(model["coefficients"]) > 20
    assert 0 < model["threshold"] < 1
    assert "split_of" in model["data"]["split"] and model["data"]["positives"] > 100
    xq = model["heldout_oracle_sentence"]["xquad-en"]
    assert xq["questions"] > 500 and 0.2 < xq["coverage"] <= 1 and xq["f1_answered"] > 0.6
    assert "hotpotqa-dev500 span" in model["heldout_oracle_sentence"]
    quoted = model["heldout_quoted_sentences"]["xquad-en"]   # the sentences `rag ask` quotes, not the gold one
    assert quoted["questions"] > 500 and 0.2 < quoted["coverage"] <= 1 and quoted["f1_answered"] > 0.5


def test_model_of_another_format_version_is_refused(tmp_path):
    bad = json.loads(spans.MODEL_PATH.read_text(encoding="utf-8"))
    bad["format_version"] = 99
    path = tmp_path / "spans.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(ValueError, match="format version"):
        spans.load_model(path)
