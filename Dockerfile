# syntax=docker/dockerfile:1
FROM python:3.11-slim AS build
WORKDIR /app
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
COPY requirements.txt .
RUN python -m venv /venv && /venv/bin/pip install -r requirements.txt

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 coinsight
WORKDIR /app
COPY --from=build /venv /venv
COPY bot bot
COPY handlers handlers
COPY services services
COPY db db
COPY migrations migrations
COPY locales locales
COPY alembic.ini .
# The app's bytecode compiled once here: /app is not writable by the bot's user, so each start would
# otherwise compile every module it imports again (~0.2 s of CPU per replica start).
RUN python -m compileall -q bot handlers services db migrations \
    && mkdir -p /app/data && chown coinsight /app/data
USER coinsight
ENV PATH=/venv/bin:$PATH PYTHONUNBUFFERED=1
EXPOSE 8080
# Liveness: /healthz on WEB_PORT (webhook mode) or METRICS_PORT (polling mode; 0 = not served, no check).
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import os,sys,urllib.request; port = os.environ.get('WEB_PORT', '8080') if os.environ.get('WEBHOOK_URL') else os.environ.get('METRICS_PORT', '0'); port not in ('', '0') or sys.exit(0); urllib.request.urlopen('http://127.0.0.1:' + port + '/healthz', timeout=4)"
# The bot only (long polling, or webhook when WEBHOOK_URL is set). Migrations are a separate one-shot
# step run once per deploy (`python -m bot migrate`, the compose `migrate` service); a bot whose
# database is behind exits with one line saying so.
CMD ["python", "-m", "bot"]
