# syntax=docker/dockerfile:1
# Trama's image: one image for every role (web, worker, scheduler, release), chosen by the
# command: `bin/trama web` (the default), `worker`, `scheduler`, `release`. compose.yaml runs
# them all. Build: `docker build -t trama .`

ARG PYTHON_IMAGE=python:3.12-slim-bookworm

# --- build: the virtual environment (runtime dependencies only) and the static files -------
FROM ${PYTHON_IMAGE} AS build
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app
# Dependencies first: this layer is rebuilt only when the lock changes.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-default-groups --no-install-project
COPY . .
# Production's static files (hashed names, ManifestStaticFilesStorage); placeholder secrets:
# collectstatic reads no secret, but settings refuse to load without them. Then the app's own
# bytecode (the runtime user cannot write it next to the code, root owns /app).
RUN DEBUG=0 SECRET_KEY=build-only STRIPE_WEBHOOK_SECRET=build-only \
    ANYMAIL_WEBHOOK_SECRET=build:only STATIC_ROOT=/static \
    /app/.venv/bin/python manage.py collectstatic --no-input --verbosity 0 \
 && rm -rf var tests bench docs standin .git \
 && /app/.venv/bin/python -m compileall -q -x '/app/\.venv/' /app

# --- runtime: the Python, WeasyPrint's system libraries, the app, a user without rights ----
FROM ${PYTHON_IMAGE} AS runtime
# Pango and its fonts for WeasyPrint's receipt PDFs (docs/design/stack.md).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 trama \
 && useradd --system --uid 10001 --gid trama --home-dir /app --shell /usr/sbin/nologin trama \
 && mkdir -p /var/lib/trama/static /var/lib/trama/media /var/lib/trama/private /tmp/trama-metrics \
 && chown -R trama:trama /var/lib/trama /tmp/trama-metrics
COPY --from=build --chown=root:root /app /app
COPY --from=build --chown=trama:trama /static /var/lib/trama/static
WORKDIR /app
ENV PATH=/app/.venv/bin:$PATH \
    PYTHON=/app/.venv/bin/python \
    PYTHONUNBUFFERED=1 \
    DEBUG=0 \
    WEB_BIND=0.0.0.0:8000 \
    STATIC_ROOT=/var/lib/trama/static \
    MEDIA_ROOT=/var/lib/trama/media \
    PRIVATE_ROOT=/var/lib/trama/private \
    PROMETHEUS_MULTIPROC_DIR=/tmp/trama-metrics
USER trama
EXPOSE 8000
ENTRYPOINT ["bin/trama"]
CMD ["web"]
