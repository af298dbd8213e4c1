"""An entry in the account's language: body words, dates by Babel in the event's zone, the session label."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bridge.i18n import language
from bridge.lms.rules import Decision, Wanted
from bridge.lms.views import Event, Session
from bridge.sync import payload, reconcile

MOSCOW = ZoneInfo("Europe/Moscow")


def moscow_event(title: str = "Охрана труда", sessions: int = 1, **extra: object) -> Event:
    """Sessions from 23:30 to 01:00 Moscow time, the first on Tuesday 5 March 2030 (a date change)."""
    start = datetime(2030, 3, 5, 23, 30, tzinfo=MOSCOW).astimezone(UTC)
    made = tuple(Session(id=f"s{i}", event_id="e1", position=i, start=start + timedelta(days=7 * i),
                         end=start + timedelta(days=7 * i, minutes=90)) for i in range(sessions))
    return Event(id="e1", title=title, timezone="Europe/Moscow", sessions=made, **extra)  # type: ignore[arg-type]


def test_russian_body_across_a_date_change_in_moscow() -> None:
    event = moscow_event(url="https://lms.example.ru/events/e1", online_url="https://meet.example.ru/j/1")
    body = payload.body_html(event, event.sessions[0], language("ru"))
    assert "<p>Когда: вторник, 5 марта 2030 г., 23:30 – среда, 6 марта 2030 г., 01:00 (Europe/Moscow)</p>" in body
    assert '<p>Подключиться: <a href="https://meet.example.ru/j/1">' in body
    assert '<p>Открыть в СДО: <a href="https://lms.example.ru/events/e1">' in body
    assert "When" not in body and "Join" not in body


def test_english_stays_as_it_was() -> None:
    event = moscow_event(url="https://lms.example.com/e1")
    body = payload.body_html(event, event.sessions[0])
    assert "<p>When: Tuesday, 5 March 2030, 23:30 – Wednesday, 6 March 2030, 01:00 (Europe/Moscow)</p>" in body
    assert body == payload.body_html(event, event.sessions[0], language("en"))
    assert payload.session_payload(event, event.sessions[0], 15) == \
        payload.session_payload(event, event.sessions[0], 15, language(None))


def test_same_day_end_shows_the_time_only() -> None:
    start = datetime(2030, 3, 5, 10, 0, tzinfo=MOSCOW).astimezone(UTC)
    session = Session(id="s0", event_id="e1", position=0, start=start, end=start + timedelta(hours=2))
    event = Event(id="e1", title="Induction", timezone="Europe/Moscow", sessions=(session,))
    body = payload.body_html(event, session, language("ru"))
    assert "Когда: вторник, 5 марта 2030 г., 10:00 – 12:00 (Europe/Moscow)" in body


def test_session_label_and_online_place_in_russian() -> None:
    event = moscow_event(sessions=2, online_url="https://meet.example.ru/j/1")
    body = payload.session_payload(event, event.sessions[1], 15, language("ru"))
    assert body["subject"] == "Охрана труда — Сеанс 2"
    assert body["location"] == {"displayName": "Онлайн", "locationUri": "https://meet.example.ru/j/1"}
    english = payload.session_payload(event, event.sessions[1], 15)
    assert english["subject"] == "Охрана труда — Session 2" and english["location"]["displayName"] == "Online"
    assert payload.payload_hash(body) != payload.payload_hash(english)  # a language change rewrites the entry


@pytest.mark.parametrize("title", ["Охрана труда: «вводный» курс", "Sécurité & qualité — Ångström",
                                   "Kick-off 🚀🎉 (team 👩‍💻)", "安全培训"])
@pytest.mark.parametrize("code", ["en", "ru"])
def test_non_ascii_titles_places_and_descriptions(title: str, code: str) -> None:
    event = moscow_event(title, sessions=2, description=f"{title}\nÉtape 2 ✅ & co", location="Зал №3 — Ёлка 🎄")
    body = payload.session_payload(event, event.sessions[0], 10, language(code))
    assert body["subject"].startswith(title + " — ")
    assert body["location"] == {"displayName": "Зал №3 — Ёлка 🎄"}
    assert f"<div>{title.replace('&', '&amp;')}<br>Étape 2 ✅ &amp; co</div>" in body["body"]["content"]
    assert len(payload.payload_hash(body)) == 64


def test_desired_entries_in_the_accounts_language() -> None:
    event = moscow_event()
    decision = Decision({("e1", "s0"): Wanted(event, event.sessions[0], "assigned")})
    russian = reconcile.desired_entries(decision, "a1", "u1", 15, "ru")[("e1", "s0")]
    english = reconcile.desired_entries(decision, "a1", "u1", 15, None)[("e1", "s0")]
    assert "Когда:" in russian.payload["body"]["content"] and "When:" in english.payload["body"]["content"]
    assert russian.payload_hash != english.payload_hash and russian.material_hash == english.material_hash
