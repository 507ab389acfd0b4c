"""The app's look: a Gradio theme with locally bundled fonts (no web fonts: the app runs offline) and the CSS for
the header, citation markers, unsupported sentences and source cards. Passed to launch() (Gradio 6)."""
from __future__ import annotations

import gradio as gr

THEME = gr.themes.Soft(primary_hue="indigo", secondary_hue="amber", neutral_hue="slate")

CSS = """
.gradio-container { max-width: 1280px !important; margin: 0 auto !important; }
.app-head { padding: 6px 2px 2px; }
.app-head h1 { font-size: 1.55rem; margin: 0 0 2px; }
.app-head p { margin: 0; color: var(--body-text-color-subdued); }
#chat .cite, #chat span.cite { color: var(--primary-600); font-weight: 600; font-size: .85em; }
#chat .unsupported { background: #fff4e5; border-bottom: 2px dotted #d97706; padding: 0 2px; }
#chat .unsupported small { color: #b45309; }
#chat .understood { color: var(--body-text-color-subdued); font-size: .85em; font-style: italic; }
#chat .note { color: var(--body-text-color-subdued); font-size: .85em; margin-top: 6px; }
#ask-row { align-items: stretch; gap: 8px; }
.examples-label p { font-size: .85rem; font-weight: 600; color: var(--body-text-color-subdued); margin: 6px 0 -4px; }
#examples { gap: 6px; }
#examples button.example { justify-content: flex-start; text-align: left; white-space: normal; font-weight: 400;
                           font-size: .9rem; }
#sources { max-height: 760px; overflow-y: auto; padding-right: 4px; scroll-margin-top: 8px; }
#chat a.cite { color: var(--primary-600); font-weight: 600; font-size: .85em; text-decoration: none; padding: 0 1px; }
#chat a.cite:hover { text-decoration: underline; }
#chat .to-sources { font-size: .8em; margin-top: 4px; }
#chat .to-sources a { color: var(--primary-600); text-decoration: none; }
#chat .plain { display: none !important; }
#chat .answer p { margin: 0 0 4px; }
.src-q { font-size: .85rem; color: var(--body-text-color-subdued); margin: -6px 0 8px; overflow-wrap: anywhere; }
.src-card.flash { outline: 3px solid var(--primary-400); transition: outline .3s; }
.src-card { scroll-margin-top: 8px; }
.src-doc summary { cursor: pointer; font-size: .8rem; color: var(--primary-600); margin-top: 6px; }
.src-doc .doc-text { white-space: pre-wrap; font-size: .85rem; line-height: 1.5; max-height: 420px; overflow-y: auto;
                     padding: 6px 8px; background: var(--background-fill-secondary); border-radius: 6px; }
.src-doc .doc-text mark { background: #fde68a; color: inherit; }
#doc-table table.docs { width: 100%; border-collapse: collapse; font-size: .9rem; }
#doc-table th { text-align: left; font-weight: 600; border-bottom: 2px solid var(--border-color-primary); padding: 6px; }
#doc-table td { border-bottom: 1px solid var(--border-color-primary); padding: 6px; vertical-align: top;
                overflow-wrap: anywhere; }
#doc-table td.d-n { text-align: right; }
#doc-table table, #doc-table th, #doc-table td, #doc-table tr { border-left: 0 !important; border-right: 0 !important; }
#doc-table table { border-top: 0 !important; }
#doc-table .unit { display: none; }
@media (max-width: 640px) {
  .gradio-container { padding: 0 6px !important; }
  #doc-table thead { display: none; }
  #doc-table tr { display: block; padding: 6px 0; border-bottom: 1px solid var(--border-color-primary); }
  #doc-table td { display: inline; border: 0; padding: 0 6px 0 0; }
  #doc-table td.d-title { display: block; font-weight: 600; }
  #doc-table .unit { display: inline; }
  #docs-row, #chat-row { flex-direction: column; }
  #sources { max-height: none; }
}
.src-head { font-weight: 700; font-size: 1.05rem; margin: 2px 0 8px; }
.src-head small { font-weight: 400; color: var(--body-text-color-subdued); }
.src-empty { border: 1px dashed var(--border-color-primary); border-radius: 10px; padding: 16px;
             color: var(--body-text-color-subdued); line-height: 1.5; }
.src-card { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 10px 12px;
            margin-bottom: 10px; background: var(--block-background-fill); box-shadow: 0 1px 2px rgba(15, 23, 42, .06); }
.src-top { display: flex; gap: 10px; align-items: flex-start; }
.src-n { flex: none; min-width: 30px; text-align: center; font-weight: 700; color: var(--primary-700);
         background: var(--primary-50); border-radius: 6px; padding: 1px 4px; }
.src-title { font-weight: 600; line-height: 1.3; }
.src-meta { font-size: .8rem; color: var(--body-text-color-subdued); margin: 2px 0 4px; }
.src-file { font-family: var(--font-mono); font-size: .78rem; background: var(--background-fill-secondary);
            border-radius: 4px; padding: 0 4px; }
.src-text { margin: 6px 0 2px; padding: 6px 10px; border-left: 3px solid var(--primary-200);
            background: var(--background-fill-secondary); border-radius: 0 6px 6px 0; font-size: .9rem;
            line-height: 1.5; }
.src-text mark { background: #fde68a; color: inherit; padding: 0 1px; border-radius: 2px; }
.src-also { font-size: .8rem; color: var(--body-text-color-subdued); margin-top: 6px; }
.src-also ul { margin: 2px 0 0 0; padding-left: 18px; }
.src-also li { margin: 1px 0; }
"""
