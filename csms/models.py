"""Rows of the OCPP protocol core: server processes, station presence, outgoing calls, message log.

Keyed by station identity, not by a domain model, so the core imports no domain app.
"""
from django.db import models


class ServerProcess(models.Model):
    """One running ASGI server process; it beats while alive so its presences can be trusted."""

    server_id = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=255)
    pid = models.IntegerField()
    started_at = models.DateTimeField()
    last_beat_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.hostname}:{self.pid}"


class StationPresence(models.Model):
    """Which server process and channel hold the live socket of a station identity."""

    identity = models.CharField(max_length=48, unique=True)
    server = models.ForeignKey(ServerProcess, on_delete=models.CASCADE, related_name="presences")
    channel_name = models.CharField(max_length=200)
    # A fresh id per socket: a late disconnect of a replaced socket must not erase its successor.
    connection_id = models.CharField(max_length=36)
    ocpp_version = models.CharField(max_length=8)
    connected_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "station presences"

    def __str__(self):
        return f"{self.identity} on {self.server_id}"


class Command(models.Model):
    """One CSMS -> station CALL, from request to the station's answer."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        SENT = "sent"
        ACCEPTED = "accepted"
        REJECTED = "rejected"
        ERROR = "error"
        TIMEOUT = "timeout"
        OFFLINE = "offline"

    FINISHED = {Status.ACCEPTED, Status.REJECTED, Status.ERROR, Status.TIMEOUT, Status.OFFLINE}

    identity = models.CharField(max_length=48, db_index=True)
    ocpp_version = models.CharField(max_length=8)
    action = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    message_id = models.CharField(max_length=36, blank=True, db_index=True)
    connection_id = models.CharField(max_length=36, blank=True)
    response = models.JSONField(null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_description = models.TextField(blank=True)
    # Who asked: "api:<username>", "dashboard:<username>", "task:<name>", ...
    source = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["identity", "status", "id"], name="command_queue_idx")]

    def __str__(self):
        return f"{self.action} -> {self.identity} ({self.status})"

    @property
    def is_finished(self):
        return self.status in self.FINISHED

    @property
    def duration_ms(self):
        if self.sent_at and self.finished_at:
            return round((self.finished_at - self.sent_at).total_seconds() * 1000, 1)
        return None


class MessageLogEntry(models.Model):
    """One OCPP frame in or out, as it crossed the wire; what operators debug with."""

    class Direction(models.TextChoices):
        IN = "in", "station -> CSMS"
        OUT = "out", "CSMS -> station"

    identity = models.CharField(max_length=48)
    timestamp = models.DateTimeField()
    direction = models.CharField(max_length=3, choices=Direction.choices)
    message_type = models.PositiveSmallIntegerField(null=True)  # 2 CALL, 3 CALLRESULT, 4 CALLERROR
    message_id = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=64, blank=True)
    frame = models.TextField()
    # For answers: ok, or the error code; for calls: blank.
    outcome = models.CharField(max_length=64, blank=True)
    # For answers: ms from the call to this answer.
    duration_ms = models.FloatField(null=True, blank=True)
    connection_id = models.CharField(max_length=36, blank=True)

    class Meta:
        ordering = ["-timestamp", "-id"]
        indexes = [
            models.Index(fields=["identity", "-timestamp"], name="messagelog_station_idx"),
            models.Index(fields=["timestamp"], name="messagelog_time_idx"),
        ]
        verbose_name_plural = "message log"

    def __str__(self):
        return f"{self.timestamp:%Y-%m-%d %H:%M:%S} {self.identity} {self.direction} {self.action}"


# Webhook subscriptions and their delivery log live in their own package, in this app.
from csms.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription  # noqa: E402,F401

# The audit trail and per-user API tokens live in their own packages, in this app.
from csms.accounts.models import ApiToken  # noqa: E402,F401
from csms.audit.models import AuditEntry  # noqa: E402,F401
