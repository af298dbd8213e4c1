"""Secrets that travel in URLs — a launch token (it opens the page as its user for 300 s) and a
calendar feed's token (it opens a user's calendar for as long as it lives) — blanked in the servers'
request-line logs (``GET /...?launch=<token>``, ``GET /feeds/<token>.ics``)."""
from __future__ import annotations

import logging
import re

ACCESS_LOGGERS = ("werkzeug", "gunicorn.access")
SECRETS_IN_URLS = (
    re.compile(r"(?P<before>[?&]launch=)[^&\s\"']+(?P<after>)"),
    re.compile(r"(?P<before>/feeds/)[^/\s\"'?]+(?P<after>\.ics)"),
)


class RedactUrlSecrets(logging.Filter):
    """Replaces each secret of :data:`SECRETS_IN_URLS` in a record's message with ``[redacted]``."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = redacted = record.getMessage()
        for pattern in SECRETS_IN_URLS:
            redacted = pattern.sub(r"\g<before>[redacted]\g<after>", redacted)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def redact_access_logs() -> None:
    """Put :class:`RedactUrlSecrets` on the loggers of the servers' request lines (once each)."""
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactUrlSecrets) for f in logger.filters):
            logger.addFilter(RedactUrlSecrets())
