"""The knowledge-base editor in a real browser, on the real stack over a copy of the project
(the repository's articles are never modified): the admin opens «Artículos», edits an answer,
sees how Messenger would show it, saves → the citizen gets the new text at once, without
retraining; the previous version is kept; a bad edit (an http:// source, a future review date)
is refused with nothing written; a zip with a path outside the project is refused naming it;
a save made on an older version of the article (someone else saved in between) is refused
showing both texts, and the admin reloads the current one or keeps theirs and merges."""

from __future__ import annotations

import io
import re
import secrets
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from bot.knowledge.articles import load_knowledge
from bot.ops.settings import ROOT
from tests.e2e.stack import Stack, project_copy, stop
from tests.e2e.test_console_browser import Account, Tab, create_user, log_in

pytestmark = pytest.mark.browser
KB = load_knowledge(ROOT / "data" / "knowledge")
SCREENSHOT = ROOT / "var" / "articles.png"
ARTICLE = "ruc_costo"
#: Made overdue in the copy (reviewed long ago) for the «Solo vencidos» filter.
OVERDUE = "uit"
UI_MS = 15_000
#: The action server notices a changed article within a few seconds (it checks every 2 s).
LIVE_S = 12.0


@pytest.fixture(scope="module")
def articles_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("articles-browser")
    project = project_copy(workdir)
    knowledge = project / "data" / "knowledge"
    overdue = knowledge / f"{OVERDUE}.yml"
    text, count = re.subn(
        r"(?m)^reviewed: .*$", "reviewed: 2024-01-15", overdue.read_text(encoding="utf-8")
    )
    assert count == 1
    overdue.write_text(text, encoding="utf-8")
    stack = Stack.on_free_ports(workdir, project_dir=project, knowledge_dir=knowledge)
    children = stack.start_all()
    try:
        stack.wait_healthy()
        yield stack
    finally:
        for child in children.values():
            stop(child)


@pytest.fixture(scope="module")
def administrator(articles_stack: Stack) -> Account:
    return create_user(articles_stack, "rosa", "admin", "Rosa")


@pytest.fixture()
def console(browser: Browser) -> Iterator[Page]:
    tab = Tab(browser, 1366, 900)
    tab.context.set_default_timeout(UI_MS)
    yield tab.page
    tab.close()  # no script error, no dialog


def bot_texts(stack: Stack, sender: str, message: str) -> list[str]:
    return [str(m.get("text") or "") for m in stack.chat(sender, message)]


def evil_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../evil.yml", "a: 1\n")
        archive.writestr("data/knowledge/ruc_costo.yml", "id: ruc_costo\n")  # never written
    return buffer.getvalue()


def test_admin_edits_an_article_live_without_retraining(
    articles_stack: Stack, administrator: Account, console: Page
) -> None:
    stack = articles_stack
    project = stack.settings.project_dir
    article_file = Path(stack.settings.knowledge_dir) / f"{ARTICLE}.yml"
    original = KB.require(ARTICLE)
    new_text = f"Sacar el RUC es gratis (prueba {secrets.token_hex(3)}): SUNAT no cobra nada."
    assert original.answer in bot_texts(stack, "ciudadano-1", f"/{ARTICLE}")

    log_in(console, stack.base_url, administrator)
    expect(console.get_by_test_id("who")).to_contain_text("Rosa · Administrador")
    console.get_by_role("tab", name="Administración").click()
    parts = console.get_by_test_id("admin-tabs")
    expect(parts.get_by_role("tab")).to_have_count(5)
    parts.get_by_role("tab", name="Artículos").click()
    expect(console.get_by_role("tabpanel", name="Artículos")).to_be_visible()
    expect(parts.get_by_role("tab", name="Artículos")).to_have_attribute("aria-selected", "true")

    # The list: every article, overdue ones flagged in words; search and «Solo vencidos».
    rows = console.get_by_test_id("article-row")
    expect(rows).to_have_count(len(KB))
    expect(console.get_by_test_id("articles-summary")).to_have_text(
        f"{len(KB)} artículos · 1 con la revisión vencida"
    )
    overdue_row = console.locator(f'[data-testid="article-row"][data-article-id="{OVERDUE}"]')
    expect(overdue_row.get_by_test_id("article-overdue")).to_contain_text("Revisión vencida")
    console.get_by_label("Solo vencidos").check()
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-article-id", OVERDUE)
    console.get_by_label("Solo vencidos").uncheck()
    console.get_by_label("Buscar artículos").fill("no existe ningún artículo así")
    expect(console.get_by_test_id("articles-empty")).to_be_visible()
    console.get_by_label("Buscar artículos").fill(ARTICLE)
    expect(rows).to_have_count(1)
    row = console.locator(f'[data-testid="article-row"][data-article-id="{ARTICLE}"]')
    expect(row).not_to_contain_text("Revisión vencida")

    # Opened with the keyboard; the form holds the article.
    row.get_by_role("button", name=original.title).focus()
    console.keyboard.press("Enter")
    editor = console.get_by_test_id("article-editor")
    expect(editor).to_be_visible()
    expect(console.get_by_test_id("article-heading")).to_have_text(f"Editar: {original.title}")
    expect(console.get_by_test_id("article-heading")).to_be_focused()
    answer = editor.get_by_label("Respuesta", exact=True)
    expect(answer).to_have_value(original.answer)
    expect(editor.get_by_label("Título", exact=True)).to_have_value(original.title)
    expect(editor.get_by_label("Botón 1: texto")).to_have_value(original.buttons[0].title)
    expect(editor.get_by_label("Botón 1: acción")).to_have_value(original.buttons[0].payload)
    expect(editor.get_by_label("Enlace de la fuente")).to_have_value(original.source.url)
    expect(editor.get_by_label("Fecha de revisión")).to_have_value(original.reviewed.isoformat())
    expect(console.get_by_test_id("article-versions-empty")).to_be_visible()
    messenger = console.get_by_test_id("preview-messenger-messages")
    expect(messenger).to_contain_text(original.answer.splitlines()[0])

    # A new answer: the preview follows the edit (debounced), with each channel's buttons.
    answer.fill(new_text)
    expect(messenger.get_by_test_id("preview-message")).to_have_count(1)
    expect(messenger).to_contain_text(new_text)
    expect(messenger).to_contain_text(original.buttons[0].title)
    expect(console.get_by_test_id("preview-whatsapp-messages")).to_contain_text(new_text)
    expect(console.get_by_test_id("preview-webchat-messages")).to_contain_text(new_text)
    expect(console.get_by_test_id("preview-messenger-warnings")).to_contain_text("Sin avisos")
    console.get_by_role("button", name="Vista previa").click()
    expect(console.get_by_test_id("preview-status")).to_have_text("Vista previa actualizada.")

    console.get_by_role("button", name="Guardar cambios").click()
    expect(console.get_by_test_id("article-info")).to_have_text(
        "Guardado: ya está en uso (sin reentrenar)"
    )
    expect(console.get_by_test_id("article-error")).to_be_hidden()
    saved = article_file.read_text(encoding="utf-8")
    assert new_text in saved and original.answer.splitlines()[0] not in saved

    # The citizen gets the new text, without retraining.
    deadline = time.monotonic() + LIVE_S
    texts = bot_texts(stack, "ciudadano-2", f"/{ARTICLE}")
    while new_text not in texts and time.monotonic() < deadline:
        time.sleep(0.5)
        texts = bot_texts(stack, "ciudadano-2", f"/{ARTICLE}")
    assert new_text in texts, texts

    # The version it replaced, by the admin, as it was.
    versions = console.get_by_test_id("article-version")
    expect(versions).to_have_count(1)
    expect(versions.first).to_contain_text(administrator.username)
    versions.first.get_by_role("button").click()
    version_text = console.get_by_test_id("article-version-text")
    expect(version_text).to_contain_text(f"id: {ARTICLE}")
    expect(version_text).to_contain_text(original.answer.splitlines()[0])
    expect(version_text).not_to_contain_text(new_text)

    # An http:// source: refused in Spanish, nothing written.
    source = editor.get_by_label("Enlace de la fuente")
    source.fill("http://emprender.sunat.gob.pe/")
    console.get_by_role("button", name="Guardar cambios").click()
    expect(console.get_by_test_id("article-error")).to_contain_text(
        "El enlace de la fuente debe empezar con https://"
    )
    expect(source).to_be_focused()
    expect(source).to_have_attribute("aria-invalid", "true")
    expect(console.get_by_test_id("article-info")).to_be_hidden()
    source.fill(original.source.url)

    # A review date in the future: the server's problems are listed, nothing written.
    reviewed = editor.get_by_label("Fecha de revisión")
    reviewed.fill("2099-01-01")
    console.get_by_role("button", name="Guardar cambios").click()
    expect(console.get_by_test_id("article-error")).to_have_text("El artículo no es válido.")
    expect(console.get_by_test_id("article-problems")).to_contain_text(
        "Fecha de revisión: la fecha 01/01/2099 está en el futuro"
    )
    reviewed.fill(original.reviewed.isoformat())
    expect(versions).to_have_count(1)
    assert article_file.read_text(encoding="utf-8") == saved

    # The project as a zip: the download holds the edited article.
    with console.expect_download() as download:
        console.get_by_role("link", name="Descargar datos (.zip)").click()
    archive = zipfile.ZipFile(download.value.path())
    assert f"data/knowledge/{ARTICLE}.yml" in archive.namelist()
    assert new_text in archive.read(f"data/knowledge/{ARTICLE}.yml").decode("utf-8")

    # An upload with a path outside the project: refused, naming it; nothing written.
    console.get_by_label("Subir .zip").set_input_files(
        {"name": "datos.zip", "mimeType": "application/zip", "buffer": evil_zip()}
    )
    console.get_by_role("button", name="Subir y reemplazar").click()
    expect(console.get_by_test_id("project-error")).to_have_text(
        "El .zip tiene problemas (../evil.yml): nada se cambió."
    )
    expect(console.get_by_test_id("project-problems")).to_contain_text(
        "../evil.yml: ruta no permitida"
    )
    expect(console.get_by_test_id("project-info")).to_be_hidden()
    assert not (Path(project).parent / "evil.yml").exists()
    assert article_file.read_text(encoding="utf-8") == saved

    # Someone else saves while the admin edits: the admin's save is refused, both texts shown.
    conflict = console.get_by_test_id("article-conflict")
    expect(conflict).to_be_hidden()
    theirs = f"Texto de otra persona {secrets.token_hex(3)}: el RUC es gratuito."
    article_file.write_text(saved.replace(new_text, theirs), encoding="utf-8")
    mine = f"Mi texto {secrets.token_hex(3)}: inscribirse en el RUC no cuesta nada."
    answer.fill(mine)
    console.get_by_role("button", name="Guardar cambios").click()
    expect(conflict).to_be_visible()
    expect(console.get_by_test_id("article-error")).to_contain_text(
        "Alguien cambió este artículo mientras lo editabas"
    )
    expect(console.get_by_test_id("article-conflict-current")).to_contain_text(theirs)
    expect(console.get_by_test_id("article-conflict-mine")).to_contain_text(mine)
    assert theirs in article_file.read_text(encoding="utf-8")  # nothing written
    # Reload: the form holds the current text, the admin's is discarded.
    conflict.get_by_role("button", name="Cargar el texto actual").click()
    expect(conflict).to_be_hidden()
    expect(answer).to_have_value(theirs)
    # Again, and this time the admin keeps their text and merges it with the current one.
    theirs_again = theirs.replace("gratuito", "gratuito en todo el país")
    article_file.write_text(saved.replace(new_text, theirs_again), encoding="utf-8")
    answer.fill(mine)
    console.get_by_role("button", name="Guardar cambios").click()
    expect(console.get_by_test_id("article-conflict-current")).to_contain_text(theirs_again)
    conflict.get_by_role("button", name="Conservar mi texto para combinarlo").click()
    expect(answer).to_have_value(mine)
    expect(console.get_by_test_id("article-conflict-current")).to_be_visible()  # to copy from
    merged = f"{mine} {theirs_again}"
    answer.fill(merged)
    console.get_by_role("button", name="Guardar cambios").click()
    expect(console.get_by_test_id("article-info")).to_have_text(
        "Guardado: ya está en uso (sin reentrenar)"
    )
    expect(conflict).to_be_hidden()
    assert merged in article_file.read_text(encoding="utf-8")
    # The text the merge replaced is kept among the versions.
    expect(versions).to_have_count(2)
    versions.first.get_by_role("button").click()
    expect(version_text).to_contain_text(theirs_again)

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    console.set_viewport_size({"width": 1366, "height": 2600})
    console.get_by_test_id("article-heading").scroll_into_view_if_needed()
    console.screenshot(path=str(SCREENSHOT))
