"""The page's states for the browser tests of its sections: an account with something in every user state,
held removals, a refused credential and throttled users, put into each connection state straight in the
store (no Graph needed: the states are what the worker would have recorded); and what each view checks.

A view is one address in one state: every section a manager may open in that state, the disconnect step,
a refused form, a filtered table, and the learner's read-only overview. :data:`LAYOUT` is measured in the
page (nothing scrolls sideways; no control is closer than 8 px to its card's edge) and
:func:`serious_violations` runs axe-core (the copy bundled in the ``axe-playwright-python`` wheel, injected
into the frame) and keeps what is serious or critical.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, update

from bridge.accounts import connection, consent
from bridge.codes import AuditAction, ConnectionState, TenantReason
from bridge.graph import errors
from bridge.models import AuditRecord, ConsentRequest, DirtyKey, RemovalHold
from bridge.sync import store
from bridge.trust import audit, credentials
from plugin.host import HostClient
from tests.browser.conftest import ACCOUNT, Stack

PAGE = "/integrations/outlook"
PEOPLE = [  # id, name, address, state, reason, the queue's last error (a user waiting for a retry)
    ("u-owner", "Olivia Owner", "olivia@contoso.example", "synced", None, None),
    ("u-ada", "Ada Lovelace", "ada.lovelace@contoso.example", "synced", None, None),
    ("u-oscar", "Oscar Oldserver", "oscar.oldserver@contoso.example", "failed", "mailbox_not_in_exchange_online",
     None),
    ("u-pat", "Pat Policy", "pat@contoso.example", "failed", "access_denied_by_policy", None),
    ("u-gina", "Gina Gmail", "gina@gmail.com", "skipped", "personal_email", None),
    ("u-tom", "Tom Throttled", "tom@contoso.example", "retrying", None, "429 TooManyRequests: ApplicationThrottled"),
    ("u-rita", "Rita Retry", "rita@contoso.example", "retrying", None, "503 ServiceUnavailable"),
    ("u-nina", "Nina New", "nina@contoso.example", "pending", None, None),
]


def populate(stack: Stack) -> None:
    """The account's users in every state, a few lines of activity, and the hold, the refused credential
    and the throttled user that :func:`needing_attention` turns on."""
    host = HostClient(stack.base_url, stack.settings.host_secret)
    for uid, name, address, *_ in PEOPLE:
        answer = host.send("user.upserted", ACCOUNT, {"id": uid, "email": address, "name": name, "active": True,
                                                      "role": "owner" if uid == "u-owner" else "learner",
                                                      "timezone": "Europe/Berlin", "version": 1})
        assert answer.status_code == 202, answer.text
    now = datetime.now(UTC)
    with stack.database.session() as session:
        waiting = [uid for uid, _, _, state, _, _ in PEOPLE if state in ("retrying", "pending")]
        session.execute(delete(DirtyKey).where(DirtyKey.user_id.not_in(waiting)))
        later = now + timedelta(days=3)  # Ada: a session's entry and two deadlines' ("of which 2 deadlines")
        store.upsert_entries(session, [{
            "account_id": ACCOUNT, "user_id": "u-ada", "event_id": event, "session_id": sid, "tenant_id": "t",
            "mailbox_id": "u-ada", "graph_event_id": f"g-{event}", "transaction_id": "x", "tag": f"tag-{event}",
            "state": "active", "payload_hash": "h", "material_hash": "m", "starts_at": later, "ends_at": later,
            "updated_at": now} for event, sid in (("e-safety", "s-1"), ("a-essay", ""), ("q-quiz", ""))])
        for uid, _, _, state, reason, error in PEOPLE:
            if error:
                session.execute(update(DirtyKey).where(DirtyKey.user_id == uid).values(
                    attempts=1, due_at=now + timedelta(minutes=5), last_error=error))
            elif state in ("synced", "failed", "skipped"):
                store.set_user_state(session, ACCOUNT, uid, state, reason, None)
        session.execute(delete(AuditRecord))
        audit.record(session, ACCOUNT, "u-owner", AuditAction.CONNECTED, at=now - timedelta(days=2), users_queued=8)
        audit.record(session, ACCOUNT, "u-owner", AuditAction.REMINDER_CHANGED, at=now - timedelta(hours=3),
                     minutes=30)


def needing_attention(stack: Stack, on: bool) -> None:
    """Held removals and a credential refused by Azure AD (``on``), or neither; the throttled user stays."""
    now = datetime.now(UTC)
    with stack.database.session() as session:
        session.execute(delete(RemovalHold))
        if on:
            session.add(RemovalHold(account_id=ACCOUNT, removals=240, future_entries=300, users=40,
                                    causes={"events_deleted": [240, 12]}, held_at=now - timedelta(minutes=20)))
            credentials.store(session, "current", errors.AuthFailed(
                "refused", TenantReason.SECRET_EXPIRED, code="7000222"), now)
        else:
            credentials.store(session, "current", None, now)


def become(stack: Stack, state: str, reason: str | None = None) -> None:
    """Put the account's connection in ``state`` (with ``reason``), as the connection state machine would."""
    now = datetime.now(UTC)
    with stack.database.session() as session:
        session.execute(delete(ConsentRequest).where(ConsentRequest.account_id == ACCOUNT))
        row = connection.connection(session, ACCOUNT)
        row.state, row.reason, row.tenant_id = ConnectionState.DISCONNECTED, None, None
        if state == ConnectionState.CONSENT_PENDING:
            session.flush()
            consent.start_consent(session, stack.settings, ACCOUNT, "u-owner", now)
            return
        row.state, row.reason = state, reason
        if state != ConnectionState.DISCONNECTED:
            row.tenant_id = row.claimed_tenant_id = stack.tenant_id
            row.consent_at = now - timedelta(days=2, minutes=5)
        if state in (ConnectionState.CONNECTED, ConnectionState.SUSPENDED, ConnectionState.DISCONNECTING):
            row.connected_by, row.connected_at = "u-owner", now - timedelta(days=2)


@dataclass(frozen=True)
class View:
    """One address to check: its name, the connection state it needs, the path (a section, or the
    disconnect step), who looks (a role), and an optional step that acts in the frame first."""

    name: str
    state: str
    path: str
    role: str = "owner"
    act: Callable[[Any], None] | None = None


def refuse_a_reminder(frame: Any) -> None:
    """Save a reminder longer than four weeks: the settings come back with the reason (400)."""
    frame.locator("#reminder_minutes").fill("99999")
    frame.locator("#reminder-title ~ form button[type=submit]").click()
    frame.locator(".notice-error[role=alert]").wait_for()


ON, OFF = ConnectionState.CONNECTED, ConnectionState.DISCONNECTED
VIEWS = [
    View("disconnected", OFF, PAGE), View("disconnected-settings", OFF, f"{PAGE}/settings"),
    View("disconnected-activity", OFF, f"{PAGE}/activity"),
    View("link-issued", ConnectionState.CONSENT_PENDING, PAGE),
    View("consent-received", ConnectionState.CONSENT_RECEIVED, PAGE),
    View("overview", ON, PAGE), View("users", ON, f"{PAGE}/users"),
    View("users-failed", ON, f"{PAGE}/users?state=failed"), View("settings", ON, f"{PAGE}/settings"),
    View("settings-refused", ON, f"{PAGE}/settings", act=refuse_a_reminder),
    View("activity", ON, f"{PAGE}/activity"), View("disconnect-step", ON, f"{PAGE}/disconnect"),
    View("learner", ON, PAGE, role="learner"),
    View("suspended", ConnectionState.SUSPENDED, PAGE), View("suspended-users", ConnectionState.SUSPENDED,
                                                             f"{PAGE}/users"),
    View("disconnecting", ConnectionState.DISCONNECTING, PAGE),
]

# Measured in the page's frame: sideways scrolling, controls closer than 8 px to their card's edge, and
# addresses wrapped though short enough for one line (every address of PEOPLE is).
LAYOUT = """() => {
  const problems = [];
  for (const email of document.querySelectorAll('.users .email')) {
    const lines = Math.round(email.getBoundingClientRect().height / parseFloat(getComputedStyle(email).lineHeight));
    if (lines > 1) problems.push(`${email.textContent} wraps onto ${lines} lines`);
  }
  const root = document.documentElement;
  const sideways = (e, what) => {
    const over = e.scrollWidth - e.clientWidth;
    if (over > 1) problems.push(`${what} scrolls sideways (${over} px)`);
  };
  sideways(root, 'the page');
  document.querySelectorAll('.table-wrap').forEach(wrap => sideways(wrap, 'a table'));
  for (const card of document.querySelectorAll('.card')) {
    const box = card.getBoundingClientRect();
    for (const control of card.querySelectorAll('button, input:not([type=hidden]), select, textarea, a.button')) {
      if (!control.getClientRects().length) continue;
      const r = control.getBoundingClientRect();
      const gap = Math.min(r.left - box.left, box.right - r.right);
      const name = (control.innerText || control.name || control.id).trim();
      if (gap < 8) problems.push(`"${name}" is ${gap.toFixed(1)} px from its card's edge`);
    }
  }
  return problems;
}"""


def serious_violations(frame: Any) -> list[str]:
    """axe-core's serious and critical violations in ``frame`` (a Playwright page or frame), one line each:
    the rule, its impact, what it asks, and where."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(frame).response["violations"]
    return [f"{v['id']} ({v['impact']}): {v['help']} at " + ", ".join(str(n["target"]) for n in v["nodes"][:5])
            for v in found if v["impact"] in ("serious", "critical")]
