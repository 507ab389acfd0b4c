"""The Documents tab: what is indexed (read afresh on every page load), uploads that are checked when they arrive
and then indexed at once, deleting a document, and Rebuild for changes made on disk."""
from __future__ import annotations

import os
from html import escape
from pathlib import Path

import gradio as gr

from rag.errors import RagError
from rag.loaders import SUPPORTED

from .state import RetrieverHolder, save_upload


def docs_table(holder) -> str:
    """The indexed documents as an HTML table that wraps on a phone (Gradio's Dataframe would not)."""
    rows = "".join(f'<tr><td class="d-title">{escape(d["title"])}</td><td><span class="src-file">{escape(d["file"])}'
                   f'</span></td><td>{escape(d["date"] or "–")}</td><td class="d-n">{d["chunks"]}<span class="unit"> passages</span></td></tr>'
                   for d in holder.documents())
    return ('<table class="docs"><thead><tr><th>Title</th><th>File</th><th>Date</th><th>Passages</th></tr></thead>'
            f'<tbody>{rows}</tbody></table>')


def docs_status(holder) -> str:
    rows = holder.documents()
    if not rows:
        line = (f"**Nothing is indexed yet.** Add documents below (or put files in `{holder.settings.docs}` and "
                f"press **Rebuild index**).")
    else:
        line = (f"**{len(rows)} documents indexed** ({sum(r['chunks'] for r in rows)} passages) from "
                f"`{holder.settings.docs}`.")
    waiting = holder.pending()
    if waiting:
        line += (f"\n\n**Not indexed yet:** {', '.join(f'`{w}`' for w in waiting)} — press **Rebuild index** "
                 f"to add {'it' if len(waiting) == 1 else 'them'}.")
    if holder.skipped:
        line += "\n\n⚠ **Skipped at the last rebuild:** " + "; ".join(f"`{s}`" for s in holder.skipped)
    return line


def summary_markdown(summary: dict) -> str:
    parts = [f"✓ **Index rebuilt**: {summary['documents']} documents — {summary['added']} added, "
             f"{summary['changed']} changed, {summary['removed']} removed, {summary['unchanged']} unchanged, "
             f"{summary['skipped']} skipped; {summary['chunks_embedded']} passages embedded "
             f"({summary['seconds']} s)."]
    if summary.get("full_rebuild"):
        parts.append(f"Full rebuild: {summary['full_rebuild']}")
    if summary.get("skipped_files"):
        parts.append("⚠ Skipped (the rest was indexed):\n" + "\n".join(f"- `{s}`" for s in summary["skipped_files"]))
    return "\n\n".join(parts)


def example_questions(holder, limit: int = 3) -> list[str]:
    """Questions about the indexed documents themselves (their titles), not a fixed list."""
    docs = holder.documents()
    # a first sentence standing in for a missing title makes an awkward question: use it only when nothing has a title
    titled = [d for d in docs if d["title_given"]] or docs
    return [f"What is “{d['title']}” about?" for d in titled[:limit]]     # answered by its opening sentences


def upload_files(holder: RetrieverHolder, files, progress=None) -> tuple[str, dict | None]:
    """Check and save each uploaded file, then index them; returns the message and the rebuild summary (None when
    nothing was saved). Gradio's temporary copies are deleted, accepted or not."""
    files = [] if not files else files if isinstance(files, list) else [files]
    lines, backups, saved = [], [], []
    try:
        for f in files:
            path = str(getattr(f, "path", f))
            name = getattr(f, "orig_name", None) or Path(path).name
            try:
                line, backup, clean = save_upload(path, name, holder.settings)
            except (RagError, OSError) as e:
                lines.append(f"✗ {e}")
                continue
            saved.append(clean)
            backups += [backup] if backup else []
            lines.append("✓ " + line + (" (the old version stays until the new one is indexed)" if backup else ""))
    finally:
        for f in files:
            try:
                os.remove(str(getattr(f, "path", f)))
            except OSError:
                pass
    if not files:
        return "Choose a file to upload.", None
    if not saved:
        return "\n\n".join(lines), None
    if progress is not None:
        progress(0, desc="Indexing the new documents…")
    try:
        summary = holder.add(saved, backups)
    except RagError as e:
        return "\n\n".join(lines + [f"✗ Indexing failed, nothing changed: {e}"]), None
    return "\n\n".join(lines + [summary_markdown(summary)]), summary


def documents_tab(holder: RetrieverHolder, settings):
    """Build the tab inside the current Blocks; returns (outputs that `refresh()` fills, refresh). `refresh.events`
    lists the events after which the rest of the page (filters, examples) should refresh too."""
    status = gr.Markdown("", elem_id="docs-status")
    table = gr.HTML("", elem_id="doc-table", padding=False)
    with gr.Row(equal_height=False, elem_id="docs-row"):
        with gr.Column(min_width=260):
            files = gr.File(file_count="multiple", label="Add documents", height=140, elem_id="upload")
            gr.Markdown(f"{' '.join(SUPPORTED)}, up to {settings.max_upload_mb} MB each. Each file is checked when "
                        f"it arrives and indexed at once.", elem_classes="upload-help")
            upload_msg = gr.Markdown(elem_id="upload-msg")
        with gr.Column(min_width=260):
            remove = gr.Dropdown([], label="Delete a document (its file in the docs folder)", elem_id="doc-delete")
            delete = gr.Button("Delete document", variant="stop", elem_id="delete")
            rebuild = gr.Button("Rebuild index (after changing files on disk)", elem_id="rebuild")
            rebuild_msg = gr.Markdown(elem_id="rebuild-msg")

    def refresh():
        docs = holder.documents()
        return (docs_status(holder), docs_table(holder),
                gr.update(choices=[(f"{d['file']} — {d['title'][:50]}", d["file"]) for d in docs], value=None))

    def upload_ui(uploaded, progress=gr.Progress(track_tqdm=True)):
        message, _ = upload_files(holder, uploaded, progress)
        return (message, None, *refresh())

    def rebuild_ui(progress=gr.Progress(track_tqdm=True)):
        progress(0, desc="Reading and embedding the documents…")
        try:
            return (summary_markdown(holder.rebuild()), *refresh())
        except RagError as e:
            return (f"✗ {e}", *refresh())

    def delete_ui(doc_id, progress=gr.Progress(track_tqdm=True)):
        if not doc_id:
            return ("Choose a document to delete.", *refresh())
        progress(0, desc=f"Deleting {doc_id} and updating the index…")
        try:
            summary = holder.delete(doc_id)
        except RagError as e:
            return (f"✗ {e}", *refresh())
        return (f"✓ Deleted `{doc_id}`.\n\n" + summary_markdown(summary), *refresh())

    def rebuild_api() -> dict:
        """Rebuild the index from the docs folder; returns the summary (added/changed/removed/unchanged/skipped)."""
        try:
            return holder.rebuild()
        except RagError as e:
            raise gr.Error(str(e)) from None

    def delete_api(doc_id: str) -> dict:
        """Delete a document's file from the docs folder and update the index; returns the rebuild summary."""
        try:
            return holder.delete(doc_id)
        except RagError as e:
            raise gr.Error(str(e)) from None

    def documents_api() -> list[dict]:
        """What is indexed: title, file (document id), date, chunks."""
        return holder.documents()

    shown = [status, table, remove]
    docs = dict(concurrency_limit=1, concurrency_id="docs")
    refresh.events = [
        files.upload(upload_ui, files, [upload_msg, files, *shown], api_name="upload", **docs),
        rebuild.click(rebuild_ui, None, [rebuild_msg, *shown], api_visibility="private", **docs),
        delete.click(delete_ui, remove, [rebuild_msg, *shown], api_visibility="private", **docs),
    ]
    gr.api(rebuild_api, api_name="rebuild", **docs)
    gr.api(delete_api, api_name="delete", **docs)
    gr.api(documents_api, api_name="documents", queue=False)
    return shown, refresh
