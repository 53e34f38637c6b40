from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.stack import Ports, running_up


@pytest.fixture(scope="session")
def stack(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, subprocess.Popen[str], Ports, Path]]:
    workdir = tmp_path_factory.mktemp("stack")
    with running_up(workdir) as (base_url, process, ports):
        yield base_url, process, ports, workdir


@pytest.fixture(scope="session")
def base_url(stack: tuple[str, subprocess.Popen[str], Ports, Path]) -> str:
    return stack[0]
