"""Operational alerts: a station offline too long, a connector Faulted, a boot Rejected, a
transaction without news, commands timing out in a row. One active alert per (kind, station,
subject); it clears itself when the condition ends."""
from django.db import models


class Alert(models.Model):
    class Kind(models.TextChoices):
        STATION_OFFLINE = "StationOffline", "Station offline"
        CONNECTOR_FAULTED = "ConnectorFaulted", "Connector faulted"
        BOOT_REJECTED = "BootRejected", "Boot rejected"
        TRANSACTION_SILENT = "TransactionSilent", "Transaction without news"
        COMMAND_TIMEOUTS = "CommandTimeouts", "Commands timing out"
        SECURITY_EVENT = "SecurityEvent", "Critical security event"

    class State(models.TextChoices):
        ACTIVE = "Active"
        CLEARED = "Cleared"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    station = models.ForeignKey("stations.Station", on_delete=models.CASCADE,
                                related_name="alerts")
    # What in the station it is about: "" (the station), "<evse>/<connector>" (a connector; evse
    # empty on 1.6) or a transaction id.
    subject = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.ACTIVE)
    message = models.CharField(max_length=300, blank=True)
    details = models.JSONField(default=dict, blank=True)
    raised_at = models.DateTimeField()
    # The last time the condition was seen again (an update of the active alert).
    updated_at = models.DateTimeField()
    raise_count = models.PositiveIntegerField(default=1)
    cleared_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "station", "subject"],
                                    condition=models.Q(state="Active"),
                                    name="one_active_alert_per_subject"),
        ]
        indexes = [models.Index(fields=["state", "kind"], name="alert_state_kind_idx")]

    def __str__(self):
        about = f" {self.subject}" if self.subject else ""
        return f"{self.get_kind_display()} at {self.station}{about} ({self.state})"

    @property
    def acknowledged(self):
        return self.acknowledged_at is not None
