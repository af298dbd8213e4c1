"""The page's language (launch token, account, Accept-Language, English), the consent pages, the CSV export
and the "language of entries" setting."""
from __future__ import annotations

import csv
import html
import io
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from bridge.accounts import connection
from bridge.db import Database
from bridge.models import Account, ConsentRequest, DirtyKey, Entry, LmsUser, UserState
from plugin.host import LAUNCH_SALT
from tests.page.conftest import ACCOUNT, HOST_SECRET, Launch, csrf, every_section, shown
from tests.page.test_actions import queued, ready  # noqa: F401 (a fixture)
from tests.page.test_roles import connected

PAGE = "/integrations/outlook"


def page(client: FlaskClient, **headers: str) -> str:
    return html.unescape(client.get(PAGE, headers=headers).get_data(as_text=True))


def set_account_language(database: Database, code: str | None, account: str = ACCOUNT) -> None:
    with database.session() as session:
        connection.connection(session, account)
        row = session.get(Account, account)
        assert row is not None
        row.locale = code


def test_launch_locale_sets_the_page_language(client: FlaskClient, launch: Launch) -> None:
    launch("owner", locale="ru-RU")
    text = page(client)
    assert '<html lang="ru">' in text and "Не подключено" in text and ">Подключить<" in text
    assert "Not connected" not in text and "Три шага" in text
    assert "Подключать, отключать и менять эти настройки могут только владелец аккаунта и администраторы." in text


def test_old_tokens_without_locale_speak_english(client: FlaskClient, launch: Launch) -> None:
    launch("owner")
    text = page(client)
    assert '<html lang="en">' in text and "Not connected" in text and "Three steps" in text


@pytest.mark.parametrize(("accept", "lang"), [("ru-RU,ru;q=0.9,en;q=0.8", "ru"), ("de-DE,de;q=0.9", "en"),
                                              ("fr;q=0.9, ru;q=0.5", "ru"), ("", "en")])
def test_browser_language_when_the_token_and_account_say_nothing(client: FlaskClient, launch: Launch,
                                                                 accept: str, lang: str) -> None:
    launch("owner")
    assert f'<html lang="{lang}">' in page(client, **({"Accept-Language": accept} if accept else {}))


def test_an_unknown_locale_in_the_token_falls_through(client: FlaskClient, launch: Launch) -> None:
    launch("owner", locale="de")
    assert '<html lang="ru">' in page(client, **{"Accept-Language": "ru"})


def test_account_language_comes_before_the_browser_and_after_the_token(client: FlaskClient, launch: Launch,
                                                                       database: Database) -> None:
    set_account_language(database, "ru")
    launch("learner")
    text = page(client, **{"Accept-Language": "en"})
    assert '<html lang="ru">' in text and "Вы видите эту страницу" in text
    launch("learner", locale="en")
    assert '<html lang="en">' in page(client, **{"Accept-Language": "ru"})


@pytest.mark.parametrize("locale", [5, ["ru"], {"a": 1}])
def test_a_malformed_locale_claim_is_refused(client: FlaskClient, locale: object) -> None:
    token = URLSafeTimedSerializer(HOST_SECRET, salt=LAUNCH_SALT).dumps(
        {"account": ACCOUNT, "user_id": "u-owner", "role": "owner", "locale": locale})
    answer = client.get(PAGE, query_string={"launch": token})
    assert answer.status_code == 403 and "This link from the LMS is not valid" in answer.get_data(as_text=True)


def test_refusals_speak_the_browsers_language(client: FlaskClient) -> None:
    answer = client.get(PAGE, headers={"Accept-Language": "ru"})
    text = answer.get_data(as_text=True)
    assert answer.status_code == 403 and "Откройте эту страницу из СДО" in text and "Ошибка 403" in text


def test_consent_callback_speaks_the_accounts_language_without_a_session(app: Flask, launch: Launch,
                                                                        client: FlaskClient,
                                                                        database: Database) -> None:
    set_account_language(database, "ru")
    launch("owner", locale="en")
    client.post(f"{PAGE}/connect", data={"csrf_token": csrf(client)})
    with database.session() as session:
        state = session.scalars(select(ConsentRequest.state)).one()
    admin = app.test_client()  # the Azure AD administrator, in another browser
    answer = admin.get(f"{PAGE}/consent", query_string={"state": state, "error": "access_denied",
                                                        "error_description": "AADSTS65004: отказано 🙅"},
                       headers={"Accept-Language": "en"})
    text = html.unescape(answer.get_data(as_text=True))
    assert answer.status_code == 200 and "Согласие не дано" in text
    assert "Подробности от Azure AD: access_denied: AADSTS65004: отказано 🙅" in text
    assert "Настройки → Интеграции → Microsoft Outlook Calendar" in text
    unknown = admin.get(f"{PAGE}/consent", query_string={"state": "x" * 20, "admin_consent": "True"},
                        headers={"Accept-Language": "ru"})
    assert unknown.status_code == 400 and "Эта ссылка на согласие недействительна" in unknown.get_data(as_text=True)



def test_an_incomplete_consent_answer_speaks_the_browsers_language(client: FlaskClient) -> None:
    answer = client.get(f"{PAGE}/consent", query_string={"state": "y" * 20}, headers={"Accept-Language": "ru"})
    text = html.unescape(answer.get_data(as_text=True))
    assert answer.status_code == 400 and "Из этого ответа не следует, что согласие дано" in text
    assert "Ответ Azure AD неполон" in text and "does not say" not in text


NAMES = [("u-1", "Ёлкина Анна", "anna@контора.рф"), ("u-2", "Zoë Ångström-Müller", "zoe@société.example"),
         ("u-3", "Kai 🚀 Nakamura", "kai@contoso.example")]


def seed(database: Database) -> None:
    with database.session() as session:
        for i, (uid, name, mail) in enumerate(NAMES):
            session.add(LmsUser(account_id=ACCOUNT, id=uid, version=1, deleted=False, active=True, email=mail,
                                name=name, role="learner"))
            session.add(UserState(account_id=ACCOUNT, user_id=uid, state=("skipped", "failed", "synced")[i],
                                  reason=("personal_email", "error", None)[i], detail=(None, "Ошибка 🙈", None)[i],
                                  entries=i, changed_at=datetime(2030, 1, 1, tzinfo=UTC)))
    connected(database)


def test_csv_export_in_the_pages_language_with_non_ascii_names(client: FlaskClient, launch: Launch,
                                                              database: Database) -> None:
    launch("owner", locale="ru")
    seed(database)
    answer = client.get(f"{PAGE}/users.csv")
    assert answer.status_code == 200
    rows = list(csv.reader(io.StringIO(answer.data.decode("utf-8"))))
    assert rows[0] == ["id пользователя", "имя", "почта", "состояние", "код причины", "причина", "записей",
                       "последнее изменение"]
    by_id = {r[0]: r for r in rows[1:]}
    assert by_id["u-1"][1:6] == ["Ёлкина Анна", "anna@контора.рф", "skipped", "personal_email",
                                 "Личный адрес почты (не синхронизируется)"]
    assert by_id["u-2"][1:6] == ["Zoë Ångström-Müller", "zoe@société.example", "failed", "error", "Ошибка: Ошибка 🙈"]
    assert by_id["u-3"][1] == "Kai 🚀 Nakamura"
    launch("owner", locale="en")
    header = client.get(f"{PAGE}/users.csv").data.decode("utf-8").splitlines()[0]
    assert header == "user_id,name,email,state,reason,reason_text,entries,last_change"


def test_page_table_in_russian_with_non_ascii_names(client: FlaskClient, launch: Launch, database: Database) -> None:
    launch("owner", locale="ru")
    seed(database)
    text = html.unescape(every_section(client))
    for words in ("Ёлкина Анна", shown("anna@контора.рф"), "Zoë Ångström-Müller", "Kai 🚀 Nakamura",
                  "Личный адрес почты (не синхронизируется)", "Пользователи 1–3 из 3", "1 янв. 2030, 00:00",
                  "Синхронизирован", "Язык записей"):
        assert words in text, words


@pytest.mark.usefixtures("ready")
def test_saving_the_entries_language_marks_the_holders_of_entries(client: FlaskClient, launch: Launch,
                                                                 database: Database) -> None:
    with database.session() as session:
        session.add(Entry(account_id=ACCOUNT, user_id="u-ada", event_id="e", session_id="s", tenant_id="t",
                          mailbox_id="m", transaction_id="x", tag="t", state="active", payload_hash="h",
                          starts_at=datetime(2030, 1, 1, tzinfo=UTC), ends_at=datetime(2030, 1, 1, 1, tzinfo=UTC)))
    launch("owner")
    answer = client.post(f"{PAGE}/language", data={"csrf_token": csrf(client), "locale": "ru"})
    assert answer.status_code == 303
    # without a locale in the launch, the page follows the account's language, which is now Russian
    assert "Язык записей сохранён: Русский. Созданные записи скоро обновятся." in page(client)
    assert queued(database) == ["u-ada"]
    with database.session() as session:
        assert session.get(Account, ACCOUNT).locale == "ru"  # type: ignore[union-attr]
        for key in session.scalars(select(DirtyKey)):
            session.delete(key)
    client.post(f"{PAGE}/language", data={"csrf_token": csrf(client), "locale": "ru"})
    assert queued(database) == []  # the same language again changes nothing


@pytest.mark.usefixtures("ready")
@pytest.mark.parametrize("code", ["de", "", "ru-RU", "<script>"])
def test_an_unknown_language_is_refused_and_nothing_stored(client: FlaskClient, launch: Launch, database: Database,
                                                          rows: Callable[[], dict[str, int]], code: str) -> None:
    launch("owner")
    before = rows()
    answer = client.post(f"{PAGE}/language", data={"csrf_token": csrf(client), "locale": code})
    assert answer.status_code == 400
    assert "Language of entries: choose one of the languages offered. Nothing was saved." in \
        html.unescape(answer.get_data(as_text=True))
    assert rows() == before and queued(database) == []
    with database.session() as session:
        assert session.get(Account, ACCOUNT).locale is None  # type: ignore[union-attr]
