"""Answering with checked citations: the extractive answerer, the LLM answerers (`openai`, `local`), the citation
checks every answer goes through, and refusal (`rag.present` renders an Answer). The sentences
quoted and checked come from `rag.evidence`.

Whether anything answers is decided once, by the fitted answer model (`rag.scorer`), for every answerer: when the
retrieved sentences do not answer it the question is declined in plain words, quoting the closest passage, and no
LLM is called. Sources are numbered by hit rank while an answer is made (the LLM sees hits[n-1] as [n]); the final Answer
numbers its citations 1, 2, 3 in reading order, structurally (`_compose`), and `cited_hit` finds the hit behind a
number. Every citation quotes a sentence of its document verbatim, with its character span:
`docs[c.doc_id].text[c.start:c.end] == c.quote`.
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Iterator, Sequence

from . import compare, dates, followup, llm, parts as P, scorer, span_reader, spans, text as T
from .config import ANSWERERS, REFUSAL
from .errors import RagError
from .evidence import FEATURES, Evidence, Sent, missing_names
from .storage import Filter
from .types import Answer, Citation, Found, Hit, ShortAnswer

NOTHING_INDEXED = "Nothing is indexed yet: add documents and run `rag index` (or upload them in the app)."
_MARKER = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")
_DECLINE = re.compile(r"\b(?:do(?:es)? not|don't|doesn't|cannot|can't|no information|not (?:mentioned|stated|"
                      r"specified|provided|contain))\b.*\b(?:say|mention|contain|answer|information|sources?|documents?)",
                      re.IGNORECASE)


def ask(retriever, question: str, settings, history: Sequence = (), where: Filter | None = None) -> Answer:
    """Answer `question` from the index behind `retriever`, with verified [n] citations (or a refusal), searching
    only the documents `where` allows."""
    answer = None
    for item in ask_stream(retriever, question, settings, history, where):
        answer = item
    return answer


def ask_stream(retriever, question: str, settings, history: Sequence = (),
               where: Filter | None = None) -> Iterator[str | Answer]:
    """Yield answer-text deltas as they arrive; the last item is the checked Answer, whose text replaces them.
    The retriever is searched once; everything after works on what that search returned (`types.Found`)."""
    if settings.answerer not in ANSWERERS:
        raise RagError(f"unknown answerer {settings.answerer!r}; set RAG_ANSWERER to one of {', '.join(ANSWERERS)}")
    note, chat = "", None
    try:
        chat = llm.get_chat(settings)
    except llm.LLMError as e:
        note = f"{e}; showing the extractive answer"
    standalone = question
    if history:
        try:
            standalone = followup.rewrite(question, history, chat, retriever.embedder)
        except llm.LLMError as e:   # the LLM is down: don't wait for it a second time to answer
            note, chat = f"{e}; showing the extractive answer", None
            standalone = followup.rewrite(question, history, None, retriever.embedder)
    found = retriever.retrieve(standalone, k=settings.top_k, mode=settings.mode, where=where)
    standalone, hits = found.question, found.hits       # the question as searched: a typo read as the documents' word
    base = Answer(question, standalone, "", (), hits, answerer=settings.answerer if chat else "extractive", note=note)
    ev = Evidence(standalone, hits, found.docs, retriever.embedder, question_vector=found.question_vector,
                  passage_vectors=found.passage_vectors)
    decision = decide(ev, found, base)
    if isinstance(decision, Answer) or chat is None:
        answer = decision if isinstance(decision, Answer) else extractive_answer(ev, decision, base)
        yield answer.text
        yield answer
        return
    parts: list[str] = []
    try:
        for delta in chat.stream(llm.build_messages(standalone, hits)):
            parts.append(delta)
            yield delta
        yield check_answer("".join(parts), ev, base)
        return
    except llm.LLMError as e:
        base = replace(base, answerer="extractive", note=f"{e}; showing the extractive answer")
    answer = extractive_answer(ev, decision, base)
    yield answer.text
    yield answer


def decide(ev: Evidence, found: Found, base: Answer) -> list[tuple[float, Sent]] | Answer:
    """The sentences that answer, scored and best first, or the refusal (built on `base`) when none does: the same
    decision for every answerer, so an LLM is not called when nothing answers."""
    if not found.indexed:
        return _refuse(base, NOTHING_INDEXED, "nothing is indexed")
    if not ev.hits:
        return _refuse(base, "No passage matches the question.", "no passage matched the question")
    missing = missing_names(ev.question, found.mentioned, found.contained)
    x = ev.features()
    p = scorer.sentence_probability(x, FEATURES)
    scored = sorted(zip(p.tolist(), ev.sents), key=lambda item: -item[0])
    if missing:
        return _refuse(base, f"The documents never mention {', '.join(missing)}.",
                       f"the documents never mention {', '.join(missing)}", ev, scored)
    listed = about_document(ev.question, ev) or under_heading(ev.question, [s for _, s in scored])
    if listed:      # "What are the new features?" over a "New features" list: its items, first (or an opening)
        return [(1.0, s) for s in listed] + [(q, s) for q, s in scored if s not in listed]
    shared = _shared(ev.question, [s for _, s in scored])
    if shared:      # "What occupation do A and B share?": the sentence of each that calls it so, first
        return [(1.0, s) for s in shared[1]] + [(q, s) for q, s in scored if s not in shared[1]]
    amount = item_amount(ev.question, [s for _, s in scored])
    if amount:      # "How much RAM does it need?" over a requirements list: the item that gives it, first
        return [(1.0, amount[0])] + [(q, s) for q, s in scored if s is not amount[0]]
    if not scored or (scorer.answer_probability(p, x, FEATURES) < scorer.answer_threshold()
                      and not any(answered for _, _, answered in _parts(ev))):
        return _refuse(base, refusal_text(ev.question), "no passage answers the question", ev, scored)
    return scored


# "What are the new features in Tidepool 3.2?", "What were the fixes?": a question for what a section lists
_WHAT_ARE = re.compile(r"^\s*(?:what|which)\s+(?:are|were|is|was)\b", re.IGNORECASE)
LISTED = 12     # items quoted from under a heading at most (a recipe's ingredients, a release's fixes)


def under_heading(question: str, sents: Sequence[Sent]) -> list[Sent]:
    """The sentences under a document's inner heading that names what `question` asks for, in document order (at
    most LISTED): "What are the new features in Tidepool 3.2?" is answered by the items under "New features" in
    "Tidepool 3.2 release notes" (every word of the question in the heading or the title, the heading's words all
    in the question); [] when no heading does. A list's items say little that a question's words would find, so
    the answer model alone declines such questions."""
    if not _WHAT_ARE.match(question):
        return []
    wanted = T.stems(question)
    for s in sents:
        heading = T.stems(s.section)
        if heading and heading <= wanted and wanted <= heading | T.stems(s.title):
            same = sorted((t for t in sents if t.title == s.title and t.section == s.section), key=lambda t: t.start)
            return same[:LISTED]
    return []


# "How much RAM does Quillpad need?", "How many chairs are there?": an amount of something a list item may give
_HOW_MUCH = re.compile(r"^\W*how\s+(?:much|many)\b", re.IGNORECASE)
_ITEM_MARK = re.compile(r"(?:^|\n)[ \t]*(?:[-*+•]|\d{1,2}[.)])[ \t]+$")
# what a how-much question says besides what it asks about: "How much RAM does it need?" asks about RAM
_ASKING_VERBS = T.stems("need needs needed require requires required use uses used take takes cost costs have has get "
                        "make buy want should must will can could would much many")


def is_item(sent: Sent) -> bool:
    """A list item ("- 2 GB of RAM", "3) Simmer …") or a table row ("Dinner | £35"): a fragment under a heading."""
    at = sent.passage.find(sent.text)
    return " | " in sent.text or at >= 0 and bool(_ITEM_MARK.search(sent.passage[:at]))


def item_amount(question: str, sents: Sequence[Sent]) -> tuple[Sent, spans.Candidate] | None:
    """For "How much RAM does Quillpad need?": the list item or table row that gives an amount of what is asked about
    ("At least 2 GB of RAM and 10 GB of free disk space" under "Requirements" in "Quillpad installation guide"), every
    other word of the question in it, its heading or its title, and the amount it gives nearest before that word
    ("At least 2 GB" of RAM, "10 GB" of disk space); None otherwise. Like a section's items (`under_heading`), such a
    fragment says little the answer model reads."""
    if not _HOW_MUCH.match(question):
        return None
    wanted, head = T.stems(question) - _ASKING_VERBS, T.stems(spans.head_noun(question))
    for s in sents:
        if wanted and head and is_item(s) and wanted <= T.stems(f"{s.text} {s.section} {s.title}") \
                and head <= T.stems(s.text):
            amounts = [c for c in spans.candidates(s.text)      # "and 10 GB" reads as a year to the candidates
                       if c.kind == "number" or c.kind == "date" and c.text.isdigit()]
            at = next((m.start() for m in re.finditer(r"[\w\-]+", s.text) if T.stems(m.group()) & head), len(s.text))
            before = [c for c in amounts if c.start < at] or amounts     # "10 GB of free disk space": the nearest
            if before:
                end = max(c.end for c in before)
                first = min((c for c in before if c.end == end), key=lambda c: c.start)
                unit = re.match(r"\s+([A-Za-z]{1,5})\b", s.text[first.end:]) if first.text[-1:].isdigit() else None
                if unit and unit.group(1).lower() not in T.STOPWORDS and T.stem(unit.group(1)) not in wanted:
                    end = first.end + unit.end()        # "At least 2" -> "At least 2 GB"
                    first = spans.Candidate(first.start, end, s.text[first.start:end], "number")
                return s, first
    return None


# "What is “Tidepool 3.2 release notes” about?" (the chat app's example questions), "What does “…” report?"
_ABOUT_DOCUMENT = re.compile(r"^\W*what\s+(?:is|does|do)\s+[“\"‘'](?P<title>.+?)[”\"’']\s+"
                             r"(?:about|report|say|cover|describe)\b", re.IGNORECASE)
OPENING = 3     # sentences quoted from a document's opening for what it is about


def about_document(question: str, ev: Evidence) -> list[Sent]:
    """For "What is “<a document's title>” about?": that document's opening sentences (at most OPENING, from its
    first passage, up to its first inner heading), in order; [] for any other question or when its opening was not
    retrieved. A document's opening says what it is about, in the author's words; the answer model, which reads
    sentences for the question's words, found only one of them."""
    m = _ABOUT_DOCUMENT.match(question)
    if m is None:
        return []
    title = T.fold(m.group("title"))
    opening = sorted((s for s in ev.sents if T.fold(s.title or "") == title and ev.hits[s.n - 1].chunk.start == 0),
                     key=lambda s: s.start)
    return [s for s in opening if s.section == opening[0].section][:OPENING]     # up to its first inner heading


def _shared(question: str, sents: Sequence[Sent]) -> tuple[str, list[Sent]] | None:
    """For "What occupation do A and B share?": (what both are, [the sentence of each that says so]) from each one's
    own document (`compare.decide_shared`), or None. Like `under_heading`, a finding that answers the question
    whatever the answer model makes of the sentences' words."""
    parsed = compare.parse_shared(question)
    return compare.decide_shared(parsed, sents) if parsed else None


def _parts(ev: Evidence) -> list[tuple[str, list[tuple[float, Sent]], bool]]:
    """For a question in two parts (`rag.parts`), each part: (the part, its sentences scored best first, whether the
    answer model says the passages answer it); [] for a question in one part. A question whose parts ask different
    things ("Who holds the news conferences, and where does the prime minister go?") is answered when either is."""
    questions = P.split(ev.question)
    out = []
    for q in questions if len(questions) > 1 else ():
        view = ev.asking(q)
        x = view.features()
        p = scorer.sentence_probability(x, FEATURES)
        answered = bool(len(p)) and scorer.answer_probability(p, x, FEATURES) >= scorer.answer_threshold()
        out.append((q, sorted(zip(p.tolist(), view.sents), key=lambda item: -item[0]), answered))
    return out


_ASKS = re.compile(r"^\W*(?:\w+\W+){0,3}?\b(who|whom|when|where|why|how (?:many|much|long|old|far|often))\b", re.IGNORECASE)


def refusal_text(question: str) -> str:
    """The refusal's first sentence, saying what is missing when the question's own words name it (who, when, where,
    why, how many, …): "The documents do not say when." Otherwise REFUSAL.

    >>> refusal_text("When did the summit end?"), refusal_text("How much did it cost?")
    ('The documents do not say when.', 'The documents do not say how much.')
    >>> refusal_text("What did they agree?") == REFUSAL
    True
    """
    m = _ASKS.match(question)
    return f"The documents do not say {' '.join(m.group(1).lower().split())}." if m else REFUSAL


def _refuse(base: Answer, text: str, why: str, ev: Evidence | None = None, scored=()) -> Answer:
    """A refusal that says what is missing and, when a passage came close, quotes it with its [1]."""
    note = "; ".join(x for x in (base.note, why) if x)
    if ev is None or not scored:
        return replace(base, text=text, citations=(), refused=True, unsupported=(), note=note)
    closest = scored[0][1]
    doc_id = ev.hits[closest.n - 1].chunk.doc_id
    named = f"“{closest.title}”" if closest.title and closest.title != doc_id else doc_id    # untitled: its file
    source = named + (f" ({dates.format_date(closest.date)})" if closest.date else "")
    lead = f"{text} The closest passage, from {source}, says:"
    return replace(_compose(base, [(lead, ()), (_display(closest), ((closest.n, closest),))], ev), refused=True,
                   note=note)


def _display(s: Sent) -> str:
    """A quote as shown in an answer: one line, relative dates resolved against the document's date."""
    return "“" + " ".join(dates.annotate(s.text, s.date).split()) + "”"


# A sentence from another document joins the answer when it covers question words the others leave open and names the
# bridge the first sentence introduced, or scores at least this share of the refusal threshold. Chosen on the train
# halves of hotpotqa-dev500 and xquad-en (1/4 against 1/2 and a bridge-only rule: HotpotQA citation recall 0.705 vs
# 0.665 and 0.585, XQuAD unchanged).
SECOND_PART = 0.25


# A sentence opening with a pronoun or "this/such" leans on the one before it ("It is a product of the Earth
# Summit …" after "Agenda 21 is a non-binding action plan …"): quoted alone it does not say what it is about.
_LEANS_BACK = re.compile(r"^[\"'“‘`(\s]*(?:it|its|he|his|him|she|her|they|their|them|this|these|those|such|"
                         r"the (?:latter|former))\b", re.IGNORECASE)


# A quotation mark that closes ('…resolutions. The leaders also discussed …," it said'): a straight one after a word
# or a sentence's punctuation and before a space, punctuation or the end, or a curly closing one
_CLOSING = re.compile(r"(?<=[^\W\d_]|[.,!?;:])\"(?=[\s,.;:!?)]|$)|”")
_OPENING = re.compile(r"(?:^|(?<=[\s(\[—–-]))\"(?=\w)|“")


def closes_quote(sentence: str) -> bool:
    """Does `sentence` close a quotation it did not open (it goes on one that began in an earlier sentence)?

    >>> closes_quote('The leaders also discussed China," it said in a readout.')
    True
    >>> closes_quote('"We are ready," he said.'), closes_quote('He called it “the cornerstone”.')
    (False, False)
    """
    closing = _CLOSING.search(sentence)
    opening = _OPENING.search(sentence)
    return closing is not None and (opening is None or opening.start() > closing.start())


# A further sentence that says little the quoted ones do not (this share of its words already quoted) is left out.
REPEATS = 0.8


def _pick(scored: list[tuple[float, Sent]], question: str) -> list[Sent]:
    """The best sentence, then up to two more: one that also answers (its probability at least the sentence
    threshold and `extra_ratio` of the best's) unless it repeats what is quoted, or, for a question in two parts, a
    sentence of another document that answers the part the first leaves open (best when it names the bridge the
    first introduced: "built by John Rennie" → "Rennie also designed Waterloo Bridge"). When the best sentence leans
    on the one before it (opens with "It", "They", "This", …), that sentence is quoted first as well."""
    wanted = T.stems(question)
    best_p, first = scored[0]
    picked, covered = [first], wanted & T.stems(f"{first.prev} {first.text}")
    before = next((s for _, s in scored if s.n == first.n and s.end <= first.start and s.text == first.prev), None)
    if before is not None and (_LEANS_BACK.match(first.text) or closes_quote(first.text)):
        picked.insert(0, before)
    in_question = T.fold(question)
    bridges = {T.fold(n) for n in T.names(first.text) if T.fold(n) not in in_question}
    titles = {first.title}
    quoted = set().union(*(T.stems(s.text) for s in picked))
    for p, s in scored[1:]:
        if len(picked) == 3 + (picked[0] is not first):
            break
        words = T.stems(s.text)
        if s in picked or len(words & quoted) >= REPEATS * len(words):
            continue
        new = (wanted & T.stems(f"{s.prev} {s.text}")) - covered
        near = p >= max(scorer.threshold(), scorer.extra_ratio() * best_p)
        said = T.fold(f"{s.prev} {s.text}")
        other_part = bool(new) and s.title not in titles and (
            any(b in said for b in bridges) or T.fold(s.title) in T.fold(first.text)
            or p >= SECOND_PART * scorer.threshold())
        if near or other_part:
            picked.append(s)
            covered |= new
            titles.add(s.title)
            quoted |= words
    return picked


# a phrase given as examples ("such as warehouse and delivery staff,") is set off by a comma that does not end the
# clause: what follows it ("are not eligible") is still said of the phrase
_EXAMPLES = re.compile(r"\b(?:such as|including|like|e\.g\.,?)\s*$", re.IGNORECASE)


def short_answer(question: str, sentences: list[str]) -> span_reader.Span | None:
    """The words of one of `sentences` that answer `question`, when it asks for a name, number, date, place or short
    phrase and the reader (rag.span_reader) prefers them to "no answer" (margin at least its threshold, 0);
    a phrase the question itself contains does not answer it ("Indo Pacific" for "…Indo-Pacific 4…?"; also once
    widened or cut to the whole date or year asked for), nor does a
    phrase the words right after it deny something of (`text.negates`), or one of the wrong kind
    (`spans.contradicts`: no number for "how many", only a number for "who"). "Who is <a name>?" asks what the
    person is, which the quote says, so it gets no short answer (`spans.asks_identity`)."""
    reader = span_reader.get_reader()
    if not spans.answer_type(question) or spans.asks_identity(question) or not reader.available():
        return None
    found = reader.best(question, sentences)
    # where a quoted sentence names someone with the question's own description ("Japan's Prime Minister Fumio
    # Kishida" for "Who is the Japanese prime minister …?"; `spans.described`), sentence by sentence
    named = [span_reader.Span(i, a, b, s[a:b], 0.0) for i, s in enumerate(sentences)
             for a, b in spans.described(question, s) if not _denied(question, s, a, b)]
    if found is None or found.margin < reader.threshold or T.fold(found.text) in T.fold(question) \
            or spans.contradicts(question, found.text):     # "four" for "Who …?", "the ambassadors" for "How many …?"
        return next(iter(named), None) or _by_agent(question, sentences)
    if _denied(question, sentences[found.sentence], found.start, found.end):   # "Albanese's decision not to attend"
        return next(iter(named), None)
    end = spans.with_unit(question, sentences[found.sentence], found.start, found.end)     # "two" -> "two-year"
    end = spans.with_date(sentences[found.sentence], found.start, end)      # "Saturday" -> "Saturday 15 March"
    start, end = spans.with_whole(question, sentences[found.sentence], found.start, end)    # "2 September 2025"
    start, end = spans.the_name_in(question, sentences[found.sentence], start, end)     # "… assistant Nicholas Golovin"
    start, end = spans.with_list(question, sentences[found.sentence], start, end)     # "Australia, Korea …"
    found = replace(found, start=start, end=end, text=sentences[found.sentence][start:end])
    if T.fold(found.text) in T.fold(question):      # cut to what the question says: "1925" of "3 June 1925" for
        return next(iter(named), None)              # "In which year was the King who made the 1925 Honours born?"
    here = [n for n in named if n.sentence == found.sentence]
    if here and not any(n.start < found.end and found.start < n.end for n in here):
        return here[0]      # the reader's sentence describes another name than the reader's phrase
    inside = [n for n in here if found.start <= n.start and n.end <= found.end and n.text != found.text]
    return inside[0] if inside else found   # "Blinken and the Foreign Ministers of Australia" -> "Blinken"


def _denied(question: str, sentence: str, start: int, end: int) -> bool:
    """Whether the words right after sentence[start:end] deny the question's verb of it ("Albanese's decision not to
    attend"; `text.negates`), or the words before it do ("does not run on Windows Server")."""
    after = sentence[end:]
    if _EXAMPLES.search(sentence[:start]):   # "such as warehouse staff, are not eligible"
        after = after.lstrip(" ,")
    return T.negates(after, question) or T.negated_before(sentence[:start], question)


def _by_agent(question: str, sentences: list[str]) -> span_reader.Span | None:
    """When the reader has no phrase for "Who hosted the dinner?": the doer a quoted passive sentence names for the
    same verb ("a dinner hosted by US President Joe Biden"; `spans.agent`), the first sentence that has one."""
    for i, sentence in enumerate(sentences):
        found = spans.agent(question, sentence)
        if found and not T.negated_before(sentence[:found[0]], question):
            return span_reader.Span(i, found[0], found[1], sentence[found[0]:found[1]], 0.0)
    return None


def extractive_answer(ev: Evidence, scored: list[tuple[float, Sent]], base: Answer) -> Answer:
    """The best sentences (`_pick`), verbatim with their [n], led by the short answer when the question asks for
    one: a span of a quoted sentence, a relative date resolved, or the document's date when the sentence has none.
    A question in two parts gets each part's own (`_in_parts`)."""
    sents = [s for _, s in scored]
    listed = about_document(ev.question, ev) or under_heading(ev.question, sents)
    if listed:      # the items under the heading the question names (or a document's opening), quoted, no lead
        return _compose(base, [(_display(s), ((s.n, s),)) for s in listed], ev)
    amount = item_amount(ev.question, sents)
    if amount is not None:        # "How much RAM …?": "At least 2 GB —", then the list item that says it
        item, phrase = amount
        answer = _compose(base, [(f"{phrase.text} —", ()), (_display(item), ((item.n, item),))], ev)
        return _with_short(answer, ev, item, phrase.start, phrase.end)
    shared = _shared(ev.question, sents)
    if shared is not None:        # "What occupation do A and B share?": "director —", then the sentence of each
        words, said = shared
        quotes = [(_display(s), ((s.n, s),)) for s in said]
        lead, short = _lead(ev.question, said, said[0])
        both = set.intersection(*(T.stems(" ".join(compare.described(s.text))) for s in said))
        if short and T.stems(short[0].text[short[1]:short[2]]) <= both:   # the reader's phrase, if both say it
            return _with_short(_compose(base, [*lead, *quotes], ev), ev, *short)
        first = words.split(", ")[0]
        at = said[0].text.find(first)
        answer = _compose(base, [(f"{words} —", ()), *quotes], ev)
        return _with_short(answer, ev, said[0], at, at + len(first)) if at >= 0 else answer
    comparison = compare.parse(ev.question)
    decided = compare.decide(comparison, sents) if comparison else None
    if decided is not None:       # "Who was born first, A or B?": the earlier of the two dates, both quoted
        return _compared(ev, comparison.options[decided[0]], decided[1], base)
    more = compare.parse_more(ev.question)
    counted = compare.decide_more(more, sents) if more else None
    if counted is not None:       # "Which genus has more species, A or B?": the larger of the two counts, both quoted
        return _compared(ev, more.options[counted[0]], counted[1], base)
    which = compare.parse_which(ev.question)
    chosen = compare.decide_which(which, sents) if which else None
    if chosen is not None:        # "Which band is from England, A or B?": the one a sentence says it of
        return _compared(ev, which.options[chosen[0]], chosen[1], base)
    both = compare.parse_both(ev.question)
    said = compare.decide_both(both, sents) if both else None
    if both and said is None:     # "both musicians" of "a singer" and "a musician": words of like meaning
        said = compare.decide_both_soft(both, sents, ev.embedder.encode)
    if said is not None:          # "Are A and B both magazines?": a sentence of each that says so
        return _compose(base, [("Yes —", ()), *[(_display(s), ((s.n, s),)) for s in said]], ev)
    same = compare.parse_same(ev.question)
    alike = compare.decide_same(same, sents) if same else None
    same_as = compare.parse_same_as(ev.question) if alike is None else None
    alike = compare.decide_same_as(same_as, sents) if same_as else alike
    if alike is not None:         # "Were A and B of the same nationality / formed in the same city?": each one's own
        return _compose(base, [("Yes —" if alike[0] else "No —", ()), *[(_display(s), ((s.n, s),)) for s in alike[1]]],
                        ev)
    split = _parts(ev)
    answered_parts = _in_parts(ev, split, base) if split else None
    if answered_parts is not None:
        return answered_parts
    picked = _pick(scored, ev.question)
    # what two share, when no word describes both (`_shared`), is not one phrase of one of them ("Scottish guitarist")
    lead, short = _lead(ev.question, picked, scored[0][1]) if not compare.parse_shared(ev.question) else ([], None)
    if len(picked) > 1 and picked[0].section and all(
            (s.title, s.section) == (picked[0].title, picked[0].section) for s in picked):
        picked.sort(key=lambda s: s.start)      # one section's sentences (an FAQ's answer) quoted in the author's order
    named = compare.pair(ev.question)
    if named:                     # "Which band had more members, A or B?": a sentence about each, each cited
        picked += compare.about_each(named, picked, sents)
    answer = _compose(base, [*lead, *[(_display(s), ((s.n, s),)) for s in picked]], ev)
    return _with_short(answer, ev, *short) if short else answer


def _lead(question: str, picked: list[Sent], best: Sent) -> tuple[list[tuple[str, tuple]], tuple | None]:
    """The segment that leads the quotes of `picked` for `question` ([] when none does) and where its phrase is
    ((sentence, start, end), or None): the reader's phrase among the quoted sentences (for a two-part question,
    often the second's; for a when-question without one, the one date the `best` sentence gives), a relative date
    resolved, or, for a when-question whose `best` sentence has no date, the document's date, labelled "published
    …" (with its weekday when the question asks for the day)."""
    kind = spans.answer_type(question)
    dated = kind == "date" and not spans.asks_time_of_day(question)     # a when-question (a day is no time of day)
    found = short_answer(question, [s.text for s in picked])
    if found is None and dated:
        found = _only_date(question, picked, best)
    if found is not None:
        first = picked[found.sentence]
        span = _event_date(found, first)
        lead = dates.annotate(first.text, first.date, span.start, span.end)
        if kind == "date":
            lead = lead[:1].upper() + lead[1:]     # "Yesterday (13 May 2025) —"
        return [(f"{' '.join(lead.split())} —", ())], (first, span.start, span.end)
    published = dates.document_date_answer(best.text, best.date, question) if dated else None
    if published:                                  # the sentence has no date; its document has
        return [(f"{published[:1].upper()}{published[1:]} —", ())], None
    return [], None


def _only_date(question: str, picked: list[Sent], best: Sent) -> span_reader.Span | None:
    """For a when-question (`_lead` only asks for one) the reader leaves without a phrase: the date the best sentence
    gives, when it gives one and only one the question does not ("Yesterday, Luxon went to a dinner at the White
    House." answers "When did Luxon go to the dinner?" with "Yesterday"; "3 June 1925" is the question's own
    "1925" when it asks for a year). The same for the one number of "How many
    …?" led nothing more on the development sets, so there is no such rule for counts."""
    if best not in picked:
        return None
    asked = T.fold(question)
    given = [(a, b) for a, b in dates.date_phrases(best.text) if T.fold(best.text[a:b]) not in asked
             and T.fold(best.text[slice(*spans.with_whole(question, best.text, a, b))]) not in asked]   # its year
    if len(given) != 1:
        return None
    (a, b), k = given[0], picked.index(best)
    return span_reader.Span(k, a, b, best.text[a:b], 0.0)


# A part is quoted when the answer model says the passages answer it, or when its best sentence scores at least the
# sentence threshold (the whole question may be what was answered); a part with neither is said to be missing.
PART_QUOTES = 2   # sentences quoted for each part at most (its best, and one more that also answers it)


def _in_parts(ev: Evidence, split: list[tuple[str, list[tuple[float, Sent]], bool]], base: Answer) -> Answer | None:
    """The answer to a question in two parts (`rag.parts`): for each part its lead phrase and its own best sentences,
    each cited; a part nothing answers says so ("The documents do not say where."). None when no part has a
    sentence to quote (then the question is answered as a whole)."""
    segments: list[tuple[str, tuple]] = []
    quoted: list[Sent] = []
    short = None
    for q, scored, answered in split:
        if not scored or not (answered or scored[0][0] >= scorer.threshold()):
            said = refusal_text(q)
            segments.append((said if said != REFUSAL else f"The documents do not answer “{q}”", ()))
            continue
        picked = [s for s in _pick(scored, q) if s not in quoted][:PART_QUOTES]
        lead, found = _lead(q, picked, scored[0][1]) if picked else ([], None)
        short = short or found
        segments += lead + [(_display(s), ((s.n, s),)) for s in picked]
        quoted += picked
    if not quoted:
        return None
    answer = _compose(base, segments, ev)
    return _with_short(answer, ev, *short) if short else answer


def _event_date(span: span_reader.Span, sent: Sent) -> span_reader.Span:
    """A short answer taken from the sentence's news dateline ("SHEFFIELD, 14 May 2025 — …") is when the story was
    filed; a relative date later in the sentence ("… yesterday opened …") is when it happened, and answers instead."""
    cut = dates.dateline_end(sent.text)
    if span.end > cut or not sent.date:
        return span
    later = [(a, b) for a, b, _ in dates.relative_dates(sent.text, sent.date) if a >= cut]
    return replace(span, start=later[0][0], end=later[0][1], text=sent.text[slice(*later[0])]) if later else span


def _compared(ev: Evidence, option: str, sents: list[Sent], base: Answer) -> Answer:
    """The answer to a question about two named things (which came first, which one is P): the chosen option (as its
    own sentence writes it when it does, else as the question does), then the sentence about each, the chosen's
    first."""
    best = sents[0]
    m = re.search(r"[\s\-]+".join(map(re.escape, option.split())), best.text, re.IGNORECASE)
    answer = _compose(base, [(f"{m.group() if m else option} —", ()), *[(_display(s), ((s.n, s),)) for s in sents]], ev)
    return _with_short(answer, ev, best, m.start(), m.end()) if m else answer


def _with_short(answer: Answer, ev: Evidence, sent: Sent, start: int, end: int) -> Answer:
    """`answer` with its short answer: `sent.text[start:end]`, located in its document and cited by number."""
    hit = ev.hits[sent.n - 1]
    n = next(c.n for c in answer.citations if c.chunk_id == hit.chunk.id)
    return replace(answer, short_answer=ShortAnswer(sent.text[start:end], hit.chunk.doc_id, sent.start + start,
                                                    sent.start + end, n))


def _compose(base: Answer, parts: Sequence[tuple[str, Sequence[tuple[int, Sent]]]], ev: Evidence) -> Answer:
    """The answer text from (segment, [(source number, quoted sentence)]) parts, its citations numbered 1, 2, 3 in
    reading order.

    Markers are structural: each segment gets the markers of the sources it was given, and no bracket inside a
    segment (a quoted "[3]" in a document) is ever read as a citation or renumbered.
    """
    order: dict[int, int] = {}
    for _, cited in parts:
        for n, _ in cited:
            order.setdefault(n, len(order) + 1)
    text = " ".join(seg + (" " + "".join(f"[{order[n]}]" for n, _ in cited) if cited else "")
                    for seg, cited in parts)
    cites: list[Citation] = []
    for _, cited in parts:
        for n, sent in cited:
            cites += [c for c in (replace(c, n=order[n]) for c in ev.citations(sent)) if c not in cites]
    return replace(base, text=text, citations=tuple(sorted(cites, key=lambda c: c.n)))


def cited_hit(answer: Answer, n: int) -> Hit | None:
    """The retrieved hit that citation number `n` quotes (its lead passage or one of its near-duplicates)."""
    ids = {c.chunk_id for c in answer.citations if c.n == n}
    return next((h for h in answer.hits if h.chunk.id in ids or any(d.id in ids for d in h.duplicates)), None)


def check_answer(text: str, ev: Evidence, base: Answer) -> Answer:
    """Check an LLM answer's citations: drop [n] outside 1..len(hits), keep [n] only where source n supports the
    sentence by the fitted support model (re-citing the passage that does when the model cited the wrong one), flag
    sentences nothing supports."""
    claims = []
    for a, b in T.sentence_spans(text):
        sent = text[a:b]
        ns = [int(x) for m in _MARKER.finditer(sent) for x in m.group(1).split(",")]
        claim = _MARKER.sub("", sent).strip()
        if claim and claim not in {".", "!", "?"}:
            claims.append((claim, [n for n in dict.fromkeys(ns) if 1 <= n <= len(ev.hits)]))
    if not claims or all(_DECLINE.search(c) or c.startswith(REFUSAL) for c, _ in claims):
        why = "the LLM found no answer in the sources" if claims else "the LLM gave no answer"
        return _refuse(base, REFUSAL, why)
    supports = ev.support([c for c, _ in claims])
    enough = scorer.support_threshold()
    parts, unsupported = [], []
    for (claim, cited), row in zip(claims, supports):
        good = [n for n in cited if row[n - 1][0] >= enough]
        if not good:
            best = max(range(len(row)), key=lambda i: row[i][0], default=None)
            good = [best + 1] if best is not None and row[best][0] >= enough else []
        if not good:
            if not (_DECLINE.search(claim) or claim.startswith(REFUSAL)):
                unsupported.append(claim)
                parts.append((claim, ()))
            continue
        parts.append((claim.rstrip(), tuple((n, row[n - 1][1]) for n in good)))
    if not any(cited for _, cited in parts):
        return replace(_refuse(base, REFUSAL, "no source supports the LLM's answer"), unsupported=tuple(unsupported))
    return replace(_compose(base, parts, ev), unsupported=tuple(unsupported))
