"""Plain words for the page's sections and for what needs attention (data, like :mod:`plugin.words`).

Each text is a lazy gettext message, put into the page's language (:mod:`plugin.i18n`) where it is shown.
"""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_babel.speaklater import LazyString

from plugin.i18n import number
from plugin.page.attention import Need
from plugin.page.sections import Section

# The navigation's names of the sections (also the start of each section's window title).
SECTIONS: dict[str, LazyString] = {
    Section.OVERVIEW: _l("Overview"),
    Section.USERS: _l("Users"),
    Section.SETTINGS: _l("Settings"),
    Section.ACTIVITY: _l("Activity"),
}


# How each need is fixed, said under it.
FIXES: dict[str, LazyString] = {
    Need.BROAD_GRANT: _l("Grants add up: while Calendars.ReadWrite is granted in Azure AD, the Exchange scope "
                         "restricts nothing. An Azure AD administrator removes that permission from the plugin in "
                         "Enterprise applications → Permissions."),
    Need.HELD_REMOVALS: _l("Nothing is removed until someone confirms; restoring what was deleted in the LMS "
                           "lifts the hold by itself."),
    Need.CREDENTIALS: _l("The LMS administrator rotates the plugin's credentials; syncing stops when the last "
                         "one expires."),
    Need.FAILED_USERS: _l("Each has its reason and what to do; press Retry once it is fixed."),
    Need.THROTTLED: _l("Microsoft asked the plugin to slow down; they are synced again by themselves."),
}


def attention(need: str, count: int) -> str:
    """What needs attention (a :class:`~plugin.page.attention.Need`, of ``count`` things) in words: the
    words of the link to where it is fixed (:data:`FIXES` tells how)."""
    shown = number(count)
    if need == Need.BROAD_GRANT:
        return _("Every mailbox is still reachable: the tenant-wide Calendars.ReadWrite grant is still there")
    if need == Need.HELD_REMOVALS:
        return ngettext("%(count)s future entry waits for confirmation before it is removed",
                        "%(count)s future entries wait for confirmation before they are removed", count,
                        count=shown)
    if need == Need.CREDENTIALS:
        return ngettext("%(count)s credential of the plugin expires soon or is refused",
                        "%(count)s credentials of the plugin expire soon or are refused", count, count=shown)
    if need == Need.FAILED_USERS:
        return ngettext("%(count)s user could not be synced", "%(count)s users could not be synced", count, count=shown)
    return ngettext("%(count)s user waits after Microsoft throttled the plugin",
                    "%(count)s users wait after Microsoft throttled the plugin", count, count=shown)
