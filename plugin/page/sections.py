"""The page's sections and which of them, and which settings cards, a viewer gets (pure decisions).

Each section has its own address under ``/integrations/outlook`` and is rendered by the server alone
(no script needed, inside the LMS's iframe too): the overview (the connection, what needs attention,
the users' counts, health, Disconnect), users (the table, filters, export), settings (one card per
setting) and activity (the audit log). Managers get the sections that make sense in the connection's
state; everybody else gets the overview only, read-only.

A new setting is one more line of :data:`SETTING_CARDS` (its name, the states it is offered in) and a
template ``templates/_setting_<name>.html`` holding its card and form; its action goes in
:mod:`plugin.page.actions`, answering on the settings section (:data:`Section.SETTINGS`).
"""
from __future__ import annotations

from enum import StrEnum

from bridge.codes import ConnectionState


class Section(StrEnum):
    """A section of the page, at ``/integrations/outlook/<value>`` (the overview at ``/integrations/outlook``)."""

    OVERVIEW = "overview"
    USERS = "users"
    SETTINGS = "settings"
    ACTIVITY = "activity"

    @property
    def endpoint(self) -> str:
        """The Flask endpoint that shows the section (the overview is the page's own address)."""
        return "outlook_page.index" if self is Section.OVERVIEW else f"outlook_page.{self.value}"


# What each connection state shows besides the status: the users table and its counts; the settings cards
# that apply to a connection (reminder, language); the Disconnect card.
TABLE_STATES = (ConnectionState.CONNECTED, ConnectionState.SUSPENDED, ConnectionState.DISCONNECTING)
SETTINGS_STATES = (ConnectionState.CONNECTED, ConnectionState.SUSPENDED)
DISCONNECT_STATES = (ConnectionState.CONNECTED, ConnectionState.SUSPENDED, ConnectionState.CONSENT_RECEIVED)
EVERY_STATE = tuple(ConnectionState)

# The settings section's cards, in the page's order: (name, the connection states it is offered in).
# Each is the template _setting_<name>.html; add a line (and a template) for a new setting.
SETTING_CARDS: tuple[tuple[str, tuple[ConnectionState, ...]], ...] = (
    ("reminder", SETTINGS_STATES),
    ("language", SETTINGS_STATES),
    ("feeds", EVERY_STATE),
    ("outlook_changes", EVERY_STATE),
    ("deadlines", EVERY_STATE),
)


def open_sections(manages: bool, state: str) -> tuple[Section, ...]:
    """The sections a viewer may open, in the navigation's order: managers get every section (the users
    section while there is a users table), everybody else the overview only."""
    if not manages:
        return (Section.OVERVIEW,)
    return tuple(s for s in Section if s is not Section.USERS or state in TABLE_STATES)


def setting_cards(state: str) -> tuple[str, ...]:
    """The names of the settings cards offered while the connection is in ``state``, in order."""
    return tuple(name for name, states in SETTING_CARDS if state in states)


def preview_section(state: str) -> Section:
    """Where the preview of what syncing does is shown: beside the users table once there is one, else on
    the overview (before Connect integration, where it helps decide)."""
    return Section.USERS if state in TABLE_STATES else Section.OVERVIEW
