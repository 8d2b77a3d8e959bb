"""Texts of the event file in each of the event's languages (server/event/localtext.py): the
event file, what is stored, what the phone and the screen show, and refusals sent over the
websocket in the phone's language."""

from __future__ import annotations

import asyncio
import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect
from sqlmodel import select
from websockets.asyncio.client import connect

from server.event.eventfile import EventFileError, load_event_file, parse_event_text
from server.storage.db import Database
from server.storage.models import EventText
from tests.support.a11y import open_poll, producer_send
from tests.support.example import EVENT_FILE, new_id
from tests.support.live import get, join, recv_until
from tests.support.server import LiveServer

EVENT = """\
title = {{ en = "Town meeting", es = "Asamblea" }}
slug = "t"
code = "TOWN1"
languages = [{languages}]

[[sites]]
key = "hall"
name = "Hall"
tables = 2

[[rounds]]
key = "r"
title = "First round"

[[rounds.questions]]
key = "q"
text = "What matters most?"

[[polls]]
key = "p"
kind = "single"
prompt.en = "Which first?"
prompt.es = "{prompt_es}"
options = [
  {{ key = "a", label = {{ en = "Parks", es = "Parques" }} }},
  {{ key = "b", label = {{ en = "Roads", es = "{roads_es}" }} }},
]

[[demographics]]
key = "age"
prompt = {{ en = "Your age?", es = "¿Su edad?" }}
options = [
  {{ key = "young", label = "Under 40" }},
  {{ key = "old", label = {{ en = "Parks", es = "{parks_again}" }} }},
]
"""


def event(
    languages: str = '"en", "es"',
    prompt_es: str = "¿Cuál primero?",
    roads_es: str = "Calles",
    parks_again: str = "Parques",
) -> str:
    return EVENT.format(
        languages=languages, prompt_es=prompt_es, roads_es=roads_es, parks_again=parks_again
    )


def test_texts_per_language_keep_the_first_language_and_make_a_catalogue_of_the_rest() -> None:
    spec = parse_event_text(event())
    assert spec.title == "Town meeting"
    assert spec.polls[0].prompt == "Which first?"  # dotted keys: prompt.en / prompt.es
    assert [o.label for o in spec.polls[0].options] == ["Parks", "Roads"]
    assert spec.texts == {
        "es": {
            "Town meeting": "Asamblea",
            "Which first?": "¿Cuál primero?",
            "Parks": "Parques",
            "Roads": "Calles",
            "Your age?": "¿Su edad?",
        }
    }
    # Given once only: the hall, the round, the question and "Under 40" (has letters).
    assert spec.untranslated() == {"es": 4}


def test_the_example_event_gives_every_text_in_spanish() -> None:
    spec = load_event_file(EVENT_FILE)
    assert spec.languages == ["en", "es"]
    assert spec.untranslated() == {"es": 0}
    assert spec.texts["es"]["How did you get here today?"] == "¿Cómo ha venido hoy?"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            event().replace('prompt.en = "Which first?"\n', ""),
            22,
            "give this text in 'en', the event's first language",
        ),
        (event(languages='"en"'), 1, "'es' is not one of the event's languages (en)"),
        (event(languages='"en", "fr"'), 4, "there is no interface translation for 'fr'"),
        (event(languages='"en", "EN"'), 4, "'EN' is not a two- or three-letter language code"),
        # inline tables in an array: the line of the array (the message names the option)
        (event(parks_again="Jardines"), 32, "'Parks' is translated into 'es' twice"),
        (event(roads_es=""), 24, "the 'es' text must be a non-empty string"),
    ],
)
def test_language_mistakes_in_the_event_file_point_at_their_line(
    text: str, line: int, message: str
) -> None:
    with pytest.raises(EventFileError) as caught:
        parse_event_text(text, Path("e.toml"))
    found = [(n, m) for n, m in caught.value.problems if message in m]
    assert found, caught.value.problems
    assert found[0][0] == line, caught.value.problems


async def test_the_loaded_event_keeps_its_translations(tokens: Any, db_url: str) -> None:
    spec = load_event_file(EVENT_FILE)
    db = Database(db_url)
    try:
        async with db.session() as s:
            rows = (await s.exec(select(EventText))).all()
    finally:
        await db.dispose()
    stored = {(r.lang, r.source): r.text for r in rows}
    assert stored == {("es", k): v for k, v in spec.texts["es"].items()}
    assert all(r.event_id == tokens.event_id for r in rows)


def page_texts(page: str) -> dict[str, str]:
    m = re.search(r'data-texts="([^"]*)"', page)
    return json.loads(html.unescape(m.group(1))) if m else {}


def test_the_phone_page_carries_the_event_texts_of_its_language(live_server: LiveServer) -> None:
    spanish, _ = get(f"{live_server.base}/phone", **{"Accept-Language": "es-MX,es;q=0.9"})
    assert page_texts(spanish)["Which areas should get more money next year?"] == (
        "¿Qué áreas deberían recibir más dinero el próximo año?"
    )
    english, _ = get(f"{live_server.base}/phone", **{"Accept-Language": "en"})
    assert page_texts(english) == {}


async def test_refusals_reach_the_phone_in_its_language(live_server: LiveServer) -> None:
    s = live_server
    event = await producer_send(s, {})
    warmup = next(p for p in event["polls"] if p["key"] == "warmup")  # still a draft
    top = await open_poll(s, "top-priorities")  # multi, at most 3
    too_many = [o["key"] for o in top["options"][:4]]

    async def refusals(lang: str | None) -> list[str]:
        url = s.ws_url("phone", await asyncio.to_thread(join, s))
        async with connect(url + (f"&lang={lang}" if lang else "")) as phone:
            await recv_until(phone, "hello")
            out = []
            for poll_id, choice in ((warmup["id"], ["car"]), (top["id"], too_many)):
                vote = {"type": "vote", "poll_id": poll_id, "seq": 1, "choice": choice}
                await phone.send(json.dumps({"id": new_id(), **vote}))
                out.append((await recv_until(phone, "error"))["message"])
            return out

    assert await refusals("es") == [
        "Esta votación está cerrada; su voto no se contó.",
        "Elija como máximo 3 opciones",
    ]
    assert await refusals(None) == [
        "This poll is closed; your vote was not counted.",
        "Pick at most 3 options",
    ]
    assert await refusals("xx") == await refusals("en")  # unknown: English, not a failure


@pytest.mark.browser
@pytest.mark.parametrize("live_server", [{"TOWNHALL_SCREEN_LANGUAGE_SECONDS": "2"}], indirect=True)
async def test_the_big_screen_takes_turns_with_the_event_languages(
    live_server: LiveServer, browser: Any
) -> None:
    s = live_server
    ctx = await browser.new_context(viewport={"width": 1280, "height": 720})
    page = await ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(f"{s.base}/screen?token={s.tokens.display}")
    await open_poll(s, "warmup")
    prompt, title = page.locator("#poll-prompt"), page.locator("#event-title")
    bar = page.locator("#bars .bar-label").first
    for _ in range(2):  # English, Spanish, and back: every part of the page follows
        await expect(page.locator("html")).to_have_attribute("lang", "en", timeout=10_000)
        await expect(prompt).to_have_text("How did you get here today?")
        await expect(title).to_have_text("Riverton: Our City, Our Budget")
        await expect(page.get_by_text("Join on your phone:", exact=True)).to_be_visible()
        await expect(page.locator("html")).to_have_attribute("lang", "es", timeout=10_000)
        await expect(prompt).to_have_text("¿Cómo ha venido hoy?")
        await expect(bar).to_have_text("En coche")
        await expect(title).to_have_text("Riverton: nuestra ciudad, nuestro presupuesto")
        await expect(page.locator("#conn")).to_have_text("● conectado")
    # A screen whose link names a language keeps it.
    await page.goto(f"{s.base}/screen?token={s.tokens.display}&lang=es")
    await expect(prompt).to_have_text("¿Cómo ha venido hoy?", timeout=10_000)
    await page.wait_for_timeout(4_500)
    await expect(page.locator("html")).to_have_attribute("lang", "es")
    await expect(prompt).to_have_text("¿Cómo ha venido hoy?")
    # ?alternate=0 on a link turns it off where the server's default is on.
    await ctx.clear_cookies()  # ?lang=es was remembered, as for a phone's switcher
    await page.goto(f"{s.base}/screen?token={s.tokens.display}&alternate=0")
    await expect(prompt).to_have_text("How did you get here today?", timeout=10_000)
    await page.wait_for_timeout(4_500)
    await expect(prompt).to_have_text("How did you get here today?")
    assert errors == []
    await ctx.close()
