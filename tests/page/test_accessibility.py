"""Accessibility of every state's page: labels, headings, table headers, status messages, contrast."""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from bridge.accounts import connection
from bridge.db import Database
from tests.page.conftest import ACCOUNT, SECTIONS, Launch, csrf, user

PAGE = "/integrations/outlook"
CSS = Path(__file__).resolve().parents[2] / "plugin" / "static" / "page.css"


class Audit(HTMLParser):
    """Collects what the checks need from one page."""

    def __init__(self) -> None:
        super().__init__()
        self.html_lang: str | None = None
        self.ids: set[str] = set()
        self.labels: set[str] = set()
        self.controls: list[dict[str, str]] = []
        self.headings: list[int] = []
        self.th_without_scope = 0
        self.statuses = 0
        self.buttons: list[str] = []
        self._button: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.html_lang = a.get("lang")
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "label" and "for" in a:
            self.labels.add(a["for"])
        if tag in ("input", "select", "textarea") and a.get("type") != "hidden":
            self.controls.append(a)
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag == "th" and "scope" not in a:
            self.th_without_scope += 1
        if a.get("role") in ("status", "alert"):
            self.statuses += 1
        if tag == "button":
            self._button = []

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._button.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self._button is not None:
            self.buttons.append("".join(self._button).strip())
            self._button = None


def audit(html: str) -> Audit:
    found = Audit()
    found.feed(html)
    assert found.html_lang == "en"
    assert found.headings.count(1) == 1 and found.headings[0] == 1
    assert all(b - a <= 1 for a, b in zip(found.headings, found.headings[1:], strict=False)), found.headings
    for control in found.controls:
        assert control.get("id") in found.labels or control.get("aria-label"), control
    assert found.th_without_scope == 0
    assert found.statuses >= 1  # flash messages are announced
    assert all(found.buttons), "a button without a name"
    return found


@pytest.fixture
def pages(client: FlaskClient, launch: Launch, database: Database,
          hooks: Callable[..., object]) -> Callable[[str], str]:
    hooks(ACCOUNT, [user("u-ada", "ada@contoso.example", "Ada Lovelace")])

    def page(state: str) -> str:
        with database.session() as session:
            row = connection.connection(session, ACCOUNT)
            row.state, row.tenant_id, row.reason = state, "t-1", "secret_expired" if state == "suspended" else None
            row.connected_at = row.consent_at = datetime(2030, 1, 1, tzinfo=UTC)
        return client.get(PAGE).get_data(as_text=True)

    launch("owner")
    client.post(f"{PAGE}/connect", data={"csrf_token": csrf(client)})
    return page


@pytest.mark.parametrize("state", ["disconnected", "consent_pending", "consent_received", "connected", "suspended",
                                   "disconnecting"])
def test_every_state_is_accessible(pages: Callable[[str], str], state: str) -> None:
    audit(pages(state))


@pytest.mark.parametrize("state", ["disconnected", "consent_received", "connected", "suspended"])
def test_every_section_of_every_state_is_accessible(client: FlaskClient, pages: Callable[[str], str],
                                                    state: str) -> None:
    pages(state)
    for path in SECTIONS:
        audit(client.get(path, follow_redirects=True).get_data(as_text=True))


def test_the_other_pages_are_accessible(client: FlaskClient, launch: Launch, pages: Callable[[str], str]) -> None:
    pages("connected")
    audit(client.get(f"{PAGE}/disconnect").get_data(as_text=True))
    audit(client.get(f"{PAGE}/consent?state=nope").get_data(as_text=True))
    launch("learner")
    audit(client.get(PAGE).get_data(as_text=True))


def luminance(hex_color: str) -> float:
    channels = [int(hex_color[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_text_contrast_is_at_least_4_5_to_1() -> None:
    css = CSS.read_text()
    variables = dict(re.findall(r"(--[\w-]+):\s*(#[0-9a-fA-F]{6})", css))

    def resolve(value: str) -> str:
        value = value.strip()
        return variables[value[4:-1]] if value.startswith("var(") else value

    pairs = []
    for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        background = re.search(r"background:\s*(var\([\w-]+\)|#[0-9a-fA-F]{6})", body)
        color = re.search(r"(?<![-\w])color:\s*(var\([\w-]+\)|#[0-9a-fA-F]{6})", body)
        if background and color:
            pairs.append((selector.strip(), resolve(color.group(1)), resolve(background.group(1))))
    for text in ("--text", "--muted"):
        for surface in ("--surface", "--canvas"):
            pairs.append((f"{text} on {surface}", variables[text], variables[surface]))
    pairs.append(("links", variables["--accent-dark"], variables["--canvas"]))
    assert len(pairs) > 15
    poor = [(s, round(contrast(c, b), 2)) for s, c, b in pairs if contrast(c, b) < 4.5]
    assert not poor, poor
