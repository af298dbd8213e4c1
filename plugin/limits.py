"""How large a request body each route takes: the one rule the web front and the app both apply.

Signed LMS requests (hooks, a batch of them, feed addresses, user states) take up to 1 MiB; the
Integrations page's forms (a setting, a filter, a confirmation) far less; every other route takes no
body. ``outlook-sync serve``'s front reads no more than this before the app runs
(:mod:`plugin.cli.front`), and the app refuses with 413 a ``Content-Length`` over it
(:func:`plugin.app.create_app`).
"""
from __future__ import annotations

from plugin.host import FEED_ADDRESS_PATH, USER_STATE_PATH

MAX_BODY_BYTES = 1024 * 1024  # a signed LMS request (docs/HOST-CONTRACT.md)
FORM_BODY_BYTES = 64 * 1024  # a form of the page: a few fields and a CSRF token
SIGNED_PATHS = frozenset({"/hooks", "/hooks/batch", FEED_ADDRESS_PATH, USER_STATE_PATH})
PAGE_PREFIX = "/integrations/outlook/"


def body_limit(method: str, path: str) -> int:
    """The most bytes of body a ``method`` request to ``path`` may carry (0: none at all).

    Only POST carries a body here: 1 MiB to a signed LMS route, 64 KiB to a form under the page,
    nothing elsewhere (a body sent to a route that takes none is refused, never read).
    """
    if method != "POST":
        return 0  # GET and HEAD of the page, the feeds, health
    if path in SIGNED_PATHS:
        return MAX_BODY_BYTES
    if path.startswith(PAGE_PREFIX):
        return FORM_BODY_BYTES
    return 0
