"""Community events end to end on the real stack (Rasa with the trained model, the action
server, the gateway on SQLite): an admin creates an event for 5 people through the API; 20
web chat citizens sign up at the same moment → exactly 5 places, 15 told it is full; one joins
the waiting list and gets the place another gives up; "¿hay charlas este mes?" goes through
the model to the events' article and lists the event; the day-before reminder reaches each
citizen with a place once; an event in the past is refused in Spanish and nothing is stored."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from bot.community.events import LIMA
from bot.ops.settings import ROOT
from bot.web.deps import CSRF_HEADER
from tests.e2e.stack import Stack, stop

PASSWORD = "clave-de-prueba-e2e-123"
CITIZENS = 20
CAPACITY = 5


class Admin:
    """An administrator's session through the console's REST API."""

    def __init__(self, stack: Stack) -> None:
        self.http = httpx.Client(base_url=stack.base_url, timeout=15)
        response = self.http.post(
            "/api/auth/login", json={"username": "eventos", "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        self.csrf = response.json()["csrf_token"]

    def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return self.http.post(path, json=body, headers={CSRF_HEADER: self.csrf})

    def get(self, path: str) -> Any:
        response = self.http.get(path)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # The reminder job looks every second; events within a day are reminded.
    stack = Stack.on_free_ports(
        tmp_path_factory.mktemp("community"),
        event_reminder_every_seconds=1.0,
        event_reminder_hours_before=24.0,
    )
    children = stack.start_all()
    try:
        stack.wait_healthy()
        done = subprocess.run(
            [sys.executable, "-m", "bot", "create-user", "eventos", "--role", "admin",
             "--name", "Eventos", "--password-stdin"],
            input=PASSWORD + "\n", text=True, capture_output=True, cwd=ROOT,
            env={**stack.environ(), "DATABASE_URL": stack.settings.database_url}, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        yield stack
    finally:
        for child in children.values():
            stop(child)


def lima_in(hours: float) -> str:
    """A moment ``hours`` from now on Lima's clock, as the console's date field writes it."""
    moment = dt.datetime.now(LIMA) + dt.timedelta(hours=hours)
    return moment.replace(tzinfo=None).isoformat(timespec="minutes")


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(str(r.get("text", "")) for r in replies)


def history_texts(stack: Stack, sender: str) -> list[str]:
    return [str(item.get("text")) for item in stack.history(sender) if item["direction"] == "out"]


@pytest.fixture()
def admin(stack: Stack) -> Iterator[Admin]:
    admin = Admin(stack)
    yield admin
    admin.http.close()


@pytest.mark.e2e
def test_five_places_for_twenty_citizens_at_once_and_the_reminder(
    stack: Stack, admin: Admin
) -> None:
    # An event in the past: a Spanish answer, nothing stored.
    past = admin.post("/api/events", {
        "title": "Charla pasada", "starts_at": lima_in(-2), "capacity": 5,
        "place": "Lima", "description": "Ya fue.",
    })  # fmt: skip
    assert past.status_code == 422, past.text
    assert past.json()["message"].startswith("La fecha y hora del evento ya pasaron")
    assert admin.get("/api/events?past=true") == []

    # Starts in three hours: within the reminder's window from the start.
    created = admin.post("/api/events", {
        "title": "Charla: emite tu boleta electrónica", "kind": "charla",
        "starts_at": lima_in(3), "registration_deadline": lima_in(2), "capacity": CAPACITY,
        "place": "Centro de Servicios al Contribuyente", "description": "Paso a paso.",
    })  # fmt: skip
    assert created.status_code == 201, created.text
    event = created.json()

    # "¿hay charlas este mes?" through the trained model: the events' article, then the list.
    replies = stack.chat("curioso", "¿hay charlas este mes?")
    assert event["title"] in texts(replies)
    buttons = [b["payload"] for r in replies for b in r.get("buttons", [])]
    assert f'/evento_inscribir{{"evento": {event["id"]}}}' in buttons

    ready = threading.Barrier(CITIZENS)

    def citizen(i: int) -> str:
        sender = f"vecino-{i}"
        asked = stack.chat(sender, f'/evento_inscribir{{"evento": {event["id"]}}}')
        assert "nombre completo" in texts(asked)
        stack.chat(sender, f"Vecino Número {chr(65 + i)}")
        stack.chat(sender, f"vecino{i}@example.pe")
        assert "Confirmas" in texts(stack.chat(sender, "omitir"))
        ready.wait(timeout=60)  # everyone confirms at the same moment
        return texts(stack.chat(sender, "confirmar"))

    with ThreadPoolExecutor(CITIZENS) as pool:
        answers = list(pool.map(citizen, range(CITIZENS)))
    registered = [i for i, a in enumerate(answers) if "está confirmado" in a]
    full = [i for i, a in enumerate(answers) if "ya está lleno" in a]
    assert len(registered) == CAPACITY and len(full) == CITIZENS - CAPACITY, answers
    counted = admin.get(f"/api/events/{event['id']}")
    assert (counted["registered"], counted["waiting"], counted["free"]) == (CAPACITY, 0, 0)

    # One joins the waiting list; another gives up the place: the first waiting gets it.
    waiter, leaver = f"vecino-{full[0]}", f"vecino-{registered[0]}"
    assert "puesto 1" in texts(stack.chat(waiter, "Sí, lista de espera"))
    gave_up = stack.chat(leaver, f'/evento_cancelar{{"evento": {event["id"]}}}')
    assert "Cancelamos tu inscripción" in texts(gave_up)
    assert any("Se liberó un lugar" in t for t in history_texts(stack, waiter))
    people = admin.get(f"/api/events/{event['id']}/registrations")
    assert sum(p["status"] == "inscrito" for p in people) == CAPACITY

    # The reminder: once to each citizen with a place, none to the others.
    with_place = [f"vecino-{i}" for i in registered[1:]] + [waiter]
    deadline = time.monotonic() + 60
    while not all(_reminded(stack, s) for s in with_place):
        assert time.monotonic() < deadline, "the reminders did not arrive"
        time.sleep(0.5)
    time.sleep(3)  # a few more rounds of the job: nothing is sent twice
    assert [_reminded(stack, s) for s in with_place] == [1] * CAPACITY
    assert _reminded(stack, leaver) <= 1  # reminded before giving up, perhaps; never again
    assert _reminded(stack, f"vecino-{full[1]}") == 0
    csv = admin.http.get(f"/api/events/{event['id']}/attendees.csv")
    assert csv.status_code == 200 and csv.text.count("Inscrito") == CAPACITY


def _reminded(stack: Stack, sender: str) -> int:
    return sum(t.startswith("Recordatorio") for t in history_texts(stack, sender))


@pytest.mark.browser
def test_the_console_creates_lists_and_cancels_an_event(stack: Stack, browser: Browser) -> None:
    """«Eventos» in a real browser: a date in the past is refused with the API's reason; an
    event is created, listed with its places, its attendee list linked; a proposed topic is
    counted; the event is cancelled after a second click."""
    context = browser.new_context(locale="es-PE")
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    # Script errors only: refused requests (the 401 before signing in, the 422 asked for
    # below) are logged by the browser too.
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    stack.chat("proponente", "/evento_proponer")
    stack.chat("proponente", "Libros electrónicos para bodegas")
    try:
        page.goto(stack.base_url + "/agent")
        login = page.get_by_test_id("login-form")
        login.get_by_label("Usuario").fill("eventos")
        login.get_by_label("Contraseña").fill(PASSWORD)
        login.get_by_role("button", name="Ingresar").click()
        page.get_by_test_id("tab-community").click()
        view = page.get_by_test_id("community-view")
        topic = view.get_by_test_id("community-topic").filter(has_text="para bodegas")
        expect(topic).to_contain_text("Por ejemplo: «Libros electrónicos para bodegas»")
        expect(topic.locator(".count")).to_have_text("1")

        form = view.get_by_test_id("community-form")
        form.get_by_label("Título").fill("Taller: tu declaración mensual")
        form.get_by_label("Tipo").select_option("taller")
        form.get_by_label("Capacidad (personas)").fill("3")
        form.get_by_label("Inicio (hora de Lima)").fill(lima_in(-5))
        form.get_by_label("Lugar").fill("Auditorio de la intendencia")
        form.get_by_label("Descripción").fill("Con casos prácticos.")
        form.get_by_role("button", name="Crear evento").click()
        expect(form.get_by_test_id("community-form-error")).to_contain_text(
            "La fecha y hora del evento ya pasaron"
        )
        form.get_by_label("Inicio (hora de Lima)").fill(lima_in(48))
        form.get_by_role("button", name="Crear evento").click()
        row = view.get_by_test_id("community-event").filter(has_text="Taller: tu declaración")
        expect(row.get_by_test_id("community-registered")).to_have_text("0 / 3")
        expect(row).to_contain_text("Inscripción abierta")

        row.get_by_test_id("community-open-people").click()
        people = view.get_by_test_id("community-people")
        expect(people).to_contain_text("Todavía nadie se inscribió")
        event_id = row.get_attribute("data-event")
        expect(people.get_by_test_id("community-csv")).to_have_attribute(
            "href", f"/api/events/{event_id}/attendees.csv"
        )

        row.get_by_test_id("community-cancel").click()
        expect(row).to_contain_text("Se avisará a 0 personas")
        row.get_by_test_id("community-cancel-yes").click()
        expect(row).to_contain_text("Cancelado")
        expect(view.get_by_test_id("community-info")).to_contain_text("Cancelamos")
        assert errors == []
    finally:
        context.close()
