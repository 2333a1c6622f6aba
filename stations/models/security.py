"""A station's security log (SecurityEventNotification), its failed logins and the throttle on
them, and Basic-auth password rotations (A01)."""
from django.db import models

# OCPP 2.0.1 part 2 appendix "Security events" (the same list in the 1.6 security white paper):
# the types the protocol marks critical. A critical event raises an operational alert.
CRITICAL_SECURITY_EVENTS = frozenset({
    "FirmwareUpdated", "SettingSystemTime", "StartupOfTheDevice", "ResetOrReboot",
    "SecurityLogWasCleared", "MemoryExhaustion", "TamperDetectionActivated",
})


class SecurityEvent(models.Model):
    station = models.ForeignKey("stations.Station", on_delete=models.CASCADE,
                                related_name="security_events")
    type = models.CharField(max_length=50)
    # The station's own time of the event.
    timestamp = models.DateTimeField()
    tech_info = models.CharField(max_length=255, blank=True)
    critical = models.BooleanField(default=False)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-timestamp", "-id"]
        indexes = [models.Index(fields=["station", "-timestamp"], name="security_event_station_idx"),
                   models.Index(fields=["type", "-timestamp"], name="security_event_type_idx")]

    def __str__(self):
        return f"{self.type} at {self.station} ({self.timestamp:%Y-%m-%d %H:%M:%S})"


class LoginFailure(models.Model):
    """One refused Basic-auth upgrade for a known station (never the password tried)."""

    class Reason(models.TextChoices):
        NO_CREDENTIALS = "NoCredentials", "No credentials"
        WRONG_USERNAME = "WrongUsername", "Wrong username"
        WRONG_PASSWORD = "WrongPassword", "Wrong password"

    station = models.ForeignKey("stations.Station", on_delete=models.CASCADE,
                                related_name="login_failures")
    remote_address = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=16, choices=Reason.choices)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["station", "-at"], name="login_failure_station_idx")]

    def __str__(self):
        return f"{self.get_reason_display()} for {self.station} from {self.remote_address}"


class LoginThrottle(models.Model):
    """Failed logins counted per station identity and per source address; past a threshold each
    further failure doubles how long that identity (or address) is refused without a check."""

    class Scope(models.TextChoices):
        IDENTITY = "identity"
        ADDRESS = "address"

    scope = models.CharField(max_length=8, choices=Scope.choices)
    key = models.CharField(max_length=64)
    failures = models.PositiveIntegerField(default=0)
    # The backoff runs from here (each server applies its own thresholds to the count).
    last_failure_at = models.DateTimeField(null=True, blank=True)
    # Upgrades refused while blocked: no password was checked for these.
    refused = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"],
                                               name="one_login_throttle_per_key")]

    def __str__(self):
        return f"{self.scope} {self.key}: {self.failures} failures"


class PasswordRotation(models.Model):
    """A01: a new Basic-auth password sent to the station. The stored hash becomes the new one only
    when the station accepts; the previous one stays valid until it connects with the new one."""

    class State(models.TextChoices):
        SENT = "Sent"  # waiting for the station's answer
        ACCEPTED = "Accepted"  # the new password is the station's; the old one still admitted
        COMPLETED = "Completed"  # the station connected with the new one: the old one is gone
        REJECTED = "Rejected"  # the station refused it; nothing changed
        FAILED = "Failed"  # no answer (offline, timeout, CALLERROR); nothing changed
        SUPERSEDED = "Superseded"  # a newer rotation replaced it

    station = models.ForeignKey("stations.Station", on_delete=models.CASCADE,
                                related_name="password_rotations")
    command = models.OneToOneField("csms.Command", on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="password_rotation")
    state = models.CharField(max_length=10, choices=State.choices, default=State.SENT)
    new_password_hash = models.CharField(max_length=256)
    # The hash that stays valid while the rotation is Accepted.
    previous_password_hash = models.CharField(max_length=256, blank=True)
    detail = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Password rotation of {self.station} ({self.state})"
