"""A small LMS for the page and browser tests: who is who, one event, and what each user should end as."""
from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urljoin

import requests

DOMAIN = "contoso.example"
PEOPLE = [  # id, name, e-mail, LMS role, active
    ("u-owner", "Olivia Owner", f"olivia@{DOMAIN}", "owner", True),
    ("u-ada", "Ada Lovelace", f"ada@{DOMAIN}", "learner", True),
    ("u-old", "Oscar Oldserver", f"old@{DOMAIN}", "learner", True),
    ("u-gina", "Gina Gmail", "gina.personal@gmail.com", "learner", True),
    ("u-nina", "Nina Nosession", f"nina@{DOMAIN}", "learner", True),
    ("u-ivan", "Ivan Inactive", f"ivan@{DOMAIN}", "instructor", False),
]
# user → (state, reason) after the first full pass
EXPECTED = {
    "u-owner": ("synced", None),
    "u-ada": ("synced", None),
    "u-old": ("failed", "mailbox_not_in_exchange_online"),
    "u-gina": ("skipped", "personal_email"),
    "u-nina": ("skipped", "no_session_chosen"),
    "u-ivan": ("skipped", "inactive"),
}


def deliveries(now: datetime) -> list[tuple[str, dict[str, Any]]]:
    """Users, one two-session event organised by the owner, and enrollments (one without a session)."""
    day = now.replace(hour=9, minute=0, second=0, microsecond=0)

    def at(days: int, hours: int) -> str:
        return (day + timedelta(days=days, hours=hours)).isoformat()

    out: list[tuple[str, dict[str, Any]]] = [
        ("user.upserted", {"id": uid, "email": mail, "name": name, "active": active, "role": role,
                           "timezone": "Europe/Berlin", "version": 1})
        for uid, name, mail, role, active in PEOPLE
    ]
    out.append(("event.upserted", {
        "id": "e-safety", "title": "Safety training", "description": "<p>Bring your boots.</p>",
        "organizer_id": "u-owner", "url": "https://lms.example.com/events/e-safety", "location": "Room 4",
        "online_url": None, "timezone": "Europe/Berlin", "cancelled": False, "version": 1,
        "sessions": [
            {"id": "s-1", "title": "Morning", "start": at(2, 0), "end": at(2, 3)},
            {"id": "s-2", "title": "Afternoon", "start": at(3, 5), "end": at(3, 8)},
        ],
    }))
    for uid, session in (("u-ada", "s-1"), ("u-old", "s-1"), ("u-gina", "s-2"), ("u-nina", None),
                         ("u-ivan", "s-1")):
        out.append(("enrollment.upserted", {"event_id": "e-safety", "user_id": uid, "session_id": session,
                                            "version": 1}))
    return out


def accept_on_emulator(link: str, ca_path: str, admin_account: str = f"olivia@{DOMAIN}",
                       action: str = "accept") -> str:
    """What the Azure AD administrator does on the emulator's consent page; returns the redirect target."""
    browser = requests.Session()
    browser.verify = ca_path
    page = browser.get(link, timeout=30)
    page.raise_for_status()
    form_action = re.search(r'<form method="post" action="([^"]+)"', page.text)
    assert form_action, page.text
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    fields = {k: html.unescape(v) for k, v in fields.items()}
    answer = browser.post(urljoin(page.url, form_action.group(1)),
                          data={**fields, "admin_account": admin_account, "action": action},
                          allow_redirects=False, timeout=30)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]
