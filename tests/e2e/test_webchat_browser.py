"""The web chat page in a real browser: Debian's chromium driven by Playwright."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from bot.knowledge import load_knowledge
from bot.settings import ROOT

pytestmark = pytest.mark.browser
KB = load_knowledge(ROOT / "data" / "knowledge")
SCREENSHOTS = ROOT / "var" / "screenshots"


@pytest.fixture()
def phone_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 390, "height": 760}, locale="es-PE")
    page = context.new_page()
    yield page
    context.close()


def bot_messages(page: Page):  # type: ignore[no-untyped-def]
    return page.locator(".msg--bot")


def test_chat_answers_a_question_and_a_quick_reply(base_url: str, phone_page: Page) -> None:
    page = phone_page
    page.goto(base_url + "/")
    # A new visitor is greeted with quick replies.
    greeting = KB.require("saludo")
    expect(bot_messages(page).first).to_contain_text(greeting.answer.splitlines()[0])
    expect(page.get_by_role("button", name=greeting.buttons[0].title)).to_be_visible()

    # Keyboard only: type and press Enter.
    page.get_by_label("Escribe tu consulta").fill("cuanto es el igv")
    page.keyboard.press("Enter")
    expect(page.locator(".msg--user").last).to_contain_text("cuanto es el igv")
    igv = KB.require("igv")
    expect(bot_messages(page).last).to_contain_text(igv.answer.splitlines()[0])

    # Click a quick reply of that answer.
    follow_up = igv.buttons[0]
    page.get_by_role("button", name=follow_up.title).click()
    target = KB.require(follow_up.payload.removeprefix("/"))
    expect(bot_messages(page).last).to_contain_text(target.answer.splitlines()[0])
    expect(page.locator(".msg--user").last).to_contain_text(follow_up.title)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "webchat-phone.png"), full_page=True)

    # A reload shows the same conversation, clicked buttons by their titles.
    count = bot_messages(page).count()
    user_texts = page.locator(".msg--user").all_inner_texts()
    page.reload()
    expect(bot_messages(page)).to_have_count(count)
    expect(bot_messages(page).last).to_contain_text(target.answer.splitlines()[0])
    expect(page.locator(".msg--user")).to_have_text(user_texts)
    assert not any("/" in text for text in user_texts)


def test_page_is_labelled_for_screen_readers(base_url: str, phone_page: Page) -> None:
    page = phone_page
    page.goto(base_url + "/")
    expect(page.get_by_role("log", name="Conversación con el asistente")).to_be_attached()
    expect(page.get_by_role("button", name="Enviar mensaje")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "es-PE")
    # Nothing overflows the phone's width.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
