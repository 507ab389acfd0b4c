"""The chat page in a real browser: Debian's headless Chromium (driven by Playwright, no browser download) asks a
seed question and a follow-up, and sees the cited answers and the sources panel with the quoted words marked."""
from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from rag.config import Settings
from ui.app import launch

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
QUESTION = "What are the four new flagship projects between NATO and its Indo-Pacific partners?"

pytestmark = pytest.mark.browser


@pytest.fixture
def app_url(docs_copy, seed_index, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    index = tmp_path / "index"
    shutil.copytree(seed_index, index)
    app = launch(Settings(docs=docs_copy, index=index), port=port, block=False)
    yield app.local_url
    app.close()


def _ask(page, question: str, turn: int, example: bool = False):
    if example:       # the example buttons ask with one click
        page.locator("#examples button", has_text=question).click()
    else:
        page.fill("#question textarea", question)
        page.click("#ask")
    # the turn's answer is final once its sources are in and the streaming cursor is gone
    page.wait_for_function(
        """([turn]) => {
            const bots = document.querySelectorAll('#chat .message-row.bot-row');
            const src = document.querySelector('#sources');
            return bots.length >= turn && src && src.querySelector('.src-card')
                && !bots[bots.length - 1].innerText.includes('▌')
                && !bots[bots.length - 1].innerText.includes('Searching the documents');
        }""", arg=[turn], timeout=120_000)


def test_chat_page_shows_cited_answer_and_highlighted_sources(app_url, tmp_path):
    if not CHROMIUM.exists():
        pytest.fail("needs Debian chromium at /usr/bin/chromium: run `make browser-deps` (apt-get install chromium)",
                    pytrace=False)
    from playwright import sync_api as playwright
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1360, "height": 1000})
            page.goto(app_url)
            page.wait_for_selector("#question textarea", timeout=60_000)
            assert page.get_by_text("Who chaired the Indo-Pacific 4 meeting?").first.is_visible()   # examples

            _ask(page, QUESTION, 1)
            chat, sources = page.locator("#chat"), page.locator("#sources")
            assert chat.is_visible() and sources.is_visible()
            assert "cyber" in chat.inner_text() and "[1]" in chat.inner_text()
            assert "003_1fcb2ff00d21c651.txt" in sources.inner_text()
            assert "Readout of President" in sources.inner_text()        # the document's title
            marks = sources.locator("mark")
            assert marks.count() >= 1 and marks.first.is_visible()
            assert any("flagship projects" in m for m in marks.all_inner_texts())

            _ask(page, "Who chaired the Indo-Pacific 4 meeting?", 2, example=True)
            assert "Luxon" in chat.inner_text().split("Who chaired the Indo-Pacific 4 meeting?")[-1]
            _ask(page, "And who came from Japan?", 3)
            last = chat.inner_text().split("And who came from Japan?")[-1]
            assert "Kishida" in last and "Understood as" in last          # the follow-up was rewritten
            assert "000_a5161bc88c4f9418.txt" in sources.inner_text()
            shot = tmp_path / "chat.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
        finally:
            browser.close()
