"""CSMS -> station log requests: GetLog (2.0.1 and the 1.6 security extension) and 1.6
GetDiagnostics, each pointing the station at its own one-time upload URL on the CSMS."""
from django.db import transaction

from csms.ocpp import outbound
from csms.ocpp.framing import OCPP16

from ..actions import logs as log_actions
from ..models import LogRequest
from . import StationNotReady, _version

__all__ = ["StationNotReady", "KINDS_BY_VERSION", "request_payload", "request_log"]

Kind = LogRequest.Kind
KINDS_BY_VERSION = {
    "2.0.1": [Kind.DIAGNOSTICS_LOG, Kind.SECURITY_LOG],
    OCPP16: [Kind.DIAGNOSTICS_16, Kind.DIAGNOSTICS_LOG, Kind.SECURITY_LOG],
}


def _iso(moment):
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def request_payload(log_request):
    """(action, payload) asking for `log_request`'s log, uploaded to its URL."""
    location = log_actions.upload_url(log_request)
    extras = {key: value for key, value in (("retries", log_request.retries),
                                            ("retryInterval", log_request.retry_interval))
              if value is not None}
    if log_request.kind == Kind.DIAGNOSTICS_16:
        payload = {"location": location, **extras}
        if log_request.oldest_timestamp:
            payload["startTime"] = _iso(log_request.oldest_timestamp)
        if log_request.latest_timestamp:
            payload["stopTime"] = _iso(log_request.latest_timestamp)
        return "GetDiagnostics", payload
    log = {"remoteLocation": location}
    if log_request.oldest_timestamp:
        log["oldestTimestamp"] = _iso(log_request.oldest_timestamp)
    if log_request.latest_timestamp:
        log["latestTimestamp"] = _iso(log_request.latest_timestamp)
    return "GetLog", {"logType": log_request.kind, "requestId": log_request.request_id,
                      "log": log, **extras}


def request_log(station, kind=Kind.DIAGNOSTICS_LOG, oldest_timestamp=None, latest_timestamp=None,
                retries=None, retry_interval=None, source=""):
    """Record the request and send it: (log_request, command). InvalidCommand (with every
    reason) before anything is recorded when the request cannot be made."""
    version = _version(station)
    errors = []
    if kind not in KINDS_BY_VERSION[version]:
        allowed = ", ".join(KINDS_BY_VERSION[version])
        errors.append(f"kind {kind!r} is not available on OCPP {version} (choose {allowed})")
    if oldest_timestamp and latest_timestamp and oldest_timestamp > latest_timestamp:
        errors.append("oldest_timestamp is after latest_timestamp")
    if errors:
        raise outbound.InvalidCommand(errors)
    with transaction.atomic():
        log_request = log_actions.create_request(
            station, kind, oldest_timestamp, latest_timestamp, retries, retry_interval, source)
        action, payload = request_payload(log_request)
        command = outbound.send_call(station.identity, version, action, payload, source=source)
        log_actions.attach_command(log_request, command)
    command.refresh_from_db()  # on the embedded default the answer may already be in
    log_request.refresh_from_db()
    return log_request, command
