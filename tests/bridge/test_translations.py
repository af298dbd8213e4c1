"""The catalogues: in step with the code and templates, complete, compiled, and plural-correct.

After changing a message in the code or a template, ``bin/translations`` updates every catalogue and
compiles it; these tests fail until each new message has its translation.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from bridge import i18n

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = [code for code in i18n.available() if code != i18n.SOURCE]
MessageId = tuple[str | None, str | tuple[str, ...]]


def _po(code: str) -> Catalog:
    with (i18n.CATALOGUES / code / "LC_MESSAGES" / f"{i18n.DOMAIN}.po").open("rb") as f:
        return read_po(f, locale=code)


def _ids(catalog: Catalog) -> set[MessageId]:
    return {(m.context, m.id if isinstance(m.id, str) else tuple(m.id)) for m in catalog if m.id}


def _extracted() -> set[MessageId]:
    """What ``pybabel extract -F babel.cfg`` finds in the code and templates now."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    found: set[MessageId] = set()
    for _file, _line, message, _comments, context in extract_from_dir(str(ROOT), method_map, options_map):
        found.add((context, message if isinstance(message, str) else tuple(message)))
    return found


def test_russian_is_available() -> None:
    assert LANGUAGES == ["ru"]
    assert i18n.supported("ru-RU") == i18n.supported("ru_RU") == "ru"
    assert i18n.supported("de") is None and i18n.supported(None) is None and i18n.supported("") is None


@pytest.mark.parametrize("code", LANGUAGES)
def test_catalogue_is_in_step_with_the_code(code: str) -> None:
    extracted, catalogued = _extracted(), _ids(_po(code))
    assert len(extracted) > 150  # the extraction really read the code and templates
    assert extracted - catalogued == set(), "new messages: run bin/translations, then translate them"
    assert catalogued - extracted == set(), "messages no longer in the code: run bin/translations"


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_message_has_a_translation(code: str) -> None:
    catalog = _po(code)
    assert catalog.num_plurals == 3 if code == "ru" else catalog.num_plurals >= 1
    untranslated = [m.id for m in catalog if m.id and (
        m.fuzzy or (not all(m.string) if isinstance(m.string, (list, tuple)) else not m.string)
        or (isinstance(m.id, (list, tuple)) and len(m.string) != catalog.num_plurals))]
    assert untranslated == []
    problems = [(m.id, errors) for m, errors in catalog.check()]  # placeholders match the msgid's
    assert problems == []


@pytest.mark.parametrize("code", LANGUAGES)
def test_compiled_catalogue_matches_its_source(code: str) -> None:
    with (i18n.CATALOGUES / code / "LC_MESSAGES" / f"{i18n.DOMAIN}.mo").open("rb") as f:
        compiled = read_mo(f)
    source = _po(code)
    assert _texts(compiled) == _texts(source), "run bin/translations to compile"


def _texts(catalog: Catalog) -> set[tuple[object, ...]]:
    def flat(value: object) -> object:
        return tuple(value) if isinstance(value, (list, tuple)) else value
    return {(m.context, flat(m.id), flat(m.string)) for m in catalog if m.id}


@pytest.mark.parametrize(("count", "words"), [(1, "1 запись"), (2, "2 записи"), (5, "5 записей"),
                                              (11, "11 записей"), (21, "21 запись"), (22, "22 записи"),
                                              (112, "112 записей")])
def test_russian_plurals(count: int, words: str) -> None:
    translations = i18n.language("ru").translations
    text = translations.ngettext("Also remove the future entries the plugin made (%(count)s entry)",
                                 "Also remove the future entries the plugin made (%(count)s entries)", count)
    assert text % {"count": count} == f"Также удалить будущие записи, созданные плагином ({words})"


def test_language_names_in_their_own_language() -> None:
    assert [i18n.display_name(code) for code in i18n.available()] == ["English", "Русский"]
