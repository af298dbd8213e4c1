"""Secrets that travel in URLs — a launch token (it opens the page as its user for 300 s) and a
calendar feed's token (it opens a user's calendar for as long as it lives) — blanked in the servers'
request-line logs (``GET /...?launch=<token>``, ``GET /feeds/<token>.ics``).

A client may percent-encode any character of a URL (RFC 3986 §2.1, hex digits in either case), and the
server decodes it before routing: ``/feeds/<token>%2Eics`` reaches the feed and ``?%6Caunch=<token>``
is the launch parameter. So the patterns are matched against the line once decoded, as the server
reads the URL, and a line in which one matched is logged decoded, with the secret blanked.
"""
from __future__ import annotations

import logging
import re
from urllib.parse import unquote

ACCESS_LOGGERS = ("werkzeug", "gunicorn.access")
SECRETS_IN_URLS = (
    re.compile(r"(?P<before>[?&]launch=)[^&\s\"']+(?P<after>)", re.IGNORECASE),
    re.compile(r"(?P<before>/feeds/)[^/\s\"'?]+(?P<after>\.ics)", re.IGNORECASE),
)


def redact_line(line: str) -> str:
    """``line`` with each secret of :data:`SECRETS_IN_URLS` replaced by ``[redacted]``.

    The patterns see the line percent-decoded (UTF-8, undecodable bytes replaced); a line without a
    secret is returned unchanged, a line with one is returned decoded and redacted.
    """
    decoded = redacted = unquote(line, errors="replace")
    for pattern in SECRETS_IN_URLS:
        redacted = pattern.sub(r"\g<before>[redacted]\g<after>", redacted)
    return line if redacted == decoded else redacted


class RedactUrlSecrets(logging.Filter):
    """Replaces each secret in a record's message with ``[redacted]`` (:func:`redact_line`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_line(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def redact_access_logs() -> None:
    """Put :class:`RedactUrlSecrets` on the loggers of the servers' request lines (once each)."""
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactUrlSecrets) for f in logger.filters):
            logger.addFilter(RedactUrlSecrets())
