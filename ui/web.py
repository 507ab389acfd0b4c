"""What the page needs beyond Gradio's components: a little browser script (citation links jump to their card in
the Sources panel, the copy button copies plain text) and a guard for the two queue routes Gradio leaves open
without a login (`/gradio_api/cancel`, `/gradio_api/reset`)."""
from __future__ import annotations

import json

# Clicking [n] (or "Sources ↓") in an answer: the chat's select event shows that answer's sources; this script then
# scrolls to card src-<turn>-<n> once it is there (on a phone the panel sits far below the chat) and flashes it.
# The copy button of an answer copies the answer's hidden plain-text version instead of its HTML.
HEAD = r"""<script>
(() => {
  let pending = null;
  function jump(id, tries) {
    const el = document.getElementById(id);
    if (el && (pending === id)) {
      el.scrollIntoView({block: 'start', behavior: 'instant'});
      el.classList.add('flash'); setTimeout(() => el.classList.remove('flash'), 1600);
      pending = null; return;
    }
    if (tries > 0 && pending === id) setTimeout(() => jump(id, tries - 1), 100);
  }
  document.addEventListener('click', (e) => {
    const t = e.target instanceof Element ? e.target : null;
    if (!t) return;
    const link = t.closest('#chat a.cite, #chat a.cite-all');
    if (link) {
      e.preventDefault();
      pending = link.getAttribute('href').slice(1);
      setTimeout(() => jump(pending, 100), 150);   // after the sources for that answer are in
      return;
    }
    const btn = t.closest('#chat button');
    if (!btn) return;
    const label = ((btn.getAttribute('aria-label') || '') + ' ' + (btn.getAttribute('title') || '')).toLowerCase();
    if (!label.includes('copy')) return;
    const bar = btn.closest('.message-buttons');
    const plain = bar && bar.previousElementSibling && bar.previousElementSibling.querySelector('.plain');
    if (!plain) return;      // a question: Gradio's own copy is right
    e.preventDefault(); e.stopImmediatePropagation();
    const box = document.createElement('textarea');
    box.innerHTML = plain.innerHTML.replace(/<br\s*\/?>/gi, '\n');
    navigator.clipboard.writeText(box.value);
  }, true);
})();
</script>"""

OPEN_WITHOUT_LOGIN = ("/gradio_api/cancel", "/gradio_api/reset", "/reset")


class LoginGuard:
    """ASGI middleware: with a login configured, the routes Gradio leaves open answer 401 to a caller without a
    valid session cookie (Gradio's own `login_check` covers the others)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"].rstrip("/").endswith(OPEN_WITHOUT_LOGIN):
            gradio_app = scope.get("app")
            if getattr(gradio_app, "auth", None) and not self._signed_in(gradio_app, scope):
                body = json.dumps({"detail": "Not authenticated"}).encode()
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", b"application/json")]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    @staticmethod
    def _signed_in(gradio_app, scope) -> bool:
        cookies = {}
        for name, value in scope.get("headers", []):
            if name == b"cookie":
                for part in value.decode("latin-1").split(";"):
                    k, _, v = part.strip().partition("=")
                    cookies[k] = v
        cid = gradio_app.cookie_id
        token = cookies.get(f"access-token-{cid}") or cookies.get(f"access-token-unsecure-{cid}")
        return token is not None and token in gradio_app.tokens
