# syntax=docker/dockerfile:1
# One image, three processes. The command selects which: `engine` (Rasa, :5005),
# `actions` (action server, :5055) or `gateway` (FastAPI, :8000). See docker-compose.yml.

# --- engine environment: Rasa 3.6 needs Python 3.10 -------------------------------------
FROM python:3.10-slim-bookworm AS engine-env
WORKDIR /app
COPY requirements/engine.lock requirements/engine.lock
RUN /usr/local/bin/python3.10 -m venv /app/.venv-rasa \
 && /app/.venv-rasa/bin/pip install --no-cache-dir --no-deps -r requirements/engine.lock

# --- the model, trained at build time from the repository's data --------------------------
FROM engine-env AS model
COPY config.yml domain.yml endpoints.yml credentials.yml ./
COPY data ./data
COPY bot/__init__.py bot/__init__.py
# The pipeline's business facts extractor reads amounts, RUCs and regimes with the code both
# runtimes share: the whole folder, whatever it holds.
COPY bot/knowledge ./bot/knowledge
COPY bot/engine ./bot/engine
RUN ACTION_SERVER_URL=http://actions:5055 RASA_TELEMETRY_ENABLED=false PYTHONPATH=/app \
    /app/.venv-rasa/bin/rasa train --out /app/models --fixed-model-name model

# --- gateway environment: current Python, FastAPI, pydantic 2 ------------------------------
FROM python:3.12-slim-bookworm AS gateway-env
WORKDIR /app
COPY requirements/gateway.lock requirements/gateway.lock
RUN /usr/local/bin/python3.12 -m venv /app/.venv \
 && /app/.venv/bin/pip install --no-cache-dir --no-deps -r requirements/gateway.lock

# --- runtime: both interpreters (same Debian release), both environments, the model -------
FROM python:3.12-slim-bookworm
COPY --from=engine-env /usr/local/bin/python3.10 /usr/local/bin/python3.10
COPY --from=engine-env /usr/local/lib/python3.10 /usr/local/lib/python3.10
COPY --from=engine-env /usr/local/lib/libpython3.10.so.1.0 /usr/local/lib/
RUN ldconfig && useradd --create-home --uid 10001 asistente
WORKDIR /app
COPY --from=engine-env /app/.venv-rasa /app/.venv-rasa
COPY --from=gateway-env /app/.venv /app/.venv
COPY --from=model /app/models /app/models
COPY . /app
# The workbench writes the training data, the articles and new models.
RUN rm -rf /app/var && mkdir -p /app/var && chown -R asistente /app/var /app/data /app/models
USER asistente
ENV RASA_TELEMETRY_ENABLED=false PYTHONPATH=/app PYTHONUNBUFFERED=1
EXPOSE 5005 5055 8000
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["gateway"]
