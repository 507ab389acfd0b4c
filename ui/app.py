"""The chat app (Gradio): a Chat tab (streamed answers with [n] citations beside a sources panel) and a Documents
tab (what is indexed, uploads, rebuild). It only calls rag's public functions.

Named API endpoints, for gradio_client (`Client(url).predict(..., api_name="/ask")`):
    /ask(question, history="[]", top_k=0, mode="", answerer="") -> (answer text, answer JSON; each citation
        also lists `also_in`, the other documents holding a near-identical passage)
    /upload(files: list[file]) -> message            /rebuild() -> summary dict
    /documents() -> list of {title, file, date, chunks}
"""
from __future__ import annotations

import logging
from pathlib import Path

import gradio as gr

from rag.answer import ANSWERERS, answer_to_json, ask_stream, cited_hit
from rag.config import Settings
from rag.errors import RagError
from rag.loaders import SUPPORTED
from rag.retrieve import RETRIEVAL_MODES

from .render import (EMPTY_SOURCES, answer_markdown, doc_rows, docs_status, sources_html, streaming_markdown,
                     summary_markdown)
from .state import RetrieverHolder, parse_history, request_settings, save_upload
from .style import CSS, THEME

EXAMPLES = [
    "Who represented Australia at the meeting with NATO's Indo-Pacific partners?",
    "What are the four new flagship projects between NATO and its Indo-Pacific partners?",
    "Who chaired the Indo-Pacific 4 meeting?",
]
ANSWER_SLOTS = 4     # questions answered at once; the rest queue (keeps CPU-bound embedding from thrashing)
DOC_HEADERS = ["Title", "File", "Date", "Chunks"]
log = logging.getLogger(__name__)


def build_app(settings: Settings) -> gr.Blocks:
    """The app over settings.docs / settings.index; builds the index first if there is none."""
    holder = RetrieverHolder(settings)

    def answer_stream(question, pairs, s):
        """Yield ('delta', text) while the answer streams, then ('final', Answer)."""
        retriever = holder.get(s.mode)
        shown = ""
        for item in ask_stream(retriever, question, s, pairs):
            if isinstance(item, str):
                shown += item
                yield "delta", shown
            else:
                yield "final", item

    def chat(message, messages, pairs, top_k, mode, answerer, base_url, model, api_key, gguf):
        question = (message or "").strip()
        messages, pairs = list(messages or []), list(pairs or [])
        if not question:
            yield messages, gr.skip(), pairs, ""
            return
        messages += [{"role": "user", "content": question}, {"role": "assistant", "content": "Searching the documents…"}]
        yield messages, gr.skip(), pairs, ""
        try:
            s = request_settings(settings, top_k, mode, answerer, base_url, model, api_key, gguf)
            for kind, item in answer_stream(question, pairs, s):
                if kind == "delta":
                    messages[-1] = {"role": "assistant", "content": streaming_markdown(item)}
                    yield messages, gr.skip(), pairs, ""
                else:
                    messages[-1] = {"role": "assistant", "content": answer_markdown(item)}
                    pairs.append((question, item.text))
                    yield messages, sources_html(item, holder.get().index.docs), pairs, ""
        except RagError as e:
            messages[-1] = {"role": "assistant", "content": f"⚠ {e}"}
            yield messages, gr.skip(), pairs, ""
        except Exception as e:   # never leave the chat stuck on "Searching…"; the traceback goes to the log
            log.exception("answering %r failed", question)
            messages[-1] = {"role": "assistant", "content": f"⚠ Something went wrong answering this ({type(e).__name__}: {e})."}
            yield messages, gr.skip(), pairs, ""

    def ask_api(question: str, history: str | list = "[]", top_k: int = 0, mode: str = "",
                answerer: str = "") -> tuple[str, dict]:
        """Answer a question (history: JSON list of [question, answer] pairs); returns the text and the answer JSON."""
        try:
            s = request_settings(settings, top_k, mode, answerer)
            pairs = parse_history(history)
        except (RagError, ValueError, TypeError) as e:
            raise gr.Error(str(e)) from None
        final = None
        for kind, item in answer_stream(question, pairs, s):
            if kind == "final":
                final = item
        data = answer_to_json(final)
        for c in data["citations"]:      # near-identical passages in other documents corroborate the citation
            hit = cited_hit(final, c["n"])
            c["also_in"] = list(dict.fromkeys(d.doc_id for d in hit.duplicates)) if hit else []
        return final.text, data

    def upload(files) -> str:
        if not files:
            return "Choose a file to upload."
        lines = []
        for f in files if isinstance(files, list) else [files]:
            path = str(f)
            try:
                lines.append("✓ " + save_upload(path, Path(path).name, settings))
            except (RagError, OSError) as e:
                lines.append(f"✗ {e}")
        if any(line.startswith("✓") for line in lines):
            lines.append("Press **Rebuild index** to make new files searchable.")
        return "\n\n".join(lines)

    def rebuild_ui(progress=gr.Progress(track_tqdm=True)):
        progress(0, desc="Reading and embedding the documents…")
        try:
            summary = holder.rebuild()
        except RagError as e:
            return f"✗ {e}", gr.skip(), gr.skip()
        return summary_markdown(summary), doc_rows(holder), docs_status(holder)

    def rebuild_api() -> dict:
        """Rebuild the index from the docs folder; returns the summary (added/changed/removed/unchanged/skipped)."""
        try:
            return holder.rebuild()
        except RagError as e:
            raise gr.Error(str(e)) from None

    def documents_api() -> list[dict]:
        """What is indexed: title, file (document id), date, chunks."""
        return holder.documents()

    with gr.Blocks(title="Ask the documents", analytics_enabled=False) as app:
        gr.HTML('<div class="app-head"><h1>Ask the documents</h1><p>Answers come only from the indexed documents and '
                'cite them as [n]; the quoted words are highlighted under Sources.</p></div>')
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                pairs = gr.State([])
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=380):
                        chatbot = gr.Chatbot(label="Conversation", show_label=False, height=480, elem_id="chat",
                                             placeholder="Ask about the documents — try an example below.",
                                             buttons=["copy"], feedback_options=None, layout="bubble")
                        with gr.Row(elem_id="ask-row"):
                            box = gr.Textbox(placeholder="Ask a question about the documents…", show_label=False,
                                             scale=6, container=False, elem_id="question", autofocus=True)
                            send = gr.Button("Ask", variant="primary", scale=1, min_width=90, elem_id="ask")
                            new = gr.Button("New chat", scale=1, min_width=90)
                        gr.Markdown("Example questions", elem_classes="examples-label")
                        with gr.Column(elem_id="examples"):
                            example_buttons = [gr.Button(q, size="sm", variant="secondary", elem_classes="example")
                                               for q in EXAMPLES]
                        with gr.Accordion("Settings", open=False):
                            with gr.Row():
                                top_k = gr.Slider(1, 10, value=settings.top_k, step=1, label="Passages to retrieve (top-k)")
                                mode = gr.Radio(list(RETRIEVAL_MODES), value=settings.mode, label="Retrieval")
                            answerer = gr.Radio(list(ANSWERERS), value=settings.answerer, label="Answerer",
                                                info="extractive quotes the documents offline; openai uses any "
                                                     "OpenAI-compatible server; local runs a GGUF file")
                            with gr.Row():
                                base_url = gr.Textbox(settings.llm_base_url, label="LLM base URL")
                                model = gr.Textbox(settings.llm_model, label="LLM model")
                                api_key = gr.Textbox("", label="API key (blank: RAG_LLM_API_KEY)", type="password")
                            gguf = gr.Textbox(settings.llm_gguf, label="GGUF file (answerer: local)")
                    with gr.Column(scale=2, min_width=320):
                        sources = gr.HTML(EMPTY_SOURCES, elem_id="sources", padding=False)
                chat_inputs = [box, chatbot, pairs, top_k, mode, answerer, base_url, model, api_key, gguf]
                chat_outputs = [chatbot, sources, pairs, box]
                for trigger in (box.submit, send.click):
                    trigger(chat, chat_inputs, chat_outputs, api_visibility="private",
                            concurrency_limit=ANSWER_SLOTS, concurrency_id="answer", show_progress="minimal")
                for button, question in zip(example_buttons, EXAMPLES):   # one click asks it
                    button.click(lambda q=question: q, None, box, api_visibility="private", queue=False).then(
                        chat, chat_inputs, chat_outputs, api_visibility="private", concurrency_limit=ANSWER_SLOTS,
                        concurrency_id="answer", show_progress="minimal")
                new.click(lambda: ([], EMPTY_SOURCES, [], ""), None, chat_outputs, api_visibility="private",
                          queue=False)

            with gr.Tab("Documents", id="documents"):
                status = gr.Markdown(docs_status(holder))
                table = gr.Dataframe(doc_rows(holder), headers=DOC_HEADERS, interactive=False, wrap=True,
                                     elem_id="doc-table")
                with gr.Row(equal_height=False):
                    with gr.Column():
                        files = gr.File(file_count="multiple", label=f"Add documents ({' '.join(SUPPORTED)}; "
                                        f"up to {settings.max_upload_mb} MB each)", height=140, elem_id="upload")
                        upload_msg = gr.Markdown(elem_id="upload-msg")
                    with gr.Column():
                        rebuild = gr.Button("Rebuild index", variant="primary", elem_id="rebuild")
                        rebuild_msg = gr.Markdown(elem_id="rebuild-msg")
                files.upload(upload, files, upload_msg, api_name="upload", concurrency_limit=1,
                             concurrency_id="docs").then(lambda: docs_status(holder), None, status,
                                                         api_visibility="private")
                rebuild.click(rebuild_ui, None, [rebuild_msg, table, status], api_visibility="private",
                              concurrency_limit=1, concurrency_id="docs")

        gr.api(ask_api, api_name="ask", concurrency_limit=ANSWER_SLOTS, concurrency_id="answer")
        gr.api(rebuild_api, api_name="rebuild", concurrency_limit=1, concurrency_id="docs")
        gr.api(documents_api, api_name="documents", queue=False)
    app.holder = holder      # for tests and embedding callers: the live retriever lives here
    return app


def launch_options(settings: Settings) -> dict:
    """Keyword arguments for Blocks.launch: auth from RAG_AUTH, upload limit, look."""
    auth = None
    if settings.auth:
        user, sep, password = settings.auth.partition(":")
        if not sep or not user or not password:
            raise RagError("RAG_AUTH must look like user:password")
        auth = (user, password)
    return {"auth": auth, "max_file_size": f"{settings.max_upload_mb}mb", "css": CSS, "theme": THEME,
            "ssr_mode": False, "footer_links": ["api"], "show_error": True}


def launch(settings: Settings, host: str = "127.0.0.1", port: int = 7860, share: bool = False,
           block: bool = True) -> gr.Blocks:
    """Serve the app (on 127.0.0.1 unless told otherwise); with block=False return once it is up."""
    options = launch_options(settings)
    app = build_app(settings)
    app.queue(default_concurrency_limit=ANSWER_SLOTS)
    app.launch(server_name=host, server_port=port, share=share, prevent_thread_lock=not block, quiet=not block,
               **options)
    return app
