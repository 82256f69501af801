# One image for web, worker and beat (see docker-compose.yml).
FROM python:3.13.7-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    PATH="/opt/venv/bin:$PATH"

RUN pip install --no-cache-dir uv==0.13.9 \
    && useradd --create-home --uid 1000 salesprep

WORKDIR /app
COPY pyproject.toml uv.lock .python-version ./
RUN uv sync --frozen --no-dev --no-install-project

COPY . .
# collectstatic needs settings that load; these values exist only for this build step.
RUN DEBUG=false SECRET_KEY=build-only-not-secret ALLOWED_HOSTS=localhost \
    STATIC_ROOT=/app/staticfiles SALESPREP_VAR_DIR=/tmp/build-var \
    python manage.py collectstatic --noinput \
    && mkdir -p /app/var && chown -R salesprep:salesprep /app/var

USER salesprep
ENV STATIC_ROOT=/app/staticfiles
EXPOSE 8000
# Exec form: gunicorn is PID 1 and gets the SIGTERM of `docker stop` itself; it lets requests in
# flight finish for up to 20 s (compose gives it 30 s before SIGKILL). Migrations are the
# compose file's one-shot `migrate` service.
CMD ["gunicorn", "salesprep.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--graceful-timeout", "20", "--access-logfile", "-"]
