"""Settings for the CSMS, read from environment variables.

Every variable left unset falls back to the embedded default: SQLite, the in-memory channel
layer and Celery tasks run in-process, so one command gives a working CSMS.
"""
import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("CSMS_DATA_DIR", BASE_DIR / "data"))


def env_str(name, default=""):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name, default):
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_float(name, default):
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def env_list(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# Production settings: on by default with the services topology (DATABASE_URL or REDIS_URL
# set), off on the embedded default. They need SECRET_KEY and ALLOWED_HOSTS, send cookies and
# HSTS for https only, and refuse security profile 1 (see OCPP_ALLOW_SECURITY_PROFILE_1).
PRODUCTION = env_bool("PRODUCTION", bool(env_str("DATABASE_URL") or env_str("REDIS_URL")))
if PRODUCTION:
    from django.core.exceptions import ImproperlyConfigured

    for _required in ("SECRET_KEY", "ALLOWED_HOSTS"):
        if not env_str(_required).strip():
            raise ImproperlyConfigured(
                f"{_required} must be set with production settings (DATABASE_URL or REDIS_URL "
                "set, or PRODUCTION=true); see docs/operations.md")
SECRET_KEY = env_str("SECRET_KEY") or "embedded-default-insecure-key-set-SECRET_KEY-in-production"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["*"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# https only in production: plain http is redirected (but the container healthcheck and the
# metrics scraper ask the server directly), cookies are never sent over http, and HSTS.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
SECURE_REDIRECT_EXEMPT = [r"^healthz/$", r"^metrics$"]
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", PRODUCTION)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", PRODUCTION)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csms",
    "stations",
    "transactions",
    "smartcharging",
    "devicemodel",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outermost of ours: turns every HTML error page under /api/ (unrouted 404, 500) into JSON.
    "csms.api.middleware.ApiErrorMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Viewers may not change anything on the dashboard; every change is audited (csms/roles.py,
    # csms/audit/middleware.py).
    "csms.roles.RoleMiddleware",
    "csms.audit.middleware.AuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: WhiteNoise is sync-only. Above the async-capable middleware it made every ASGI
    # request cross sync/async twice, with a new event loop thread each time; here it sits
    # next to the (sync) views in the one thread hop every request makes anyway.
    "whitenoise.middleware.WhiteNoiseMiddleware",
]

ROOT_URLCONF = "csms.urls"
ASGI_APPLICATION = "csms.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csms.roles.context_processor",
            ],
        },
    },
]

# --- Database: DATABASE_URL, else SQLite in DATA_DIR -------------------------------------------
DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'csms.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL + IMMEDIATE: the server, workers and tests share one file without "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A pool per process: under ASGI every API request runs on a fresh thread, which without a
    # pool opened (and closed) a PostgreSQL connection per request. The OCPP session threads keep
    # theirs for the life of the process (OCPP_DATABASE_THREADS), so the pool must be larger.
    DATABASES["default"]["OPTIONS"] = {
        "pool": {
            "min_size": env_int("DATABASE_POOL_MIN_SIZE", 2),
            "max_size": env_int("DATABASE_POOL_MAX_SIZE", 24),
            "timeout": env_int("DATABASE_POOL_TIMEOUT", 10),
            "max_idle": 300,
            # Seconds the pool keeps retrying a lost connection in the background (psycopg's
            # default, 300, doubles the wait between attempts: after an outage the pool could
            # stay empty about as long again); then the next request for one tries at once.
            "reconnect_timeout": env_float("DATABASE_POOL_RECONNECT_TIMEOUT", 2.0),
        },
    }
    # A pooled connection is checked (one empty query, ~0.1-0.2 ms) when handed out: after a
    # database restart the idle ones in the pool are dead, and an API request or a worker task
    # given one failed. Threads that keep their connection are checked by csms/ocpp/sessiondb.py.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A connection kept by a long-lived server thread (OCPP sessions, beat, message log) is
# health-checked before use once idle this many seconds, so none fails for a restart while idle.
DATABASE_IDLE_CHECK_SECONDS = env_float("DATABASE_IDLE_CHECK_SECONDS", 5.0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channel layer: REDIS_URL, else in-memory (single process) ---------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # The layer's blocking pop waits 5 s and redis-py >= 8 times reads out at 5 s by
                # default, which kills idle consumers (code 1011): give reads more room.
                "hosts": [{"address": REDIS_URL, "socket_timeout": 30}],
                "capacity": 1500,
                "expiry": 30,
                "prefix": env_str("CHANNEL_LAYER_PREFIX", "csms"),
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "csms.ocpp.channel_layer.EmbeddedChannelLayer"}}

# --- Celery: CELERY_BROKER_URL, else tasks run eagerly in the calling process ------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
if CELERY_TASK_ALWAYS_EAGER:
    CELERY_BROKER_URL = "memory://"  # never used: eager tasks run in the caller
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Workers and beat keep retrying a lost broker (Redis restarts) forever instead of exiting.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BEAT_SCHEDULE = {
    # Settles commands no live consumer will settle (dead process, station gone).
    "sweep-commands": {
        "task": "csms.tasks.sweep_commands",
        "schedule": env_float("OCPP_SWEEP_SECONDS", 15.0),
    },
    # Meter values and message log: daily partitions made ahead (PostgreSQL), retention applied.
    "maintain-partitions": {
        "task": "csms.tasks.maintain_partitions",
        "schedule": env_float("PARTITION_MAINTENANCE_SECONDS", 3600.0),
    },
}

# --- OCPP protocol tunables --------------------------------------------------------------------
# Seconds the CSMS waits for a station's answer to one of its CALLs before recording a timeout.
OCPP_CALL_TIMEOUT = env_float("OCPP_CALL_TIMEOUT", 30.0)
# Heartbeat interval (s) handed to stations in an Accepted BootNotification answer.
OCPP_HEARTBEAT_INTERVAL = env_int("OCPP_HEARTBEAT_INTERVAL", 300)
# Retry interval (s) handed to Pending or Rejected stations.
OCPP_BOOT_RETRY_INTERVAL = env_int("OCPP_BOOT_RETRY_INTERVAL", 60)
# What to do with a station identity the CSMS has never seen:
#   accept  - register it and accept its boot
#   pending - register it and answer its boot Pending until an operator accepts it
#   reject  - refuse the WebSocket upgrade
OCPP_UNKNOWN_STATION_POLICY = env_str("OCPP_UNKNOWN_STATION_POLICY", "accept")
# Station identities: OCPP identifierString (letters, digits, * - _ = : + | @ .) by default; a
# regular expression here replaces that character set (e.g. to allow spaces). Never allowed
# either way: more than 48 characters, non-printable or non-ASCII ones, "/", "\\" and "..".
OCPP_IDENTITY_PATTERN = env_str("OCPP_IDENTITY_PATTERN", "")
# Failed station logins (Basic auth on the upgrade): after this many failures of one identity,
# or from one source address, further upgrades are refused (HTTP 429) without checking the
# password, for OCPP_LOGIN_THROTTLE_BASE_SECONDS doubling with each failure beyond the
# threshold, up to OCPP_LOGIN_THROTTLE_MAX_SECONDS. A count with no failure for
# OCPP_LOGIN_THROTTLE_FORGET_SECONDS starts over; a successful login clears its identity's count.
OCPP_LOGIN_THROTTLE_IDENTITY_FAILURES = env_int("OCPP_LOGIN_THROTTLE_IDENTITY_FAILURES", 5)
OCPP_LOGIN_THROTTLE_ADDRESS_FAILURES = env_int("OCPP_LOGIN_THROTTLE_ADDRESS_FAILURES", 20)
OCPP_LOGIN_THROTTLE_BASE_SECONDS = env_float("OCPP_LOGIN_THROTTLE_BASE_SECONDS", 1.0)
OCPP_LOGIN_THROTTLE_MAX_SECONDS = env_float("OCPP_LOGIN_THROTTLE_MAX_SECONDS", 900.0)
OCPP_LOGIN_THROTTLE_FORGET_SECONDS = env_float("OCPP_LOGIN_THROTTLE_FORGET_SECONDS", 3600.0)
# Security profile (1, 2, 3) of a station registered without one (an unknown identity, a new
# station in the API or dashboard). 1: Basic auth over ws; 2: Basic auth over TLS; 3: mutual TLS.
OCPP_DEFAULT_SECURITY_PROFILE = env_int("OCPP_DEFAULT_SECURITY_PROFILE", 1)
# Whether profile 1 (plain ws) may connect at all: off with production settings unless set.
OCPP_ALLOW_SECURITY_PROFILE_1 = env_bool("OCPP_ALLOW_SECURITY_PROFILE_1", not PRODUCTION)
# Addresses (CIDRs) of the TLS proxies whose X-Forwarded-Proto / -For and X-SSL-Client-Verify /
# -S-DN headers are believed; from any other peer those headers are ignored. Default none.
OCPP_TRUSTED_PROXIES = env_list("OCPP_TRUSTED_PROXIES", [])
try:
    import ipaddress as _ipaddress

    [_ipaddress.ip_network(_proxy, strict=False) for _proxy in OCPP_TRUSTED_PROXIES]
except ValueError as _error:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"OCPP_TRUSTED_PROXIES: {_error}") from None
# runcsms's own TLS port (0: none) beside its plain one, its certificate chain and key (PEM),
# and the CA whose client certificates it verifies (profile 3; blank: none asked for).
TLS_PORT = env_int("TLS_PORT", 0)
TLS_CERTIFICATE_FILE = env_str("TLS_CERTIFICATE_FILE", "")
TLS_PRIVATE_KEY_FILE = env_str("TLS_PRIVATE_KEY_FILE", "")
TLS_CLIENT_CA_FILE = env_str("TLS_CLIENT_CA_FILE", "")
# WebSocket ping interval (s); keeps NAT mappings open. Idle connections are never cut off.
OCPP_PING_INTERVAL = env_int("OCPP_PING_INTERVAL", 20)
# Days of frames kept in the message log (0: forever); PostgreSQL drops whole days past it.
OCPP_MESSAGE_LOG_RETENTION_DAYS = env_int("OCPP_MESSAGE_LOG_RETENTION_DAYS", 30)
# Days of meter values kept (0, the default: forever; bills and disputes may need them).
METER_VALUE_RETENTION_DAYS = env_int("METER_VALUE_RETENTION_DAYS", 0)
# PostgreSQL: the daily partitions of meter values and message log exist this many days ahead.
PARTITION_AHEAD_DAYS = env_int("PARTITION_AHEAD_DAYS", 7)
# The message log is written in batches: at most this many seconds behind the wire.
OCPP_MESSAGE_LOG_FLUSH_SECONDS = env_float("OCPP_MESSAGE_LOG_FLUSH_SECONDS", 0.5)
# A station's last-message time is written at most this often (s); Heartbeats cost no write.
OCPP_LAST_SEEN_WRITE_INTERVAL = env_float("OCPP_LAST_SEEN_WRITE_INTERVAL", 30.0)
# Each server process proves it is alive this often (s); see OCPP_SERVER_DEAD_SECONDS.
OCPP_SERVER_BEAT_SECONDS = env_float("OCPP_SERVER_BEAT_SECONDS", 5.0)
# A process whose beat is older than this (s) is dead: the sweep drops its presences, marks its
# stations disconnected and settles their commands. A late beat alone disowns nothing (a stalled
# process still holds its sockets). Default six beats (30 s): GC pauses, slow disks and database
# failovers stay below it; a crashed server's stations show disconnected within half a minute.
OCPP_SERVER_DEAD_SECONDS = env_float("OCPP_SERVER_DEAD_SECONDS", 6 * OCPP_SERVER_BEAT_SECONDS)
# Extra modules registering OCPP handlers (vendor extensions), imported after the apps' own.
OCPP_HANDLER_MODULES = env_list("OCPP_HANDLER_MODULES", [])
# Stations connecting and booting at once per server process; more wait in the listen backlog
# (csms/ocpp/admission.py). 0 = no limit.
OCPP_MAX_ADMISSIONS = env_int("OCPP_MAX_ADMISSIONS", 100)
# Largest WebSocket message (bytes, after decompression) a station may send; a larger one closes
# its socket with 1009 and a log line. 1 MiB holds the largest real frames (NotifyReport parts,
# offline TransactionEvent / MeterValues bursts; certificates and firmware URLs are ≤ 10 kB)
# many times over, and bounds what one socket can make the server buffer. Default 1048576.
OCPP_MAX_FRAME_BYTES = env_int("OCPP_MAX_FRAME_BYTES", 1024 * 1024)
# Seconds a station that never booted has after its upgrade to send its first CALL; a socket
# silent that long is closed (1008). Pending/Rejected stations get OCPP_BOOT_RETRY_INTERVAL more
# (their next boot is due then); Accepted ones may reconnect without booting and stay quiet
# until their next Heartbeat: they are not timed. 0 = never. Default 30.
OCPP_FIRST_MESSAGE_TIMEOUT = env_float("OCPP_FIRST_MESSAGE_TIMEOUT", 30.0)
# Seconds an upgrade may take from its TCP connection to its admission; later it is refused 503
# with Retry-After (the CSMS is overloaded, e.g. in a reconnect storm). Above the admission's own
# database timeout (15 s), below autobahn's opening-handshake timeout (this + 8 s), which would
# drop the connection unanswered.
OCPP_UPGRADE_TIMEOUT = env_float("OCPP_UPGRADE_TIMEOUT", 18.0)
# Seconds a TCP connection may go without sending a complete HTTP request (a bare connection,
# or an idle keep-alive one) before the server closes it. 0 = Twisted's 12 hours. Default 30.
HTTP_IDLE_TIMEOUT = env_float("HTTP_IDLE_TIMEOUT", 30.0)
# Modules registering DataTransfer vendor handlers (stations/datatransfer.py); a transfer from a
# vendor none registers is answered UnknownVendorId. Default none.
OCPP_DATA_TRANSFER_MODULES = env_list("OCPP_DATA_TRANSFER_MODULES", [])
# How long (ms) a thread may hold the GIL while others wait: the server's event loop thread
# (every socket) competes with the database threads; Python's default is 5 ms.
SERVER_GIL_SWITCH_MS = env_float("SERVER_GIL_SWITCH_MS", 5.0)
# Server processes `runcsms` starts on its port (one core each; `runcsms --workers` overrides):
# a number, or "auto" / 0 for one per usable CPU. More than one needs REDIS_URL.
SERVER_WORKERS = env_str("SERVER_WORKERS", "1")
# Threads (each with its own database connection) running the OCPP sessions' queries per process.
# SQLite takes one writer at a time and its lock waits sleep, so it gets one thread.
OCPP_DATABASE_THREADS = env_int(
    "OCPP_DATABASE_THREADS",
    1 if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" else 8,
)
# Group commit of the hot path (csms/ocpp/ingest.py): meter readings and the usual
# TransactionEvent of many stations written in one database transaction, each station answered
# after the COMMIT. Off: each message commits alone on the session threads (the design before).
OCPP_INGEST_GROUP_COMMIT = env_bool("OCPP_INGEST_GROUP_COMMIT", True)
# Most messages one group commit writes together.
OCPP_INGEST_BATCH_MAX = env_int("OCPP_INGEST_BATCH_MAX", 500)
# Group commits written at once per process (PostgreSQL; SQLite takes one writer), each on a
# thread with its own database connection.
OCPP_INGEST_WRITERS = env_int("OCPP_INGEST_WRITERS", 1)
# Longest time (s) the API holds a request open waiting for a command's outcome.
OCPP_COMMAND_MAX_WAIT = env_float("OCPP_COMMAND_MAX_WAIT", 60.0)
# A command still queued (never sent) this many seconds after it was made ends `timeout` ("not
# delivered within N s") and is never sent: acting on a Reset a minute late is worse than not at
# all. Default 60 s: room for a wait behind one unanswered call (OCPP_CALL_TIMEOUT) or for a
# station whose server died to reconnect elsewhere, while a worker or Redis outage is not.
OCPP_COMMAND_QUEUE_EXPIRY = env_float("OCPP_COMMAND_QUEUE_EXPIRY", 60.0)

# --- Transactions: authorization, cost, reservations ---------------------------------------
# Tokens the CSMS does not know: "reject" answers Unknown (1.6: Invalid); "accept" records the
# token and accepts it.
TRANSACTIONS_UNKNOWN_ID_TOKEN_POLICY = env_str("TRANSACTIONS_UNKNOWN_ID_TOKEN_POLICY", "reject")
# cacheExpiryDateTime / expiryDate handed out for tokens without an expiry of their own (s);
# 0 hands out none.
TRANSACTIONS_ID_TOKEN_CACHE_SECONDS = env_int("TRANSACTIONS_ID_TOKEN_CACHE_SECONDS", 86400)
# Seconds between CostUpdated calls to a running 2.0.1 transaction (a tariff may set its own).
TRANSACTIONS_COST_UPDATE_INTERVAL = env_int("TRANSACTIONS_COST_UPDATE_INTERVAL", 300)
# A 1.6 StartTransaction of the same idTag this many seconds after a remote start belongs to it.
TRANSACTIONS_REMOTE_START_WINDOW = env_int("TRANSACTIONS_REMOTE_START_WINDOW", 600)
# How often (s) the periodic tasks look for due cost updates, answers to apply and expiries.
TRANSACTIONS_SWEEP_SECONDS = env_float("TRANSACTIONS_SWEEP_SECONDS", 2.0)
CELERY_BEAT_SCHEDULE.update({
    "transactions-cost-updates": {"task": "transactions.tasks.send_cost_updates",
                                  "schedule": TRANSACTIONS_SWEEP_SECONDS},
    "transactions-settle-answers": {"task": "transactions.tasks.settle_answers",
                                    "schedule": TRANSACTIONS_SWEEP_SECONDS},
    "transactions-expire-reservations": {"task": "transactions.tasks.expire_reservations",
                                         "schedule": TRANSACTIONS_SWEEP_SECONDS},
    "transactions-settle-stale": {"task": "transactions.tasks.settle_stale_transactions",
                                  "schedule": TRANSACTIONS_SWEEP_SECONDS},
})
# A transaction the CSMS hears nothing of (no event, no meter value) for this many seconds is
# closed with stopped reason NoNews, its last reading as stop; 0 never closes one. Counted from
# each message by the server that receives it.
TRANSACTIONS_STALE_AFTER = env_int("TRANSACTIONS_STALE_AFTER", 86400)
# After a station reboots (BootNotification other than Triggered) or reports a connector
# Available, its open transactions there are closed (StationRebooted / ConnectorAvailable)
# unless the station reports them within this many seconds; a later Ended still replaces that.
TRANSACTIONS_SETTLE_GRACE = env_int("TRANSACTIONS_SETTLE_GRACE", 300)

# --- smart charging ----------------------------------------------------------------------------
# How often (s) the charging-profile sweep runs: it applies station answers a failed receiver left
# and marks expired the installed profiles past validTo and TxProfiles whose transaction ended.
SMARTCHARGING_SWEEP_SECONDS = env_float("SMARTCHARGING_SWEEP_SECONDS", 60.0)
# Volts per phase for A↔W in composite schedules (a site's own voltage wins for its members).
SMARTCHARGING_VOLTAGE = env_float("SMARTCHARGING_VOLTAGE", 230.0)
CELERY_BEAT_SCHEDULE["smartcharging-sweep-profiles"] = {
    "task": "smartcharging.tasks.sweep_profiles", "schedule": SMARTCHARGING_SWEEP_SECONDS}
# Profile restore after a boot: a GetChargingProfiles the station accepted whose last
# ReportChargingProfiles part has not come this many seconds after the request ends incomplete
# (a restore then re-sends every profile, as for 1.6).
SMARTCHARGING_REPORT_TIMEOUT_SECONDS = env_float("SMARTCHARGING_REPORT_TIMEOUT_SECONDS", 120.0)
# A restore re-send that fails (timeout, offline, CALLERROR) is tried this many times in all while
# the station stays connected, then the profile stays in error.
SMARTCHARGING_RESTORE_ATTEMPTS = env_int("SMARTCHARGING_RESTORE_ATTEMPTS", 5)
# Seconds before the first retry of a failed re-send; each further retry waits twice as long.
SMARTCHARGING_RESTORE_RETRY_SECONDS = env_float("SMARTCHARGING_RESTORE_RETRY_SECONDS", 30.0)
# How often (s) the beat times out reports and retries the re-sends that are due.
SMARTCHARGING_RESTORE_PASS_SECONDS = env_float("SMARTCHARGING_RESTORE_PASS_SECONDS", 5.0)
CELERY_BEAT_SCHEDULE["smartcharging-restore-pass"] = {
    "task": "smartcharging.tasks.restore_pass", "schedule": SMARTCHARGING_RESTORE_PASS_SECONDS}
# Site load management: triggers within this many seconds of the first make one round.
SMARTCHARGING_REALLOCATION_DEBOUNCE_SECONDS = env_float(
    "SMARTCHARGING_REALLOCATION_DEBOUNCE_SECONDS", 1.0)
# How often (s) the beat checks sites: a limit period about to change, a lost round, a stale one.
SMARTCHARGING_SITE_PASS_SECONDS = env_float("SMARTCHARGING_SITE_PASS_SECONDS", 2.0)
# Every site gets a full round at least this often (s), whatever happens.
SMARTCHARGING_SITE_REFRESH_SECONDS = env_float("SMARTCHARGING_SITE_REFRESH_SECONDS", 300.0)
# A round shares the lowest site limit of the next this-many seconds, so a lower period is in
# force at the stations before it begins.
SMARTCHARGING_SITE_LOOKAHEAD_SECONDS = env_int("SMARTCHARGING_SITE_LOOKAHEAD_SECONDS", 60)
# stackLevel of the site's TxProfiles and fallback TxDefaultProfiles (capped at the station's own
# maximum when it reports one).
SMARTCHARGING_SITE_STACK_LEVEL = env_int("SMARTCHARGING_SITE_STACK_LEVEL", 8)
CELERY_BEAT_SCHEDULE["smartcharging-site-pass"] = {
    "task": "smartcharging.tasks.site_safety_pass", "schedule": SMARTCHARGING_SITE_PASS_SECONDS}

# --- Device model ------------------------------------------------------------------------------
# Seconds after its request (or its last part) an unfinished report is shown as timed out.
DEVICEMODEL_REPORT_TIMEOUT = env_int("DEVICEMODEL_REPORT_TIMEOUT", 600)
# How often (s) station answers nobody waited for are read into variable requests and reports.
DEVICEMODEL_SETTLE_SECONDS = env_float("DEVICEMODEL_SETTLE_SECONDS", 5.0)
# A report requested from every connected, accepted station once a day: ConfigurationInventory,
# FullInventory or SummaryInventory (1.6 stations answer a GetConfiguration); blank: none.
DEVICEMODEL_PERIODIC_REPORT = env_str("DEVICEMODEL_PERIODIC_REPORT", "")
# When the periodic report is requested, HH:MM in UTC.
DEVICEMODEL_PERIODIC_REPORT_AT = env_str("DEVICEMODEL_PERIODIC_REPORT_AT", "02:00")
# Seconds the dashboard waits for a station's answer before showing a request as pending.
DEVICEMODEL_DASHBOARD_WAIT = env_float("DEVICEMODEL_DASHBOARD_WAIT", 5.0)
CELERY_BEAT_SCHEDULE["devicemodel-settle"] = {
    "task": "devicemodel.tasks.settle_pending", "schedule": DEVICEMODEL_SETTLE_SECONDS,
}
if DEVICEMODEL_PERIODIC_REPORT:
    from celery.schedules import crontab

    _hour, _, _minute = DEVICEMODEL_PERIODIC_REPORT_AT.partition(":")
    CELERY_BEAT_SCHEDULE["devicemodel-periodic-report"] = {
        "task": "devicemodel.tasks.request_periodic_reports",
        "schedule": crontab(hour=int(_hour), minute=int(_minute or 0)),
    }

# --- Logs and diagnostics (GetLog, GetDiagnostics) ---------------------------------------------
# The largest log file a station may upload to its one-time URL (bytes); above it: 413. The
# default is the proxy's client_max_body_size (deploy/nginx/csms.conf): raise both together.
LOG_UPLOAD_MAX_BYTES = env_int("LOG_UPLOAD_MAX_BYTES", 10 * 1024 * 1024)
# How long a log upload URL works after the request; then the request ends Expired.
LOG_UPLOAD_EXPIRY_SECONDS = env_int("LOG_UPLOAD_EXPIRY_SECONDS", 3600)
# How often (s) the beat marks requests whose upload URL expired with no file.
LOG_SWEEP_SECONDS = env_float("LOG_SWEEP_SECONDS", 60.0)
CELERY_BEAT_SCHEDULE["stations-logs-sweep"] = {
    "task": "stations.tasks.sweep_log_requests", "schedule": LOG_SWEEP_SECONDS}

# --- Firmware campaigns ------------------------------------------------------------------------
# How often (s) the beat advances running firmware campaigns (the maintenance window opening,
# stations back without a boot); changes of targets and stations advance them at once anyway.
FIRMWARE_CAMPAIGN_TICK_SECONDS = env_float("FIRMWARE_CAMPAIGN_TICK_SECONDS", 10.0)
CELERY_BEAT_SCHEDULE["stations-firmware-campaigns"] = {
    "task": "stations.tasks.advance_firmware_campaigns", "schedule": FIRMWARE_CAMPAIGN_TICK_SECONDS}

# --- Bulk operations ---------------------------------------------------------------------------
# At most this many commands of one bulk operation await their station's answer at once.
BULK_OPERATION_CONCURRENCY = env_int("BULK_OPERATION_CONCURRENCY", 50)
# The beat applies outcomes a failed receiver left unapplied and moves bulk operations on.
CELERY_BEAT_SCHEDULE["stations-bulk-operations"] = {
    "task": "stations.tasks.advance_bulk_operations", "schedule": 15.0}

# --- Display messages and customer information -------------------------------------------------
# Answers to Set/Get/ClearDisplayMessage and CustomerInformation that a failed receiver left
# unapplied are applied by the beat once a minute.
CELERY_BEAT_SCHEDULE["stations-settle-display-messages"] = {
    "task": "stations.tasks.settle_display_messages", "schedule": 60.0}
CELERY_BEAT_SCHEDULE["transactions-settle-customer-information"] = {
    "task": "transactions.tasks.settle_customer_information", "schedule": 60.0}
# Outbound DataTransfer answers a failed receiver left unapplied (GetTransactionStatus answers
# are applied by transactions-settle-answers).
CELERY_BEAT_SCHEDULE["stations-settle-data-transfers"] = {
    "task": "stations.tasks.settle_data_transfers", "schedule": 60.0}

# --- Operational alerts ------------------------------------------------------------------------
# A station offline longer than this (s) raises an alert (0 = never); reconnecting clears it.
ALERT_STATION_OFFLINE_SECONDS = env_int("ALERT_STATION_OFFLINE_SECONDS", 600)
# A running transaction with no event and no reading for this long (s) raises one (0 = never).
ALERT_TRANSACTION_SILENT_SECONDS = env_int("ALERT_TRANSACTION_SILENT_SECONDS", 3600)
# This many commands in a row to one station ending in timeout raise one; an answer clears it.
ALERT_COMMAND_TIMEOUTS_IN_A_ROW = max(1, env_int("ALERT_COMMAND_TIMEOUTS_IN_A_ROW", 3))
# How often (s) the beat checks the time-based alerts (offline stations, silent transactions).
ALERT_CHECK_SECONDS = env_float("ALERT_CHECK_SECONDS", 30.0)
CELERY_BEAT_SCHEDULE["stations-check-alerts"] = {
    "task": "stations.tasks.check_alerts", "schedule": ALERT_CHECK_SECONDS}

# --- Station certificates (the CSMS's certificate authority) ------------------------------------
# Where the generated root and charging-station sub-CA live (keys 0600); used when no
# operator CA is given. Every process that signs (servers, workers) must see the same directory.
CERTIFICATE_AUTHORITY_DIR = Path(env_str("CERTIFICATE_AUTHORITY_DIR") or DATA_DIR / "ca")
# The operator's own issuing CA instead: PEM certificate (issuer first, then its chain up to the
# root) and its private key.
CERTIFICATE_AUTHORITY_CERT_FILE = env_str("CERTIFICATE_AUTHORITY_CERT_FILE", "")
CERTIFICATE_AUTHORITY_KEY_FILE = env_str("CERTIFICATE_AUTHORITY_KEY_FILE", "")
# Encrypts the generated CA keys on disk (and decrypts the operator's key); blank: unencrypted.
CERTIFICATE_AUTHORITY_KEY_PASSPHRASE = env_str("CERTIFICATE_AUTHORITY_KEY_PASSPHRASE", "")
# The O= a station's CSR must carry (and the generated CA's own organisation).
CERTIFICATE_ORGANIZATION = env_str("CERTIFICATE_ORGANIZATION", "CSMS")
# Days a signed station certificate is valid (never beyond the issuing CA).
CERTIFICATE_VALIDITY_DAYS = env_int("CERTIFICATE_VALIDITY_DAYS", 365)
# A station whose certificate expires within this many days is asked for a new CSR.
CERTIFICATE_RENEWAL_DAYS = env_int("CERTIFICATE_RENEWAL_DAYS", 30)
# How often (s) the beat looks for certificates to renew.
CERTIFICATE_RENEWAL_CHECK_SECONDS = env_float("CERTIFICATE_RENEWAL_CHECK_SECONDS", 3600.0)
CELERY_BEAT_SCHEDULE["stations-renew-certificates"] = {
    "task": "stations.tasks.renew_station_certificates",
    "schedule": CERTIFICATE_RENEWAL_CHECK_SECONDS}

# --- Plug & Charge (ISO 15118 contract certificates) -------------------------------------------
# Get15118EVCertificate: "forward" to PNC_PROVIDER_URL, or "fail" (answered Failed, NotSupported).
PNC_EV_CERTIFICATE_POLICY = env_str("PNC_EV_CERTIFICATE_POLICY", "fail")
# GetCertificateStatus: "ocsp" (the CSMS asks the responder in the request), "forward", or "fail".
PNC_CERTIFICATE_STATUS_POLICY = env_str("PNC_CERTIFICATE_STATUS_POLICY", "ocsp")
# The provider (e.g. a V2G/contract certificate pool) the forwarded requests are POSTed to, the
# Authorization header sent with them (blank: none) and how long (s) to wait for its answer.
PNC_PROVIDER_URL = env_str("PNC_PROVIDER_URL", "")
PNC_PROVIDER_AUTHORIZATION = env_str("PNC_PROVIDER_AUTHORIZATION", "")
PNC_PROVIDER_TIMEOUT = env_float("PNC_PROVIDER_TIMEOUT", 10.0)
# Authorize with a contract certificate or its hash data also asks the OCSP responders.
PNC_OCSP_ENABLED = env_bool("PNC_OCSP_ENABLED", False)
# How long (s) to wait for one OCSP responder.
PNC_OCSP_TIMEOUT = env_float("PNC_OCSP_TIMEOUT", 5.0)
# Host names of the OCSP responders the CSMS may contact (responder URLs come from stations and
# certificates); empty: any.
PNC_OCSP_ALLOWED_HOSTS = env_list("PNC_OCSP_ALLOWED_HOSTS", [])

# --- Webhooks ----------------------------------------------------------------------------------
# Automatic tries of one webhook delivery (the first included) before it is marked failed.
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 8)
# Seconds before the first retry of a failed delivery; each further retry waits twice as long.
WEBHOOK_BACKOFF_SECONDS = env_float("WEBHOOK_BACKOFF_SECONDS", 10.0)
# Seconds one POST to a subscriber may take (connect + answer) before it counts as failed.
WEBHOOK_TIMEOUT_SECONDS = env_float("WEBHOOK_TIMEOUT_SECONDS", 10.0)
# How often (s) the beat sends the deliveries that are due but whose scheduled try was lost.
WEBHOOK_SWEEP_SECONDS = env_float("WEBHOOK_SWEEP_SECONDS", 15.0)
CELERY_BEAT_SCHEDULE["webhooks-retry-due"] = {
    "task": "csms.webhooks.tasks.retry_due_webhooks", "schedule": WEBHOOK_SWEEP_SECONDS}

# --- Auth, API ---------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Per-user API tokens, and the older single authtoken keys.
        "csms.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Read: viewer; write: operator; users and settings: administrator (csms/roles.py).
    "DEFAULT_PERMISSION_CLASSES": ["csms.api.permissions.RolePermission"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "csms.api.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    # JSON only: the browsable API answered HTML to a browser or to ?format=api.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "csms.api.errors.exception_handler",
}
# Largest `limit` a list endpoint accepts (default 1000); above it the answer is 400, as for a
# limit or offset that is not a whole number (PAGE_SIZE, 100, is the default page).
API_MAX_PAGE_SIZE = env_int("API_MAX_PAGE_SIZE", 1000)
# Retry-After (seconds) on the API's 503 while the database or Redis is unreachable (default 5).
API_RETRY_AFTER_SECONDS = env_int("API_RETRY_AFTER_SECONDS", 5)
# /metrics (Prometheus) answers a staff login, a request bearing this token
# (Authorization: Bearer <token>) when one is set, and anyone when METRICS_PUBLIC is true.
METRICS_TOKEN = env_str("METRICS_TOKEN")
METRICS_PUBLIC = env_bool("METRICS_PUBLIC", False)
SPECTACULAR_SETTINGS = {
    "TITLE": "CSMS API",
    "DESCRIPTION": "Charging stations, their OCPP sessions and the commands sent to them.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The JSON error answers (4XX, 500, 503 + Retry-After) documented on every operation.
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "csms.api.schema.document_errors"],
    # Swagger UI served from this server, not a CDN: operators' networks are often closed.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Names for choice sets that share a field name with another model's (kind, state).
    "ENUM_NAME_OVERRIDES": {
        "ChargingProfilePurposeEnum": "smartcharging.models.ChargingProfile.Purpose",
        "ChargingProfileKindEnum": "smartcharging.models.ChargingProfile.Kind",
        "ChargingProfileStateEnum": "smartcharging.models.ChargingProfile.State",
        "StateEnum": "transactions.models.Transaction.State",  # keeps the name it had
        "SiteUnitEnum": "smartcharging.models.Site.Unit",
        "RecurrencyKindEnum": "smartcharging.models.ChargingProfile.RecurrencyKind",
        "SiteAllocationStateEnum": "smartcharging.models.SiteAllocation.State",
        "FirmwareUpdateStatusEnum": "stations.models.firmware.FirmwareUpdate.Status",
        "FirmwarePublicationStatusEnum": "stations.models.firmware.FirmwarePublication.Status",
        "AlertKindEnum": "stations.models.alerts.Alert.Kind",
        "AlertStateEnum": "stations.models.alerts.Alert.State",
        "LogKindEnum": "stations.models.logs.LogRequest.Kind",
        "DisplayMessageStateEnum": "stations.models.display.DisplayMessage.State",
        "CertificateTypeEnum": "stations.models.certificates.CertificateType",
        "CustomerInformationStatusEnum":
            "transactions.models_customer.CustomerInformationRequest.Status",
        "IdTokenTypeEnum": "transactions.models.IdTokenType",
        "SecurityProfileEnum": "stations.models.SECURITY_PROFILE_CHOICES",
        "SecurityProfileUpgradeTargetEnum": [(2, 2), (3, 3)],
    },
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Where stations reach this CSMS over HTTP(S): firmware downloads and log uploads are handed to
# them as URLs under it, so it must be the address the stations see (the proxy's, not the pod's).
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# The wss:// URL (without the station identity) a station is given when its security profile is
# raised to 2 or 3 (A05). Blank: PUBLIC_BASE_URL's host on TLS_PORT (443 without it) + /ocpp.
PUBLIC_OCPP_TLS_URL = env_str("PUBLIC_OCPP_TLS_URL", "").rstrip("/")
# Uploaded firmware images and the logs stations upload; any Django storage backend by setting.
MEDIA_ROOT = Path(env_str("FILES_DIR") or DATA_DIR / "files")
STORAGES = {
    "default": {"BACKEND": env_str("FILE_STORAGE_BACKEND",
                                   "django.core.files.storage.FileSystemStorage")},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
# How long a station's firmware download URL works, counted from its retrieve time.
FIRMWARE_URL_TTL_SECONDS = env_int("FIRMWARE_URL_TTL_SECONDS", 86400)

LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
# "plain" (one readable line per record) or "json" (one JSON object per line: csms/logformat.py).
LOG_FORMAT = env_str("LOG_FORMAT", "plain").strip().lower()
if LOG_FORMAT not in ("plain", "json"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
                   "json": {"()": "csms.logformat.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        name: {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False}
        for name in ("csms", "stations", "transactions", "smartcharging", "devicemodel")
    },
}
