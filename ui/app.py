"""The chat app (Gradio): a Chat tab (streamed answers whose [n] open that answer's passages in the Sources panel,
stop / regenerate / thumbs up-down, conversations kept on the server) and a Documents tab (`ui.documents`: what is
indexed, uploads that index themselves, delete, rebuild). It only calls rag's public functions.

Named API endpoints, for gradio_client (`Client(url).predict(..., api_name="/ask")`):
    /ask(question, history="[]", top_k=0, mode="", answerer="", doc_ids="", date_from="", date_to="")
        -> (answer text, answer JSON; each citation also lists `also_in`, the other documents holding a
        near-identical passage). doc_ids: comma-separated document ids to search (empty: all).
    /upload(files: list[file]) -> (message, …)   /rebuild() -> summary   /delete(doc_id) -> summary
    /documents() -> list of {title, file, date, chunks}
A client chooses top-k, retrieval mode and one of the answerers the server has configured, never an LLM URL, key
or model file: those come from the server's environment only.
"""
from __future__ import annotations

import logging
import re
import traceback
from html import escape, unescape

import gradio as gr

from rag.answer import ask_stream
from rag.config import Settings
from rag.errors import RagError
from rag.retrieve import RETRIEVAL_MODES
from starlette.middleware import Middleware

from .chats import ChatStore, new_conversation
from .conversation import Conversations, answer_json, filters
from .documents import documents_tab, example_questions
from .render import EMPTY_SOURCES, answer_html, error_html, redact, sources_html, streaming_html
from .state import RetrieverHolder, configured_answerers, parse_history, request_settings
from .style import CSS, THEME
from .web import HEAD, LoginGuard

ANSWER_SLOTS = 4     # questions answered at once; the rest queue (keeps CPU-bound embedding from thrashing)
EXAMPLE_SLOTS = 3
log = logging.getLogger(__name__)


def build_app(settings: Settings) -> gr.Blocks:
    """The app over settings.docs / settings.index; builds the index first if there is none."""
    holder = RetrieverHolder(settings)
    store = ChatStore(settings.index)
    answerers = configured_answerers(settings)
    convs = Conversations(store, settings.index)

    def answer_stream(question, pairs, s, found):
        """Yield ('delta', text) while the answer streams, then ('final', Answer)."""
        if not holder.store.count():
            raise RagError("nothing is indexed yet: add documents in the Documents tab")
        shown = ""
        for item in ask_stream(holder.get(s.mode), question, s, pairs, found):
            if isinstance(item, str):
                shown += item
                yield "delta", shown
            else:
                yield "final", item

    def chat(message, conv, top_k, mode, answerer, doc_ids, date_from, date_to, request: gr.Request):
        question = (message or "").strip()
        user = request.username if request else None
        if not question:
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        conv = {**(conv or new_conversation())}
        msgs = list(conv["messages"]) + [{"role": "user", "content": f'<div class="q">{escape(question)}</div>'},
                                         {"role": "assistant", "content": "Searching the documents…"}]
        conv.update(messages=msgs, pairs=list(conv["pairs"]), answers=dict(conv["answers"]))
        turn = len(msgs) - 1
        yield msgs, gr.skip(), conv, "", gr.skip(), gr.skip()
        try:
            s = request_settings(settings, top_k, mode, answerer)
            found = filters(doc_ids, date_from, date_to)
            for kind, item in answer_stream(question, [tuple(p) for p in conv["pairs"]], s, found):
                if kind == "delta":
                    msgs[-1] = {"role": "assistant", "content": streaming_html(item)}
                    yield msgs, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
                    continue
                docs = holder.documents_of(item)
                src = sources_html(item, docs, turn)
                msgs[-1] = {"role": "assistant", "content": answer_html(item, turn, docs)}
                conv["answers"][str(turn)] = {"json": answer_json(item), "sources": src}
                conv["pairs"].append([question, item.text])
                store.save(user, conv)
                yield msgs, src, conv, "", conv["id"], gr.update(choices=convs.choices(user), value=conv["id"])
        except RagError as e:
            msgs[-1] = {"role": "assistant", "content": error_html(str(e))}
            yield msgs, gr.skip(), conv, gr.skip(), gr.skip(), gr.skip()
        except Exception as e:   # never leave the chat stuck on "Searching…"; the traceback goes to the log
            log.error("answering %r failed: %s", question, redact(traceback.format_exc()))
            msgs[-1] = {"role": "assistant", "content": error_html(f"Something went wrong answering this "
                                                                   f"({type(e).__name__}: {e}).")}
            yield msgs, gr.skip(), conv, gr.skip(), gr.skip(), gr.skip()

    def regenerate(conv, top_k, mode, answerer, doc_ids, date_from, date_to, request: gr.Request):
        """Answer the last question again (the chat's ↻ button)."""
        conv = {**(conv or new_conversation())}
        msgs = list(conv["messages"])
        last = max((i for i, m in enumerate(msgs) if m["role"] == "user"), default=None)
        if last is None:
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        question = unescape(re.sub(r"<[^>]+>", "", msgs[last]["content"]))
        answered = str(last + 1) in conv["answers"]
        conv.update(messages=msgs[:last], answers={k: v for k, v in conv["answers"].items() if int(k) < last},
                    pairs=list(conv["pairs"])[:-1] if answered else list(conv["pairs"]))
        yield from chat(question, conv, top_k, mode, answerer, doc_ids, date_from, date_to, request)

    def ask_api(question: str, history: str | list = "[]", top_k: int = 0, mode: str = "", answerer: str = "",
                doc_ids: str = "", date_from: str = "", date_to: str = "") -> tuple[str, dict]:
        """Answer a question (history: JSON list of [question, answer] pairs); returns the text and the answer JSON."""
        try:
            s = request_settings(settings, top_k, mode, answerer)
            pairs = parse_history(history)
            found = filters(doc_ids, date_from, date_to)
            final = None
            for kind, item in answer_stream(question, pairs, s, found):
                if kind == "final":
                    final = item
        except (RagError, ValueError, TypeError) as e:
            raise gr.Error(redact(str(e))) from None
        return final.text, answer_json(final)

    with gr.Blocks(title="Ask the documents", analytics_enabled=False) as app:
        gr.HTML('<div class="app-head"><h1>Ask the documents</h1><p>Answers come only from the indexed documents and '
                'cite them as [n]: click one to see its passage under Sources.</p></div>')
        chat_id = gr.BrowserState("", storage_key="rag-cite-chat", secret=store.secret())
        conv = gr.State(new_conversation())
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                with gr.Row(equal_height=False, elem_id="chat-row"):
                    with gr.Column(scale=3, min_width=300):
                        chatbot = gr.Chatbot(label="Conversation", show_label=False, height=480, elem_id="chat",
                                             placeholder="Ask about the documents — try an example below.",
                                             buttons=["copy"], layout="bubble", latex_delimiters=[])
                        with gr.Row(elem_id="ask-row"):
                            box = gr.Textbox(placeholder="Ask a question about the documents…", show_label=False,
                                             scale=6, container=False, elem_id="question", autofocus=True)
                            send = gr.Button("Ask", variant="primary", scale=1, min_width=70, elem_id="ask")
                            stop = gr.Button("Stop", variant="stop", scale=1, min_width=70, elem_id="stop")
                            new = gr.Button("New chat", scale=1, min_width=90, elem_id="new-chat")
                        gr.Markdown("Example questions", elem_classes="examples-label")
                        with gr.Column(elem_id="examples"):
                            example_buttons = [gr.Button("", size="sm", variant="secondary", elem_classes="example",
                                                         visible=False) for _ in range(EXAMPLE_SLOTS)]
                        with gr.Accordion("Search in", open=False, elem_id="search-in"):
                            doc_filter = gr.Dropdown([], multiselect=True, label="Documents (none chosen: all)",
                                                     elem_id="doc-filter")
                            with gr.Row():
                                date_from = gr.Textbox(label="From date", placeholder="YYYY-MM-DD", elem_id="from")
                                date_to = gr.Textbox(label="To date", placeholder="YYYY-MM-DD", elem_id="to")
                        with gr.Accordion("Settings", open=False):
                            with gr.Row():
                                top_k = gr.Slider(1, 10, value=settings.top_k, step=1, label="Passages to retrieve")
                                mode = gr.Radio(list(RETRIEVAL_MODES), value=settings.mode, label="Retrieval")
                            answerer = gr.Radio(list(answerers), value=settings.answerer, label="Answerer",
                                                visible=len(answerers) > 1,
                                                info="extractive quotes the documents; the others use the LLM this "
                                                     "server is configured with")
                        with gr.Accordion("Conversations", open=False, elem_id="conversations"):
                            conv_list = gr.Dropdown([], label="Earlier conversations", elem_id="conv-list")
                            with gr.Row():
                                open_btn = gr.Button("Open", size="sm", elem_id="conv-open")
                                del_btn = gr.Button("Delete", size="sm", variant="stop", elem_id="conv-delete")
                    with gr.Column(scale=2, min_width=280):
                        sources = gr.HTML(EMPTY_SOURCES, elem_id="sources", padding=False)
                ask_inputs = [conv, top_k, mode, answerer, doc_filter, date_from, date_to]
                outputs = [chatbot, sources, conv, box, chat_id, conv_list]
                running = dict(api_visibility="private", concurrency_limit=ANSWER_SLOTS, concurrency_id="answer",
                               show_progress="minimal")
                events = [trigger(chat, [box, *ask_inputs], outputs, **running) for trigger in (box.submit, send.click)]
                for button in example_buttons:   # one click asks it
                    events.append(button.click(lambda q: q, button, box, api_visibility="private", queue=False)
                                  .then(chat, [box, *ask_inputs], outputs, **running))
                events.append(chatbot.retry(regenerate, ask_inputs, outputs, **running))
                stop.click(None, None, None, cancels=events, api_visibility="private", queue=False).then(
                    convs.stopped, [chatbot, conv], [chatbot, conv], api_visibility="private", queue=False)
                for trigger in (new.click, chatbot.clear):   # the bin icon does what New chat does
                    trigger(convs.start_new, None, outputs, api_visibility="private", queue=False)
                chatbot.select(convs.show_sources, conv, sources, api_visibility="private", queue=False)
                chatbot.like(convs.feedback, conv, None, api_visibility="private", queue=False)
                open_btn.click(convs.open_conv, conv_list, outputs, api_visibility="private", queue=False)
                del_btn.click(convs.delete_conv, [conv_list, conv], outputs, api_visibility="private", queue=False)

            with gr.Tab("Documents", id="documents"):
                docs_outputs, refresh = documents_tab(holder, settings)

        def live_view():
            """What depends on the index: the Documents tab, the filter choices, the example questions."""
            docs = holder.documents()
            qs = example_questions(holder, EXAMPLE_SLOTS)
            return (*refresh(), gr.update(choices=[(d["title"][:60], d["file"]) for d in docs]),
                    *[gr.update(value=qs[i], visible=True) if i < len(qs) else gr.update(visible=False)
                      for i in range(EXAMPLE_SLOTS)])

        live_outputs = [*docs_outputs, doc_filter, *example_buttons]

        def on_load(cid, request: gr.Request):
            return (*convs.open_conv(cid, request), *live_view())

        app.load(on_load, chat_id, [*outputs, *live_outputs], api_visibility="private", queue=False)
        for event in refresh.events:
            event.then(live_view, None, live_outputs, api_visibility="private", queue=False)

        gr.api(ask_api, api_name="ask", concurrency_limit=ANSWER_SLOTS, concurrency_id="answer")
    app.holder = holder      # for tests and embedding callers: the live retriever lives here
    return app


def launch_options(settings: Settings) -> dict:
    """Keyword arguments for Blocks.launch: auth from RAG_AUTH, upload limit, look, the page script."""
    auth = None
    if settings.auth:
        user, sep, password = settings.auth.partition(":")
        if not sep or not user or not password:
            raise RagError("RAG_AUTH must look like user:password")
        auth = (user, password)
    return {"auth": auth, "max_file_size": f"{settings.max_upload_mb}mb", "css": CSS, "theme": THEME, "head": HEAD,
            "ssr_mode": False, "footer_links": ["api"], "show_error": True,
            "app_kwargs": {"middleware": [Middleware(LoginGuard)]}}


def launch(settings: Settings, host: str = "127.0.0.1", port: int = 7860, share: bool = False,
           block: bool = True) -> gr.Blocks:
    """Serve the app (on 127.0.0.1 unless told otherwise); with block=False return once it is up."""
    options = launch_options(settings)
    app = build_app(settings)
    app.queue(default_concurrency_limit=ANSWER_SLOTS)
    app.launch(server_name=host, server_port=port, share=share, prevent_thread_lock=not block, quiet=not block,
               **options)
    return app
