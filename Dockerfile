# One image for every CSMS process: the ASGI server, the Celery worker and beat, and migrate.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CSMS_DATA_DIR=/data \
    STATIC_ROOT=/app/staticfiles

WORKDIR /app

# Dependencies first, read from pyproject.toml itself, so a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/dependencies.txt \
    && pip install -r /tmp/dependencies.txt \
    && rm /tmp/dependencies.txt

COPY . .
# Editable, so the code runs from /app (settings find templates/ and static/ beside it) whichever
# entry point starts it: `python manage.py`, `python -m celery` or the `celery` script.
RUN pip install --no-deps -e . \
    && python manage.py collectstatic --noinput --verbosity 0

# The code stays root-owned and read-only to the server; only /data is writable.
RUN useradd --system --uid 10001 --home-dir /data --no-create-home csms \
    && mkdir -p /data && chown csms:csms /data
USER csms
VOLUME ["/data"]

EXPOSE 8000
# GET / answers a redirect to the login page once daphne and Django serve requests (no DB check).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "/app/deploy/healthcheck.py"]

CMD ["python", "manage.py", "runcsms", "--host", "0.0.0.0", "--port", "8000", "--proxy-headers"]
