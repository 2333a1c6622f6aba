"""One audit entry: a state change made by a person or an integration."""
from django.conf import settings
from django.db import models


class AuditEntry(models.Model):
    class Kind(models.TextChoices):
        REQUEST = "request"        # a state-changing request with nothing more specific recorded
        COMMAND = "command"        # a CALL sent to a station
        CHANGE = "change"          # a row of an audited model created, changed or deleted
        API_TOKEN = "api_token"    # an API token created or revoked
        ROLE = "role"              # a user's role changed

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="audit_entries")
    # Kept when the user is deleted; "" for the system (tasks, stations).
    username = models.CharField(max_length=150, blank=True, db_index=True)
    # Which of the user's API tokens made the request ("" for a dashboard session).
    via = models.CharField(max_length=120, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, db_index=True)
    method = models.CharField(max_length=8, blank=True)
    path = models.CharField(max_length=500, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    identity = models.CharField("station", max_length=48, blank=True, db_index=True)
    # Short line for lists ("Reset sent", "Tariff 3 changed: price_kwh").
    summary = models.CharField(max_length=300)
    # The redacted request body, the changed fields (old, new), the command's payload.
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["username", "-id"], name="audit_user_idx")]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.username or 'system'}: {self.summary}"
