"""Charging stations, their EVSEs and connectors, and their connection and boot state."""
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.db import models

from csms.ocpp.framing import OCPP16, OCPP201
from csms.ocpp.identity import identity_problem


def default_security_profile():
    return settings.OCPP_DEFAULT_SECURITY_PROFILE


# OCPP security profiles (the API's SecurityProfileEnum).
SECURITY_PROFILE_CHOICES = [(1, "1: Basic auth over ws"), (2, "2: Basic auth over TLS"),
                            (3, "3: mutual TLS")]


class Station(models.Model):
    class RegistrationStatus(models.TextChoices):
        ACCEPTED = "Accepted"
        PENDING = "Pending"
        REJECTED = "Rejected"

    identity = models.CharField(max_length=48, unique=True)
    description = models.CharField(max_length=200, blank=True)
    # Security profile 1/2: HTTP Basic auth on the upgrade, checked against this hash when set.
    password_hash = models.CharField(max_length=256, blank=True)
    # Enforced on every upgrade (stations/security_profiles.py): 1 Basic auth over ws, 2 Basic
    # auth over TLS, 3 mutual TLS with the certificate's CN equal to the identity.
    security_profile = models.PositiveSmallIntegerField(
        choices=SECURITY_PROFILE_CHOICES,
        default=default_security_profile,
    )
    # The answer its next BootNotification gets (operator's decision; unknown stations get
    # the OCPP_UNKNOWN_STATION_POLICY default).
    registration_policy = models.CharField(
        max_length=8, choices=RegistrationStatus.choices, default=RegistrationStatus.ACCEPTED
    )
    # The answer its last BootNotification got; blank until it boots.
    registration_status = models.CharField(
        max_length=8, choices=RegistrationStatus.choices, blank=True
    )

    vendor_name = models.CharField(max_length=50, blank=True)
    model = models.CharField(max_length=50, blank=True)
    serial_number = models.CharField(max_length=25, blank=True)
    firmware_version = models.CharField(max_length=50, blank=True)
    modem_iccid = models.CharField(max_length=20, blank=True)
    modem_imsi = models.CharField(max_length=20, blank=True)
    boot_reason = models.CharField(max_length=30, blank=True)
    last_boot_at = models.DateTimeField(null=True, blank=True)

    ocpp_version = models.CharField(
        max_length=8, blank=True, choices=[(OCPP201, "OCPP 2.0.1"), (OCPP16, "OCPP 1.6")]
    )
    online = models.BooleanField(default=False)
    # When it last came online (online=True) or went offline (online=False).
    connection_changed_at = models.DateTimeField(null=True, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    remote_address = models.CharField(max_length=64, blank=True)
    # 1.6 StatusNotification with connectorId 0 speaks for the whole station.
    status = models.CharField(max_length=20, blank=True)
    error_code = models.CharField(max_length=50, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["identity"]

    def __str__(self):
        return self.identity

    def set_password(self, raw_password):
        self.password_hash = make_password(raw_password) if raw_password else ""

    def check_password(self, raw_password):
        return bool(self.password_hash) and check_password(raw_password, self.password_hash)

    def clean(self):
        problem = identity_problem(self.identity)  # the rule the WebSocket upgrade applies too
        if problem:
            raise ValidationError({"identity": problem})


class Evse(models.Model):
    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="evses")
    evse_id = models.PositiveIntegerField()

    class Meta:
        ordering = ["station", "evse_id"]
        constraints = [
            models.UniqueConstraint(fields=["station", "evse_id"], name="unique_evse_per_station")
        ]
        verbose_name = "EVSE"

    def __str__(self):
        return f"{self.station.identity} EVSE {self.evse_id}"


class Connector(models.Model):
    """A connector; under an EVSE for 2.0.1, directly under the station for 1.6 (evse empty)."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="connectors")
    evse = models.ForeignKey(
        Evse, on_delete=models.CASCADE, related_name="connectors", null=True, blank=True
    )
    connector_id = models.PositiveIntegerField()
    # 2.0.1 ConnectorStatus (Available, Occupied, ...) or 1.6 ChargePointStatus (Charging, ...).
    status = models.CharField(max_length=20, blank=True)
    error_code = models.CharField(max_length=50, blank=True)
    info = models.CharField(max_length=50, blank=True)
    vendor_error_code = models.CharField(max_length=50, blank=True)
    # The station's own timestamp of the status.
    status_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["station", "evse__evse_id", "connector_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["evse", "connector_id"], condition=models.Q(evse__isnull=False),
                name="unique_connector_per_evse",
            ),
            models.UniqueConstraint(
                fields=["station", "connector_id"], condition=models.Q(evse__isnull=True),
                name="unique_connector_per_station_without_evse",
            ),
        ]

    def __str__(self):
        if self.evse_id:
            return f"{self.station.identity} EVSE {self.evse.evse_id} connector {self.connector_id}"
        return f"{self.station.identity} connector {self.connector_id}"

from .firmware import FirmwareImage, FirmwarePublication, FirmwareUpdate  # noqa: E402,F401
from .campaigns import CampaignTarget, FirmwareCampaign, StationTag  # noqa: E402,F401
from .display import DisplayMessage, DisplayMessageReport  # noqa: E402,F401
from .logs import LogRequest  # noqa: E402,F401
from .datatransfer import DataTransferExchange  # noqa: E402,F401
from .alerts import Alert  # noqa: E402,F401
from .bulk import BulkOperation, BulkTarget  # noqa: E402,F401
from .certificates import CertificateSigningRequest, StationCertificate  # noqa: E402,F401
from .security import LoginFailure, LoginThrottle, PasswordRotation, SecurityEvent  # noqa: E402,F401
from .profile_upgrade import SecurityProfileUpgrade  # noqa: E402,F401
