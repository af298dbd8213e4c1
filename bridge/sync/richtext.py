"""An LMS description, which is HTML (as Moodle-style LMSs store it), made safe to show.

The allow-list sanitizer nh3 (the Ammonia HTML sanitizer) keeps what formats text — paragraphs,
line breaks, emphasis, lists, headings, quotes, tables, links — and drops everything else: scripts
and styles with their content, event-handler and ``style`` attributes (so nothing can hide text),
frames, forms, images, and links other than http, https and mailto. Entities are kept as they are
(``&amp;`` stays one ampersand). A description without any markup is plain text: its line breaks
become ``<br>``, so it shows as it did before descriptions were read as HTML.
"""
from __future__ import annotations

import re

import nh3

TAGS = frozenset({
    "p", "br", "div", "span", "b", "strong", "i", "em", "u", "s", "sub", "sup", "small", "mark",
    "ul", "ol", "li", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
    "code", "hr", "a", "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption",
})
ATTRIBUTES = {"a": {"href", "title"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
_MARKUP = re.compile(r"</?[A-Za-z][^>]*>|<!--")


def description_html(description: str) -> str:
    """The description as an HTML fragment that is safe to put in an Outlook body or a page."""
    text = description.replace("\r\n", "\n")
    if not _MARKUP.search(text):
        text = text.replace("\n", "<br>")
    return nh3.clean(text, tags=set(TAGS), attributes={k: set(v) for k, v in ATTRIBUTES.items()},
                     url_schemes=set(URL_SCHEMES), link_rel="noopener noreferrer")
