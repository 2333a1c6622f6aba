"""Log and diagnostics requests: created with a one-time upload URL, moved on by the station's
answer and notifications, completed by the upload itself, ended Expired when no file came."""
import hashlib
import logging
import os
import secrets
import tempfile
from datetime import timedelta

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Case, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.text import get_valid_filename

from csms.models import Command

from ..models import LogRequest
from ..signals import log_request_changed

logger = logging.getLogger(__name__)
Status = LogRequest.Status
Kind = LogRequest.Kind

__all__ = ["create_request", "upload_url", "attach_command", "settle_command",
           "apply_log_status", "apply_diagnostics_status", "find_upload_target", "UploadSink",
           "UploadRefused", "UploadTooLarge", "store_upload", "sweep_expired"]

# Not final and not yet holding a file: what a notification or an upload may still move on.
OPEN_STATUSES = {Status.REQUESTED, Status.ACCEPTED, Status.UPLOADING, Status.IDLE}
# A refused, superseded or expired request takes no file (a timed-out command may still upload).
UPLOAD_REFUSED = {Status.REJECTED, Status.CANCELED, Status.EXPIRED}
# Stream uploads in pieces of this size: a large log never sits in memory whole.
CHUNK_BYTES = 256 * 1024


def create_request(station, kind, oldest_timestamp=None, latest_timestamp=None, retries=None,
                   retry_interval=None, source=""):
    """A new request with its one-time upload token; its requestId is its pk."""
    log_request = LogRequest.objects.create(
        station=station, kind=kind, oldest_timestamp=oldest_timestamp,
        latest_timestamp=latest_timestamp, retries=retries, retry_interval=retry_interval,
        upload_token=secrets.token_urlsafe(32),
        expires_at=timezone.now() + timedelta(seconds=settings.LOG_UPLOAD_EXPIRY_SECONDS),
        max_bytes=settings.LOG_UPLOAD_MAX_BYTES, source=source[:100],
    )
    log_request.request_id = log_request.pk
    log_request.save(update_fields=["request_id"])
    return log_request


def upload_url(log_request):
    """Where the station uploads: the CSMS itself, at an unguessable one-time address."""
    path = reverse("stations:logs-upload", kwargs={"token": log_request.upload_token})
    return settings.PUBLIC_BASE_URL + path


def attach_command(log_request, command):
    log_request.command = command
    log_request.save(update_fields=["command", "updated_at"])


def settle_command(command):
    """The station's answer to GetLog / GetDiagnostics (or the command's failure)."""
    with transaction.atomic():
        log_request = LogRequest.objects.select_for_update().filter(
            command_id=command.pk, status=Status.REQUESTED).first()
        if log_request is None:
            return None
        answer = command.response or {}
        if command.status in (Command.Status.ACCEPTED, Command.Status.REJECTED):
            answer_status = answer.get("status", "Accepted")  # GetDiagnostics: no status
            log_request.status = (Status.REJECTED if answer_status == "Rejected"
                                  else Status.ACCEPTED)
            file_name = answer.get("filename") or answer.get("fileName") or ""
            if file_name and not log_request.file_name:
                log_request.file_name = file_name[:255]
            if answer_status == "AcceptedCanceled":
                # The station dropped its ongoing upload for this one.
                _open_without_file(log_request.station_id).exclude(pk=log_request.pk).update(
                    status=Status.CANCELED, status_at=timezone.now(), updated_at=timezone.now())
        else:
            log_request.status = Status.NOT_DELIVERED
        log_request.status_at = timezone.now()
        log_request.save(update_fields=["status", "file_name", "status_at", "updated_at"])
    _announce(log_request.pk)
    return log_request


def _open_without_file(station_pk):
    return LogRequest.objects.filter(station_id=station_pk, status__in=OPEN_STATUSES,
                                     uploaded_at__isnull=True)


def apply_log_status(station_pk, request_id, status):
    """LogStatusNotification (2.0.1, 1.6 security extension). An unknown requestId (or none, as
    a TriggerMessage'd notification without an upload may send) changes nothing: None."""
    if request_id is None:
        logger.info("LogStatusNotification %s without a requestId from station %s", status,
                    station_pk)
        return None
    log_request = LogRequest.objects.filter(station_id=station_pk, request_id=request_id).exclude(
        kind=Kind.DIAGNOSTICS_16).first()
    if log_request is None:
        logger.warning("LogStatusNotification %s for unknown requestId %s from station %s",
                       status, request_id, station_pk)
        return None
    return _apply_station_status(log_request, status)


def apply_diagnostics_status(station_pk, status):
    """DiagnosticsStatusNotification (1.6) has no requestId: it speaks of the station's newest
    GetDiagnostics request still open, else of the newest one at all."""
    requests = LogRequest.objects.filter(station_id=station_pk, kind=Kind.DIAGNOSTICS_16)
    log_request = (requests.filter(status__in=OPEN_STATUSES | {Status.RECEIVED}).first()
                   or requests.first())
    if log_request is None:
        logger.info("DiagnosticsStatusNotification %s from station %s with no request",
                    status, station_pk)
        return None
    return _apply_station_status(log_request, status)


def _apply_station_status(log_request, status):
    now = timezone.now()
    fields = {"station_status": status, "status_at": now, "updated_at": now}
    current = log_request.status
    if current in UPLOAD_REFUSED:
        pass  # over for the CSMS: only the station's word is kept
    elif status == Status.UPLOADED:
        # Said uploaded; without a file yet it may still be on its way (Expired if it never comes).
        fields["status"] = Status.UPLOADED
    elif current in OPEN_STATUSES or current == Status.NOT_DELIVERED:
        fields["status"] = status  # a timed-out command that reached the station after all
    # Else the file is here or the station gave up: a late Uploading/Idle does not move it back.
    LogRequest.objects.filter(pk=log_request.pk).update(**fields)
    log_request.refresh_from_db()
    _announce(log_request.pk)
    return log_request


# --- the upload ------------------------------------------------------------------------------

class UploadRefused(Exception):
    """An upload the CSMS does not take: `status` is the HTTP answer, the message its reason."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class UploadTooLarge(UploadRefused):
    def __init__(self, max_bytes):
        super().__init__(413, f"The log is larger than this request's limit of {max_bytes} bytes.")


def find_upload_target(token):
    """The request an upload token belongs to, if it still takes an upload; else UploadRefused
    (404 unknown, 410 expired or already used)."""
    log_request = LogRequest.objects.filter(upload_token=token).select_related("station").first()
    if log_request is None or not token:
        raise UploadRefused(404, "No log upload is expected at this address.")
    if log_request.uploaded_at is not None:
        raise UploadRefused(410, "This upload address has been used; request the log again.")
    if log_request.status in UPLOAD_REFUSED or log_request.expires_at <= timezone.now():
        raise UploadRefused(410, f"This upload address no longer takes a file (the request is "
                                 f"{'Expired' if log_request.status in OPEN_STATUSES else log_request.status}); "
                                 "request the log again.")
    return log_request


class UploadSink:
    """Takes an upload's bytes in pieces into a temporary file, counting and hashing them, and
    refuses the piece that passes the request's limit."""

    def __init__(self, max_bytes):
        self.max_bytes = max_bytes
        self.size = 0
        self.digest = hashlib.sha256()
        self.temporary = tempfile.TemporaryFile()

    def write(self, data):
        self.size += len(data)
        if self.size > self.max_bytes:
            raise UploadTooLarge(self.max_bytes)
        self.digest.update(data)
        self.temporary.write(data)

    def read_from(self, stream):
        while True:
            data = stream.read(CHUNK_BYTES)
            if not data:
                return
            self.write(data)

    def close(self):
        self.temporary.close()


def store_upload(log_request, sink, file_name=""):
    """Keep the sink's bytes as the request's file, once: a second upload racing this one finds
    the request taken (410) and its copy is removed."""
    name = get_valid_filename(os.path.basename(file_name or "")) if file_name else ""
    name = (name or log_request.file_name or f"{log_request.kind.lower()}-{log_request.pk}.log")
    name = get_valid_filename(os.path.basename(name))[:120] or f"log-{log_request.pk}"
    sink.temporary.seek(0)
    stored = default_storage.save(
        f"logs/{log_request.station_id}/{log_request.pk}-{name}", File(sink.temporary))
    now = timezone.now()
    # Uploaded stays Uploaded (the station's notification may have come first), else Received.
    status = Case(When(status=Status.UPLOADED, then=Value(Status.UPLOADED)),
                  default=Value(Status.RECEIVED))
    taken = LogRequest.objects.filter(pk=log_request.pk, uploaded_at__isnull=True).exclude(
        status__in=UPLOAD_REFUSED).update(file=stored, file_name=log_request.file_name or name, size=sink.size,
             sha256=sink.digest.hexdigest(), uploaded_at=now, status=status, updated_at=now)
    if not taken:
        default_storage.delete(stored)
        raise UploadRefused(410, "This upload address has been used; request the log again.")
    log_request.refresh_from_db()
    logger.info("Log request %s: %d bytes stored as %s", log_request.pk, sink.size, stored)
    _announce(log_request.pk)
    return log_request


def _announce(log_request_pk):
    transaction.on_commit(lambda: log_request_changed.send_robust(
        sender=LogRequest, log_request_pk=log_request_pk))


def sweep_expired(now=None):
    """Requests whose upload URL expired with no file end Expired (the station's last word is
    kept in station_status). Returns how many."""
    now = now or timezone.now()
    return LogRequest.objects.filter(
        expires_at__lte=now, uploaded_at__isnull=True,
        status__in=OPEN_STATUSES | {Status.UPLOADED},
    ).update(status=Status.EXPIRED, status_at=now, updated_at=now)
