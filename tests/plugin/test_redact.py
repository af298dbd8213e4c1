"""Request-log redaction of the secrets that travel in URLs, in every spelling the server accepts."""
from __future__ import annotations

import logging

import pytest

from plugin.redact import RedactUrlSecrets, redact_line

TOKEN = "tok_Secret-123"


@pytest.mark.parametrize("line", [
    f'"GET /feeds/{TOKEN}.ics HTTP/1.1" 200 -',
    f'"GET /feeds/{TOKEN}%2Eics HTTP/1.1" 200 -',
    f'"GET /feeds/{TOKEN}%2eics HTTP/1.1" 200 -',
    f'"GET /feeds/{TOKEN}%2E%69%63%73 HTTP/1.1" 200 -',
    f'"GET %2Ffeeds%2F{TOKEN}.ics HTTP/1.1" 200 -',
    f'"GET /integrations/outlook?launch={TOKEN} HTTP/1.1" 302 -',
    f'"GET /integrations/outlook?%6Caunch={TOKEN} HTTP/1.1" 302 -',
    f'"GET /integrations/outlook?%6caunch={TOKEN} HTTP/1.1" 302 -',
    f'"GET /integrations/outlook?x=1&%6C%61%75%6E%63%68={TOKEN}&y=2 HTTP/1.1" 302 -',
    f'"GET /integrations/outlook?launch%3D{TOKEN} HTTP/1.1" 302 -',
    f'"GET /integrations/outlook?LAUNCH={TOKEN} HTTP/1.1" 302 -',
])
def test_every_spelling_of_a_secret_is_blanked(line: str) -> None:
    redacted = redact_line(line)
    assert TOKEN not in redacted and "[redacted]" in redacted


def test_a_line_without_a_secret_is_left_as_it_was() -> None:
    line = '"GET /integrations/outlook/users?q=ada%20lovelace HTTP/1.1" 200 -'
    assert redact_line(line) == line


def test_the_filter_rewrites_a_record_with_arguments(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.redact")
    logger.addFilter(RedactUrlSecrets())
    with caplog.at_level(logging.INFO, logger="test.redact"):
        logger.info('"%s %s" %s', "GET", f"/feeds/{TOKEN}%2Eics", 200)
    assert TOKEN not in caplog.text and "/feeds/[redacted].ics" in caplog.text
