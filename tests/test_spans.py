"""Short answers: answer types and candidate spans (rag/spans.py), the reader and its reranker (rag/span_reader.py)."""
import json
import random
from pathlib import Path

import pytest

from rag import span_reader, spans
from rag.answer import short_answer
from rag.metrics import normalize_answer, split_of, token_f1
from rag.spans import answer_type, candidates

DATA = Path(__file__).resolve().parents[1] / "eval" / "datasets" / "xquad-en"


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


# ---- the reader (rag/span_reader.py) and the answerer's short answer ---------------------------------------------
def test_a_span_is_snapped_to_whole_words_and_whole_numbers():
    import doctest

    assert doctest.testmod(span_reader).failed == 0
    ctx = "It cost 1,200 pounds, or 3.5 times more, and opened at 09:30."
    ctx += " It was a three-day summit in 1990-1995."
    for piece, whole in (("200", "1,200"), ("3", "3.5"), ("30", "09:30"), ("three", "three"), ("1995", "1995")):
        a = ctx.index(piece, 8)
        assert ctx[slice(*span_reader._snap(ctx, a, a + len(piece)))] == whole

# Hand-written, Wikipedia-style; none of these sentences is in the eval sets.
WRITTEN = [
    ("When was the Sydney Opera House opened?",
     "The Sydney Opera House was formally opened by Queen Elizabeth II on 20 October 1973.", "20 October 1973"),
    ("How many moons does Mars have?",
     "Mars has two moons, Phobos and Deimos, which are small and irregularly shaped.", "two"),
    ("Where was Marie Curie born?", "Marie Curie was born in Warsaw, then part of the Russian Empire, in 1867.",
     "Warsaw"),
    ("When did Luther publish his German New Testament?",
     "Luther published his German translation of the New Testament in 1522, while hiding at Wartburg Castle.", "1522"),
    ("When did the empire collapse?", "The empire collapsed in 1453 because its armies were exhausted.", "1453"),
    ("What river flows through Vienna?", "Vienna lies on the Danube, the second-longest river in Europe.", "Danube"),
    ("Which band released the treadmill video?",
     "The treadmill video was released in 2006 by the American rock band OK Go.", "OK Go"),
    ("Who wrote The Hobbit?",
     "The Hobbit is a children's fantasy novel written by the English author J. R. R. Tolkien.", "J. R. R. Tolkien"),
    ("How much did the renovation of the museum cost?",
     "The renovation of the museum, completed in 2019, cost $16 million and took four years.", "$16 million"),
    ("Who represented Australia at the meeting?",
     "The meeting was attended by Australia's Deputy Prime Minister Richard Marles.", "Richard Marles"),
]


def test_the_reader_finds_the_answers_of_hand_written_sentences():
    reader = span_reader.get_reader()
    got = [reader.best(q, [s]) for q, s, _ in WRITTEN]
    for (q, s, gold), span in zip(WRITTEN, got):
        assert span is not None, q
        assert s[span.start:span.end] == span.text and span.sentence == 0
        assert token_f1(span.text, gold) >= 0.5, (q, span.text)
    exact = sum(normalize_answer(span.text) == normalize_answer(gold) for (_, _, gold), span in zip(WRITTEN, got))
    assert exact >= 8, [span.text for span in got]
    shown = [short_answer(q, [s]) for q, s, _ in WRITTEN]      # a span is shown when it beats "no answer"
    assert sum(x is not None for x in shown) >= 8, [(x.text, round(x.margin, 1)) for x in got]


def test_the_short_answer_may_come_from_a_later_quoted_sentence():
    quoted = ["The Lune Aqueduct is one of the finest canal aqueducts in England.",
              "It was built by John Rennie in 1797 to carry the Lancaster Canal over the river."]
    span = short_answer("When was the Lune Aqueduct built?", quoted)
    assert span is not None and span.sentence == 1 and span.text == "1797"
    assert quoted[1][span.start:span.end] == "1797"


def test_no_short_answer_for_why_and_how_questions_or_a_phrase_of_the_question():
    s = "The empire collapsed in 1453 because its armies were exhausted."
    assert short_answer("Why did the empire collapse?", [s]) is None
    assert short_answer("How does the empire collapse?", [s]) is None
    assert short_answer("What did the empire do in 1453?", ["In 1453."]) is None


# (question, sentence, the phrase a reader would lead with): each is turned down by short_answer's checks
DENIED = [("Who signed the treaty?", "Chancellor Otto Brandt never signed the treaty, which lapsed.", "Otto Brandt"),
          ("Who attended the opening of the bridge?",
           "Governor Tom Price’s decision not to attend the opening of the bridge surprised them.", "Tom Price")]
WRONG_KIND = [("Who translated for the minister?",
               "The minister, through a translator, referred to the three nations as the cornerstone of the alliance.",
               "three"),
              ("Who translated for the minister?",
               "The minister, through a translator, referred to the three nations as the cornerstone of the alliance.",
               "through a translator"),
              ("How many monks lived in the abbey?", "The monks of the order lived in the abbey until the fire.",
               "until the fire"),
              ("What is the official abbreviation of the fisheries agency?",
               "The agency, known in Norway by its abbreviation FDIR, inspects landings in every northern port.",
               "Norway")]
IDENTITY = [("Who is Maria Lindqvist?", "Maria Lindqvist met Prime Minister Johan Berg at the summit in Oslo.",
             "Johan Berg")]


class Proposing:
    """A reader that proposes one phrase, confidently: the subject here is what short_answer does with a reader's
    phrase, which must not hang on what the int8 reader's margins come to on one CPU or another."""
    threshold = 0.0

    def __init__(self, phrase: str):
        self.phrase = phrase

    def available(self) -> bool:
        return True

    def best(self, question, sentences):
        for k, sentence in enumerate(sentences):
            at = sentence.find(self.phrase)
            if at >= 0:
                return span_reader.Span(k, at, at + len(self.phrase), self.phrase, 5.0)
        return None


@pytest.mark.parametrize("question, sentence, phrase", DENIED + WRONG_KIND + IDENTITY)
def test_no_short_answer_the_sentence_denies_or_of_the_wrong_kind(question, sentence, phrase, monkeypatch):
    """What a reader would lead with that does not answer: a name whose own clause denies what was asked ("Otto
    Brandt never signed"), a number or a prepositional phrase for "Who…?", a time phrase for "How many…?", another
    person for "Who is <a name>?". The right phrase in the same place still leads (a control)."""
    monkeypatch.setattr(span_reader, "get_reader", lambda: Proposing(phrase))
    assert short_answer(question, [sentence]) is None, phrase
    monkeypatch.setattr(span_reader, "get_reader", lambda: Proposing("Anna Berg"))
    control = short_answer("Who translated for the minister?", ["Anna Berg translated for the minister."])
    assert control is not None and control.text == "Anna Berg"


def test_a_negation_elsewhere_or_the_right_kind_still_answers():
    joined = short_answer("When did Denmark join the EU?", ["Denmark joined in 1973 (though Norway did not join)."])
    assert joined.text == "1973"
    assert short_answer("Who did not sign the treaty?", ["Chancellor Otto Brandt did not sign the treaty."]) is not None
    assert short_answer("How many monks lived in the abbey?", ["Forty monks lived in the abbey."]).text == "Forty"
    assert short_answer("Who translated for the minister?",
                        ["Anna Berg translated for the minister at the three meetings."]).text == "Anna Berg"
    # "Who was <a title>?" asks for the name that holds it
    titled = short_answer("Who was Count of Apulia?", ["In 1059 the Count of Apulia was Robert Guiscard, a Norman."])
    assert titled.text == "Robert Guiscard"


def test_a_question_for_several_gets_the_whole_list_and_one_for_a_time_of_day_gets_one():
    """"Which countries …?" is led by every name of the list the reader's phrase is one of; "Which city …?" by one.
    "At what time of day …?" is led by a time of day or by nothing, never by a name."""
    s = "The Nordic group is the grouping of Norway, Denmark, Sweden and Finland, a partner group within the union."
    several = short_answer("Which countries make up the Nordic group?", [s])    # the reader's own phrase: "Denmark"
    assert several is not None and several.text == "Norway, Denmark, Sweden and Finland", several
    assert s[several.start:several.end] == several.text
    one = short_answer("Which city hosted the first match?", ["The first match was played in Hull, not in Leeds."])
    assert one is not None and one.text == "Hull"
    s = "The mayor is expected to open the new library with the Minister of Culture early in the afternoon."
    when = short_answer("At what time of day will the mayor open the library?", [s])
    assert when is None or "afternoon" in when.text, when.text
    assert spans.contradicts("At what time of day will it open?", "Minister of Culture")


def test_no_short_answer_a_negation_before_it_denies():
    """The object of a denied verb does not answer: "Windows Server" in "does not run on Windows Server" for "Which
    systems does it support?", "the forum" in "…, never on the forum" for "Where should I report it?"."""
    for question, sentence, denied in [
            ("Which operating systems does Quillpad support?",
             "Quillpad does not run on Windows Server; use Linux or macOS.", "Windows Server"),
            ("Where should I report a security problem?",
             "Security problems should be reported by e-mail to security@quillpad.example, never on the forum.",
             "the forum")]:
        reader = span_reader.get_reader()
        found = reader.best(question, [sentence])
        assert found is not None and found.text == denied      # the reader alone leads with it
        shown = short_answer(question, [sentence])
        assert shown is None or denied not in shown.text, shown


def test_a_date_or_an_amount_is_shown_whole():
    """The reader's "September 2025" is shown as the whole date "2 September 2025"; for "How long …?" its "about 40"
    keeps its unit; a time of day for "When …?" takes its day; "How long …?" is never led by a phrase without an
    amount ("olive oil")."""
    s = "This guide covers version 2.4, released on 2 September 2025."
    assert short_answer("When was version 2.4 released?", [s]).text == "2 September 2025"
    s = "Preparation takes 15 minutes and cooking about 40 minutes."
    assert short_answer("How long does the soup take to cook?", [s]).text == "about 40 minutes"
    s = "The next meeting is on Tuesday 11 November at 7.30 pm in the church hall."
    assert short_answer("When is the next meeting?", [s]).text == "Tuesday 11 November at 7.30 pm"
    s = "Soften the onion and carrots in olive oil for 8 minutes."
    shown = short_answer("How long should the onion be softened?", [s])
    assert shown is None or "8 minutes" in shown.text, shown
    s = "Ferrule needs Python 3.9 or later and the exiftool program."      # a version is a number
    assert span_reader.get_reader().best("What version of Python does it need?", [s]).text == "exiftool program"
    shown = short_answer("What version of Python does it need?", [s])
    assert shown is None or "3.9" in shown.text, shown


def test_who_did_it_is_answered_by_the_doer_a_passive_sentence_names():
    """The reader prefers "no answer" for "Who designed the new logo?" over "…, designed by Pittard Sullivan, …"; the
    doer the passive names for the same verb leads instead. A question about something else gets no such lead."""
    s = "In 1998 the network began using a minimalist logo, designed by Pittard Sullivan, featuring a small circle."
    assert span_reader.get_reader().best("Who designed the new logo?", [s]).margin < 0
    found = short_answer("Who designed the new logo?", [s])
    assert found is not None and found.text == "Pittard Sullivan" and s[found.start:found.end] == found.text
    assert spans.agent("Who designed the stadium?", s) is None


def test_a_very_long_question_or_context_is_read_not_refused():
    """The pair is cut to the model's 256 word pieces: a long question keeps its first 96, a long context its start."""
    long_q = "Who " + "really " * 400 + "wrote The Hobbit?"
    assert span_reader.get_reader().best(long_q, ["The Hobbit was written by J. R. R. Tolkien."]) is not None
    span = span_reader.get_reader().best("Who wrote The Hobbit?",
                                         ["The Hobbit was written by J. R. R. Tolkien."] + ["Filler text."] * 300)
    assert span is not None and span.sentence == 0 and span.text == "J. R. R. Tolkien"


def test_a_sentence_without_the_answer_gets_none():
    """Trained with "no answer" examples (SQuAD 2.0 style): an on-topic sentence lacking the answer loses to [CLS]."""
    span = span_reader.get_reader().best("When was the Sydney Opera House opened?",
                                         ["The Sydney Opera House is a multi-venue performing arts centre in Sydney."])
    assert span is None or span.margin < span_reader.get_reader().threshold


def test_held_out_xquad_gold_sentences():
    """On a fixed sample of XQuAD's held-out half (never trained on): the reader given the gold sentence. Whole held-out
    half: F1 0.49 (span_reader.json); the floor leaves room for the sample."""
    from rag.text import sentence_spans
    docs = {d["id"]: d for d in map(json.loads, open(DATA / "corpus.jsonl", encoding="utf-8"))}
    rows = [json.loads(line) for line in open(DATA / "questions.jsonl", encoding="utf-8")]
    rows = [r for r in rows if split_of(r["id"]) == "heldout"][:120]
    f1 = []
    for r in rows:
        text = docs[r["gold_doc_ids"][0]]["text"]
        gold = next((text[a:b] for a, b in sentence_spans(text) if any(x in text[a:b] for x in r["answers"])), None)
        if gold is None:
            continue
        span = span_reader.get_reader().best(r["question"], [gold])
        f1.append(max(token_f1(span.text, x) for x in r["answers"]) if span else 0.0)
    assert len(f1) > 100
    assert sum(f1) / len(f1) >= 0.40, sum(f1) / len(f1)


def test_model_files_carry_provenance_and_heldout_figures():
    info = span_reader.get_reader().info
    assert info["format_version"] == span_reader.FORMAT_VERSION
    assert "split_of" in info["training_data"]["split"] and info["training_data"]["examples"] > 1000
    assert info["heldout"]["xquad sentence"]["questions"] > 500
    assert len(info["reranker"]["feature_names"]) == len(info["reranker"]["coefficients"]) > 20
    assert (span_reader.MODEL_DIR / "model.onnx").stat().st_size <= 25_000_000
    assert (span_reader.MODEL_DIR / "SOURCE.md").is_file()


def test_model_of_another_format_version_is_refused(tmp_path):
    import shutil
    for f in span_reader.MODEL_DIR.iterdir():
        if f.suffix in (".json", ".onnx") or f.name.startswith("tokenizer"):
            shutil.copy(f, tmp_path / f.name)
    info = json.loads((tmp_path / "span_reader.json").read_text())
    info["format_version"] = 99
    (tmp_path / "span_reader.json").write_text(json.dumps(info))
    with pytest.raises(RuntimeError, match="format 99"):
        span_reader.SpanReader(tmp_path).best("Who?", ["Ann did."])


def test_a_described_person_is_the_name_after_the_questions_own_description():
    s = ("The delegation was received by French President Emmanuel Macron, German Chancellor Olaf Scholz and "
         "Italian Prime Minister Giorgia Meloni.")
    assert [s[a:b] for a, b in spans.described("Who is the German chancellor who received the delegation?", s)] == \
        ["Olaf Scholz"]
    assert [s[a:b] for a, b in spans.described("Which Italian prime minister received them?", s)] == ["Giorgia Meloni"]
    # no description of its own ("Which leader …?"), a verb after "who", or a description the sentence never uses
    assert spans.described("Which leader received them?", s) == []
    assert spans.described("Who received the delegation?", s) == []
    assert spans.described("Which Spanish minister received them?", s) == []


@pytest.mark.parametrize("question, sentence, phrase, shown", [
    ("Who developed the indicator for Charles Porter?",
     "It was developed for the high speed engine inventor and manufacturer Charles Porter by Charles Richard.",
     "high speed engine inventor and manufacturer Charles Porter by Charles Richard", "Charles Richard"),
    ("Who dominates long distance running?", "Kenyan athletes (particularly Kalenjin) dominate it.",
     "Kenyan athletes (particularly Kalenjin)", "Kenyan athletes (particularly Kalenjin)"),
    ("Who was the leader of the regime?", "The regime was led by Hassan al-Turabi.", "Hassan al-Turabi",
     "Hassan al-Turabi"),
    ("Who helped him rescue his wife?", "He was helped by Jamukha, and his protector, Toghrul Khan.",
     "Jamukha, and his protector, Toghrul Khan", "Jamukha, and his protector, Toghrul Khan"),
    ("Where was the indicator developed?",
     "It was developed for the high speed engine inventor and manufacturer Charles Porter by Charles Richard.",
     "high speed engine inventor and manufacturer Charles Porter by Charles Richard",
     "high speed engine inventor and manufacturer Charles Porter by Charles Richard")])
def test_a_who_question_is_led_by_the_name_a_long_phrase_ends_with(question, sentence, phrase, shown):
    """A reader's phrase that says much more than the name asked for is cut to the name (not one the question
    holds); a phrase that is mostly names, a name with a particle, or a question for no person is left whole."""
    a = sentence.index(phrase)
    assert sentence[slice(*spans.the_name_in(question, sentence, a, a + len(phrase)))] == shown


def test_a_country_word_of_a_description_matches_the_countrys_other_words():
    """"Which Estonian leader …?" of a sentence that writes "Estonia's Prime Minister": a country is named by its
    name, people or capital (`text.place_words`), and when the sentence gives the person's office rather than the
    question's word for it, the name after the country is the one described, its office words left out."""
    s = ("On Friday the chancellor met Finland's President Sauli Niinisto, Polish Prime Minister Donald Tusk and "
         "Estonia's Prime Minister Kaja Kallas in Berlin.")
    assert [s[a:b] for a, b in spans.described("Which Estonian leader did the chancellor meet?", s)] == ["Kaja Kallas"]
    assert [s[a:b] for a, b in spans.described("Which Finnish president came?", s)] == ["Sauli Niinisto"]
    assert [s[a:b] for a, b in spans.described("Which Polish leader came?", s)] == ["Donald Tusk"]
    assert spans.described("Which Latvian leader came?", s) == []         # a country the sentence never names
    assert spans.described("Which leader came?", s) == []                 # no description of its own
    assert spans.described("Which Polish poet came?", s) == []            # a poet is no office the sentence gives
    gdr = "The last Prime Minister of the German Democratic Republic, Lothar de Maiziere, was a Huguenot."
    assert spans.described("Which German leader was a Huguenot?", gdr) == []      # no office after the country


def test_a_described_name_leads_when_the_readers_phrase_is_denied(monkeypatch):
    """The reader's phrase is denied by its own clause ("Olaf Scholz did not attend"); a quoted sentence that names
    someone with the question's own description ("Japan's Prime Minister" for "the Japanese prime minister") gives
    the lead instead, from whichever quoted sentence says it."""
    monkeypatch.setattr(span_reader, "get_reader", lambda: Proposing("Olaf Scholz"))
    sentences = ["German Chancellor Olaf Scholz did not attend the meeting in Osaka.",
                 "The meeting included Japan's Prime Minister Fumio Kishida and India's Narendra Modi."]
    found = short_answer("Who is the Japanese prime minister who attended the meeting?", sentences)
    assert (found.sentence, found.text) == (1, "Fumio Kishida")
    # the reader's own phrase stays when no quoted sentence describes anyone so
    assert short_answer("Who is the Brazilian president who attended the meeting?", sentences) is None


def test_a_year_cut_from_the_readers_date_is_no_answer_when_the_question_gives_it():
    """"In what year …?" cuts the reader's "14 March 1889" to "1889"; when that is the question's own year it does
    not lead, whether or not another quoted sentence answers (the reader's next phrase is not tried: README,
    session 17), while a year the question does not give still does."""
    question = "In what year was the architect of the 1889 town hall born?"
    built = "Work on the town hall in the harbour district was completed on 14 March 1889."
    born = "Its architect, Hendrik Vos, was born in Leiden in 1851."
    assert span_reader.get_reader().best(question, [built]).text == "14 March 1889"    # what the check is about
    assert short_answer(question, [built]) is None
    assert getattr(short_answer(question, [built, born]), "text", None) != "1889"
    found = short_answer(question, [born])
    assert (found.sentence, found.text) == (0, "1851")


def test_an_office_holder_question_is_led_by_the_name_the_office_introduces(monkeypatch):
    """"Which secretary …?", "Which ambassador …?" ask for a person (as "Which minister …?" does), so the name after
    the question's own office word leads; a reader's phrase that runs on past that name ("Lindqvist and the regional
    directors of Uppsala") is cut to it."""
    assert spans.answer_type("Which Secretary of Health will visit the clinics?") == "person"
    assert spans.answer_type("Which ambassador opened the fair?") == "person"
    sentence = ("Next month Secretary Lindqvist and the regional directors of\nUppsala will visit the new clinics "
                "together.")
    monkeypatch.setattr(span_reader, "get_reader",
                        lambda: Proposing("Lindqvist and the regional directors of\nUppsala"))
    found = short_answer("Which Secretary of Health will visit the new clinics?", [sentence])
    assert found.text == "Lindqvist"
    # the reader's phrase stays whole when the question's description introduces no name in it
    assert short_answer("Which officials will visit the new clinics?", [sentence]).text == \
        "Lindqvist and the regional directors of\nUppsala"
