"""Write `rag/models/places.json`: each country's name, demonym, capital and English alternative names, from the
`countryinfo` package's data (MIT licence, copyright 2018 Porimol Chandro; https://pypi.org/project/countryinfo/).

    .venv/bin/pip install countryinfo==1.0.1 && .venv/bin/python eval/make_places.py

News text and the questions asked of it name a country by its capital or its people as often as by its name ("Seoul
said …", "Which Estonian leader …?" of "Estonia's Prime Minister Kaja Kallas"). `rag.text.places` reads the table so
that word overlap counts such a word as its country's (`rag.evidence`). Countries of at least a million people;
alternative names of at most two words ("Great Britain", "Nippon"; not "Plurinational State of Bolivia"). Only the
words are kept, lower case; words that say nothing about one country are left out: generic geography words, words of
more than two countries' names ("south", "republic", "guinea"), and a word of a longer name that is another
country's whole name or demonym ("Spain" of "Port of Spain", "Chinese" of Hong Kong's "Chinese Victoria"). So "North
Korea" and "South Korea" share "korea" and nothing else.
The package is needed only to remake the table; the product reads the JSON.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from importlib import metadata, resources
from pathlib import Path

DEST = Path(__file__).resolve().parents[1] / "rag" / "models" / "places.json"
GENERIC = set("""new south north east west central upper lower great greater saint st san santa sao santo port city
island islands isle isles coast prince victoria sultan republic united states kingdom federated federation democratic
people peoples federal state territory territories minor outlying part and the of da de del la le el al dar es des du d c dc""".split())
# territories and small states left out: their names and capitals are mostly ordinary words and first names
# ("Christmas Island", "Flying Fish Cove", "Victoria", "Hamilton", "Douglas")
MIN_POPULATION = 1_000_000


def words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 2 and w not in GENERIC]


def main() -> None:
    data = resources.files("countryinfo") / "data"
    groups = []
    for f in sorted(data.iterdir(), key=lambda p: p.name):
        if not f.name.endswith(".json"):
            continue
        d = json.loads(f.read_text(encoding="utf-8"))
        if (d.get("population") or 0) < MIN_POPULATION:
            continue
        names = [d.get(k) for k in ("name", "demonym", "capital")] + [
            a for a in d.get("altSpellings") or [] if isinstance(a, str) and len(a) > 3 and len(a.split()) <= 2]
        names = [n for v in names for n in (v if isinstance(v, list) else [v]) if isinstance(n, str) and n.isascii()]
        ws = list(dict.fromkeys(w for n in names for w in words(n)))
        whole = {n.lower() for n in names if re.fullmatch(r"[A-Za-z]+", n)}
        if ws:
            groups.append({"country": d.get("name"), "words": ws, "whole": whole})
    count = Counter(w for g in groups for w in g["words"])
    wholes = Counter(w for g in groups for w in g["whole"])
    for g in groups:
        whole = g.pop("whole")
        g["words"] = [w for w in g["words"] if count[w] <= 2 and (w in whole or not wholes[w])]
    groups = [g for g in groups if g["words"]]
    DEST.write_text(json.dumps({
        "format_version": 1, "made_by": "eval/make_places.py",
        "source": f"countryinfo {metadata.version('countryinfo')} (MIT licence, (c) 2018 Porimol Chandro): name, "
                  "demonym, capital and ASCII alternative spellings of each country; generic geography words and "
                  "words of more than two countries left out",
        "groups": groups}, indent=0, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {DEST} ({len(groups)} countries, {sum(len(g['words']) for g in groups)} words)")


if __name__ == "__main__":
    main()
