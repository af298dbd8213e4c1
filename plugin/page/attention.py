"""What needs a manager's attention now, each with its count and where it is fixed (a pure decision).

The overview lists these first, so the manager who opens the page every morning sees "3 users failed"
before anything else, and one link takes them to where it is fixed: the users table filtered to the
failed or throttled users (Retry is there, and each reason says what to do), the held removals'
confirmation, or the credentials' details (what to rotate, and by when).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from bridge.codes import CredentialLevel, UserState
from plugin.page.sections import Section

# Credential levels that ask for action now (an end date within 30 days, or passed). Without a known end
# date (CredentialLevel.UNKNOWN) the health card says so, but nothing is due: it is not counted here.
DUE_LEVELS = frozenset({CredentialLevel.NOTICE, CredentialLevel.WARNING, CredentialLevel.CRITICAL,
                        CredentialLevel.EXPIRED})


class Need(StrEnum):
    """Something that needs a manager (the overview's list, most urgent first)."""

    BROAD_GRANT = "broad_grant"  # "only the LMS's people" chosen, but the tenant-wide Entra grant is still there
    HELD_REMOVALS = "held_removals"  # future entries whose removal waits for confirmation
    CREDENTIALS = "credentials"  # the plugin's secret or certificate expires soon, expired, or is refused
    FAILED_USERS = "failed_users"  # users Outlook could not reach (a reason for each)
    THROTTLED = "throttled"  # users waiting because Microsoft throttled the plugin


@dataclass(frozen=True)
class Attention:
    """One line of the list: ``count`` things of the kind ``need``, fixed at ``section`` (with ``query``
    as its query string, and ``anchor`` the part of the section, "" for its top)."""

    need: Need
    count: int
    section: Section
    query: Mapping[str, str] = field(default_factory=dict)
    anchor: str = ""


def needs(counts: Mapping[str, int], held_removals: int, credentials: Iterable[tuple[str, bool]],
          throttled: int, broad_grant: bool = False) -> tuple[Attention, ...]:
    """What needs attention, most urgent first, leaving out what counts nothing.

    ``counts`` are the users per :class:`~bridge.codes.UserState`; ``held_removals`` the future entries
    held by the mass-removal guard (0: none); ``credentials`` (level, refused last time) for each of the
    plugin's credentials; ``throttled`` the users waiting after Microsoft throttled the plugin;
    ``broad_grant`` whether the account chose *only the LMS's people* while the tenant still grants
    ``Calendars.ReadWrite`` to every mailbox in Entra ID (grants add up: the scope restricts nothing).
    """
    due = sum(1 for level, failing in credentials if failing or level in DUE_LEVELS)
    found = (
        Attention(Need.BROAD_GRANT, 1 if broad_grant else 0, Section.OVERVIEW, anchor="access"),
        Attention(Need.HELD_REMOVALS, held_removals, Section.OVERVIEW, anchor="hold"),
        Attention(Need.CREDENTIALS, due, Section.OVERVIEW, anchor="credentials"),
        Attention(Need.FAILED_USERS, counts.get(UserState.FAILED, 0), Section.USERS,
                  {"state": UserState.FAILED}),
        Attention(Need.THROTTLED, throttled, Section.USERS, {"state": UserState.RETRYING}),
    )
    return tuple(a for a in found if a.count > 0)
