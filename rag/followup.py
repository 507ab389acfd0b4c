"""Follow-up questions: rewrite a question that leans on the conversation ("And who came from Japan?") into a
standalone one before retrieval.

With an LLM answerer configured the LLM rewrites it; otherwise, or when the LLM's reply is unusable, a
deterministic rewrite merges the follow-up with the previous question's content: a pronoun takes the previous
question's main name, and a short follow-up gets the previous question's context, minus the name the new one
replaces (Japan replaces Australia, not NATO).

    >>> rewrite("And who came from Japan?", [("Who represented Australia at the NATO meeting?", "Richard Marles [1]")])
    'Who came from Japan — represented at the NATO meeting?'
    >>> rewrite("And in Germany?", [("What is the VAT rate in France?", "20% [1]")])
    'What is the VAT rate in Germany?'
    >>> rewrite("What about its population?", [("What is the capital of France?", "Paris [1]")])
    "What is France's population?"
"""
from __future__ import annotations

import re
from typing import Sequence

from .text import AUXILIARIES, STOPWORDS, content_words, names as _names, stem

_LEAD = re.compile(r"^\s*(?:and|also|so|but|then|ok(?:ay)?|what about|how about|and what about)\b[\s,]*",
                   re.IGNORECASE)
_ABOUT = re.compile(r"^\s*(?:and\s+)?(?:what|how) about\s+(.+?)\s*\??\s*$", re.IGNORECASE)
_PRONOUN = re.compile(r"\b(he|she|him|her|his|hers|they|them|their|it|its|these|those)\b", re.IGNORECASE)
_PERSONAL = {"he", "she", "him", "her", "his", "hers"}
_AUX = r"(?:is|are|was|were|did|do|does|has|have|had|will|would|can|could)"
_WH = re.compile(rf"^\s*(?:who|whom|whose|what|which|when|where|why|how(?: much| many)?)\b(?:\s+{_AUX})?\s*",
                 re.IGNORECASE)
# a wh-word and its verb ("Who is …", "What did …"): what they ask about is the question's own
_ASKS_OF = re.compile(rf"^\s*(?:who|whom|whose|what|which|when|where|why|how)\s+{_AUX}\b", re.IGNORECASE)
_PREP = re.compile(r"^(?:in|at|on|for|from|of|to|by|with|during|about|under|over)\s+(.+)$", re.IGNORECASE)
_OPENS_YES_NO = re.compile(rf"^\s*(?:{AUXILIARIES}|isn't|aren't|wasn't|didn't|doesn't)\b", re.IGNORECASE)
# "How long is paternity leave?", "What is the warranty?": a question about one thing, named by a short phrase
_ABOUT_THING = re.compile(r"^\s*(?:who|what|which|how(?:\s+(?:long|much|many|old|far|big|often))?)\s+"
                          r"(?:is|are|was|were)\s+(?:the\s+|a\s+|an\s+)?(?P<np>[\w'’\-]+(?:\s+[\w'’\-]+){0,3})\s*\??\s*$",
                          re.IGNORECASE)


def _dangling(text: str) -> re.Match | None:
    """The first pronoun with nothing in the question before it to stand for ("its" in "NATO and its partners" has
    NATO; "its" in "What about its population?" has nothing)."""
    for m in _PRONOUN.finditer(text):
        if not _names(text[:m.start()]):
            return m
    return None


def is_followup(question: str) -> bool:
    """Does this question lean on an earlier turn: a leading And/What about, a pronoun with nothing before it to
    refer to, or no words of its own ("Why?", "How many?")? A question that stands alone is not rewritten.

    >>> is_followup("What are the projects between NATO and its partners?"), is_followup("When did he arrive?")
    (False, True)

    One word of its own is enough when a wh-word and its verb ask about it ("Who is the treasurer?"); alone it leans
    on the previous question ("What year?", "Why?").

    >>> is_followup("Who is the treasurer?"), is_followup("What year?"), is_followup("Why?")
    (False, True, True)
    """
    words = content_words(question)
    return bool(_LEAD.match(question) or _dangling(question)
                or not words or (len(words) == 1 and not _names(question) and not _ASKS_OF.match(question)))


def turns(history) -> list[tuple[str, str]]:
    """(user, assistant) pairs, from pairs or from Gradio-style {"role", "content"} messages: the one history parser."""
    out: list[tuple[str, str]] = []
    for turn in history or ():
        if isinstance(turn, dict):
            text = turn.get("content") if isinstance(turn.get("content"), str) else ""
            if turn.get("role") == "user":
                out.append((text, ""))
            elif out and turn.get("role") == "assistant":
                out[-1] = (out[-1][0], text)
        elif turn and isinstance(turn[0], str):
            out.append((turn[0], turn[1] if len(turn) > 1 and isinstance(turn[1], str) else ""))
    return out


# Two names of one kind (Japan/Australia 0.63, Korea/Japan 0.71, New Zealand/Australia 0.67 with MiniLM) score above
# this; a member and its group, or a country and a city, below (Japan/Indo-Pacific 4 0.42, Japan/Washington 0.37).
SAME_KIND = 0.5


def _replaced(new: list[str], old: list[str], embedder=None, floor: float | None = None) -> str | None:
    """The earlier name the follow-up's new name stands in for: the most similar one (by embedding if we can),
    and with `floor`, only one at least that similar."""
    old = [o for o in old if o.lower() not in {n.lower() for n in new}]
    if not new or not old:
        return None
    if embedder is None:
        return old[0]
    vecs = embedder.encode([new[0], *old])
    sims = vecs[1:] @ vecs[0]
    best = int(sims.argmax())
    return old[best] if floor is None or sims[best] >= floor else None


def _numbered_names(text: str) -> list[str]:
    """`text.names`, each with the number written right after it, which is part of the name ("Indo-Pacific 4",
    "Windows 11"): without it "Japan" comes as close to "Indo-Pacific" as to another country.

    >>> _numbered_names("Who chaired the Indo-Pacific 4 meeting in Washington?")
    ['Indo-Pacific 4', 'Washington']
    """
    out = []
    for name in _names(text):
        m = re.search(rf"(?<!\w){re.escape(name)}\s+\d+(?![\w.,]\d)", text)
        out.append(m.group() if m else name)
    return out


def deterministic_rewrite(question: str, previous: str, embedder=None, previous_answer: str = "") -> str:
    """Merge a follow-up with the (standalone) previous question; see the module docstring for the rules."""
    prev_names = _numbered_names(previous)
    core = _LEAD.sub("", question).strip()
    about = _ABOUT.match(question)
    subject = about.group(1) if about else None
    if not about and core and not _WH.match(core) and set(content_words(core)) <= set(content_words(" ".join(_names(core)))):
        subject = core.rstrip(" ?")            # "And Korea?" asks the previous question about Korea
    elif (not about and core and _LEAD.match(question) and not _WH.match(core) and not _OPENS_YES_NO.match(core)
          and not _dangling(core) and len(core.split()) <= 5):
        subject = core.rstrip(" ?")            # "And paternity leave?", "And for part-time staff?"
    if subject and _dangling(subject):   # "what about its population?": the previous question's verb, its name
        resolved = _resolve(subject, prev_names, previous_answer, previous)
        wh = _WH.match(previous)
        return f"{(wh.group(0) if wh else 'What about ').rstrip()} {resolved}?"
    if subject:  # the previous question with the new name in place of its closest one
        prep = _PREP.match(subject)     # "And in Germany?": Germany stands in for France, "in" is already there
        name = prep.group(1) if prep else subject
        swapped = _swap(name, previous)     # "the Pro plan" for "the Basic plan"
        if swapped:
            return swapped
        if _names(name):
            after_prep = [o for o in prev_names if prep and re.search(
                rf"\b{re.escape(subject[:prep.start(1)].strip())}\s+(?:the\s+)?{re.escape(o)}", previous, re.I)]
            target = after_prep[0] if after_prep else _replaced([name], prev_names, embedder)
            if target:
                return previous.replace(target, name, 1)
        if prep:                        # "And for part-time staff?": the previous question, for them
            return f"{previous.rstrip(' ?')} {subject}?"
        return f"{previous.rstrip(' ?')} — {subject}?"
    resolved = _resolve(core[:1].upper() + core[1:], prev_names, previous_answer, previous)
    if resolved != core[:1].upper() + core[1:] or len(content_words(resolved)) >= 3 or (
            _ASKS_OF.match(resolved) and len(content_words(resolved)) >= 2):
        return resolved     # a pronoun taken care of, or words enough of its own ("What did the probes cost?")
    core = resolved
    context = _WH.sub("", previous).strip().rstrip("?").strip()
    gone = _replaced(_names(core), prev_names, embedder, floor=SAME_KIND)   # "Japan" after "the Indo-Pacific 4": kept
    if gone:
        context = re.sub(r"\s{2,}", " ", context.replace(gone, "")).strip()
    return f"{core.rstrip(' ?')} — {context}?" if content_words(context) else core


_NOT_IN_PHRASE = r"(?:in|at|on|of|for|from|with|by|to|and|or|as|than)\b"


def _swap(phrase: str, previous: str) -> str | None:
    """The previous question with `phrase` in place of its phrase that ends in the same word ("paternity leave" for
    "maternity leave" in "How long is maternity leave?"), or None when no phrase of it does.

    >>> _swap("the Pro plan", "How much does the Basic plan cost per month?")
    'How much does the Pro plan cost per month?'
    >>> _swap("paternity leave", "How long is maternity leave?"), _swap("pears", "How much are apples?")
    ('How long is paternity leave?', None)
    """
    words = re.sub(r"^(?:the|a|an)\s+", "", phrase.strip(), flags=re.IGNORECASE).split()
    if not words or len(words) > 4:
        return None
    head = stem(words[-1])
    spans = [(m.start(), m.end(), m.group()) for m in re.finditer(r"[\w'’\-]+", previous)]
    for i in range(len(spans) - 1, -1, -1):
        if stem(spans[i][2]) != head:
            continue
        j = i
        while j > 0 and spans[j - 1][2].lower() not in STOPWORDS and not _WH.match(spans[j - 1][2]):
            j -= 1
        return previous[:spans[j][0]] + " ".join(words) + previous[spans[i][1]:]
    return None


def _topic(previous: str) -> str | None:
    """The short phrase a previous question asks about ("paternity leave" in "How long is paternity leave?"), when it
    asks about one thing and names nothing; None otherwise ("What was fixed?" asks about no thing).

    >>> _topic("How long is paternity leave?"), _topic("What was fixed?"), _topic("Who do I ask about sick pay?")
    ('paternity leave', None, 'sick pay')
    """
    m = _ABOUT_THING.match(previous) or _ABOUT_END.search(previous)
    if not m or not content_words(m.group("np")):
        return None
    np_ = m.group("np")
    return None if len(np_.split()) == 1 and np_.lower().endswith("ed") else np_


# "… about sick pay?", "… for part-time staff?": the thing a question ends by asking about
_ABOUT_END = re.compile(r"\b(?:about|for|on|regarding|concerning)\s+(?:the\s+)?(?P<np>(?:(?!(?:the|a|an|and|or|of)\b)"
                        r"[\w'’\-]+\s*){1,4})\?\s*$", re.IGNORECASE)


def _thing(previous: str, name: str) -> str:
    """What "it" stands for in the previous question: the phrase "the … <name> …" that ends it and holds its name,
    when the name only qualifies a thing ("the Indo-Pacific 4 meeting"); else the name ("the capital of France":
    France; "the White House readout say about China": White House).

    >>> _thing("Who chaired the Indo-Pacific 4 meeting?", "Indo-Pacific")
    'the Indo-Pacific 4 meeting'
    >>> _thing("What is the capital of France?", "France")
    'France'
    """
    m = re.search(rf"\bthe\s+((?:(?!{_NOT_IN_PHRASE})[\w'’\-]+\s+)*?){re.escape(name)}"
                  rf"((?:\s+(?!{_NOT_IN_PHRASE})[\w\-]+){{0,3}})(?=\s*[?.!]?\s*$)", previous, re.IGNORECASE)
    return m.group(0) if m and m.group(2).strip() else name


def _resolve(core: str, prev_names: list[str], previous_answer: str, previous: str = "") -> str:
    """`core` with its dangling pronoun replaced by the earlier turn's name (a person's for he/she; for "it", the
    thing the name qualifies: `_thing`)."""
    pron = _dangling(core)
    topic = _topic(previous) if pron and not prev_names and pron.group(1).lower() not in _PERSONAL else None
    if topic:                           # "Is it paid?" after "How long is paternity leave?"
        word = pron.group(1).lower()
        thing = f"{topic}'s" if word in {"its", "their"} else topic
        return core[:pron.start()] + thing + core[pron.end():]
    if pron and prev_names + _names(previous_answer):
        word = pron.group(1).lower()
        people = [n for n in prev_names + _names(previous_answer)   # "Richard Marles", not "NATO's Indo-Pacific"
                  if len(n.split()) >= 2 and not re.search(r"['’]s\b|\b[A-Z]{2,}\b", n)]
        who = (people or prev_names or _names(previous_answer))[0] if word in _PERSONAL else \
            (prev_names or _names(previous_answer))[0]
        if word in {"it", "its"} and previous:
            who = _thing(previous, who)
        if word in {"his", "her", "their", "its"}:
            who = re.sub(r"['’]s$", "", who) + "'s"
        core = core[:pron.start()] + who + core[pron.end():]
    return core


def _llm_rewrite(question: str, history, chat) -> str | None:
    lines = []
    for user, assistant in history[-3:]:
        lines += [f"User: {user}", f"Assistant: {assistant[:300]}"]
    messages = [
        {"role": "system", "content": "Rewrite the user's last question so that it can be understood without the "
                                      "conversation. Reply with the rewritten question only."},
        {"role": "user", "content": "Conversation:\n" + "\n".join(lines) + f"\n\nLast question: {question}\n"
                                    "Standalone question:"},
    ]
    reply = chat.complete(messages, max_tokens=60).strip()
    line = reply.splitlines()[0].strip().strip('"“”') if reply else ""
    line = re.sub(r"^(?:standalone question|question)\s*:\s*", "", line, flags=re.IGNORECASE)
    # a small model may answer instead of rewriting; keep it only if it still asks about the follow-up's words
    if 3 <= len(line) <= 300 and set(content_words(line)) & set(content_words(question) or content_words(line)):
        return line
    return None


def rewrite(question: str, history: Sequence = (), chat=None, embedder=None) -> str:
    """A standalone version of `question` given earlier (user, assistant) turns; unchanged when it stands alone.

    `chat` is an LLM backend from `rag.llm` (its LLMError propagates so the caller can note the failure).
    """
    pairs = turns(history)
    if not pairs or not is_followup(question):
        return question
    if chat is not None:
        better = _llm_rewrite(question, pairs, chat)
        if better:
            return better
    previous, answer = pairs[-1]
    previous = rewrite(previous, pairs[:-1], None, embedder)   # chains of follow-ups resolve turn by turn
    return deterministic_rewrite(question, previous, embedder, answer)
