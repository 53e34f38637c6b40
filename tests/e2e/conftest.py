from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.stack import running_up


@pytest.fixture(scope="session")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One ``python -m bot up`` for the whole session."""
    with running_up(tmp_path_factory.mktemp("stack")) as (stack, _):
        yield stack.base_url
