"""Participant pages and the big screen in the phone's language: catalogues, the choice of
language, and a Spanish phone joining and voting."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from server.core.errors import format_message
from server.event.i18n import (
    Catalogues,
    catalogues,
    choose,
    extract_msgids,
    parse_accept_language,
    parse_po,
)
from tests.support.a11y import axe_violations, open_poll
from tests.support.example import ROOT
from tests.support.live import get
from tests.support.server import LiveServer

TRANSLATED = [
    *(ROOT / "server" / "templates").glob("*.html"),
    ROOT / "display" / "templates" / "screen.html",
    *(ROOT / "server" / "static" / f for f in ("common.js", "join.js", "phone.js", "budget.js")),
    ROOT / "server" / "static" / "evaluation.js",
    *(ROOT / "display" / "static").glob("*.js"),
    # _("…") in pages.py; N_("…") marks refusals and default texts (i18n.py only explains them)
    *(p for p in (ROOT / "server").rglob("*.py") if p.name != "i18n.py"),
]


def test_po_loader_reads_continued_strings_escapes_and_skips_fuzzy_and_header() -> None:
    text = (
        'msgid ""\nmsgstr "Language: es\\n"\n\n'
        '# a comment\nmsgid "Vote"\nmsgstr "Votar"\n\n'
        'msgid "Say \\"hi\\""\nmsgstr ""\n"Di "\n"\\"hola\\""\n\n'
        '#, fuzzy\nmsgid "Join"\nmsgstr "Unirse"\n\n'
        'msgid "Untranslated"\nmsgstr ""\n'
    )
    assert parse_po(text) == {"Vote": "Votar", 'Say "hi"': 'Di "hola"'}


def test_language_is_the_query_then_the_cookie_then_the_browser_then_the_event() -> None:
    offered = ["en", "es"]
    assert parse_accept_language("fr-CA,es;q=0.8,en;q=0.5") == ["fr", "es", "en"]
    assert choose(offered, accept="fr-CA,es;q=0.8,en;q=0.5") == "es"
    assert choose(offered, cookie="en", accept="es") == "en"
    assert choose(offered, query="es", cookie="en") == "es"
    assert choose(offered, query="de", accept="de") == "en"
    assert choose(["es", "en"]) == "es"
    assert Catalogues({"es": {}}).offered(["es", "fr", "en"]) == ["es", "en"]


def test_every_participant_string_has_a_spanish_translation_with_the_same_placeholders() -> None:
    msgids = extract_msgids(TRANSLATED)
    assert len(msgids) > 90
    es = catalogues().by_lang["es"]
    missing = sorted(msgids - es.keys())
    assert not missing, f"missing from server/translations/es.po: {missing}"
    unused = sorted(es.keys() - msgids)
    assert not unused, f"es.po has strings no page uses: {unused}"
    for msgid in msgids:
        names = sorted(re.findall(r"\{(\w+)\}", msgid))
        assert sorted(re.findall(r"\{(\w+)\}", es[msgid])) == names, msgid
    assert format_message(es["Pick up to {n}."], {"n": 3}) == "Elija hasta 3."


def test_join_page_follows_accept_language_and_the_switcher(live_server: LiveServer) -> None:
    html, _ = get(f"{live_server.base}/join", **{"Accept-Language": "es-MX,es;q=0.9"})
    assert '<html lang="es"' in html and "Entrar en la reunión" in html
    assert 'href="/join?lang=en"' in html and 'aria-current="true">Español' in html
    html, cookie = get(f"{live_server.base}/join?lang=en", **{"Accept-Language": "es"})
    assert '<html lang="en"' in html and "Join the meeting" in html
    assert "townhall_lang=en" in cookie
    html, _ = get(f"{live_server.base}/join", **{"Accept-Language": "de"})
    assert '<html lang="en"' in html


@pytest.mark.browser
async def test_spanish_phone_joins_votes_and_reads_every_step_in_spanish(
    live_server: LiveServer, browser: Any
) -> None:
    s = live_server
    ctx = await browser.new_context(
        locale="es-ES", viewport={"width": 360, "height": 740}, bypass_csp=True
    )
    page = await ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(f"{s.base}/join")
    await page.get_by_role("button", name="Entrar").click()
    await expect(page.locator("#join-error")).to_have_text(
        "Escriba el código del evento que aparece en la pantalla."
    )
    await page.get_by_label("Código del evento").fill("NOPE")
    await page.get_by_role("button", name="Entrar").click()
    await expect(page.locator("#join-error")).to_contain_text("Ninguna reunión tiene este código")
    await page.get_by_label("Código del evento").fill(s.tokens.code)
    await page.get_by_role("button", name="Entrar").click()

    await page.wait_for_selector("#demographics:not([hidden])")
    await expect(page.locator("#conn")).to_have_text("● conectado")
    await expect(page.get_by_text("Prefiero no decirlo").first).to_be_visible()
    # The event file's own texts too (server/event/localtext.py): questions and answers.
    await expect(page.get_by_role("group", name="¿Cuántos años tiene?")).to_be_visible()
    await expect(page.get_by_label("65 o más")).to_be_visible()
    await page.get_by_role("button", name="Continuar").click()
    await expect(page.locator("#poll-prompt")).to_have_text("Esperando la próxima votación…")
    poll = await open_poll(s, "top-priorities")
    await expect(page.locator("#poll-help")).to_have_text(f"Elija hasta {poll['max_choices']}.")
    await expect(page.locator("#poll-prompt")).to_have_text(
        "¿Qué áreas deberían recibir más dinero el próximo año?"
    )
    assert poll["options"][0]["label"] == "Affordable housing"  # stored in English
    await page.get_by_label("Vivienda asequible").check()
    await page.get_by_role("button", name="Votar").click()
    await expect(page.locator("#vote-status")).to_contain_text("Voto recibido")
    assert await axe_violations(page, "phone in Spanish") == []

    await page.get_by_role("link", name="English").click()  # the switcher
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.get_by_role("button", name="Change my vote")).to_be_visible()
    await page.goto(f"{s.base}/join")  # the choice sticks (cookie) over Accept-Language
    await expect(page.get_by_role("heading", name="Join the meeting")).to_be_visible()
    assert errors == []
    await ctx.close()


@pytest.mark.browser
async def test_big_screen_in_spanish(live_server: LiveServer, browser: Any) -> None:
    s = live_server
    ctx = await browser.new_context(viewport={"width": 1280, "height": 720})
    page = await ctx.new_page()
    await page.goto(f"{s.base}/screen?token={s.tokens.display}&lang=es")
    await expect(page.locator("#conn")).to_have_text("● conectado")
    poll = await open_poll(s, "warmup")
    assert poll["prompt"] == "How did you get here today?"
    await expect(page.locator("#poll-prompt")).to_have_text("¿Cómo ha venido hoy?", timeout=10_000)
    await expect(page.locator("#turnout-words")).to_contain_text("han votado, de")
    await expect(page.locator("html")).to_have_attribute("lang", "es")
    # A prompt that does not say how many to pick: the hint beside it does.
    await open_poll(s, "top-priorities")
    await expect(page.locator("#poll-prompt")).to_have_text(
        "¿Qué áreas deberían recibir más dinero el próximo año?", timeout=10_000
    )
    await expect(page.locator("#poll-help")).to_have_text("Elija hasta 3.")
    await ctx.close()


def test_catalogue_files_are_utf8_po(tmp_path: Path) -> None:
    (tmp_path / "xx.po").write_text('msgid "Vote"\nmsgstr "Vótalo"\n', encoding="utf-8")
    assert Catalogues.load(tmp_path).gettext("xx")("Vote") == "Vótalo"
