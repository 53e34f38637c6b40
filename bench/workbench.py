"""``python -m bench.workbench``: the admin workbench on the real stack, over a copy of the
project (the repository's training files are never touched).

1. Chat latency with no training running: 5 citizens chatting one message after another.
2. From an annotation to a deployed model: annotate an inbox item, train (a job), evaluate,
   deploy through Rasa's ``PUT /model``; wall time end to end (target ≤ 5 minutes, 2 cores).
3. Chat latency while that training runs, the same load: p95 growth (target ≤ 50%).

Writes ``var/results/bench/workbench.json`` and its section of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.doc_section import replace_section
from bench.load_driver import API_HEADERS, API_KEY, percentile
from bot.ops import processes
from bot.ops.settings import ROOT, Settings
from bot.web.deps import CSRF_HEADER
from bot.workbench.training import model_path, train

RESULTS = ROOT / "var" / "results" / "bench"
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench.workbench: begin -->", "<!-- bench.workbench: end -->"
PASSWORD = "bench-clave-larga-123"
PHRASE = "wawa numerito tributario"
TURNS = ["hola", "como saco mi ruc", "que es la clave sol", "cuanto es la uit", "gracias"]


class Load:
    """Citizens chatting in threads until stopped; latencies in ms."""

    def __init__(self, base_url: str, users: int) -> None:
        self.base_url = base_url
        self.latencies: list[float] = []
        self.errors = 0
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._user, args=(i,)) for i in range(users)]

    def _user(self, index: int) -> None:
        with httpx.Client(timeout=60) as http:
            turn = 0
            while not self._stop.is_set():
                if turn % len(TURNS) == 0:  # a new 5-turn conversation, as people chat
                    sender = f"carga-{index}-{uuid.uuid4().hex[:6]}"
                started = time.perf_counter()
                try:
                    response = http.post(
                        f"{self.base_url}/webhooks/webchat",
                        json={"sender": sender, "message": TURNS[turn % len(TURNS)]},
                        headers=API_HEADERS,
                    )
                    response.raise_for_status()
                    self.latencies.append((time.perf_counter() - started) * 1000)
                except httpx.HTTPError:
                    self.errors += 1
                turn += 1

    def run_for(self, seconds: float) -> Load:
        self.start()
        time.sleep(seconds)
        return self.stop()

    def start(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> Load:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        return self


def main() -> int:
    RESULTS.mkdir(parents=True, exist_ok=True)
    model = model_path() if model_path().exists() else train()
    workdir = Path(tempfile.mkdtemp(prefix="bench-workbench-"))
    project = workdir / "project"
    project.mkdir()
    for name in ("config.yml", "domain.yml", "credentials.yml", "endpoints.yml"):
        shutil.copy(ROOT / name, project / name)
    shutil.copytree(ROOT / "data", project / "data")
    gateway_port, rasa_port, actions_port = processes.free_ports(3)
    settings = Settings(
        _env_file=None,
        gateway_port=gateway_port,
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        action_server_url=f"http://127.0.0.1:{actions_port}",
        rasa_token=uuid.uuid4().hex * 2,
        database_url=f"sqlite+aiosqlite:///{workdir / 'gateway.db'}",
        log_level="WARNING",
        project_dir=project,
        webchat_api_keys=[API_KEY],
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "create-user",
            "admin",
            "--role",
            "admin",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
        text=True,
        check=True,
        cwd=ROOT,
        capture_output=True,
        env={**processes.gateway_process_environ(settings), "DATABASE_URL": settings.database_url},
    )
    engine_env = processes.engine_process_environ(settings)
    children = [
        processes.spawn("actions", processes.actions_command(settings), engine_env, workdir / "a"),
        processes.spawn("rasa", processes.rasa_command(settings, model), engine_env, workdir / "r"),
        processes.spawn(
            "gateway",
            processes.gateway_command(),
            processes.gateway_process_environ(settings),
            workdir / "g",
        ),
    ]
    base_url = f"http://127.0.0.1:{settings.gateway_port}"
    try:
        processes.wait_healthy(base_url, 300, children)
        print("[1/3] chat latency, no training running (60 s)", flush=True)
        idle = Load(base_url, 5).run_for(60)
        http = httpx.Client(base_url=base_url, timeout=60)
        login = http.post("/api/auth/login", json={"username": "admin", "password": PASSWORD})
        headers = {CSRF_HEADER: login.json()["csrf_token"]}
        http.post(
            "/webhooks/webchat",
            json={"sender": "bench-citizen", "message": PHRASE},
            headers=API_HEADERS,
        )
        groups = http.get("/api/admin/inbox").json()["groups"]
        [group] = [g for g in groups if g["text"] == PHRASE]
        print("[2/3] annotation → training → evaluation → deploy, under the same load", flush=True)
        started = time.monotonic()
        http.post(
            "/api/admin/inbox/annotate",
            headers=headers,
            json={
                "items": group["items"],
                "action": "intent",
                "intent": "ruc_inscripcion_dni",
            },
        ).raise_for_status()
        job = http.post("/api/admin/training", headers=headers).json()
        busy = Load(base_url, 5).start()
        training_started = time.monotonic()
        while job["status"] in ("queued", "running"):
            time.sleep(1)
            job = http.get(f"/api/admin/training/{job['id']}").json()
        training_seconds = time.monotonic() - training_started
        busy.stop()
        if job["status"] != "succeeded":
            raise SystemExit(f"training failed: {job}")
        model_info = http.get(f"/api/admin/models/{job['model_id']}").json()
        body = (
            {}
            if model_info["comparison"]["verdict"] != "worse"
            else {"override_reason": "benchmark"}
        )
        deployed = http.post(
            f"/api/admin/models/{job['model_id']}/deploy", headers=headers, json=body
        )
        deployed.raise_for_status()
        total = time.monotonic() - started
        print("[3/3] the annotated phrasing after the deploy", flush=True)
        reply = http.post(
            "/webhooks/webchat", json={"sender": "bench-2", "message": PHRASE}, headers=API_HEADERS
        )
        understood = "RUC" in str(reply.json())
        http.close()
    finally:
        processes.stop(children)
    idle_p95, busy_p95 = percentile(idle.latencies, 0.95), percentile(busy.latencies, 0.95)
    results: dict[str, Any] = {
        "command": "python -m bench.workbench",
        "annotation_to_deployed_seconds": round(total, 1),
        "training_job_seconds": round(training_seconds, 1),
        "verdict": model_info["comparison"]["verdict"],
        "macro_f1": model_info["comparison"]["macro_f1"],
        "understood_after_deploy": understood,
        "idle": {
            "n": len(idle.latencies),
            "errors": idle.errors,
            "p50_ms": percentile(idle.latencies, 0.5),
            "p95_ms": idle_p95,
        },
        "training": {
            "n": len(busy.latencies),
            "errors": busy.errors,
            "p50_ms": percentile(busy.latencies, 0.5),
            "p95_ms": busy_p95,
        },
        "p95_growth": busy_p95 / idle_p95 - 1,
    }
    (RESULTS / "workbench.json").write_text(json.dumps(results, indent=2) + "\n")
    write_section(results)
    print(json.dumps(results, indent=2))
    return 0


def _f1(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def render(r: dict[str, Any]) -> str:
    total_ok = r["annotation_to_deployed_seconds"] <= 300
    growth_ok = r["p95_growth"] <= 0.5
    idle, busy = r["idle"], r["training"]
    return f"""{BEGIN}
## Admin workbench (annotation to deployed model)

`{r["command"]}` (part of `make bench`): the real stack over a copy of the project; 5 citizens
chat one message after another the whole time (5-turn conversations). An inbox item is
annotated, a training job runs in its own process (data validated, trained, evaluated on the
held-out set and the conversation tests, compared with the live model: {r["verdict"]}, macro-F1
{r["macro_f1"]["new"]:.3f} vs {_f1(r["macro_f1"]["live"])}), and the model is deployed through
Rasa's `PUT /model`. The annotated phrasing is understood afterwards:
{"yes" if r["understood_after_deploy"] else "no"}.

| chat load | answered | errors | p50 ms | p95 ms |
|---|---|---|---|---|
| no training running | {idle["n"]} | {idle["errors"]} | {idle["p50_ms"]:.0f} | \
{idle["p95_ms"]:.0f} |
| while the training job runs | {busy["n"]} | {busy["errors"]} | {busy["p50_ms"]:.0f} | \
{busy["p95_ms"]:.0f} |

| target (issue #6) | measured | met |
|---|---|---|
| annotation → deployed model on the full data set ≤ 5 minutes (2 cores) | \
{r["annotation_to_deployed_seconds"]:.0f} s (training job {r["training_job_seconds"]:.0f} s) | \
{"yes" if total_ok else "no"} |
| chat p95 while a training runs grows by at most 50% | {r["p95_growth"]:+.0%} | \
{"yes" if growth_ok else "no"} |
{END}
"""


def write_section(results: dict[str, Any]) -> None:
    section = render(results)
    replace_section(DOC, section, BEGIN, END)


if __name__ == "__main__":
    raise SystemExit(main())
