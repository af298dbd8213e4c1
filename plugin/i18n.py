"""The page's language: Flask-Babel over the product's catalogues (:mod:`bridge.i18n`).

The page and the consent pages speak, in this order: the ``locale`` the launch token named (kept in
the page's session), the account's language (the language of its entries), the browser's
``Accept-Language``, English. Outside a request (the command line) everything stays English.
"""
from __future__ import annotations

import contextlib
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime
from babel.numbers import format_decimal
from flask import Flask, g, has_request_context, request, session
from flask_babel import Babel, get_locale
from flask_babel import gettext as _

from bridge import i18n
from bridge.lms import settings as account_settings
from plugin.services import services

SESSION_KEY = "locale"
UTC = "UTC"


def init_app(app: Flask) -> None:
    """Give the app Flask-Babel (``_``, ``gettext``, ``ngettext`` in templates) and the page's helpers."""
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(i18n.CATALOGUES)
    app.config["BABEL_DOMAIN"] = i18n.DOMAIN
    Babel(app, locale_selector=select_locale)
    app.add_template_global(page_language, "page_language")
    app.add_template_global(number, "number")
    app.add_template_global(i18n.display_name, "language_name")


def select_locale() -> str:
    """The page's language for this request (see the module's docstring)."""
    if not has_request_context():
        return i18n.SOURCE
    chosen = i18n.supported(session.get(SESSION_KEY))
    if chosen:
        return chosen
    account = g.get("locale_account") or session.get("account")
    if isinstance(account, str):
        with services().database.session() as db:
            locale = account_settings.read(db, account).locale
        chosen = i18n.supported(locale)
        if chosen:
            return chosen
    return request.accept_languages.best_match(i18n.available()) or i18n.SOURCE


def page_language() -> str:
    """The code of the page's language, e.g. ``ru`` (for ``<html lang>``)."""
    return str(get_locale() or i18n.SOURCE)


def number(value: float, digits: int = 0) -> str:
    """A number as the page's language writes it, rounded to ``digits`` decimals: ``12,345`` or ``1.5``
    in English, ``12\u00a0345`` or ``1,5`` in Russian."""
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return format_decimal(value, pattern, locale=i18n.language(page_language()).locale)


def when(value: datetime, zone: ZoneInfo, short: bool = False) -> str:
    """An instant in ``zone``, in the page's language: ``5 March 2030, 14:05 CET`` (``short``:
    ``5 Mar 2030, 14:05``)."""
    local = value.astimezone(zone)
    # Translators: Babel (CLDR) date patterns for the page's times; the zone's abbreviation follows the long one.
    pattern = _("d MMM y, HH:mm") if short else _("d MMMM y, HH:mm")
    text = format_datetime(local, pattern, tzinfo=zone, locale=i18n.language(page_language()).locale)
    return text if short else f"{text} {local.tzname()}"


def zone_name(name: str | None) -> str:
    """``name`` if it is a time zone this machine knows (IANA, e.g. ``Europe/Berlin``), else ``UTC``
    (the LMS may send a name Python's zone database lacks: the page then shows UTC)."""
    with contextlib.suppress(ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(name).key if name else UTC
    return UTC
