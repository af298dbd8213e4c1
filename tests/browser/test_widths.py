"""The page at a phone's (390 px) and a tablet's (768 px) width, and at a desktop's, in headless Chromium.

At every width: nothing scrolls sideways, every column of every user is on screen, names wrap only
between words (a two-word name is one line), addresses only when they must, and Retry is offered only
where it can help.
Screenshots: ``10-narrow-390.png``, ``11-tablet-768.png`` beside the flow's.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, update

from bridge.accounts import connection
from bridge.codes import ConnectionState
from bridge.models import DirtyKey
from bridge.sync import store
from plugin.host import HostClient
from tests.browser.conftest import ACCOUNT, SCREENSHOTS, Stack

pytestmark = pytest.mark.timeout(300)
LONG_NAME = "Maximilian Alexander Wolfeschlegelsteinhausen-Bergerdorff"
PEOPLE = [  # id, name, address, state, reason
    ("u-owner", "Olivia Owner", "olivia@contoso.example", "synced", None),
    ("u-ada", "Ada Lovelace", "ada.lovelace@contoso.example", "synced", None),
    ("u-long", LONG_NAME, "maximilian.alexander.wolfeschlegelsteinhausen-bergerdorff@research.contoso.example",
     "failed", "mailbox_not_in_exchange_online"),
    ("u-gina", "Gina Gmail", "gina@gmail.com", "skipped", "personal_email"),
    ("u-rita", "Rita Retry", "rita@contoso.example", "retrying", None),
    ("u-pat", "Pat Pending", "pat@contoso.example", "pending", None),
]
RETRY_OFFERED = {LONG_NAME, "Rita Retry"}

MEASURE = """() => {
  const root = document.documentElement;
  const rows = [...document.querySelectorAll('table.users tbody tr')].map(tr => {
    const name = tr.querySelector('th .name');
    const style = getComputedStyle(name);
    const cells = [...tr.querySelectorAll('th, td')].filter(c => c.getClientRects().length);
    return {
      name: name.textContent,
      lines: Math.round(name.getBoundingClientRect().height / parseFloat(style.lineHeight)),
      nameFits: tr.querySelector('th').scrollWidth <= tr.querySelector('th').clientWidth,
      emailFits: [...tr.querySelectorAll('th .email')].every(e => e.scrollWidth <= e.clientWidth),
      emailLines: Math.round(tr.querySelector('th .email').getBoundingClientRect().height
        / parseFloat(getComputedStyle(tr.querySelector('th .email')).lineHeight)),
      offScreen: cells.filter(c => c.getBoundingClientRect().right > innerWidth + 0.5)
        .map(c => c.className || c.tagName),
      shown: ['.pill', 'td.num'].every(s => tr.querySelector(s).getClientRects().length > 0)
        && [...tr.querySelectorAll('td')].every(c => c.getClientRects().length > 0 || !c.textContent.trim()),
      retry: !!tr.querySelector('form[action$="/retry"]'),
    };
  });
  return {overflow: root.scrollWidth - root.clientWidth, bodyOverflow: document.body.scrollWidth - root.clientWidth,
          rows};
}"""


def populate(stack: Stack) -> None:
    """Six users in every state, on a connected account (no Graph needed: the states are recorded)."""
    host = HostClient(stack.base_url, stack.settings.host_secret)
    for uid, name, address, _, _ in PEOPLE:
        answer = host.send("user.upserted", ACCOUNT, {"id": uid, "email": address, "name": name, "active": True,
                                                      "role": "owner" if uid == "u-owner" else "learner",
                                                      "version": 1})
        assert answer.status_code == 202, answer.text
    now = datetime.now(UTC)
    with stack.database.session() as session:
        row = connection.connection(session, ACCOUNT)
        row.state, row.tenant_id = ConnectionState.CONNECTED, stack.tenant_id
        row.connected_by, row.connected_at = "u-owner", now
        session.execute(delete(DirtyKey).where(DirtyKey.user_id.not_in(["u-rita", "u-pat"])))
        session.execute(update(DirtyKey).where(DirtyKey.user_id == "u-rita").values(
            attempts=1, due_at=now + timedelta(minutes=5), last_error="503 ServiceUnavailable"))
        for uid, _, _, state, reason in PEOPLE:
            if state in ("synced", "failed", "skipped"):
                store.set_user_state(session, ACCOUNT, uid, state, reason, None)


@pytest.mark.parametrize(("width", "height", "name"), [(390, 844, "10-narrow-390"), (768, 1024, "11-tablet-768"),
                                                       (1280, 900, None)])
def test_the_page_reads_at_every_width(stack: Stack, browser: Any, width: int, height: int, name: str | None) -> None:
    with stack.database.session() as session:
        populated = connection.connection(session, ACCOUNT).state == ConnectionState.CONNECTED
    if not populated:
        populate(stack)
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        page.goto(stack.launch("owner", "u-owner"))
        page.goto(f"{stack.base_url}/integrations/outlook/users")
        page.wait_for_selector("table.users tbody tr")
        measured = page.evaluate(MEASURE)
        if name:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    finally:
        context.close()
    assert measured["overflow"] <= 0 and measured["bodyOverflow"] <= 0, measured
    rows = {r["name"]: r for r in measured["rows"]}
    assert set(rows) == {p[1] for p in PEOPLE}
    for row in rows.values():
        assert row["lines"] <= len(row["name"].split()), f"{row['name']} is broken inside a word: {row}"
        assert row["nameFits"] and row["emailFits"], row
        assert not row["offScreen"], row
        assert row["shown"], row  # state, entries, and every cell that has something to say
    assert rows["Ada Lovelace"]["lines"] == 1
    # an address wraps (after its "@") only when the line is too short for all of it: here only the long one
    assert {n for n, r in rows.items() if r["emailLines"] > 1} <= {LONG_NAME}, rows
    assert {n for n, r in rows.items() if r["retry"]} == RETRY_OFFERED
