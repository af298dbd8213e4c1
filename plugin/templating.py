"""The page's templates: the filters and code enums they use, and the static files.

The filters take values only: an instant is shown in the time zone the template was given as ``zone``
(the viewer's, read with the launch: :attr:`plugin.launch.Viewer.zone`), in UTC when it was given none;
no filter reads the database. Templates compare states and reasons with the code enums of
:mod:`bridge.codes` (``ConnectionState.CONNECTED``…), never with a literal.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from bridge import codes
from plugin import i18n
from plugin.headers import protect

STATIC_PATH = "/integrations/outlook/static"
CODES = (codes.ConnectionState, codes.UserState, codes.ConsentReason, codes.PreviewState)

# The page's CSS, script and icon (cacheable: they hold nothing personal).
static = protect(Blueprint("outlook_static", __name__, static_folder="static", static_url_path=STATIC_PATH),
                 private=False)


def init_app(app: Flask) -> None:
    """Give the app the templates' filters and enums, and serve the static files."""
    app.add_template_filter(when, "when")
    app.add_template_filter(short_when, "short_when")
    app.add_template_filter(breakable, "breakable")
    for enum in CODES:
        app.add_template_global(enum, enum.__name__)
    app.register_blueprint(static)


def _zone(context: Context) -> ZoneInfo:
    return ZoneInfo(i18n.zone_name(context.get("zone")))


@pass_context
def when(context: Context, value: datetime | None) -> str:
    """An instant in the template's ``zone``, e.g. 5 March 2030, 14:05 CET ("" for None)."""
    return "" if value is None else i18n.when(value, _zone(context))


@pass_context
def short_when(context: Context, value: datetime | None) -> str:
    """An instant for a table cell, e.g. 5 Mar 2030, 14:05 ("" for None)."""
    return "" if value is None else i18n.when(value, _zone(context), short=True)


def breakable(address: str) -> Markup:
    """An address that may wrap after its ``@`` (``<wbr>``) when the line is too short for all of it,
    nowhere else (the page's CSS breaks a part longer than the whole line as a last resort)."""
    return Markup("@<wbr>").join(escape(address).split("@"))
