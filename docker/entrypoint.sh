#!/bin/sh
# Container entry point: `engine`, `actions` or `gateway` (default). Settings come from the
# environment (.env.example); RASA_TOKEN is required by the engine and the gateway.
set -eu
role="${1:-gateway}"
case "$role" in
  engine)
    : "${RASA_TOKEN:?RASA_TOKEN must be set}"
    # The launcher hands RASA_TOKEN to Rasa inside the process: it is on no command line (ps).
    exec /app/.venv-rasa/bin/python -m bot.engine.launcher run --enable-api \
      --port 5005 --model /app/models --endpoints "${RASA_ENDPOINTS:-endpoints.yml}" \
      --credentials credentials.yml
    ;;
  actions)
    SANIC_HOST=0.0.0.0 exec /app/.venv-rasa/bin/rasa run actions --actions actions --port 5055
    ;;
  gateway)
    GATEWAY_HOST=0.0.0.0 exec /app/.venv/bin/python -m bot serve
    ;;
  *)
    echo "usage: engine | actions | gateway" >&2
    exit 2
    ;;
esac
