# One entry point per job; see README.md. Every target installs what it needs first.
SHELL := /bin/bash
PY := .venv/bin/python
RASA := .venv-rasa/bin/rasa
ENGINE_PY := .venv-rasa/bin/python
# pytest exits 5 when a selection holds no test: say so instead of failing the whole run.
NO_TESTS_OK := || { code=$$?; [ $$code -eq 5 ] && echo "pytest: no tests in this selection"; [ $$code -eq 5 ]; }
export RASA_TELEMETRY_ENABLED := false

.PHONY: setup run run-scale serve train test lint typecheck unit unit-engine validate nlu-eval \
	conversations e2e bench bench-scale bench-faults clean import-padron import-transparency

setup: .venv/.installed .venv-rasa/.installed

.venv/.installed: requirements/gateway.lock scripts/bootstrap.py
	python3 scripts/bootstrap.py gateway

.venv-rasa/.installed: requirements/engine.lock scripts/bootstrap.py
	python3 scripts/bootstrap.py engine

## Run everything (Rasa, action server, gateway) on embedded defaults.
run: setup
	$(PY) -m bot up

## The scale-out topology: SCALE gateways, Rasa engines and action servers behind nginx, on the
## machine's PostgreSQL, Redis and RabbitMQ (DATABASE_URL, REDIS_URL… in .env).
SCALE ?= 2
run-scale: setup
	$(PY) -m bot up --scale $(SCALE) --timeout 600

serve: .venv/.installed
	$(PY) -m bot serve

train: setup
	$(PY) -m bot train

## All that CI checks. The engine's tests run after training: some drive the trained model.
test: setup lint typecheck unit validate train unit-engine nlu-eval conversations e2e
	@echo "make test: all checks passed"

lint: .venv/.installed
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/lint-imports  # which room may import which: [tool.importlinter] in pyproject.toml

# The whole project, then what the action server runs (the shared folder and the actions) under
# Python 3.10's rules.
typecheck: .venv/.installed
	.venv/bin/mypy
	.venv/bin/mypy --python-version 3.10 bot/knowledge actions

unit: .venv/.installed
	$(PY) -m pytest -m "not e2e and not browser" -q $(NO_TESTS_OK)

# The engine's tests, and the shared folder's (bot/knowledge) on the engine's Python 3.10 too.
unit-engine: .venv-rasa/.installed
	$(ENGINE_PY) -m pytest -c tests/actions/pytest.ini --rootdir=. --confcutdir=tests/actions -q \
		tests/actions tests/engine tests/bot/knowledge $(NO_TESTS_OK)

validate: .venv-rasa/.installed
	$(PY) -m bot check-knowledge
	$(PY) scripts/digression_rules.py --check
	$(RASA) data validate --fail-on-warnings

nlu-eval: setup
	$(PY) -m bot evaluate-nlu

conversations: setup
	$(PY) -m bot test-conversations

e2e: setup
	$(PY) -m pytest -m "e2e or browser" -q $(NO_TESTS_OK)

# SUNAT's padrón reducido del RUC: make import-padron FILE=padron_reducido_ruc.zip
import-padron: setup
	@test -n "$(FILE)" || (echo "usage: make import-padron FILE=padron_reducido_ruc.zip" >&2; exit 2)
	$(PY) -m bot import-padron "$(FILE)"

# SUNAT's budget execution figures (MEF open data, CSV): make import-transparency FILE=gasto.csv
# [FECHA_CORTE=2026-11-30] [PLIEGO=code]; see data/transparency/README.md
import-transparency: setup
	@test -n "$(FILE)" || (echo "usage: make import-transparency FILE=gasto.csv [FECHA_CORTE=YYYY-MM-DD] [PLIEGO=code]" >&2; exit 2)
	$(PY) -m bot import-transparency "$(FILE)" $(if $(FECHA_CORTE),--fecha-corte "$(FECHA_CORTE)") $(if $(PLIEGO),--pliego "$(PLIEGO)")

# Then the scale benchmark (issue 15: the topologies of `bot up [--scale N]` under locust, on
# the machine's PostgreSQL, Redis and RabbitMQ), which writes its own section after bench.load
# has rewritten the document; then the fault runs (kill -9 and service restarts under load).
bench: setup
	$(PY) -m bench.load
	$(PY) -m bench.scale
	$(PY) -m bench.faults

# The scale benchmark alone, its section of docs/benchmarks.md replaced in place:
# make bench-scale [ARGS="--topologies 1,2 --users 10,50,200"]
bench-scale: setup
	$(PY) -m bench.scale $(ARGS)

# The fault runs alone (restarts the machine's PostgreSQL, Redis and RabbitMQ), their section of
# docs/benchmarks.md replaced in place: make bench-faults [ARGS="--faults gateway-1,redis"]
bench-faults: setup
	$(PY) -m bench.faults $(ARGS)

clean:
	rm -rf var/results var/tmp .pytest_cache .mypy_cache .ruff_cache
