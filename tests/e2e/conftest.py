from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.e2e.scale_services import throwaway_database
from tests.e2e.stack import Stack, running_up


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One ``python -m bot up`` for the whole session."""
    with running_up(tmp_path_factory.mktemp("stack")) as (stack, _):
        yield stack


@pytest.fixture(scope="session")
def base_url(stack: Stack) -> str:
    return stack.base_url


@pytest.fixture()
def database() -> Iterator[str]:
    """A new database on the machine's PostgreSQL for the test (the scale path), dropped after."""
    with throwaway_database() as name:
        yield name


#: Debian's chromium, driven by Playwright (browser downloads are impossible here).
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless chromium for a test module's pages."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                # the console's notification sound plays without a click first
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        yield launched
        launched.close()
