from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.stack import Stack, running_up


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One ``python -m bot up`` for the whole session."""
    with running_up(tmp_path_factory.mktemp("stack")) as (stack, _):
        yield stack


@pytest.fixture(scope="session")
def base_url(stack: Stack) -> str:
    return stack.base_url
