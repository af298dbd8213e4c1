"""The product's languages: one gettext catalogue per language, shared by the page and the entries.

English is the source language (the messages' ids); every other language is one catalogue,
``bridge/translations/<language>/LC_MESSAGES/messages.po`` with its compiled ``.mo`` beside it, so a
language is available as soon as its catalogue is there. The page reads the catalogues through
Flask-Babel; the entries (:mod:`bridge.sync.payload`) through :func:`language`, with Babel alone, since
``bridge`` never imports Flask.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.support import NullTranslations, Translations

CATALOGUES = Path(__file__).with_name("translations")
DOMAIN = "messages"
SOURCE = "en"


@dataclass(frozen=True)
class Language:
    """A language to write in: its Babel ``locale`` (dates, numbers) and its ``translations`` (words)."""

    code: str
    locale: Locale
    translations: NullTranslations


@lru_cache(maxsize=1)
def available() -> tuple[str, ...]:
    """The language codes there are catalogues for, English first (e.g. ``("en", "ru")``)."""
    found = sorted(p.parent.parent.name for p in CATALOGUES.glob(f"*/LC_MESSAGES/{DOMAIN}.mo"))
    return (SOURCE, *[code for code in found if code != SOURCE])


def supported(tag: object) -> str | None:
    """The available language a tag such as ``ru``, ``ru-RU`` or ``ru_RU`` names, else None."""
    if not isinstance(tag, str) or not 0 < len(tag) <= 35:
        return None
    try:
        code = Locale.parse(tag.replace("-", "_")).language
    except (ValueError, UnknownLocaleError):
        return None
    return code if code in available() else None


@lru_cache(maxsize=16)
def language(code: str | None) -> Language:
    """The :class:`Language` for a code (an unknown or empty one gives English)."""
    chosen = supported(code) or SOURCE
    words = NullTranslations() if chosen == SOURCE else Translations.load(str(CATALOGUES), [chosen], DOMAIN)
    return Language(chosen, Locale.parse(chosen), words)


def display_name(code: str) -> str:
    """A language's name in that language, capitalised: ``English``, ``Русский``."""
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]
