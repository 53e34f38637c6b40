"""The fault runs (bench/faults.py), short: on ``bot up --scale 2`` with web chat and Messenger
traffic, kill -9 a gateway and an action server and restart RabbitMQ and Redis; every accepted
Messenger message is answered exactly once at the fake Graph API and the topology is whole
again after each fault. Restarts the machine's RabbitMQ and Redis (left running)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import faults
from bot.ops.settings import ROOT

pytestmark = pytest.mark.e2e


def test_faults_under_load_lose_and_duplicate_no_reply(tmp_path: Path) -> None:
    args = faults.parser().parse_args([
        "--faults", "gateway-1,actions-1,rabbitmq,redis", "--users", "3", "--steady", "5",
        "--baseline", "1", "--recovery", "120", "--drain", "90", "--settle", "5",
    ])  # fmt: skip

    # The newest trained model (`make test` trains first): no training inside the test.
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    results = faults.run(args, log=tmp_path / "up.log", model=models[-1] if models else None)

    assert [f["fault"] for f in results["faults"]] == [
        "gateway-1",
        "actions-1",
        "rabbitmq",
        "redis",
    ]
    stretches = [
        results["before_faults"]["messenger"],
        *(f["messenger"] for f in results["faults"]),
    ]
    assert sum(s["accepted"] for s in stretches) >= 10, results
    assert [(s["lost_senders"], s["duplicated_senders"]) for s in stretches] == [([], [])] * 5
    assert all(f["ready_seconds"] is not None for f in results["faults"]), results
    assert results["before_faults"]["webchat_failed"] == 0, results
