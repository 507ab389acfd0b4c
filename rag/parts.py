"""Questions in two parts, split into one question per part, so each part is decided and answered on its own.

Two general English forms, no word of any question set:

- "<question>, and <wh-word> <auxiliary> …?": a second question joined by "and" ("Who holds the closing news
  conferences, and where does the prime minister go once it ends?"). Both parts must be questions of their own: the
  second a wh-word with its auxiliary ("where does", "why did"; not a relative clause: "… and who died in 1892",
  "… and whose cathedral is …"), each at least four words, so "…, and by whom?" stays one question.
- "<wh-words> <aux> A and B each <rest>?": one question asked of two subjects ("How did Stoltenberg and the White
  House each describe China's role?" → "How did Stoltenberg describe China's role?", "How did the White House
  describe China's role?").

    >>> split("Who holds the closing news conferences, and where does the prime minister go once it ends?")
    ['Who holds the closing news conferences?', 'Where does the prime minister go once it ends?']
    >>> split("How did Stoltenberg and the White House each describe China's role?")
    ["How did Stoltenberg describe China's role?", "How did the White House describe China's role?"]
    >>> split("Which countries were accused of helping Russia's war, and by whom?")
    ["Which countries were accused of helping Russia's war, and by whom?"]
    >>> split("Who met Biden and Kishida?"), split("Who wrote Leaves of Grass and who died in 1892?")
    (['Who met Biden and Kishida?'], ['Who wrote Leaves of Grass and who died in 1892?'])
"""
from __future__ import annotations

import re

_WH = r"(?:who|whom|whose|what|when|where|why|which|how)"
_AUX = r"(?:did|do|does|have|has|had|will|would|can|could|should|were|was|are|is)"
_JOINED = re.compile(rf"^(?P<a>\W*{_WH}\b.+?),?\s+and\s+(?P<b>(?:(?:by|to|for|with|from|in|on|at)\s+)?"
                     rf"(?:who|whom|what|when|where|why|how)\s+{_AUX}\b.*)$", re.IGNORECASE | re.DOTALL)
_EACH = re.compile(rf"^(?P<pre>\W*{_WH}\b.*?\b{_AUX})\s+(?P<x>.+?)\s+and\s+(?P<y>.+?)\s+each\s+(?P<rest>.+)$",
                   re.IGNORECASE | re.DOTALL)
_MIN_WORDS = 4      # a second part with fewer words ("and by whom?") leans on the first: not a question of its own


def split(question: str) -> list[str]:
    """The question's parts, each a question of its own; `[question]` when it has one part."""
    q = " ".join(question.split())
    m = _EACH.match(q)
    if m and not re.search(r"\band\b", m["x"], re.IGNORECASE):
        return [f"{m['pre']} {who} {m['rest']}" for who in (m["x"], m["y"])]
    m = _JOINED.match(q)
    if m and min(len(m["a"].split()), len(m["b"].split())) >= _MIN_WORDS:
        a = m["a"].rstrip(" ,;")
        return [_ask(a), _ask(m["b"])]
    return [question]


def _ask(part: str) -> str:
    """A part as a question of its own: capitalised, ending in "?"."""
    part = part.strip().rstrip("?").rstrip()
    return part[:1].upper() + part[1:] + "?"
