"""The chat page in a real browser: Debian's headless Chromium (driven by Playwright, no browser download) against a
real server over a copy of the seeds. Each test opens its own page (its own browser storage); the server, and so the
documents, are shared in file order."""
from __future__ import annotations

import http.server
import json
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import pytest
from conftest import close_app

from rag.answer import ask
from rag.config import Settings
from rag.evaluate import load_questions
from ui.app import launch
from ui.render import plain_text

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
FLAGSHIP = "What are the four new flagship projects between NATO and its Indo-Pacific partners?"
CHAIR = "Who chaired the Indo-Pacific 4 meeting?"
AUSTRALIA = "Who represented Australia at the meeting with NATO's Indo-Pacific partners?"
SHOTS = Path(tempfile.gettempdir()) / "rag-cite-screenshots"     # look at them: desktop and 420 px
MARKUP = ("# The Zorblax treaty was signed in Reykjavik on 3 March 2031.\n\n"
          '<img src=x onerror="window.__pwned=1"> Minister Halvard Strøm signed the Zorblax treaty for Norway.\n')

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(seed_index, tmp_path_factory):
    from conftest import SEEDS

    tmp = tmp_path_factory.mktemp("browser")
    shutil.copytree(SEEDS, tmp / "docs")
    shutil.copytree(seed_index, tmp / "index")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = Settings(docs=tmp / "docs", index=tmp / "index")
    app = launch(settings, port=port, block=False)
    yield app.local_url, app, settings
    close_app(app)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("needs Debian chromium at /usr/bin/chromium: run `make browser-deps` (apt-get install chromium)",
                    pytrace=False)
    from playwright import sync_api as playwright
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def open_page(browser, url, width=1360, height=1000):
    context = browser.new_context(viewport={"width": width, "height": height})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url.rstrip("/"))
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("#question textarea", timeout=60_000)
    page.wait_for_function("() => document.querySelectorAll('#examples button.example').length > 0 || "
                           "document.querySelector('#docs-status')?.innerText.length > 0", timeout=30_000)
    return page


def shot(page, name: str) -> Path:
    SHOTS.mkdir(exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def bot_rows(page):
    return page.locator("#chat .message-row.bot-row")


def ask_on_page(page, question: str, turn: int):
    """Ask and wait until answer number `turn` is final (its 'Sources ↓' link is there)."""
    page.fill("#question textarea", question)
    page.click("#ask")
    page.wait_for_function(
        """([turn]) => {
            const bots = document.querySelectorAll('#chat .message-row.bot-row');
            return bots.length >= turn && bots[turn - 1].querySelector('a.cite-all');
        }""", arg=[turn], timeout=120_000)
    return bot_rows(page).nth(turn - 1)


def click_until(page, selector: str, condition: str, tries: int = 3):
    """Click, then wait for `condition` (JS); click again if an event that was still finishing undid it."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(tries):
        page.click(selector)
        try:
            page.wait_for_function(condition, timeout=10_000)
            return
        except PlaywrightTimeout:
            if attempt == tries - 1:
                raise


def flat(text: str) -> str:
    return " ".join(text.split())


def test_each_citation_shows_its_answers_passage_and_the_chat_survives_a_reload(site, browser):
    url, app, settings = site
    page = open_page(browser, url)
    titles = [d["title"] for d in app.holder.documents()]
    examples = page.locator("#examples button.example").all_inner_texts()
    assert examples and all(any(t[:30] in e for t in titles) for e in examples)   # from the indexed documents

    # an answer with at least two sources (which one depends on the answerer's wording, not on the page)
    answers = [ask(app.holder.get(), q, settings) for q in (AUSTRALIA, FLAGSHIP, CHAIR)]
    expected = next((a for a in answers if len({c.n for c in a.citations}) >= 2), None)
    assert expected is not None, "no seed question gets two citations"
    MULTI = expected.question
    first = ask_on_page(page, MULTI, 1)
    assert "[1]" in first.inner_text() and first.locator("a.cite").count() >= 2
    ask_on_page(page, CHAIR, 2)
    assert "Luxon" in bot_rows(page).nth(1).inner_text()
    assert CHAIR in page.locator("#sources .src-q").inner_text()

    first.locator("a.cite", has_text="2").first.click()        # answer 1's [2], after answer 2 came in
    card = page.locator("#sources #src-1-2")
    card.wait_for(timeout=10_000)
    assert MULTI in page.locator("#sources .src-q").inner_text()
    quote2 = next(c.quote for c in expected.citations if c.n == 2)
    assert flat(quote2) in flat(" ".join(card.locator(".src-text mark").all_inner_texts()))
    page.wait_for_function("() => { const r = document.querySelector('#src-1-2').getBoundingClientRect();"
                           " return r.top >= 0 && r.top < window.innerHeight; }", timeout=10_000)
    card.locator("summary").click()                            # the whole document, the cited span highlighted
    assert flat(quote2) in flat(" ".join(card.locator(".doc-text mark").all_inner_texts()))
    shot(page, "desktop-chat")

    page.reload()                                              # the conversation comes back
    page.wait_for_function("() => document.querySelectorAll('#chat .message-row.bot-row').length == 2",
                           timeout=30_000)
    assert MULTI in page.locator("#chat").inner_text() and page.locator("#sources .src-card").count() >= 1
    last = ask_on_page(page, "And who came from Japan?", 3)
    assert "Understood as" in last.inner_text() and last.locator("a.cite").count()   # it remembers the turns

    page.click("#chat button[aria-label='Clear']")             # the bin does what New chat does
    page.wait_for_function("() => !document.querySelector('#sources .src-card')", timeout=10_000)
    assert bot_rows(page).count() == 0
    after = ask_on_page(page, "And who came from Japan?", 1)
    assert "Understood as" not in after.inner_text()          # the conversation memory went too
    typo = ask_on_page(page, "Why did Albanse not attend the meeting?", 2)
    text = typo.inner_text()                                   # a misspelt name is read as the documents write it
    assert "Understood as: “Why did Albanese not attend the meeting?”" in text
    assert "Albanese’s decision not to attend" in text and typo.locator("a.cite").count() >= 1
    shot(page, "desktop-typo")
    page.context.close()


def test_copy_gives_the_answer_as_plain_text(site, browser):
    url, app, settings = site
    page = open_page(browser, url)
    row = ask_on_page(page, CHAIR, 1)
    row.hover()
    page.locator("#chat .message-buttons-left button[aria-label='Copy message']").last.click()
    page.wait_for_timeout(300)
    copied = page.evaluate("navigator.clipboard.readText()")
    answer = ask(app.holder.get(), CHAIR, settings)
    assert copied == plain_text(answer, app.holder.get().store.docs)
    assert copied.startswith(answer.text) and "\nSources:\n[1] " in copied and "<" not in copied
    page.context.close()


def test_upload_indexes_itself_reload_shows_it_and_document_markup_stays_text(site, browser, tmp_path):
    url, app, settings = site
    page = open_page(browser, url)
    page.get_by_role("tab", name="Documents").click()
    assert "4 documents indexed" in page.locator("#docs-status").inner_text()
    doc = tmp_path / "markup.txt"      # plain text keeps a leading "# " as written
    doc.write_text(MARKUP, encoding="utf-8")
    bad = tmp_path / "setup.exe"
    bad.write_bytes(b"MZ not a document")
    page.set_input_files("#upload input[type=file]", [str(doc), str(bad)])
    page.wait_for_function("() => document.querySelector('#upload-msg').innerText.includes('Index rebuilt')",
                           timeout=120_000)
    message = page.locator("#upload-msg").inner_text()
    assert "Saved markup.txt" in message and "setup.exe" in message and "unsupported file type" in message
    assert page.locator("#upload .file-preview, #upload table").count() == 0      # the box is empty again
    assert "5 documents indexed" in page.locator("#docs-status").inner_text()

    page.reload()                                              # a reload reads the live index
    page.get_by_role("tab", name="Documents").click()
    page.wait_for_function("() => document.querySelector('#docs-status').innerText.includes('5 documents')",
                           timeout=30_000)
    assert "markup.txt" in page.locator("#doc-table").inner_text()

    page.get_by_role("tab", name="Chat").click()
    row = ask_on_page(page, "Where was the Zorblax treaty signed?", 1)
    page.locator("#sources summary").first.click()
    sources = page.locator("#sources")
    assert "Reykjavik" in row.inner_text()
    assert page.locator("#chat img, #sources img, #chat h1, #sources h1, #chat .message h2").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert '<img src=x onerror="window.__pwned=1">' in sources.inner_text()
    assert "# The Zorblax treaty" in sources.inner_text()
    shot(page, "desktop-markup")

    page.get_by_role("tab", name="Documents").click()          # delete it from the page
    page.click("#doc-delete input")
    page.get_by_role("option", name="markup.txt", exact=False).first.click()
    page.click("#delete")
    page.wait_for_function("() => document.querySelector('#docs-status').innerText.includes('4 documents')",
                           timeout=120_000)
    assert not (settings.docs / "markup.txt").exists()
    assert "markup.txt" not in page.locator("#doc-table").inner_text()
    page.context.close()


def test_mobile_pages_fit_and_a_citation_jumps_to_its_source(site, browser):
    url, _, _ = site
    page = open_page(browser, url, width=420, height=860)
    page.get_by_role("tab", name="Documents").click()
    page.wait_for_selector("#doc-table table", timeout=30_000)
    assert page.evaluate("document.documentElement.scrollWidth") <= 422
    shot(page, "mobile-documents")
    page.get_by_role("tab", name="Chat").click()
    row = ask_on_page(page, FLAGSHIP, 1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 422
    row.locator("a.cite").first.click()
    page.wait_for_function("() => { const el = document.querySelector('#src-1-1'); if (!el) return false;"
                           " const r = el.getBoundingClientRect(); return r.top >= 0 && r.top < window.innerHeight; }",
                           timeout=10_000)
    page.screenshot(path=str(SHOTS / "mobile-source.png"))
    page.context.close()


def test_regenerate_feedback_and_earlier_conversations(site, browser):
    url, _, settings = site
    page = open_page(browser, url)
    row = ask_on_page(page, CHAIR, 1)
    row.hover()
    page.locator("#chat button[aria-label='Like']").last.click()
    feedback = settings.index / "feedback.jsonl"
    page.wait_for_function("() => true")
    for _ in range(50):
        if feedback.is_file() and feedback.read_text(encoding="utf-8").strip():
            break
        page.wait_for_timeout(100)
    rows = load_questions(feedback)                            # what `rag eval --questions` reads
    assert rows[-1]["question"] == CHAIR and rows[-1]["verdict"] == "up" and rows[-1]["gold_doc_ids"]
    assert "Luxon" in rows[-1]["answers"][0]

    page.locator("#chat button[aria-label='Retry']").last.click()     # regenerate: the same turn again
    page.wait_for_function("() => { const b = document.querySelectorAll('#chat .message-row.bot-row');"
                           " return b.length == 1 && b[0].querySelector('a.cite-all'); }", timeout=60_000)
    assert page.locator("#chat .message-row.user-row").count() == 1

    saved = [p for p in (settings.index / "chats").glob("*.json") if CHAIR in p.read_text(encoding="utf-8")]
    conv = max(saved, key=lambda p: p.stat().st_mtime)      # this page's (earlier tests asked CHAIR too)
    assert len(json.loads(conv.read_text(encoding="utf-8"))["pairs"]) == 1
    click_until(page, "#new-chat", "() => document.querySelectorAll('#chat .message-row').length == 0")
    page.get_by_text("Conversations").click()
    page.click("#conv-list input")
    page.get_by_role("option").filter(has_text=CHAIR).first.click()      # newest first: this page's
    page.click("#conv-open")
    page.wait_for_function("() => document.querySelectorAll('#chat .message-row.bot-row').length == 1",
                           timeout=10_000)
    assert "Luxon" in page.locator("#chat").inner_text()
    page.click("#conv-delete")
    page.wait_for_function("() => document.querySelectorAll('#chat .message-row').length == 0", timeout=10_000)
    assert not conv.exists()
    page.context.close()


class _SlowLLM(http.server.BaseHTTPRequestHandler):
    """An OpenAI-compatible server that streams one word every 0.1 s for 30 s: the subject here is the Stop button,
    and SmolLM2 can finish its 256 tokens before a click lands (the real model's streaming is tested in test_llm.py)."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        try:
            for i in range(300):
                chunk = {"choices": [{"delta": {"content": f"word{i} "}}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
                time.sleep(0.1)
            self.wfile.write(b"data: [DONE]\n\n")
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


def test_stop_ends_a_streaming_answer(docs_copy, seed_index, tmp_path, browser):
    """The answer streams; Stop ends it, says so, and no final answer (or sources) follows."""
    shutil.copytree(seed_index, tmp_path / "index")
    llm = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SlowLLM)
    threading.Thread(target=llm.serve_forever, daemon=True).start()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = Settings(docs=docs_copy, index=tmp_path / "index", answerer="openai",
                        llm_base_url=f"http://127.0.0.1:{llm.server_address[1]}/v1")
    app = launch(settings, port=port, block=False)
    try:
        page = open_page(browser, app.local_url)
        page.fill("#question textarea", FLAGSHIP)
        page.click("#ask")
        page.wait_for_function("() => [...document.querySelectorAll('#chat .message-row.bot-row')]"
                               ".some(r => r.innerText.includes('word3'))", timeout=120_000)
        page.click("#stop")
        page.wait_for_function("() => document.querySelector('#chat').innerText.includes('stopped')",
                               timeout=10_000)
        page.wait_for_timeout(3000)                       # no final answer arrives after the stop
        last = bot_rows(page).last
        assert last.locator("a.cite-all").count() == 0 and "▌" not in last.inner_text()
        assert "word60" not in last.inner_text()          # the stream really ended at the click
        assert bot_rows(page).count() == 1 and "stopped" in last.inner_text()   # the stopped turn stays
        assert page.locator("#sources .src-card").count() == 0
        page.context.close()
    finally:
        close_app(app)
        llm.shutdown()


def test_search_in_limits_a_question_to_the_chosen_document(site, browser):
    url, app, _ = site
    only = "002_891ee57fec840978.txt"
    title = next(d["title"] for d in app.holder.documents() if d["file"] == only)
    page = open_page(browser, url)
    page.get_by_text("Search in").click()
    page.click("#doc-filter input")
    page.get_by_role("option").filter(has_text=title[:25]).first.click()
    page.keyboard.press("Escape")
    ask_on_page(page, CHAIR, 1)
    files = page.locator("#sources .src-card .src-meta .src-file").all_inner_texts()
    assert files and set(files) == {only}, files
    page.context.close()
