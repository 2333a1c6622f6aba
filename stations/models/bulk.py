"""Bulk operations: one command (Reset, ChangeAvailability, a local list, a report request) sent
to many stations, with each station's outcome."""
from django.conf import settings
from django.db import models

from csms.models import Command

from . import Station

__all__ = ["BulkOperation", "BulkTarget"]


class BulkOperation(models.Model):
    class State(models.TextChoices):
        RUNNING = "running"
        FINISHED = "finished"

    # A name from the bulk-action registry (stations/actions/bulk.py): "reset", "report", ...
    action = models.CharField(max_length=32)
    # The action's options as chosen ({"type": "Immediate"}, {"operational_status": ...}).
    parameters = models.JSONField(default=dict, blank=True)
    # How the stations were chosen, kept as asked: listed identities, or the station list's filter.
    selection_identities = models.JSONField(default=list, blank=True)
    selection_filter = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.RUNNING)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    # Who asked, as commands record it: "api:<username>", "dashboard:<username>".
    source = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"bulk {self.action} #{self.pk} ({self.state})"


class BulkTarget(models.Model):
    class Outcome(models.TextChoices):
        QUEUED = "queued"  # not sent yet (waits for a slot)
        SENT = "sent"  # the command is out; no answer yet
        ACCEPTED = "accepted"
        REJECTED = "rejected"
        ERROR = "error"  # CALLERROR or an invalid answer
        TIMEOUT = "timeout"
        OFFLINE = "offline"
        NOT_SUPPORTED = "not_supported", "not supported"  # by the station's OCPP version

    FINAL = {Outcome.ACCEPTED, Outcome.REJECTED, Outcome.ERROR, Outcome.TIMEOUT, Outcome.OFFLINE,
             Outcome.NOT_SUPPORTED}

    operation = models.ForeignKey(BulkOperation, on_delete=models.CASCADE, related_name="targets")
    # Kept by identity too: a deleted station's outcome stays readable.
    station = models.ForeignKey(Station, null=True, on_delete=models.SET_NULL,
                                related_name="bulk_targets")
    identity = models.CharField(max_length=48)
    position = models.PositiveIntegerField()
    command = models.ForeignKey(Command, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.QUEUED)
    # The station's answer status, the error, or why it was not sent.
    detail = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["operation", "position"]
        constraints = [models.UniqueConstraint(fields=["operation", "station"],
                                               name="unique_station_per_bulk_operation")]
        indexes = [models.Index(fields=["operation", "outcome"], name="bulk_target_outcome_idx")]

    def __str__(self):
        return f"{self.operation_id}: {self.identity} ({self.outcome})"

    @property
    def is_final(self):
        return self.outcome in self.FINAL
