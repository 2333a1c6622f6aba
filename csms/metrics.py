"""Prometheus metrics of this process (station sockets, OCPP frames, handler latency, commands,
queues, database and channel-layer errors) and the `/metrics` view that serves them.

Each process keeps its own registry and serves it: a scraper targets every server process.
"""
import hmac
from collections import Counter as Tally

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count
from django.http import HttpResponse
from django.views.decorators.http import require_safe
from prometheus_client import REGISTRY, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.exposition import choose_encoder
from prometheus_client.core import GaugeMetricFamily

from csms.ocpp.framing import CALL, CALLERROR, CALLRESULT, ERROR_CODES, OCPP16, OCPP201

disable_created_metrics()  # a *_created series per labelled counter doubles the scrape for nothing
MESSAGE_TYPE_NAMES = {CALL: "CALL", CALLRESULT: "CALLRESULT", CALLERROR: "CALLERROR", None: "unparsed"}
# Seconds; OCPP handlers take milliseconds, a slow database makes them take seconds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

messages = Counter(
    "csms_ocpp_messages", "OCPP frames in and out, by type, action and outcome "
    "(ok, an OCPP error code, unmatched, or empty for a CALL)",
    ["direction", "message_type", "action", "outcome"])
handler_seconds = Histogram(
    "csms_ocpp_handler_seconds", "Time from a station's CALL to the CSMS's answer, by action",
    ["action"], buckets=LATENCY_BUCKETS)
station_answer_seconds = Histogram(
    "csms_ocpp_station_answer_seconds", "Time from a CSMS CALL to the station's answer, by action",
    ["action"], buckets=LATENCY_BUCKETS)
upgrades = Counter(
    "csms_ocpp_upgrades", "WebSocket upgrades to /ocpp/<identity>: accepted, or the HTTP status "
    "they were refused with", ["outcome"])
commands_finished = Counter(
    "csms_commands_finished", "Commands (CSMS -> station calls) given an outcome by this process",
    ["status"])
commands_open = Gauge(
    "csms_commands_open", "Commands without an outcome in the whole CSMS (the database, read at "
    "each scrape): queued (not sent yet) and sent (waiting for the answer)", ["status"])
message_log_dropped = Counter(
    "csms_message_log_dropped_frames", "Frames dropped from the message-log buffer while the "
    "database could not keep up")
database_errors = Counter(
    "csms_database_errors", "Database errors met by this process, by where", ["where"])
channel_layer_errors = Counter(
    "csms_channel_layer_errors", "Channel-layer (Redis) errors met by this process, by operation",
    ["operation"])
ingest_batches = Counter(
    "csms_ingest_batches", "Group commits of the hot path written by this process (one database "
    "transaction each)")
ingest_jobs = Counter(
    "csms_ingest_jobs", "Messages written by this process's group commits")
ingest_fallbacks = Counter(
    "csms_ingest_fallbacks", "Hot-path messages handled the one-message way instead (not next in "
    "order, or the row changed by someone else), by action", ["action"])

_known_actions = None
KNOWN_OUTCOMES = frozenset(
    {"", "ok", "unmatched"} | {code for codes in ERROR_CODES.values() for code in codes}
    | {code for codes in ERROR_CODES.values() for code in codes.values()})
_message_children = {}  # (direction, type, action, outcome) -> its counter, skipping .labels()
_handler_children = {}
_answer_children = {}
_commands_children = {}


def _action_label(action):
    """A station may send any action name: label values stay within the schemas' actions."""
    global _known_actions
    if _known_actions is None:
        from csms.ocpp import schemas

        _known_actions = frozenset(schemas.actions(OCPP16) | schemas.actions(OCPP201) | {""})
    return action if action in _known_actions else "unknown"


def _child(children, metric, *labels):
    child = children.get(labels)
    if child is None:
        child = children[labels] = metric.labels(*labels)
    return child


def count_frame(direction, message_type, action, outcome, duration_ms):
    """One frame in or out (called by the message log for every frame)."""
    key = (direction, message_type, action, outcome)
    child = _message_children.get(key)
    if child is None:
        action = _action_label(action or "")
        outcome = outcome if outcome in KNOWN_OUTCOMES else "other"
        child = messages.labels(direction, MESSAGE_TYPE_NAMES.get(message_type, "unparsed"),
                                action, outcome)
        if key == (direction, message_type, action, outcome):
            _message_children[key] = child  # only known label values: the cache stays bounded
    child.inc()
    if duration_ms is not None and message_type != CALL:
        action = _action_label(action or "")
        # An answer going out closes a station's CALL; one coming in closes ours.
        children, metric = ((_handler_children, handler_seconds) if direction == "out"
                            else (_answer_children, station_answer_seconds))
        _child(children, metric, action).observe(duration_ms / 1000)


def command_finished(status):
    _child(_commands_children, commands_finished, str(status)).inc()


def upgrade(outcome):
    upgrades.labels(str(outcome)).inc()


def ingest_batch(jobs):
    ingest_batches.inc()
    ingest_jobs.inc(jobs)


def ingest_fallback(action):
    ingest_fallbacks.labels(action).inc()


def database_error(where):
    database_errors.labels(where).inc()


def channel_layer_error(operation):
    channel_layer_errors.labels(operation).inc()


class StationsConnected:
    """csms_stations_connected{ocpp_version}: the station sockets this process holds, counted at
    each scrape (nothing to keep up to date on the connect path)."""

    def describe(self):
        return [GaugeMetricFamily("csms_stations_connected", self.__doc__, labels=["ocpp_version"])]

    def collect(self):
        from csms.ocpp import presence

        family = GaugeMetricFamily(
            "csms_stations_connected", "Station sockets this process holds, by OCPP version",
            labels=["ocpp_version"])
        held = Tally(presence.held_versions())
        for version in (OCPP16, OCPP201):
            family.add_metric([version], held.get(version, 0))
        yield family


class MessageLogBuffer:
    """csms_message_log_buffer_frames: frames waiting to be written to the message log."""

    def describe(self):
        return [GaugeMetricFamily("csms_message_log_buffer_frames", self.__doc__)]

    def collect(self):
        from csms.ocpp import messagelog

        yield GaugeMetricFamily("csms_message_log_buffer_frames",
                                "Frames waiting in this process to be written to the message log",
                                value=messagelog.pending_count())


REGISTRY.register(StationsConnected())
REGISTRY.register(MessageLogBuffer())


def _read_open_commands():
    from csms.models import Command

    try:
        counts = dict(Command.objects.filter(status__in=(Command.Status.QUEUED, Command.Status.SENT))
                      .values_list("status").annotate(count=Count("id")).order_by())
    except DatabaseError:
        database_error("metrics")
        commands_open.clear()  # no figure rather than a stale one
        return
    for status in (Command.Status.QUEUED, Command.Status.SENT):
        commands_open.labels(str(status)).set(counts.get(status, 0))


def _refusal(request):
    """None when the request may read the metrics, else the answer refusing it."""
    if settings.METRICS_PUBLIC:
        return None
    token = settings.METRICS_TOKEN
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(
            presented.strip().encode(), token.encode()):
        return None
    user = request.user
    if user.is_authenticated and user.is_active and user.is_staff:
        return None
    if user.is_authenticated:
        return HttpResponse("Metrics are for staff accounts or the metrics token.\n", status=403,
                            content_type="text/plain")
    answer = HttpResponse("Metrics need the metrics token (Authorization: Bearer ...) or a staff "
                          "login.\n", status=401, content_type="text/plain")
    answer["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return answer


@require_safe
def metrics_view(request):
    """GET /metrics: this process's metrics in Prometheus' text format."""
    refusal = _refusal(request)
    if refusal is not None:
        return refusal
    _read_open_commands()
    # Prometheus' text format 0.0.4 unless the scraper asks for OpenMetrics.
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encode(REGISTRY), content_type=content_type)
