"""The demo's calendar feeds: the users Outlook cannot reach get their sessions as a subscription.

The LMS asks for each one's feed address with the signed call (:meth:`plugin.host.HostClient.feed_address`),
then a calendar app's fetch is made over HTTP and read back, and asked again with its ETag (304).
"""
from __future__ import annotations

from datetime import UTC

import icalendar
import requests

from bridge.codes import Reason
from plugin import words
from plugin.host import HostClient

# (LMS user, why Outlook cannot reach them, summaries their feed must list)
FEED_USERS = [
    ("u-gina", Reason.PERSONAL_EMAIL, ["Fire safety training — Morning group"]),
    ("u-otto", Reason.MAILBOX_NOT_IN_EXCHANGE_ONLINE, ["Onboarding — Day 1"]),
]


def show(base_url: str, host_secret: str, account: str) -> list[str]:
    """Print each feed user's address and events; the differences from what the rules say."""
    host = HostClient(base_url, host_secret)
    problems: list[str] = []
    print("\nCalendar feeds (for the users Outlook cannot reach):")
    for user_id, reason, summaries in FEED_USERS:
        answer = host.feed_address(account, user_id).json()
        if (answer.get("offered"), answer.get("reason")) != (True, reason) or not answer.get("url"):
            problems.append(f"{user_id}: expected a feed offered for {reason}, got {answer}")
            continue
        feed = requests.get(answer["url"], timeout=30)
        events = icalendar.Calendar.from_ical(feed.content).walk("VEVENT")
        again = requests.get(answer["url"], headers={"If-None-Match": feed.headers["ETag"]}, timeout=30)
        print(f"  {user_id} ({words.user_reason(reason)}): {answer['webcal_url']}")
        print(f"    {feed.status_code} {feed.headers['Content-Type']}, {len(feed.content)} bytes; "
              f"asked again with its ETag: {again.status_code}")
        for event in events:
            start = event.decoded("dtstart")
            print(f"    {start:%Y-%m-%d %H:%M} {start.tzinfo} ({start.astimezone(UTC):%H:%M} UTC) "
                  f"{event['summary']} (SEQUENCE {event['sequence']})")
        if sorted(str(e["summary"]) for e in events) != sorted(summaries) or again.status_code != 304:
            problems.append(f"{user_id}: feed expected {summaries} and a 304, got "
                            f"{[str(e['summary']) for e in events]} and {again.status_code}")
    return problems
