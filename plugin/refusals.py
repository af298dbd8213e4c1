"""A refusal in plain words: stop a page request with an HTTP error that renders as a page.

:func:`refuse` raises; :func:`error_page` (registered on every page blueprint by
:func:`plugin.headers.protect`) renders ``message.html`` with the refusal's title and text.
"""
from __future__ import annotations

from typing import NoReturn

from flask import render_template
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException, default_exceptions


def refuse(code: int, title: str, text: str) -> NoReturn:
    """Stop the request with HTTP status ``code`` (400, 403, 404, 409), shown as a page saying
    ``title`` and ``text``; raises the status' :class:`~werkzeug.exceptions.HTTPException`."""
    error = default_exceptions[code](description=text)
    setattr(error, "title", title)  # noqa: B010 (read back by error_page)
    raise error


def error_page(error: HTTPException) -> ResponseReturnValue:
    """A refusal in plain words: ``refuse``'s title and text, or the HTTP status' own words."""
    title = getattr(error, "title", error.name)
    return render_template("message.html", title=title, text=error.description, code=error.code), \
        error.code or 500
