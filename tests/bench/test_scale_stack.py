"""A topology's spec in the scale benchmark: ``single``, ``N`` or ``GxE``, as ``bot up``'s flags,
ports and label."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.scale import topology_label
from bench.scale_stack import Stack, command_flags, counts


@pytest.mark.parametrize(
    ("spec", "expected", "flags"),
    [
        ("single", None, []),
        ("2", (2, 2), ["--scale", "2"]),
        ("1x2", (1, 2), ["--gateways", "1", "--engines", "2"]),
        ("3x3", (3, 3), ["--scale", "3"]),
    ],
)
def test_a_spec_is_its_gateways_engines_and_flags(
    spec: str, expected: tuple[int, int] | None, flags: list[str]
) -> None:
    assert counts(spec) == expected
    assert command_flags(spec) == flags


def test_one_gateway_in_front_of_two_engines_gets_ports_apart(tmp_path: Path) -> None:
    stack = Stack("1x2", "sqlite+aiosqlite:///x.db", "r", tmp_path / "log")
    s = stack.settings
    gateway = s.gateway_port
    # nginx, 1 gateway, engines at +2 and +3, nginx's action port +4, action servers +5 and +6.
    assert s.rasa_url == f"http://127.0.0.1:{gateway + 2}"
    assert s.action_server_url == f"http://127.0.0.1:{gateway + 4}"
    assert topology_label("1x2") == "1 gateway, 2 engines (bot up --gateways 1 --engines 2)"
    assert topology_label("2") == "2 gateways, 2 engines (bot up --scale 2)"
