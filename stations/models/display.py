"""Display messages (2.0.1 block O): what the CSMS asked stations to show, what they report
showing (NotifyDisplayMessages), and the GetDisplayMessages requests that asked them."""
from django.core.exceptions import ValidationError
from django.db import models

from csms.models import Command

from . import Station

__all__ = ["DisplayMessage", "DisplayMessageReport"]


class DisplayMessage(models.Model):
    class Priority(models.TextChoices):
        ALWAYS_FRONT = "AlwaysFront"
        IN_FRONT = "InFront"
        NORMAL_CYCLE = "NormalCycle"

    class State(models.TextChoices):
        CHARGING = "Charging"
        FAULTED = "Faulted"
        IDLE = "Idle"
        UNAVAILABLE = "Unavailable"

    class Format(models.TextChoices):
        ASCII = "ASCII"
        HTML = "HTML"
        URI = "URI"
        UTF8 = "UTF8"

    class Status(models.TextChoices):
        PENDING = "pending"      # SetDisplayMessage sent, no answer yet
        ACCEPTED = "accepted"    # the station shows it (or reported it)
        REJECTED = "rejected"    # the station refused it (reason kept)
        FAILED = "failed"        # never answered: offline, timeout or CALLERROR
        REPLACED = "replaced"    # a later message with the same id took its place
        CLEARED = "cleared"      # cleared, or no longer reported by the station

    # What the station holds: a clear or a report concerns these.
    LIVE_STATUSES = (Status.PENDING, Status.ACCEPTED)

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="display_messages")
    message_id = models.PositiveIntegerField()
    priority = models.CharField(max_length=12, choices=Priority.choices)
    state = models.CharField(max_length=12, choices=State.choices, blank=True)
    start_time = models.DateTimeField(null=True, blank=True)
    end_time = models.DateTimeField(null=True, blank=True)
    transaction_id = models.CharField(max_length=36, blank=True, db_index=True)
    format = models.CharField(max_length=5, choices=Format.choices, default=Format.UTF8)
    language = models.CharField(max_length=8, blank=True)
    content = models.CharField(max_length=512)
    # 2.0.1 ComponentType of the display ({name, instance?, evse?}); empty: any display.
    display = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # The station's refusal: NotSupportedMessageFormat, NotSupportedPriority, NotSupportedState,
    # UnknownTransaction or Rejected.
    rejection_reason = models.CharField(max_length=30, blank=True)
    # Learned from NotifyDisplayMessages rather than set by the CSMS.
    reported = models.BooleanField(default=False)
    command = models.ForeignKey(Command, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+")
    clear_command = models.ForeignKey(Command, on_delete=models.SET_NULL, null=True, blank=True,
                                      related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["station", "message_id"])]

    def __str__(self):
        return f"{self.station.identity} message {self.message_id}"

    def clean(self):
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            raise ValidationError({"end_time": "The end must come after the start."})

    @property
    def is_live(self):
        return self.status in self.LIVE_STATUSES


class DisplayMessageReport(models.Model):
    """A GetDisplayMessages request (its pk is the requestId) and the NotifyDisplayMessages parts
    answering it; the last part (tbc false) reconciles the station's messages."""

    class Status(models.TextChoices):
        REQUESTED = "requested"   # sent; parts may be arriving
        COMPLETE = "complete"     # the last part is in and applied
        EMPTY = "empty"           # the station answered Unknown: none match
        FAILED = "failed"         # not delivered or refused

    station = models.ForeignKey(Station, on_delete=models.CASCADE,
                                related_name="display_message_reports")
    # The criteria sent: {"id": [...], "priority": ..., "state": ...} (2.0.1 names).
    criteria = models.JSONField(default=dict, blank=True)
    command = models.ForeignKey(Command, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    # The MessageInfo entries of every part, in arrival order.
    messages = models.JSONField(default=list, blank=True)
    parts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
