"""Descriptions are HTML: formatting kept, anything active or hiding removed, plain text as before."""
from __future__ import annotations

import pytest

from bridge.sync.richtext import description_html

# (what the LMS sends, what reaches Outlook)
CASES = [
    # the input: formatting kept, one ampersand, no script
    ("<p>Bring your <b>laptop</b> &amp; charger.</p><ul><li>Notebook</li></ul><script>alert(1)</script>",
     "<p>Bring your <b>laptop</b> &amp; charger.</p><ul><li>Notebook</li></ul>"),
    # plain text: escaped, line breaks kept
    ("Evacuation routes & extinguishers.\nBring boots <3",
     "Evacuation routes &amp; extinguishers.<br>Bring boots &lt;3"),
    ("Line 1\r\nLine 2", "Line 1<br>Line 2"),
    # links: http(s) and mailto kept, with rel; javascript: dropped; event handlers dropped
    ('<a href="https://lms.example/c?a=1&amp;b=2" onclick="steal()">course</a>',
     '<a href="https://lms.example/c?a=1&amp;b=2" rel="noopener noreferrer">course</a>'),
    ('<a href="javascript:alert(1)">x</a>', '<a rel="noopener noreferrer">x</a>'),
    ('<a href="mailto:tutor@example.org">tutor</a>',
     '<a href="mailto:tutor@example.org" rel="noopener noreferrer">tutor</a>'),
    # frames, objects, forms, images, styles: gone; hidden text shows
    ('<iframe src="https://evil.example"></iframe><object data="x"></object>ok', "ok"),
    ('<img src="x" onerror="alert(1)">text', "text"),
    ('<p style="display:none">hidden</p><div hidden>also</div>', "<p>hidden</p><div>also</div>"),
    ("<style>p {display: none}</style><p>shown</p>", "<p>shown</p>"),
    ("<svg><script>alert(1)</script></svg>after", "after"),
    ('<form action="https://evil.example"><input name="p"></form>x', "x"),
    ("<!-- note --><p>x</p>", "<p>x</p>"),
]


@pytest.mark.parametrize(("sent", "shown"), CASES)
def test_descriptions(sent: str, shown: str) -> None:
    assert description_html(sent) == shown
