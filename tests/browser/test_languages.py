"""The page's states in Russian and English in headless Chromium, inside the LMS's iframe.

An owner whose LMS speaks Russian connects: the page, the Copy button's words, the Azure AD
administrator's callback page (their browser asks for Russian), the consent-received and connected
states with reasons and counts, and the entries, which take the connecting manager's language. The
"language of entries" setting switches the entries to English; an English launch shows the same
account in English; the disconnect step counts entries with Russian plurals; a learner reads the
page in Russian. With ``OUTLOOK_SYNC_SCREENSHOTS`` naming a folder, the connected page is saved
there in both languages (``20-connected-ru.png``, ``21-connected-en.png``).
"""
from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bridge.models import Entry, utcnow
from tests.browser.conftest import ACCOUNT, Stack, open_section
from tests.browser.test_flow import drain, events
from tests.page import lms_sample

pytestmark = pytest.mark.timeout(300)


def shot(page: Any, name: str) -> None:
    """Screenshot the LMS page, the plugin's frame grown to its content, when a folder is named."""
    folder = os.environ.get("OUTLOOK_SYNC_SCREENSHOTS")
    if not folder:
        return
    frame = page.frame(name="plugin")
    if frame is not None:
        height = frame.evaluate("Math.ceil(document.body.getBoundingClientRect().height)")
        page.evaluate(f"document.getElementById('plugin').style.height = '{height + 24}px'")
    Path(folder).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def bodies(stack: Stack) -> list[str]:
    return [e["body"]["content"] for entries in events(stack).values() for e in entries]


def future_entries(stack: Stack) -> int:
    with stack.database.session() as session:
        return session.execute(select(func.count()).select_from(Entry).where(Entry.ends_at > utcnow())).scalar_one()


def ru_entries(count: int) -> str:
    """The Russian plural of "entry" for a count (the oracle for the catalogue's plural rule)."""
    if count % 10 == 1 and count % 100 != 11:
        return "запись"
    return "записи" if count % 10 in (2, 3, 4) and count % 100 not in (12, 13, 14) else "записей"


def test_the_page_and_the_entries_in_russian_and_english(stack: Stack, browser: Any) -> None:
    from playwright.sync_api import expect

    from plugin.host import HostClient

    host = HostClient(stack.base_url, stack.settings.host_secret)
    deliveries = lms_sample.deliveries(datetime.now(UTC))
    deliveries[1] = ("user.upserted", {**deliveries[1][1], "name": "Ада Лавлейс"})  # u-ada
    sent = host.send_batch([host.delivery(t, ACCOUNT, d) for t, d in deliveries])
    assert sent.status_code == 202, sent.text

    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-US")
    for origin in (stack.base_url, stack.lms_url):
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=origin)
    page = context.new_page()
    page.goto(stack.lms_page("owner", "u-owner", "ru"))
    plugin = page.frame_locator("#plugin")
    expect(plugin.locator("html")).to_have_attribute("lang", "ru")
    expect(plugin.locator(".badge")).to_have_text("Состояние: Не подключено")
    expect(plugin.get_by_role("heading", name="Три шага")).to_be_visible()

    # Connect and Copy, in Russian (the script's words come from the page)
    plugin.get_by_role("button", name="Подключить", exact=True).click()
    expect(plugin.get_by_role("status").first).to_contain_text("Новая ссылка на согласие готова.")
    link = plugin.locator("#consent-link").input_value()
    plugin.get_by_role("button", name="Копировать").click()
    expect(plugin.locator("#copy-status")).to_have_text("Скопировано в буфер обмена.")
    expect(plugin.get_by_text("Согласие ещё не поступило.")).to_be_visible()

    # The Azure AD administrator's browser asks for Russian: the callback page answers in it
    admin_context = browser.new_context(ignore_https_errors=True, locale="ru-RU")
    admin = admin_context.new_page()
    admin.goto(link)
    admin.get_by_label("Administrator account").fill("olivia@contoso.example")
    admin.get_by_role("button", name="Accept").click()
    admin.wait_for_url(f"{stack.base_url}/integrations/outlook/consent?*")
    expect(admin.get_by_role("heading", name="Согласие получено")).to_be_visible()
    expect(admin.get_by_text("Настройки → Интеграции → Microsoft Outlook Calendar").first).to_be_visible()
    admin_context.close()

    # Consent received, Connect integration, and the connected page with reasons in Russian
    page.reload()
    expect(plugin.locator(".badge")).to_have_text("Состояние: Согласие получено")
    plugin.get_by_role("button", name="Подключить интеграцию").click()
    expect(plugin.get_by_role("status").first).to_contain_text("Подключено. Календари Outlook заполняются")
    drain(stack)
    page.reload()
    expect(plugin.locator(".badge")).to_have_text("Состояние: Подключено")
    expect(plugin.locator(".count-synced")).to_contain_text("Синхронизирован")
    shot(page, "20-connected-ru")
    open_section(plugin, "Пользователи")
    rows = plugin.locator("section[aria-labelledby=users-title] table.users tbody tr")
    expect(rows).to_have_count(len(lms_sample.PEOPLE))
    expect(rows.filter(has_text="Gina Gmail")).to_contain_text("Личный адрес почты (не синхронизируется)")
    expect(rows.filter(has_text="Ада Лавлейс")).to_contain_text("Синхронизирован")
    expect(plugin.locator(".count-synced")).to_contain_text("Синхронизирован")
    open_section(plugin, "Настройки")
    expect(plugin.get_by_label("Язык слов и дат в записях Outlook")).to_have_value("ru")
    assert len(bodies(stack)) == 3 and all("Когда:" in b and "Открыть в СДО" in b for b in bodies(stack))

    # The entries' language: English, for the entries already made too
    plugin.get_by_label("Язык слов и дат в записях Outlook").select_option("en")
    plugin.locator("#language-title ~ form").get_by_role("button", name="Сохранить").click()
    expect(plugin.get_by_role("status").first).to_contain_text("Язык записей сохранён: English.")
    drain(stack)
    assert all("When:" in b and "Когда" not in b for b in bodies(stack))

    # The same account launched in English (the token's locale comes first)
    page.goto(stack.lms_page("owner", "u-owner", "en"))
    expect(plugin.locator("html")).to_have_attribute("lang", "en")
    expect(plugin.locator(".badge")).to_have_text("State: Connected")
    shot(page, "21-connected-en")
    open_section(plugin, "Users")
    expect(rows.filter(has_text="Gina Gmail")).to_contain_text("Personal e-mail address (not synced)")
    open_section(plugin, "Settings")
    expect(plugin.get_by_label("Language of the words and dates in Outlook entries")).to_have_value("en")

    # Disconnect's confirmation in Russian counts the entries with the right plural
    page.goto(stack.lms_page("owner", "u-owner", "ru"))
    plugin.get_by_role("link", name="Отключить").click()
    expect(plugin.get_by_role("heading", name="Отключить Outlook Calendar?")).to_be_visible()
    future = future_entries(stack)
    assert future >= 3
    expect(plugin.get_by_label(f"Также удалить будущие записи, созданные плагином ({future} {ru_entries(future)})")) \
        .to_be_visible()
    context.close()

    # A learner whose LMS speaks Russian reads the page in Russian, without controls
    learner_context = browser.new_context(viewport={"width": 1280, "height": 860})
    learner = learner_context.new_page()
    learner.goto(stack.lms_page("learner", "u-ada", "ru"))
    learner_plugin = learner.frame_locator("#plugin")
    expect(learner_plugin.get_by_text("Вы видите эту страницу, но подключать, отключать и менять настройки "
                                      "могут только владелец аккаунта и администраторы.")).to_be_visible()
    expect(learner_plugin.get_by_role("button", name="Подключить", exact=True)).to_have_count(0)
    learner_context.close()
