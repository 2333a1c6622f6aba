"""Chooses the database, channel layer and broker of a test run before Django reads settings.

CSMS_TEST_BACKEND=embedded (default): a fresh SQLite file, in-memory channel layer, eager tasks.
CSMS_TEST_BACKEND=services: a fresh Postgres database, Redis channel layer and a Celery worker.
Every run gets its own database, channel prefix and queue, so runs never see each other.
"""
import atexit
import os
import shutil
import socket
import tempfile
import uuid

BACKEND = os.environ.get("CSMS_TEST_BACKEND", "embedded")
RUN_ID = uuid.uuid4().hex[:10]
RUN_DIR = tempfile.mkdtemp(prefix=f"csms-test-{RUN_ID}-")
POSTGRES_ADMIN_URL = os.environ.get("CSMS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_BASE_URL = os.environ.get("CSMS_TEST_REDIS", "redis://127.0.0.1:6379")


def _reachable(host, port):
    try:
        socket.create_connection((host, port), timeout=2).close()
        return True
    except OSError:
        return False


def _services_environment():
    import psycopg

    if not (_reachable("127.0.0.1", 5432) and _reachable("127.0.0.1", 6379)):
        raise SystemExit("CSMS_TEST_BACKEND=services needs PostgreSQL on :5432 and Redis on :6379")
    database = f"csms_test_{RUN_ID}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{database}"')

    def drop_database():
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    atexit.register(drop_database)
    admin = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    return {
        "DATABASE_URL": f"{admin}/{database}",
        "REDIS_URL": f"{REDIS_BASE_URL}/0",
        "CHANNEL_LAYER_PREFIX": f"csms-test-{RUN_ID}",
        "CELERY_BROKER_URL": f"{REDIS_BASE_URL}/1",
        "CELERY_TASK_DEFAULT_QUEUE": f"csms-test-{RUN_ID}",
    }


def _embedded_environment():
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        os.environ.pop(name, None)
    return {"DATABASE_URL": f"sqlite:///{RUN_DIR}/csms.sqlite3"}


if BACKEND == "services":
    settings_env = _services_environment()
elif BACKEND == "embedded":
    settings_env = _embedded_environment()
else:
    raise SystemExit(f"CSMS_TEST_BACKEND must be embedded or services, not {BACKEND!r}")

settings_env.update({
    "CSMS_DATA_DIR": RUN_DIR,
    "OCPP_CALL_TIMEOUT": "3",
    "OCPP_SERVER_BEAT_SECONDS": "1",
    "OCPP_SWEEP_SECONDS": "1",
    "FIRMWARE_CAMPAIGN_TICK_SECONDS": "1",
    "WEBHOOK_BACKOFF_SECONDS": "0.5",
    "WEBHOOK_SWEEP_SECONDS": "1",
    # Alerts are only records: short thresholds disturb no other test.
    "ALERT_CHECK_SECONDS": "1",
    # Every test station connects from 127.0.0.1: the per-address login throttle would make one
    # test's wrong passwords refuse another's stations (it is tested on a server of its own).
    "OCPP_LOGIN_THROTTLE_ADDRESS_FAILURES": "1000000",
    # Only certificates a test moved into the renewal window are due: a fast pass disturbs none.
    "CERTIFICATE_RENEWAL_CHECK_SECONDS": "1",
    "ALERT_STATION_OFFLINE_SECONDS": "2",
    "ALERT_TRANSACTION_SILENT_SECONDS": "4",
    "ALERT_COMMAND_TIMEOUTS_IN_A_ROW": "2",
    "SMARTCHARGING_REPORT_TIMEOUT_SECONDS": "8",
    "SMARTCHARGING_RESTORE_RETRY_SECONDS": "1",
    "SMARTCHARGING_RESTORE_PASS_SECONDS": "1",
    "OCPP_MESSAGE_LOG_FLUSH_SECONDS": "0.1",
    "OCPP_UNKNOWN_STATION_POLICY": "accept",
    "OCPP_HANDLER_MODULES": "tests.vendor_handlers",
    "SECRET_KEY": f"test-{RUN_ID}",
    # Test servers speak plain http/ws on 127.0.0.1 on both backends; production settings
    # (https redirects, no profile 1) are tested on servers of their own.
    "PRODUCTION": "false",
})
os.environ.update(settings_env)
atexit.register(shutil.rmtree, RUN_DIR, True)
