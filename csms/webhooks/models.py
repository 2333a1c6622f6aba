"""Webhook rows: a subscription (where to POST which events, with which secret), one delivery per
event and subscription, and each attempt of a delivery (the log operators read)."""
import secrets

from django.db import models

# Every event type an integrator may subscribe to.
EVENT_TYPES = [
    ("station.online", "A station connected"),
    ("station.offline", "A station's connection closed"),
    ("station.status_changed", "A connector's status changed"),
    ("transaction.started", "A transaction started"),
    ("transaction.updated", "A running transaction changed or got meter readings"),
    ("transaction.ended", "A transaction ended"),
    ("command.finished", "A command to a station got its outcome"),
    ("alert.raised", "An alert was raised"),
    ("alert.cleared", "An alert was cleared"),
    ("firmware.progress", "A firmware update moved on"),
    ("log.progress", "A log or diagnostics request moved on"),
]
EVENT_TYPE_NAMES = [name for name, _ in EVENT_TYPES]


def new_secret():
    return secrets.token_hex(32)


class WebhookSubscription(models.Model):
    """An integrator's endpoint: events of the chosen types are POSTed to `url`, signed with
    `secret` (X-CSMS-Signature)."""

    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=128, default=new_secret)
    # A list of EVENT_TYPE_NAMES.
    event_types = models.JSONField(default=list)
    active = models.BooleanField(default=True)
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.description or self.url


class WebhookDelivery(models.Model):
    """One event for one subscription: the exact body sent (same id on every attempt, so the
    receiver can drop repeats), and where its delivery stands."""

    class Status(models.TextChoices):
        PENDING = "pending"  # due at next_attempt_at (first try or a retry)
        DELIVERED = "delivered"
        FAILED = "failed"  # every attempt failed; a redeliver tries again

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE,
                                     related_name="deliveries")
    event_id = models.UUIDField(db_index=True)
    event_type = models.CharField(max_length=32)
    body = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # Also a lease: an attempt moves it past its own timeout so no other worker takes the row.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_due_idx")]
        verbose_name_plural = "webhook deliveries"

    def __str__(self):
        return f"{self.event_type} -> {self.subscription_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One POST of a delivery: what the receiver answered (or why there was no answer), how long
    it took."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE,
                                 related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.FloatField()
    # "retry" (first try and automatic retries) or "redeliver:<who>".
    trigger = models.CharField(max_length=100, default="retry")

    class Meta:
        ordering = ["id"]

    @property
    def succeeded(self):
        return self.status_code is not None and 200 <= self.status_code < 300
