"""The supervisors' «Tablero» in a real browser, on the real stack: with rows in every table it
reads (written straight into the stack's database, and one question asked through the web chat
so its topic is recorded by the real engine), a supervisor opens «Tablero»; every chart is drawn
(an SVG with marks) with its data table; the channel filter changes the figures; a CSV
downloads; a period the other way round is refused in Spanish; an agent has no «Tablero».
Screenshots are kept under var/ (dashboard.png, dashboard-whatsapp.png)."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from bot.dashboard.board import CHARTS
from bot.dashboard.filters import LIMA, lima_today
from bot.ops.settings import ROOT
from bot.storage.database import create_engine
from tests.bot.dashboard.conftest import Seed
from tests.e2e.stack import Stack, stop
from tests.e2e.test_console_browser import Account, Tab, create_user, log_in

pytestmark = pytest.mark.browser
SCREENSHOT = ROOT / "var" / "dashboard.png"
FILTERED_SCREENSHOT = ROOT / "var" / "dashboard-whatsapp.png"
UI_MS = 20_000
#: Messages written per channel (one conversation per day, three days).
WEB_DAYS, WHATSAPP_DAYS = 3, 2


def days_ago(n: int, hour: int = 10) -> dt.datetime:
    day = lima_today() - dt.timedelta(days=n)
    return dt.datetime.combine(day, dt.time(hour), LIMA)


async def fill(url: str) -> None:
    """Rows in every table the dashboard reads, within its default period (the last 30 days)."""
    engine = create_engine(url)
    seed = Seed(engine)
    try:
        web = [await seed.conversation("webchat") for _ in range(WEB_DAYS)]
        whatsapp = [await seed.conversation("whatsapp") for _ in range(WHATSAPP_DAYS)]
        for n, conversation in enumerate(web, 2):
            await seed.message(conversation, days_ago(n), topic="ruc_inscripcion_dni")
            await seed.message(conversation, days_ago(n, 11), topic="clave_sol_que_es")
            unsure = await seed.message(conversation, days_ago(n, 12))
            await seed.review(conversation, unsure, days_ago(n, 12), [] if n % 2 else ["/igv"])
            await seed.handoff(conversation, days_ago(n, 13), "pedido", dt.timedelta(minutes=n))
            await seed.survey(conversation, "webchat", days_ago(n, 14), 3 + n % 3)
        for n, conversation in enumerate(whatsapp, 2):
            await seed.message(conversation, days_ago(n), topic="igv")
            await seed.handoff(conversation, days_ago(n, 15), "frustracion")
            await seed.survey(conversation, "whatsapp", days_ago(n, 16), 2)
        for sentiment, topic in (
            ("negativo", "igv"),
            ("positivo", "igv"),
            ("neutral", "ruc_costo"),
        ):
            await seed.comment(days_ago(3), topic, sentiment)
        await seed.ticket(web[0], "webchat", days_ago(9), "recibido", due=days_ago(2))  # overdue
        await seed.ticket(web[1], "webchat", days_ago(4), "en_proceso", due=days_ago(-10))
        await seed.ticket(whatsapp[0], "whatsapp", days_ago(8), "respondido", due=days_ago(1),
                          answered=days_ago(3))  # fmt: skip
        talk = await seed.event("Charla: tu primer RUC", days_ago(-20), capacity=2)
        for conversation, status in zip(web, ("inscrito", "inscrito", "en_espera"), strict=True):
            await seed.registration(talk, conversation, days_ago(5), status)
        await seed.registration(talk, whatsapp[0], days_ago(5), "cancelado")
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def dashboard_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = Stack.on_free_ports(tmp_path_factory.mktemp("dashboard-browser"))
    children = stack.start_all()
    try:
        stack.wait_healthy()
        asyncio.run(fill(stack.settings.database_url))
        # A question through the web chat: its topic is recorded by the real engine's answer.
        stack.chat("ciudadano-tablero", "/igv")
        yield stack
    finally:
        for child in children.values():
            stop(child)


@pytest.fixture(scope="module")
def supervisor(dashboard_stack: Stack) -> Account:
    return create_user(dashboard_stack, "ana", "supervisor", "Ana")


@pytest.fixture()
def console(browser: Browser) -> Iterator[Page]:
    tab = Tab(browser, 1366, 900)
    tab.context.set_default_timeout(UI_MS)
    yield tab.page
    tab.close()  # no script error, no CSP violation, no dialog


def marks(page: Page, chart: str, kind: str = "") -> int:
    selector = f'[data-testid="dashboard-chart"][data-chart="{chart}"] svg [data-mark{kind}]'
    return page.locator(selector).count()


def test_a_supervisor_reads_every_chart_filters_and_downloads(
    dashboard_stack: Stack, supervisor: Account, console: Page
) -> None:
    log_in(console, dashboard_stack.base_url, supervisor)
    expect(console.get_by_test_id("who")).to_contain_text("Ana")
    console.get_by_role("tab", name="Tablero").click()
    view = console.get_by_test_id("dashboard-view")
    cards = view.get_by_test_id("dashboard-chart")
    expect(cards).to_have_count(len(CHARTS))
    expect(view.get_by_test_id("dashboard-status")).to_contain_text("Todos los canales")
    today = lima_today()
    expect(view.get_by_label("Hasta", exact=True)).to_have_value(today.isoformat())
    expect(view.get_by_label("Desde", exact=True)).to_have_value(
        (today - dt.timedelta(days=29)).isoformat()
    )

    # Every chart: a titled SVG image with marks, a legend, and its data as a table.
    for name in CHARTS:
        card = console.locator(f'[data-testid="dashboard-chart"][data-chart="{name}"]')
        svg = card.get_by_test_id("dashboard-svg")
        expect(svg).to_be_visible()
        expect(svg).to_have_attribute("role", "img")
        assert svg.locator("title").first.text_content(), name
        assert marks(console, name) > 0, name
        expect(card.get_by_test_id("dashboard-csv")).to_have_attribute(
            "href", f"/api/dashboard/{name}.csv?from={today - dt.timedelta(days=29)}&to={today}"
        )
    topics = console.locator('[data-testid="dashboard-chart"][data-chart="topics"]')
    expect(topics.get_by_test_id("dashboard-table")).to_contain_text("¿Qué es el IGV?")
    # Three web chat conversations and two on WhatsApp wrote, one a day each; and today the
    # one that asked through the web chat.
    assert marks(console, "conversations", '="webchat"') == WEB_DAYS + 1
    assert marks(console, "conversations", '="whatsapp"') >= WHATSAPP_DAYS
    assert marks(console, "tickets", '="overdue"') == 1
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    console.screenshot(path=str(SCREENSHOT), full_page=True)

    # The channel filter: only WhatsApp's figures.
    view.get_by_label("Canal", exact=True).select_option("whatsapp")
    view.get_by_role("button", name="Aplicar").click()
    expect(view.get_by_test_id("dashboard-status")).to_contain_text("WhatsApp")
    expect(console.locator('[data-chart="conversations"] svg [data-mark="webchat"]')).to_have_count(
        0
    )
    assert marks(console, "conversations", '="whatsapp"') >= WHATSAPP_DAYS
    assert marks(console, "tickets", '="overdue"') == 0  # the overdue ticket came by the web
    assert marks(console, "satisfaction") > 0 and marks(console, "registrations") > 0
    console.screenshot(path=str(FILTERED_SCREENSHOT), full_page=True)

    # A chart's CSV, as the spreadsheet gets it.
    with console.expect_download() as downloaded:
        topics.get_by_test_id("dashboard-csv").click()
    download = downloaded.value
    assert download.suggested_filename == (
        f"tablero-topics-{today - dt.timedelta(days=29)}-{today}-whatsapp.csv"
    )
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Artículo", "Tema", "Preguntas", "% de las respondidas con un artículo"]
    assert ["igv", "¿Qué es el IGV?", str(WHATSAPP_DAYS), "100.0"] in rows[1:]

    # A period the other way round: refused in Spanish, the dates marked, the figures kept.
    view.get_by_label("Desde", exact=True).fill(today.isoformat())
    view.get_by_label("Hasta", exact=True).fill((today - dt.timedelta(days=3)).isoformat())
    view.get_by_role("button", name="Aplicar").click()
    expect(view.get_by_test_id("dashboard-error")).to_have_text(
        "La fecha de inicio no puede ser posterior a la fecha de fin."
    )
    expect(view.get_by_label("Desde", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(cards).to_have_count(len(CHARTS))


def test_an_agent_has_no_dashboard(dashboard_stack: Stack, console: Page) -> None:
    agent = create_user(dashboard_stack, "beto", "agent", "Beto")
    log_in(console, dashboard_stack.base_url, agent)
    expect(console.get_by_test_id("who")).to_contain_text("Beto")
    expect(console.get_by_test_id("tab-dashboard")).to_be_hidden()
    expect(console.get_by_test_id("dashboard-view")).to_be_hidden()
