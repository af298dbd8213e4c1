"""What every answer of the page's blueprints carries: security headers, and refusals as pages.

The page is framed only inside the LMS (``frame_ancestors``, a setting), runs only its own script and
styles, and leaks no referrer. Pages hold personal data and a CSRF token, so they are never stored by a
cache; the static files (CSS, script, icon) may be.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from plugin.refusals import error_page
from plugin.services import services

REFUSALS = (400, 403, 404, 409)  # the statuses plugin.refusals.refuse raises on the page


def secure_headers(response: Response) -> Response:
    """Frame only inside the LMS (a setting), run only our own script and styles, leak nothing."""
    ancestors = services().settings.frame_ancestors
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def no_store(response: Response) -> Response:
    """Keep the answer out of every cache (a page holds personal data and a CSRF token)."""
    response.headers["Cache-Control"] = "no-store"
    return response


def protect(blueprint: Blueprint, *, private: bool = True) -> Blueprint:
    """Give a blueprint the security headers and plain-words error pages; a ``private`` one's answers
    (every page; not the static files) are also kept out of caches. Returns the blueprint."""
    if private:
        blueprint.after_request(no_store)
    blueprint.after_request(secure_headers)  # registered last, so it runs first (Flask runs them in reverse)
    handler: Callable[[HTTPException], ResponseReturnValue] = error_page
    for code in REFUSALS:
        blueprint.register_error_handler(code, handler)
    return blueprint
