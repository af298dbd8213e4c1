"""The managers' panels (preview, health with credentials, activity), the calendar feeds card and their
CSV exports in the page's language: a Russian page of a connected account, with no English left in them."""
from __future__ import annotations

import csv
import dataclasses
import html
import io
import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import update

from bridge.codes import AuditAction, TenantReason
from bridge.config import Settings
from bridge.db import Database
from bridge.graph import errors
from bridge.models import Connection, DirtyKey, LatencySample, UserState, utcnow
from bridge.trust import audit, credentials, preview_store
from tests.page.conftest import ACCOUNT, Launch, csrf, every_section, user
from tests.page.test_roles import connected

PAGE = "/integrations/outlook"
# Runs of three or more Latin words that may stay in a Russian panel: product names and settings.
LATIN_ALLOWED = {"Microsoft Outlook Calendar"}
_LATIN_RUN = re.compile(r"[A-Za-z][\w'-]*(?:[ ,:;]+[A-Za-z][\w'-]*){2,}", re.ASCII)


@pytest.fixture
def busy(client: FlaskClient, database: Database, settings: Settings,
         hooks: Callable[..., object]) -> None:
    """A connected account with something in every panel: a finished preview, users waiting (one after
    throttling), a failure, latency samples, a full pass, two client secrets (the next one refused by
    Azure AD, the current one 3 days from its end) and an audit log."""
    hooks(ACCOUNT, [user("u-ada", "ada@contoso.example", "Ada Lovelace"),
                    user("u-gina", "gina@gmail.com", "Gina Gmail"),
                    user("u-owner", "olivia@contoso.example", "Olivia Owner", role="owner")])
    connected(database)
    now = utcnow()
    rotating = dataclasses.replace(settings, client_secret_expires=now.date() + timedelta(days=3),
                                   client_secret_next="n" * 20,
                                   client_secret_next_expires=now.date() + timedelta(days=90))
    client.application.extensions["outlook_sync"] = dataclasses.replace(
        client.application.extensions["outlook_sync"], settings=rotating)
    with database.session() as session:
        assert preview_store.start(session, ACCOUNT, "u-owner", now)
        preview_store.add_lines(session, ACCOUNT, [("u-ada", 2, None, None, 1),
                                                   ("u-gina", 0, "personal_email", None, 0),
                                                   ("u-owner", 0, "no_session_chosen", None, 0)])
        preview_store.finish(session, ACCOUNT, now)
        session.execute(update(DirtyKey).where(DirtyKey.user_id == "u-ada").values(
            attempts=2, last_error="429 TooManyRequests", due_at=now - timedelta(seconds=42)))
        session.add(UserState(account_id=ACCOUNT, user_id="u-owner", state="failed",
                              reason="mailbox_not_in_exchange_online", entries=0, changed_at=now))
        session.add_all([LatencySample(account_id=ACCOUNT, settled_at=now, seconds=s) for s in (1.5, 2.25, 4.0)])
        session.execute(update(Connection).where(Connection.account_id == ACCOUNT).values(full_reconcile_at=now))
        refused = errors.AuthFailed("refused", TenantReason.SECRET_INVALID, code="7000215")
        credentials.store(session, "next", refused, now)
        for action, detail in ((AuditAction.CONNECTED, {"users_queued": 2}),
                               (AuditAction.REMINDER_CHANGED, {"minutes": 30}),
                               (AuditAction.USER_RETRIED, {"user_id": "u-ada"}),
                               (AuditAction.MASS_REMOVAL_CONFIRMED, {"entries": 120, "users": 61})):
            audit.record(session, ACCOUNT, "u-owner", action, at=now - timedelta(minutes=1), **detail)


def panel(page: str, start: str) -> str:
    """The visible text of the ``<section>`` that begins with ``start`` (tags dropped, spaces collapsed)."""
    begin = page.index(start)
    section = page[begin:page.index("</section>", begin)]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", section)).split())


def russian_page(client: FlaskClient, launch: Launch) -> str:
    launch("owner", user_id="u-owner", locale="ru")
    answer = client.get(PAGE)
    assert answer.status_code == 200
    return every_section(client)


@pytest.mark.usefixtures("busy")
def test_the_panels_and_the_feeds_card_speak_russian(client: FlaskClient, launch: Launch) -> None:
    page = russian_page(client, launch)
    preview = panel(page, '<section class="card" id="preview"')
    for words in ("Предпросмотр: что делает синхронизация", "Обновить предпросмотр",
                  "ни в один почтовый ящик ничего не записано", "2 записи будут созданы", "из них 1 срок",
                  "1 пользователь получит записи", "2 пользователя останутся без записей",
                  "Личный адрес почты (не синхронизируется)", "Пользователи без записей (2)",
                  "Выгрузить предпросмотр в CSV"):
        assert words in preview, words
    health = panel(page, '<section class="card" id="health"')
    for words in ("Состояние работы", "Последнее изменение из СДО", "Пользователи в очереди",
                  "(1 после сбоя); дольше всех — ", "СДО → Outlook, последний час",
                  "медиана 2,2 с, 95% за 4,0 с (3 записи)", "Последний полный проход",
                  "1 пользователь ждёт после ограничения запросов", "Учётные данные",
                  "Текущий секрет клиента", "Осталось 3 дня (до ",
                  "Истекает в течение 7 дней: замените сейчас.",
                  "Следующий (пробуется первым) секрет клиента", "Осталось 90 дней",
                  "Отклонён Azure AD", "AADSTS7000215 · Azure AD не принимает секрет клиента плагина.",
                  "Пока используются текущие учётные данные."):
        assert words in health, words
    waited = re.search(r"дольше всех — (\d+) с", health)  # 42 s when the page was asked, a little more later
    assert waited and 42 <= int(waited.group(1)) < 120, health
    activity = panel(page, '<section class="card" id="audit"')
    for words in ("Журнал действий", "Выгрузить CSV", "Действия управляющих и их последствия, сначала новые",
                  "Когда", "Кто", "Действие", "Последствия", "Подключил(а) интеграцию",
                  "2 пользователя поставлены в очередь на первую синхронизацию", "Изменил(а) напоминание",
                  "за 30 минут до начала", "пользователь u-ada снова поставлен в очередь",
                  "Подтвердил(а) массовое удаление", "удалено из Outlook записей: 120, пользователей: 61"):
        assert words in activity, words
    deadlines = panel(page, '<section class="card" aria-labelledby="deadlines-title"')
    for words in ("Сроки", "Передавать сроки в Outlook", "Напоминание (за сколько минут до срока)",
                  "1440 — это сутки", "Когда учащийся выполнил задание", "Удалить из календаря",
                  "Оставить до наступления срока", "Сохранить"):
        assert words in deadlines, words
    feeds = panel(page, '<section class="card" aria-labelledby="feeds-title"')
    for words in ("Календарные подписки", "Те, до кого не дотянуться через Outlook", "СДО выдаёт каждому",
                  "Кому предлагать календарные подписки", "Тем, до кого не дотянуться через Outlook",
                  "Всем, в дополнение к Outlook", "Никому (подписки выключены)", "Применить"):
        assert words in feeds, words
    for text in (preview, health, activity, feeds, deadlines):
        rest = re.sub(r"\S+@\S+|Ada Lovelace|Gina Gmail|Olivia Owner", " ", text)  # the users' own names
        assert set(_LATIN_RUN.findall(rest)) <= LATIN_ALLOWED, text
    for english in ("Preview: what", "entries to make", "Users waiting", "median", "days left", "Credentials",
                    "Activity", "What it caused", "queued", "Calendar feeds", "Offer calendar feeds to", "Apply"):
        assert english not in page, english


@pytest.mark.usefixtures("busy")
def test_the_same_panels_in_english(client: FlaskClient, launch: Launch) -> None:
    launch("owner", user_id="u-owner", locale="en")
    page = every_section(client)
    text = " ".join(panel(page, start) for start in ('<section class="card" id="preview"',
                                                     '<section class="card" id="health"',
                                                     '<section class="card" id="audit"',
                                                     '<section class="card" aria-labelledby="feeds-title"'))
    for words in ("Preview: what syncing does", "2 entries to make", "1 user gets entries", "2 users left out",
                  "(1 after a failure); the oldest for ", "median 2.2 s, 95% within 4.0 s (3 writes)",
                  "1 user waiting after throttling", "Current client secret", "3 days left (until ",
                  "2 users queued for their first sync", "120 entries of 61 users removed from Outlook",
                  "Calendar feeds", "Offer calendar feeds to", "Apply"):
        assert words in text, words
    waited = re.search(r"the oldest for (\d+) s", text)  # 42 s when the page was asked, a little more later
    assert waited and 42 <= int(waited.group(1)) < 120, text
    assert "Журнал" not in page and "Применить" not in page


@pytest.mark.usefixtures("busy")
def test_the_preview_and_audit_exports_have_russian_headers(client: FlaskClient, launch: Launch) -> None:
    russian_page(client, launch)
    audit_rows = list(csv.reader(io.StringIO(client.get(f"{PAGE}/audit.csv").data.decode("utf-8"))))
    assert audit_rows[0] == ["когда", "id автора", "автор", "код действия", "последствия"]
    caused = {row[3]: row[4] for row in audit_rows[1:]}
    assert caused[AuditAction.REMINDER_CHANGED] == "за 30 минут до начала"  # the code stays, the words follow the page
    preview_rows = list(csv.reader(io.StringIO(client.get(f"{PAGE}/preview.csv").data.decode("utf-8"))))
    assert preview_rows[0] == ["id пользователя", "имя", "почта", "записей", "код причины", "причина"]
    assert ["u-gina", "Gina Gmail", "gina@gmail.com", "0", "personal_email",
            "Личный адрес почты (не синхронизируется)"] in preview_rows
    launch("owner", user_id="u-owner", locale="en")
    assert client.get(f"{PAGE}/audit.csv").data.decode("utf-8").splitlines()[0] == \
        "at,actor_id,actor,action,what_it_caused"


def test_a_preview_is_refused_in_russian_before_consent(client: FlaskClient, launch: Launch,
                                                       hooks: Callable[..., object]) -> None:
    hooks(ACCOUNT, [user("u-owner", "olivia@contoso.example", "Olivia Owner", role="owner")])
    launch("owner", user_id="u-owner", locale="ru")
    answer = client.post(f"{PAGE}/preview", data={"csrf_token": csrf(client)})
    assert answer.status_code == 409
    assert "Для предпросмотра сначала нужно согласие администратора Azure AD." in \
        html.unescape(answer.get_data(as_text=True))


def test_an_unknown_feed_address_answers_in_the_browsers_language(client: FlaskClient) -> None:
    answer = client.get("/feeds/no-such-token.ics", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert answer.status_code == 404
    assert answer.get_data(as_text=True) == \
        "По этому адресу календаря нет. Узнайте в СДО ваш текущий адрес календаря.\n"

