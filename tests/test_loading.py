"""Loading documents: every supported format, metadata, and bad input that is named and skipped."""
from __future__ import annotations

import json
import os

import pytest

from rag.errors import RagError
from rag.loaders import load
from conftest import SEEDS


def test_seeds_load_with_titles_and_dates():
    docs = {d.id: d for d in load(SEEDS).documents}
    assert sorted(docs) == sorted(p.name for p in SEEDS.iterdir())
    d001 = docs["001_88c7197dd4cdd008.txt"]
    assert d001.date == "2024-07-11"
    assert d001.title.startswith("NATO chief says alliance")
    assert "date 2024-07-11" not in d001.text          # the header line is metadata, not text
    d003 = docs["003_1fcb2ff00d21c651.txt"]
    assert d003.date == "2024-07-11" and d003.source_url.startswith("https://bidenwhitehouse")
    assert "Readout of President" in d003.title and not d003.text.startswith("---")
    assert docs["000_a5161bc88c4f9418.txt"].title == "000_a5161bc88c4f9418.txt"   # no heading: file name


def test_markdown_html_and_nested_folders(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "note.md").write_text("---\ntitle: Budget memo\ndate: 2025-01-02\n---\nThe budget is 12 euros.\n")
    (tmp_path / "page.html").write_text("<html><head><title>Town page</title><style>p{}</style>"
                                        "<script>var x=1;</script></head><body><p>Visible words.</p></body></html>")
    docs = {d.id: d for d in load(tmp_path).documents}
    assert docs["sub/note.md"].title == "Budget memo" and docs["sub/note.md"].date == "2025-01-02"
    assert docs["sub/note.md"].text.strip() == "The budget is 12 euros."
    page = docs["page.html"]
    assert page.title == "Town page" and "Visible words." in page.text
    assert "var x" not in page.text and "p{}" not in page.text


def test_a_file_without_a_date_of_record_takes_the_one_its_first_lines_give(tmp_path):
    """A news dateline or a "Last updated" line dates the document (so "yesterday" in it can be resolved); a date
    inside a sentence is what the text is about; a JSONL record's date is only its own field; front matter wins."""
    (tmp_path / "press.txt").write_text("Factory opens in Sheffield\n\nSHEFFIELD, 14 May 2025 — The firm yesterday "
                                        "opened a plant that will employ 320 people.\n")
    (tmp_path / "handbook.md").write_text("# Handbook\n\n*Last updated: March 3, 2025*\n\nCore hours are 10 to 4.\n")
    (tmp_path / "history.txt").write_text("The treaty signed on 14 May 1955 created the pact.\n")
    (tmp_path / "memo.md").write_text("---\ndate: 2025-01-02\n---\nPublished 9 June 2025\n\nThe budget is 12.\n")
    docs = {d.id: d for d in load(tmp_path).documents}
    assert docs["press.txt"].date == "2025-05-14" and docs["handbook.md"].date == "2025-03-03"
    assert docs["history.txt"].date is None and docs["memo.md"].date == "2025-01-02"
    assert "SHEFFIELD, 14 May 2025" in docs["press.txt"].text          # the text itself is unchanged
    corpus = tmp_path / "corpus" / "corpus.jsonl"
    corpus.parent.mkdir()
    corpus.write_text(json.dumps({"id": "r", "title": "R", "text": "PARIS, 14 July 1789 — The Bastille fell."}) + "\n")
    assert load(corpus).documents[0].date is None


def test_pdf_text_keeps_page_numbers(tmp_path):
    import pypdf
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = pypdf.PdfWriter()
    for words in ("First page about apples.", "Second page about pears."):
        page = writer.add_blank_page(300, 300)
        font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"):
                                 NameObject("/Type1"), NameObject("/BaseFont"): NameObject("/Helvetica")})
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject(
            {NameObject("/F1"): writer._add_object(font)})})
        stream = DecodedStreamObject()
        stream.set_data(f"BT /F1 12 Tf 20 200 Td ({words}) Tj ET".encode())
        page[NameObject("/Contents")] = writer._add_object(stream)
    with open(tmp_path / "fruit.pdf", "wb") as f:
        writer.write(f)
    (doc,) = load(tmp_path).documents
    assert "apples" in doc.text and "pears" in doc.text
    assert doc.page_at(doc.text.index("pears")) == 2 and doc.page_at(doc.text.index("apples")) == 1


def test_corpus_jsonl_uses_record_ids(tmp_path):
    rows = [{"id": "a-1", "title": "Alpha", "text": "Alpha text."}, {"id": "b-2", "title": "Beta", "text": "Beta."}]
    path = tmp_path / "corpus.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n{not json\n")
    result = load(path)
    assert [(d.id, d.title) for d in result.documents] == [("a-1", "Alpha"), ("b-2", "Beta")]
    assert len(result.skipped) == 1 and result.skipped[0][0] == "corpus.jsonl:3"


BAD = {
    "empty.txt": b"",
    "blank.md": b"   \n\n",
    "binary.txt": b"\x00\x01\x02ELF\x00" * 10,
    "latin1.txt": "caf\xe9 au lait".encode("latin-1"),
    "broken.pdf": b"%PDF-1.4 this is not really a pdf",
    "broken.docx": b"PK\x03\x04 this is not really a Word file",
    "badfront.md": b"---\ntitle: [unclosed\n---\nBody text here.\n",
    "picture.png": b"\x89PNG\r\n",
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_file_is_named_and_skipped_rest_loads(tmp_path, name):
    (tmp_path / "good.txt").write_text("A perfectly fine document about ferries.")
    (tmp_path / name).write_bytes(BAD[name])
    result = load(tmp_path)
    assert [d.id for d in result.documents] == ["good.txt"]
    assert [n for n, _ in result.skipped] == [name]
    reason = result.skipped[0][1]
    assert reason and "\n" not in reason


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file_is_skipped(tmp_path):
    (tmp_path / "good.txt").write_text("Fine.")
    secret = tmp_path / "secret.txt"
    secret.write_text("hidden")
    secret.chmod(0)
    assert [n for n, _ in load(tmp_path).skipped] == ["secret.txt"]


def test_missing_docs_folder_is_one_line_error(tmp_path):
    with pytest.raises(RagError) as e:
        load(tmp_path / "nope")
    assert "does not exist" in str(e.value) and "\n" not in str(e.value)


def test_markdown_markup_is_never_quoted(tmp_path):
    (tmp_path / "memo.md").write_text(
        "---\ntitle: Port memo\ndate: 2025-03-04\n---\n"
        "# Harbour *update* #\n\n"
        "The **new crane** arrived on __Monday__ and costs `4.2 million` euros, says the [port authority]"
        "(https://example.org/port \"Port\").\n"
        "![crane photo](img/crane.png)\n\n"
        "Setext heading\n==============\n\n"
        "- A bullet about *snake_case_names* and 2 * 3 * 4.\n"
        "A literal \\*star\\* stays, see <https://example.org/x> and [the report][r].\n\n"
        "```python\nprint('code stays')\n```\n\n[r]: https://example.org/report\n")
    (doc,) = load(tmp_path).documents
    assert doc.title == "Port memo" and doc.date == "2025-03-04"
    assert doc.text == ("Harbour update\n\n"
                        "The new crane arrived on Monday and costs 4.2 million euros, says the port authority.\n\n"
                        "Setext heading\n\n"
                        "- A bullet about snake_case_names and 2 * 3 * 4.\n"
                        "A literal *star* stays, see https://example.org/x and the report.\n\n"
                        "print('code stays')")
    # citations quote Document.text spans, so a quote can never carry markup
    from rag.chunking import chunk_document

    for c in chunk_document(doc, 24, 0):
        assert doc.text[c.start:c.end] == c.text and not any(m in c.text for m in ("**", "](", "![", "`", "# "))


def test_documents_the_index_already_holds_are_not_parsed_again(tmp_path):
    """`known` (what an index holds) turns unchanged files and corpus.jsonl lines into Unchanged records."""
    from rag.loaders import Unchanged, iter_load

    (tmp_path / "a.md").write_text("# A\n\nAlpha text.\n", encoding="utf-8")
    (tmp_path / "b.md").write_text("# B\n\nBeta text.\n", encoding="utf-8")
    (tmp_path / "corpus.jsonl").write_text('{"id": "r1", "title": "R1", "text": "One."}\n'
                                           '{"id": "r2", "title": "R2", "text": "Two."}\n', encoding="utf-8")
    first = {d.id: d for d in iter_load(tmp_path)}
    assert all(not isinstance(d, Unchanged) for d in first.values()) and set(first) == {"a.md", "b.md", "r1", "r2"}
    (tmp_path / "b.md").write_text("# B\n\nBeta text, edited.\n", encoding="utf-8")
    known = {i: d.sha256 for i, d in first.items()}
    again = {d.id: d for d in iter_load(tmp_path, known=known)}
    assert {i for i, d in again.items() if isinstance(d, Unchanged)} == {"a.md", "r1", "r2"}
    assert not isinstance(again["b.md"], Unchanged) and "Beta text, edited." in again["b.md"].text
    assert all(again[i].sha256 == known[i] for i in ("a.md", "r1", "r2"))


PRINTED_REPORT = ("<html><head><title>Annual report 2024</title></head><body><h1>Annual report 2024</h1>"
                  "<p>Report prepared by Dr. Samuel Okafor, 3 October 2024.</p>" + "".join(
                      f"<p>In quarter {i % 4 + 1} the finance team reconciled account {1000 + i} with the general "
                      f"ledger, a task that took {i} working days and involved the external auditors from "
                      f"Hartley &amp; Sons.</p>" for i in range(1, 40)) + "</body></html>")


@pytest.mark.browser
def test_a_printed_pdf_reads_as_its_sentences(tmp_path):
    """A PDF as people make them (a page printed by Chromium: wrapped lines, a date-and-title header and a
    file-URL footer on every page, "ﬁ" ligatures, the source file's name as its title): every paragraph comes out
    as its one sentence, on its page, with none of the page furniture, titled by its heading and dated by its
    byline."""
    import subprocess

    from rag import text as T
    from test_browser import CHROMIUM

    if not CHROMIUM.exists():
        pytest.fail("needs Debian chromium at /usr/bin/chromium: run `make browser-deps`", pytrace=False)
    page = tmp_path / "report.html"
    page.write_text(PRINTED_REPORT)
    docs = tmp_path / "docs"
    docs.mkdir()
    subprocess.run([str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    f"--print-to-pdf={docs / 'report.pdf'}", page.as_uri()], check=True, capture_output=True,
                   timeout=120)
    (doc,) = load(docs).documents
    said = [" ".join(doc.text[a:b].split()) for a, b in T.sentence_spans(doc.text)]
    wanted = [f"In quarter {i % 4 + 1} the finance team reconciled account {1000 + i} with the general ledger, a "
              f"task that took {i} working days and involved the external auditors from Hartley & Sons."
              for i in range(1, 40)]
    assert said == ["Annual report 2024", "Report prepared by Dr. Samuel Okafor, 3 October 2024.", *wanted]
    assert len(doc.page_starts) >= 2 and doc.page_at(doc.text.index("account 1039")) == len(doc.page_starts)
    assert doc.title == "Annual report 2024" and doc.date == "2024-10-03"


def test_pdf_ligatures_and_file_name_titles(tmp_path):
    from rag.loaders import _FILE_TITLE, _LIGATURES, pdf_paragraphs

    assert "ﬁnancial ﬂows".translate(_LIGATURES) == "financial flows"
    assert all(_FILE_TITLE.match(t) for t in ("report.html", "Microsoft Word - Plan 2025.docx", "Untitled", ""))
    assert not _FILE_TITLE.match("Annual report 2024")
    page = "Header line\nBody text that is long enough to set the width of this page.\n- 3 -"
    assert pdf_paragraphs(page) == "Header line\n\nBody text that is long enough to set the width of this page."
    # a numbered heading right under a full line is a paragraph of its own, and the heading of the text below it
    from rag.text import heading_above

    page = ("They work their contracted hours each week, as the contract says they must do.\n5. Security requirements\n"
            "Company data must only be accessed through the VPN.")
    text = pdf_paragraphs(page)
    assert text.split("\n\n")[1] == "5. Security requirements"
    assert heading_above(text, text.index("Company")) == "Security requirements"


def test_tables_are_read_row_by_row(tmp_path):
    """A Markdown or HTML table: one sentence per row, cells between " | ", no rule row; a site's menu is left out."""
    from rag import text as T

    (tmp_path / "policy.md").write_text("# Leave\n\n| Type | Length | Pay |\n|------|:------:|-----|\n"
                                        "| Maternity leave | 26 weeks | full pay for 16 weeks |\n"
                                        "| Paternity leave | 4 weeks | full pay |\n\nAsk HR.\n")
    (tmp_path / "prices.html").write_text("<html><body><nav>Home | Docs | Download</nav><h1>Prices</h1><table>"
                                          "<tr><th>Plan</th><th>Price</th></tr><tr><td>Basic</td><td>$5</td></tr>"
                                          "<tr><td>Pro</td><td>$12 a month</td></tr></table></body></html>")
    docs = {d.id: d for d in load(tmp_path).documents}
    rows = {d: [docs[d].text[a:b] for a, b in T.sentence_spans(docs[d].text)] for d in docs}
    assert rows["policy.md"] == ["Leave", "Type | Length | Pay", "Maternity leave | 26 weeks | full pay for 16 weeks",
                                 "Paternity leave | 4 weeks | full pay", "Ask HR."]
    assert rows["prices.html"] == ["Prices", "Plan | Price", "Basic | $5", "Pro | $12 a month"]


def test_html_and_word_list_items_are_items_not_headings(tmp_path):
    """An HTML <li> or a Word list paragraph keeps a "- " marker, as a Markdown item has, so a short item ("250 g red
    lentils") is never read as the heading of the item after it; the quoted sentence has no marker."""
    import docx

    from rag import text as T

    (tmp_path / "soup.html").write_text("<html><body><h1>Lentil soup</h1><h2>Ingredients</h2><ul><li>250 g red "
                                        "lentils</li><li>1 onion, chopped</li><li>1.2 litres stock</li></ul>"
                                        "<ol><li>Simmer for 30 minutes.</li></ol></body></html>")
    word = docx.Document()
    word.add_heading("Packing list", 1)
    for item in ("Passport", "Rail card", "Charger"):
        word.add_paragraph(item, style="List Bullet")
    word.save(tmp_path / "packing.docx")
    docs = {d.id: d for d in load(tmp_path).documents}
    for name, heading, items in [("soup.html", "Ingredients", ["250 g red lentils", "1 onion, chopped",
                                                                "1.2 litres stock"]),
                                 ("packing.docx", "Packing list", ["Passport", "Rail card", "Charger"])]:
        text = docs[name].text
        quoted = [text[a:b] for a, b in T.sentence_spans(text)]
        assert all(item in quoted for item in items), quoted
        assert [T.heading_above(text, text.index(item)) for item in items] == [heading] * len(items)


def test_word_files_read_in_order_with_headings_lists_and_tables(tmp_path):
    """A .docx made by python-docx (as Word saves them): paragraphs, headings, list items and table rows, in
    reading order, each its own sentence; its Title property is only a file name, so its first heading titles it."""
    import docx

    from rag import text as T

    word = docx.Document()
    word.core_properties.title = "Microsoft Word - handbook.docx"
    word.add_heading("Expenses handbook", 0)
    word.add_heading("Travel", 1)
    word.add_paragraph("Staff may claim rail fares over 50 miles. First-class travel needs a director's approval.")
    word.add_paragraph("Taxis are allowed after 22:00.", style="List Bullet")
    table = word.add_table(rows=2, cols=2)
    for r, (a, b) in enumerate([("Item", "Limit"), ("Dinner", "£35")]):
        table.cell(r, 0).text, table.cell(r, 1).text = a, b
    word.add_paragraph("Claims must be filed within 30 days.")
    word.save(tmp_path / "expenses.docx")
    (tmp_path / "old.docx").write_bytes(b"PK\x03\x04 not really a zip")
    result = load(tmp_path)
    (doc,) = result.documents
    assert doc.title == "Expenses handbook"
    assert [doc.text[a:b] for a, b in T.sentence_spans(doc.text)] == [
        "Expenses handbook", "Travel", "Staff may claim rail fares over 50 miles.",
        "First-class travel needs a director's approval.", "Taxis are allowed after 22:00.", "Item | Limit",
        "Dinner | £35", "Claims must be filed within 30 days."]
    assert [(name, why.split(" (")[0]) for name, why in result.skipped] == [("old.docx", "broken Word file")]


def test_a_word_file_that_unpacks_too_far_is_refused_unread(tmp_path, monkeypatch):
    import zipfile

    import rag.loaders as L

    with zipfile.ZipFile(tmp_path / "bomb.docx", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", "<w:document>" + " " * 3_000_000 + "</w:document>")
    monkeypatch.setattr(L, "DOCX_UNPACKED", 1)
    result = L.load(tmp_path, max_file_mb=1)
    assert not result.documents and "unpacks to 2 MB, over 1 MB" in result.skipped[0][1]


def test_an_email_saved_as_text_is_titled_by_its_subject_and_dated_by_its_header(tmp_path):
    (tmp_path / "thread.txt").write_text("From: Aisha Karim <aisha@lumen.example>\nTo: Ops <ops@lumen.example>\n"
                                         "Date: Tue, 4 March 2025 09:12\nSubject: Re: Server move weekend\n\n"
                                         "Hi all,\n\nThe data centre move is confirmed for Saturday 15 March.\n")
    (tmp_path / "notes.txt").write_text("From: the notes of the meeting\n\nWe agreed on the budget.\n")
    docs = {d.id: d for d in load(tmp_path).documents}
    assert (docs["thread.txt"].title, docs["thread.txt"].date) == ("Re: Server move weekend", "2025-03-04")
    assert docs["notes.txt"].title == "From: the notes of the meeting"       # no Subject line: its first line
