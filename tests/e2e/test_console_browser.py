"""The agents' console in a real browser, with a citizen on the web chat in another page.

The console's stack is this module's own: a console account makes the desk take handoffs, and
other end-to-end tests expect a stack without one (``pedir_humano`` answered by its article).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, expect

from bot.knowledge.articles import load_knowledge
from bot.ops.settings import ROOT
from tests.e2e.stack import Stack, running_up

pytestmark = pytest.mark.browser
KB = load_knowledge(ROOT / "data" / "knowledge")
SCREENSHOT = ROOT / "var" / "console.png"
ADMIN_SCREENSHOT = ROOT / "var" / "console-admin.png"
TITLE = "Consola de asesores"
#: Live updates (WebSocket on the console, server-sent events on the web chat) arrive well
#: within this; a page reload would make the test pass for the wrong reason, so none is done.
LIVE_MS = 15_000


@dataclass(frozen=True)
class Account:
    username: str
    password: str


@pytest.fixture(scope="module")
def desk_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_up(tmp_path_factory.mktemp("console")) as (stack, _):
        yield stack


def create_user(stack: Stack, prefix: str, role: str, name: str) -> Account:
    """An account created as an administrator does it: ``python -m bot create-user``."""
    account = Account(f"{prefix}_{secrets.token_hex(4)}", secrets.token_urlsafe(12))
    done = subprocess.run(
        [sys.executable, "-m", "bot", "create-user", account.username, "--role", role,
         "--name", name, "--password-stdin"],
        input=account.password + "\n",
        env={**os.environ, "DATABASE_URL": stack.settings.database_url},
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return account


@pytest.fixture(scope="module")
def supervisor(desk_stack: Stack) -> Account:
    return create_user(desk_stack, "ana", "supervisor", "Ana")


@pytest.fixture(scope="module")
def administrator(desk_stack: Stack) -> Account:
    return create_user(desk_stack, "rosa", "admin", "Rosa")


#: Reports every Content-Security-Policy violation of a page on its console.
CSP_REPORTER = """
document.addEventListener("securitypolicyviolation", (e) =>
  console.error("CSP violation: " + e.violatedDirective + " blocked " + e.blockedURI));
"""


class Tab:
    """A page in its own browser context, and the script errors and dialogs it raised."""

    def __init__(self, browser: Browser, width: int, height: int) -> None:
        self.context = browser.new_context(
            viewport={"width": width, "height": height}, locale="es-PE"
        )
        self.context.set_default_timeout(LIVE_MS)
        # The gateway's Content-Security-Policy forbids inline scripts and styles: any violation
        # (an inline style="" attribute, a script from elsewhere) fails the test.
        self.context.add_init_script(CSP_REPORTER)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", self._console)
        self.page.on("dialog", self._dialog)

    def _console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or message.text.startswith("CSP "):
            self.errors.append(message.text)

    def _dialog(self, dialog: Dialog) -> None:
        self.errors.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    def close(self) -> None:
        self.context.close()
        assert self.errors == []


@pytest.fixture()
def console(browser: Browser) -> Iterator[Page]:
    tab = Tab(browser, 1366, 860)  # a laptop
    yield tab.page
    tab.close()


@pytest.fixture()
def citizen(browser: Browser) -> Iterator[Page]:
    tab = Tab(browser, 390, 760)  # a phone
    yield tab.page
    tab.close()


def log_in(page: Page, base_url: str, account: Account, password: str | None = None) -> None:
    page.goto(base_url + "/agent")
    form = page.get_by_test_id("login-form")  # the administration has its own "Usuario" fields
    form.get_by_label("Usuario").fill(account.username)
    form.get_by_label("Contraseña").fill(password or account.password)
    form.get_by_role("button", name="Ingresar").click()


def bot_says(page: Page):  # type: ignore[no-untyped-def]
    return page.locator(".msg--bot").last


def citizen_writes(page: Page, text: str) -> None:
    page.get_by_label("Escribe tu consulta").fill(text)
    page.keyboard.press("Enter")
    expect(page.locator(".msg--user").last).to_have_text("Tú: " + text)


def test_wrong_password_shows_the_error_in_spanish(
    desk_stack: Stack, supervisor: Account, console: Page
) -> None:
    log_in(console, desk_stack.base_url, supervisor, password="no-es-la-clave")
    expect(console.get_by_test_id("login-error")).to_have_text("Usuario o contraseña incorrectos.")
    expect(console.get_by_role("alert")).to_have_text("Usuario o contraseña incorrectos.")
    expect(console.get_by_test_id("queue")).to_be_hidden()
    expect(console.locator("html")).to_have_attribute("lang", "es-PE")


def test_agent_takes_a_chat_answers_and_closes_it(
    desk_stack: Stack, supervisor: Account, console: Page, citizen: Page
) -> None:
    base_url = desk_stack.base_url
    log_in(console, base_url, supervisor)
    expect(console.get_by_test_id("who")).to_contain_text("Ana · Supervisor")
    # Connected (the agent is online), nobody waiting; supervisors see the queue's numbers.
    expect(console.get_by_test_id("connection")).to_have_attribute("data-state", "open")
    expect(console.get_by_test_id("queue-empty")).to_be_visible()
    expect(console.get_by_test_id("queue-item")).to_have_count(0)
    expect(console.get_by_test_id("stat-online")).to_have_text("1")
    expect(console).to_have_title(TITLE)

    # The citizen asks for a person on the web chat.
    citizen.goto(base_url + "/")
    expect(bot_says(citizen)).to_contain_text(KB.require("saludo").answer.splitlines()[0])
    citizen_writes(citizen, "quiero hablar con un asesor")
    expect(bot_says(citizen)).to_contain_text("puesto 1 de la fila", timeout=LIVE_MS)

    # It reaches the console live: the queue, the title's badge, the numbers.
    item = console.get_by_test_id("queue-item")
    expect(item).to_have_count(1, timeout=LIVE_MS)
    expect(item.get_by_test_id("topic")).to_contain_text("Pidió una persona")
    expect(item.get_by_test_id("wait")).to_contain_text("hace")
    expect(item.get_by_test_id("last-message")).to_contain_text("quiero hablar con un asesor")
    expect(console).to_have_title(f"(1) {TITLE}")
    expect(console.get_by_test_id("stat-pending")).to_have_text("1")

    item.get_by_role("button", name="Tomar").click()
    expect(console.get_by_test_id("chat-state")).to_have_text("En atención")
    expect(console.get_by_test_id("mine-item")).to_have_count(1)
    expect(console.get_by_test_id("queue-item")).to_have_count(0)
    expect(console).to_have_title(TITLE)
    expect(console.get_by_test_id("esc-reason")).to_have_text("Pidió una persona")
    expect(console.get_by_test_id("esc-intent")).to_contain_text("(pedir_humano)")
    transcript = console.get_by_test_id("transcript")
    from_citizen = transcript.locator("[data-author=citizen]")
    expect(from_citizen.last).to_contain_text("quiero hablar con un asesor")
    expect(transcript.locator("[data-author=bot]").first).to_be_visible()  # the greeting
    expect(bot_says(citizen)).to_contain_text("Ana te atiende desde ahora.", timeout=LIVE_MS)

    # Enter sends the reply; it reaches the citizen's page (server-sent events).
    console.get_by_label("Respuesta al ciudadano").fill("Hola, soy Ana")
    console.get_by_label("Respuesta al ciudadano").press("Enter")
    expect(transcript.locator("[data-author=agent]").last).to_contain_text("Hola, soy Ana")
    expect(console.get_by_label("Respuesta al ciudadano")).to_have_value("")
    expect(bot_says(citizen)).to_contain_text("Hola, soy Ana", timeout=LIVE_MS)

    # Markup written by a citizen is shown as text, never run or rendered.
    markup = "<b>gracias</b><script>alert(1)</script>"
    citizen_writes(citizen, markup)
    expect(from_citizen.last.get_by_test_id("message-text")).to_have_text(markup, timeout=LIVE_MS)
    expect(transcript.locator("b, script")).to_have_count(0)
    expect(console.get_by_test_id("mine-item").get_by_test_id("last-message")).to_contain_text(
        markup
    )

    # An internal note, and a knowledge-base answer put into the reply box.
    console.get_by_label("Nueva nota interna").fill("Quería saber del RUC.")
    console.get_by_role("button", name="Agregar nota").click()
    expect(console.get_by_test_id("note")).to_contain_text("Quería saber del RUC.")
    console.get_by_test_id("canned-q").fill("que es el ruc")
    console.get_by_test_id("canned-q").press("Enter")
    hit = console.get_by_test_id("canned-item").first
    expect(hit).to_be_visible()
    hit.get_by_role("button").click()
    expect(console.get_by_label("Respuesta al ciudadano")).not_to_have_value("")
    console.get_by_label("Respuesta al ciudadano").fill("")

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    console.screenshot(path=str(SCREENSHOT))

    # Closed with a resolution: the citizen is told, and the assistant answers again.
    console.get_by_label("Resultado").select_option(label="Consulta resuelta")
    console.get_by_role("button", name="Cerrar conversación").click()
    expect(console.get_by_test_id("chat-state")).to_have_text("Cerrada: Consulta resuelta")
    expect(console.get_by_test_id("chat-info")).to_contain_text("Conversación cerrada")
    expect(console.get_by_test_id("mine-item")).to_have_count(0)
    expect(console.get_by_test_id("reply-input")).to_be_disabled()
    closed = citizen.locator(".msg--bot", has_text="El asesor finalizó la conversación")
    expect(closed).to_have_count(1, timeout=LIVE_MS)
    # Then the satisfaction survey (bot/satisfaction): a question instead of a rating goes on.
    survey = KB.require("satisfaccion").render("pregunta_handoff").splitlines()[0]
    expect(bot_says(citizen)).to_contain_text(survey, timeout=LIVE_MS)

    citizen_writes(citizen, "que es el ruc")
    ruc = KB.require("ruc_que_es").answer.splitlines()[0]
    expect(bot_says(citizen)).to_contain_text(ruc, timeout=LIVE_MS)
    expect(console.get_by_test_id("queue-item")).to_have_count(0)

    # Signing out forgets the chats on the page: whoever signs in next on this computer does not
    # see this agent's queue.
    citizen_writes(citizen, "quiero hablar con un asesor")
    expect(console.get_by_test_id("queue-item")).to_have_count(1, timeout=LIVE_MS)
    console.get_by_role("button", name="Cerrar sesión").click()
    expect(console.get_by_test_id("login-form")).to_be_visible()
    expect(console.get_by_test_id("queue-item")).to_have_count(0)
    expect(console.locator("[data-testid=queue-count]")).to_have_text("0")


def test_admin_manages_users_teams_and_office_hours(
    desk_stack: Stack, administrator: Account, console: Page, browser: Browser
) -> None:
    """Runs last in the module: it changes the office hours (and puts them back)."""
    base_url = desk_stack.base_url
    log_in(console, base_url, administrator)
    expect(console.get_by_test_id("who")).to_contain_text("Rosa · Administrador")
    desk_tab = console.get_by_role("tab", name="Atención")
    admin_tab = console.get_by_role("tab", name="Administración")
    expect(desk_tab).to_have_attribute("aria-selected", "true")
    expect(console.get_by_test_id("admin-view")).to_be_hidden()

    # The section opens from the keyboard (tabs: arrow keys; from the first, left wraps to
    # the last, the administration; right goes to the next, «Solicitudes»).
    desk_tab.focus()
    console.keyboard.press("ArrowRight")
    expect(console.get_by_role("tab", name="Solicitudes")).to_be_focused()
    console.keyboard.press("ArrowLeft")
    expect(desk_tab).to_be_focused()
    console.keyboard.press("ArrowLeft")
    expect(admin_tab).to_be_focused()
    expect(admin_tab).to_have_attribute("aria-selected", "true")
    admin = console.get_by_role("tabpanel", name="Administración")
    expect(admin).to_be_visible()
    expect(console.get_by_test_id("queue")).to_be_hidden()
    rows = console.get_by_test_id("user-row")
    expect(rows.filter(has_text=administrator.username)).to_have_count(1)

    # A new agent: a too-short password is refused with the API's Spanish message.
    create = console.get_by_test_id("user-create-form")
    new_agent = Account(f"luis_{secrets.token_hex(4)}", secrets.token_urlsafe(12))
    password_field = create.get_by_label("Contraseña inicial")
    expect(password_field).to_have_attribute("type", "password")
    expect(password_field).to_have_attribute("autocomplete", "new-password")
    create.get_by_label("Usuario").fill(new_agent.username)
    create.get_by_label("Nombre visible").fill("Luis")
    create.get_by_label("Rol").select_option(label="Asesor")
    password_field.fill("corta")
    create.get_by_role("button", name="Crear usuario").click()
    expect(console.get_by_test_id("user-create-error")).to_have_text(
        "La contraseña debe tener al menos 12 caracteres."
    )
    expect(password_field).to_be_focused()
    expect(rows.filter(has_text=new_agent.username)).to_have_count(0)

    password_field.fill(new_agent.password)
    create.get_by_role("button", name="Crear usuario").click()
    row = console.locator(f'[data-testid="user-row"][data-username="{new_agent.username}"]')
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("user-name")).to_have_text("Luis")
    expect(row.get_by_test_id("user-role")).to_have_text("Asesor")
    expect(row.get_by_test_id("user-state")).to_have_text("Activa")
    expect(console.get_by_test_id("user-create-error")).to_be_hidden()
    expect(console.get_by_test_id("user-create-info")).to_contain_text(new_agent.username)
    expect(password_field).to_have_value("")  # never kept nor shown
    expect(admin).not_to_contain_text(new_agent.password)

    # A new team, then the agent moved into it (the edit form has no password in it).
    team = f"equipo_{secrets.token_hex(3)}"
    label = "Fraccionamiento " + team[-6:]
    teams = console.get_by_test_id("team-form")
    teams.get_by_label("Código").fill(team)
    teams.get_by_label("Nombre del equipo").fill(label)
    teams.get_by_role("button", name="Agregar equipo").click()
    expect(console.get_by_test_id("team-info")).to_have_text(f"Equipo «{label}» agregado.")
    expect(console.locator(f'[data-testid="team-item"][data-team="{team}"]')).to_contain_text(label)
    teams.get_by_label("Código").fill(team)
    teams.get_by_label("Nombre del equipo").fill("Otra vez")
    teams.get_by_role("button", name="Agregar equipo").click()
    expect(console.get_by_test_id("team-error")).to_have_text(f"El equipo «{team}» ya existe.")

    row.get_by_role("button", name="Editar").click()
    edit = console.get_by_test_id("user-edit-form")
    expect(edit.get_by_label("Nueva contraseña")).to_have_value("")
    expect(edit.get_by_label("Nueva contraseña")).to_have_attribute("type", "password")
    edit.get_by_label("Equipo").select_option(label=label)
    edit.get_by_role("button", name="Guardar cambios").click()
    expect(edit).to_be_hidden()
    expect(row.get_by_test_id("user-team")).to_have_text(label)
    expect(row.get_by_role("button", name="Editar")).to_be_focused()

    # Office hours: Monday only, described in Spanish; then always open again.
    hours = console.get_by_test_id("hours-form")
    expect(console.get_by_test_id("hours-text")).to_contain_text("se atiende siempre")
    monday = hours.get_by_test_id("hours-mon")
    expect(monday.get_by_label("abre")).to_be_disabled()
    monday.get_by_label("atiende").check()
    monday.get_by_label("abre").fill("09:15")
    monday.get_by_label("cierra").fill("13:45")
    hours.get_by_role("button", name="Guardar horario").click()
    expect(console.get_by_test_id("hours-info")).to_have_text(
        "Horario guardado: lunes de 09:15 a 13:45"
    )
    expect(console.get_by_test_id("hours-text")).to_contain_text("lunes de 09:15 a 13:45")
    expect(console.get_by_test_id("office-hours")).to_contain_text("lunes de 09:15 a 13:45")
    ADMIN_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    console.set_viewport_size({"width": 1366, "height": 1400})  # the whole section at once
    console.screenshot(path=str(ADMIN_SCREENSHOT))
    console.set_viewport_size({"width": 1366, "height": 860})
    monday.get_by_label("atiende").uncheck()
    hours.get_by_role("button", name="Guardar horario").click()
    expect(console.get_by_test_id("hours-info")).to_contain_text("se atiende siempre")
    expect(console.get_by_test_id("office-hours")).to_contain_text("Sin horario fijo")

    # The new agent signs in elsewhere: the desk, in their team, and no administration.
    tab = Tab(browser, 1366, 860)
    try:
        agent = tab.page
        log_in(agent, base_url, new_agent)
        expect(agent.get_by_test_id("who")).to_contain_text(f"Luis · Asesor · {label}")
        expect(agent.get_by_test_id("queue-empty")).to_be_visible()
        # Agents' sections: the desk, the tickets and the fanpage's comments; not the events,
        # the dashboard nor the administration.
        expect(agent.get_by_test_id("sections")).to_be_visible()
        expect(agent.get_by_role("tab")).to_have_text(["Atención", "Solicitudes", "Comentarios"])
        expect(agent.get_by_test_id("tab-desk")).to_have_attribute("aria-selected", "true")
        expect(agent.get_by_test_id("admin-view")).to_be_hidden()
        expect(agent.get_by_test_id("dashboard-view")).to_be_hidden()
        status = agent.evaluate("fetch('/api/admin/users').then((r) => r.status)")
        assert status == 403
    finally:
        tab.close()


def test_a_deactivated_agents_console_ends_at_once(
    desk_stack: Stack, administrator: Account, console: Page, browser: Browser
) -> None:
    """The admin deactivates an agent whose console is open: the server closes its live
    connection and the page goes back to the login, saying why, without a reload."""
    agent = create_user(desk_stack, "marta", "agent", "Marta")
    log_in(console, desk_stack.base_url, agent)
    expect(console.get_by_test_id("connection")).to_have_attribute("data-state", "open")
    tab = Tab(browser, 1366, 860)
    try:
        admin = tab.page
        log_in(admin, desk_stack.base_url, administrator)
        expect(admin.get_by_test_id("who")).to_contain_text("Rosa")
        status = admin.evaluate(
            """async (username) => {
                const me = await (await fetch('/api/auth/me')).json();
                const users = await (await fetch('/api/admin/users')).json();
                const user = users.find((u) => u.username === username);
                const changed = await fetch('/api/admin/users/' + user.id, {
                    method: 'PATCH',
                    headers: {'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token},
                    body: JSON.stringify({active: false}),
                });
                return changed.status;
            }""",
            agent.username,
        )
        assert status == 200
    finally:
        tab.close()
    # Well before the periodic check (30 s): the close comes with the deactivation.
    expect(console.get_by_test_id("login-form")).to_be_visible(timeout=5_000)
    expect(console.get_by_test_id("login-error")).to_have_text(
        "Tu sesión terminó. Inicia sesión de nuevo.", timeout=5_000
    )
    expect(console.get_by_test_id("queue")).to_be_hidden()


def test_admin_opens_the_workbench(
    desk_stack: Stack, administrator: Account, console: Page
) -> None:
    """``/admin`` is the console with its "Administración" tab selected."""
    console.goto(desk_stack.base_url + "/admin")
    assert console.url.endswith("/agent#admin")
    form = console.get_by_test_id("login-form")
    form.get_by_label("Usuario").fill(administrator.username)
    form.get_by_label("Contraseña").fill(administrator.password)
    form.get_by_role("button", name="Ingresar").click()
    expect(console.get_by_test_id("tab-admin")).to_have_attribute("aria-selected", "true")
    expect(console.locator("#admin-view")).to_be_visible()
    expect(console.locator("#desk-view")).to_be_hidden()
