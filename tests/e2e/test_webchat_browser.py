"""The web chat page in a real browser: Debian's chromium driven by Playwright."""

from __future__ import annotations

import http.server
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect

from bot.knowledge.articles import load_knowledge
from bot.ops.processes import free_port
from bot.ops.settings import ROOT
from connectors.webchat_access import COOKIE
from tests.e2e.stack import Stack, stop

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


def ask(page: Page, text: str) -> None:
    page.get_by_label("Escribe tu consulta").fill(text)
    page.keyboard.press("Enter")
    expect(page.locator(".msg--user").last).to_contain_text(text)


def session_cookie(page: Page) -> dict[str, Any]:
    [found] = [dict(c) for c in page.context.cookies() if c["name"] == COOKIE]
    return found


def test_chat_answers_a_question_and_a_quick_reply(base_url: str, phone_page: Page) -> None:
    page = phone_page
    page.goto(base_url + "/")
    # A new visitor is greeted with quick replies.
    greeting = KB.require("saludo")
    expect(bot_messages(page).first).to_contain_text(greeting.answer.splitlines()[0])
    expect(page.get_by_role("button", name=greeting.buttons[0].title)).to_be_visible()

    # Keyboard only: type and press Enter.
    ask(page, "cuanto es el igv")
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

    # The conversation is a server-issued session in an HttpOnly cookie; the page keeps none.
    cookie = session_cookie(page)
    assert cookie["httpOnly"] and len(cookie["value"]) >= 43
    assert page.evaluate("document.cookie") == ""
    assert page.evaluate("window.localStorage.length") == 0


def test_page_is_labelled_for_screen_readers(base_url: str, phone_page: Page) -> None:
    page = phone_page
    page.goto(base_url + "/")
    expect(page.get_by_role("log", name="Conversación con el asistente")).to_be_attached()
    expect(page.get_by_role("button", name="Enviar mensaje")).to_be_visible()
    expect(page.get_by_role("button", name="Terminar conversación")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "es-PE")
    # Nothing overflows the phone's width.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390


def test_rating_buttons_show_drawn_icons_with_spanish_labels(
    base_url: str, phone_page: Page
) -> None:
    page = phone_page
    page.goto(base_url + "/")
    expect(bot_messages(page).first).to_be_visible()
    ask(page, "cuanto es el igv")
    rating = page.get_by_role("group", name="¿Te sirvió esta respuesta?").last
    expect(rating).to_be_visible()
    for label in ("Me sirvió", "No me sirvió"):
        button = rating.get_by_role("button", name=label, exact=True)
        expect(button).to_be_visible()
        # No emoji (an empty box without an emoji font): a drawn icon that takes room.
        assert button.inner_text().strip() == ""
        icon = button.locator("svg path")
        box = icon.bounding_box()
        assert box is not None and box["width"] >= 10 and box["height"] >= 10
        assert button.locator("svg").get_attribute("aria-hidden") == "true"
    rating.get_by_role("button", name="No me sirvió").click()
    expect(page.locator(".msg--user").last).to_have_text("Tú: No me sirvió")
    expect(rating.get_by_role("button", name="Me sirvió", exact=True)).to_be_disabled()


def test_ending_the_conversation_clears_it_everywhere(base_url: str, phone_page: Page) -> None:
    page = phone_page
    page.goto(base_url + "/")
    expect(bot_messages(page).first).to_be_visible()
    ask(page, "que es la clave sol")
    expect(bot_messages(page).last).to_contain_text(
        KB.require("clave_sol_que_es").answer.splitlines()[0]
    )
    token = session_cookie(page)["value"]

    page.get_by_role("button", name="Terminar conversación").click()
    expect(page.locator(".chat__notice")).to_contain_text("Conversación terminada")
    expect(page.locator(".msg")).to_have_count(0)
    # The server ended it: the old cookie, had someone kept it, reads nothing.
    old = httpx.get(f"{base_url}/webchat/history", headers={"Cookie": f"{COOKIE}={token}"})
    assert old.status_code == 401
    assert [c for c in page.context.cookies() if c["name"] == COOKIE] == []

    # The next person at this computer starts afresh, without the previous chat.
    page.reload()
    expect(bot_messages(page).first).to_be_visible()
    expect(page.locator(".msg--user")).to_have_text(["Tú: Hola"])
    ask(page, "que es el ruc")
    expect(bot_messages(page).last).to_contain_text(KB.require("ruc_que_es").answer.splitlines()[0])
    assert "que es la clave sol" not in page.locator("#log").inner_text()


def listening(base_url: str) -> bool:
    try:
        httpx.get(f"{base_url}/health", timeout=2)
    except httpx.HTTPError:
        return False
    return True


HOST_PAGE = """<!doctype html><html lang="es"><head><meta charset="utf-8"><title>Municipio</title>
</head><body><h1>Sitio de un municipio</h1>
<script src="{gateway}/static/embed.js" defer></script></body></html>"""


@pytest.fixture(scope="module")
def embedding(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A citizen's site on http://localhost:P embedding a gateway on http://127.0.0.1:G: two
    sites, so the chat runs in a third-party frame. The gateway alone (no engine: the
    assistant answers with its notice) is enough for sessions."""
    site_port = free_port()
    site = f"http://localhost:{site_port}"
    stack = Stack.on_free_ports(tmp_path_factory.mktemp("embed"), webchat_allowed_origins=[site])
    page = HOST_PAGE.format(gateway=stack.base_url).encode()

    class Site(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", site_port), Site)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    gateway = stack.start_gateway()
    try:
        deadline = time.monotonic() + 60
        while not listening(stack.base_url):
            if time.monotonic() > deadline or gateway.process.poll() is not None:
                raise AssertionError((stack.workdir / "gateway.log").read_text())
            time.sleep(0.1)
        yield site, stack.base_url
    finally:
        server.shutdown()
        server.server_close()
        stop(gateway)


def test_embedded_chat_keeps_its_session_in_a_third_party_frame(
    browser: Browser, embedding: tuple[str, str]
) -> None:
    site, gateway = embedding
    context = browser.new_context(locale="es-PE")
    try:
        page = context.new_page()
        page.goto(site + "/")
        page.get_by_role("button", name="¿Dudas tributarias? Escríbenos").click()
        chat = page.frame_locator("#asistente-sunat-frame")
        expect(chat.locator(".msg--bot").first).to_be_visible()  # greeted: a session started
        chat.get_by_label("Escribe tu consulta").fill("hola desde el municipio")
        chat.get_by_label("Escribe tu consulta").press("Enter")
        expect(chat.locator(".msg--bot")).to_have_count(2)

        [cookie] = [c for c in context.cookies() if c["name"] == COOKIE]
        assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "None"
        assert cookie.get("partitionKey", "").startswith("http://localhost")

        # The citizen's site reloads: the frame finds its conversation again.
        page.reload()
        page.get_by_role("button", name="¿Dudas tributarias? Escríbenos").click()
        expect(chat.locator(".msg--user")).to_have_text(["Tú: Hola", "Tú: hola desde el municipio"])
        # The same gateway opened directly (first-party) is another partition: not that chat.
        direct = context.new_page()
        direct.goto(gateway + "/")
        expect(direct.locator(".msg--user")).to_have_text(["Tú: Hola"])
    finally:
        context.close()


def test_a_reopened_stream_draws_what_arrived_while_it_was_closed(
    browser: Browser, tmp_path: Path
) -> None:
    """The gateway dies and starts again (another gateway, behind a balancer, would do the
    same); what the conversation got before the page's stream reopened is drawn once it does.
    Gateway alone: the assistant answers with its notice, which is what is looked for."""
    stack = Stack.on_free_ports(tmp_path)
    gateway = stack.start_gateway()
    context = browser.new_context(locale="es-PE")

    def wait_listening() -> None:
        deadline = time.monotonic() + 60
        while not listening(stack.base_url):
            if time.monotonic() > deadline or gateway.process.poll() is not None:
                raise AssertionError((stack.workdir / "gateway.log").read_text())
            time.sleep(0.1)

    try:
        wait_listening()
        page = context.new_page()
        with page.expect_response(lambda r: r.url.endswith("/webchat/stream")):
            page.goto(stack.base_url + "/")
        expect(page.locator(".msg--bot").first).to_be_visible()  # greeted

        # The stream's next connection is held until the message below is in.
        held: list[Route] = []

        def hold(route: Route) -> None:
            held.append(route)

        page.route("**/webchat/stream", hold)
        gateway.process.send_signal(signal.SIGKILL)
        gateway.process.wait(timeout=10)
        gateway = stack.start_gateway()
        wait_listening()
        deadline = time.monotonic() + 30
        while not held:  # the browser tries again on its own (EventSource)
            assert time.monotonic() < deadline, "the page never reopened its stream"
            page.wait_for_timeout(200)
        # Sent by the page's session but not through the form: only a redraw shows it.
        status = page.evaluate(
            """() => fetch("/webhooks/webchat", {method: "POST", credentials: "same-origin",
                 headers: {"Content-Type": "application/json"},
                 body: JSON.stringify({message: "mensaje mientras tanto"})}).then(r => r.status)"""
        )
        assert status == 200
        expect(page.locator(".msg--user")).to_have_count(1)  # not drawn yet: "Hola" only

        for route in held:
            route.continue_()
        page.unroute("**/webchat/stream")
        expect(page.locator(".msg--user")).to_have_text(["Tú: Hola", "Tú: mensaje mientras tanto"])
        expect(page.locator(".msg--bot")).to_have_count(2)
    finally:
        context.close()
        stop(gateway)
