"""Firmware images, the updates pushed to stations (one state machine each) and firmware
publications on local controllers."""
from django.conf import settings
from django.db import models

from . import Station

__all__ = ["FirmwareImage", "FirmwareUpdate", "FirmwarePublication"]


class FirmwareImage(models.Model):
    """A firmware build: a file held by the CSMS (default storage) or an external URL."""

    name = models.CharField(max_length=100)
    version = models.CharField(max_length=50)
    # What it applies to, compared with the station's BootNotification; blank = any.
    vendor = models.CharField(max_length=50, blank=True)
    model = models.CharField(max_length=50, blank=True)
    file = models.FileField(upload_to="firmware/", blank=True, max_length=255)
    external_url = models.URLField(max_length=512, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    # PublishFirmware carries an MD5 checksum (2.0.1 schema, 32 hex digits).
    md5 = models.CharField(max_length=32, blank=True)
    # Base64 signature and PEM certificate, handed to the station as they are (L01.FR.xx).
    signature = models.CharField(max_length=800, blank=True)
    signing_certificate = models.TextField(max_length=5500, blank=True)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-uploaded_at", "-id"]

    def __str__(self):
        return f"{self.name} {self.version}"

    @property
    def is_signed(self):
        return bool(self.signature and self.signing_certificate)

    @property
    def filename(self):
        return self.file.name.rsplit("/", 1)[-1] if self.file else ""

    def applies_to(self, station):
        """Blank vendor/model match any station; otherwise compared case-insensitively."""
        return all(not wanted or wanted.casefold() == (actual or "").casefold()
                   for wanted, actual in ((self.vendor, station.vendor_name),
                                          (self.model, station.model)))


class FirmwareUpdate(models.Model):
    """One UpdateFirmware to one station and what the station reported of it since."""

    class Status(models.TextChoices):
        # CSMS states before the station's first notification.
        QUEUED = "queued"
        SENT = "sent"
        ACCEPTED = "accepted"
        REJECTED = "rejected"
        OFFLINE = "offline"
        # A newer update replaced this one (the station answered AcceptedCanceled to it).
        CANCELED = "canceled"
        # 2.0.1 FirmwareStatusEnumType = 1.6 SignedFirmwareStatus (1.6 FirmwareStatus is a subset).
        DOWNLOAD_SCHEDULED = "DownloadScheduled"
        DOWNLOADING = "Downloading"
        DOWNLOAD_PAUSED = "DownloadPaused"
        DOWNLOADED = "Downloaded"
        DOWNLOAD_FAILED = "DownloadFailed"
        SIGNATURE_VERIFIED = "SignatureVerified"
        INVALID_SIGNATURE = "InvalidSignature"
        INSTALL_SCHEDULED = "InstallScheduled"
        INSTALLING = "Installing"
        INSTALL_REBOOTING = "InstallRebooting"
        INSTALLED = "Installed"
        INSTALLATION_FAILED = "InstallationFailed"
        INSTALL_VERIFICATION_FAILED = "InstallVerificationFailed"
        IDLE = "Idle"
        # CSMS conclusions from the next BootNotification's firmwareVersion, or a lost answer.
        INSTALLED_CONFIRMED = "installed_confirmed"
        FAILED = "failed"

    FINAL = {Status.REJECTED, Status.CANCELED, Status.DOWNLOAD_FAILED, Status.INVALID_SIGNATURE,
             Status.INSTALLATION_FAILED, Status.INSTALL_VERIFICATION_FAILED,
             Status.INSTALLED_CONFIRMED, Status.FAILED}
    FAILURES = FINAL - {Status.INSTALLED_CONFIRMED, Status.CANCELED}

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="firmware_updates")
    image = models.ForeignKey(FirmwareImage, on_delete=models.PROTECT, related_name="updates")
    request_id = models.IntegerField()
    command = models.ForeignKey("csms.Command", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    # UpdateFirmware (1.6 plain) or SignedUpdateFirmware (1.6 security extension); 2.0.1 has one.
    action = models.CharField(max_length=32, default="UpdateFirmware")
    status = models.CharField(max_length=32, choices=Status.choices, default=Status.QUEUED)
    # The station's answer status (Accepted, InvalidCertificate, ...) or the call's failure.
    answer = models.CharField(max_length=64, blank=True)
    # [{"status": ..., "at": iso}] in arrival order.
    history = models.JSONField(default=list, blank=True)
    retries = models.PositiveIntegerField(null=True, blank=True)
    retry_interval = models.PositiveIntegerField(null=True, blank=True)
    retrieve_at = models.DateTimeField()
    install_at = models.DateTimeField(null=True, blank=True)
    # The path segment of the station's own download URL (images held by the CSMS only).
    download_token = models.CharField(max_length=64, blank=True, db_index=True)
    download_expires_at = models.DateTimeField(null=True, blank=True)
    downloads = models.PositiveIntegerField(default=0)
    version_confirmed = models.BooleanField(default=False)
    # What the station booted with after the update (confirmed or not).
    reported_version = models.CharField(max_length=50, blank=True)
    source = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["station", "request_id"],
                                               name="unique_firmware_request_per_station")]
        indexes = [models.Index(fields=["station", "status"], name="firmware_update_state_idx")]

    def __str__(self):
        return f"{self.station} <- {self.image} ({self.status})"

    @property
    def is_final(self):
        return self.status in self.FINAL

    @property
    def is_failure(self):
        return self.status in self.FAILURES


class FirmwarePublication(models.Model):
    """PublishFirmware to a local controller (2.0.1) and its PublishFirmwareStatusNotifications."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        SENT = "sent"
        ACCEPTED = "accepted"
        REJECTED = "rejected"
        OFFLINE = "offline"
        FAILED = "failed"
        UNPUBLISHED = "unpublished"
        IDLE = "Idle"
        DOWNLOAD_SCHEDULED = "DownloadScheduled"
        DOWNLOADING = "Downloading"
        DOWNLOADED = "Downloaded"
        PUBLISHED = "Published"
        DOWNLOAD_FAILED = "DownloadFailed"
        DOWNLOAD_PAUSED = "DownloadPaused"
        INVALID_CHECKSUM = "InvalidChecksum"
        CHECKSUM_VERIFIED = "ChecksumVerified"
        PUBLISH_FAILED = "PublishFailed"

    station = models.ForeignKey(Station, on_delete=models.CASCADE,
                                related_name="firmware_publications")
    image = models.ForeignKey(FirmwareImage, on_delete=models.PROTECT, related_name="publications")
    request_id = models.IntegerField()
    command = models.ForeignKey("csms.Command", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    status = models.CharField(max_length=32, choices=Status.choices, default=Status.QUEUED)
    answer = models.CharField(max_length=64, blank=True)
    # The URIs the local controller publishes the image at (status Published).
    published_locations = models.JSONField(default=list, blank=True)
    history = models.JSONField(default=list, blank=True)
    download_token = models.CharField(max_length=64, blank=True, db_index=True)
    download_expires_at = models.DateTimeField(null=True, blank=True)
    downloads = models.PositiveIntegerField(default=0)
    source = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["station", "request_id"],
                                               name="unique_firmware_publication_per_station")]

    def __str__(self):
        return f"{self.station} publishes {self.image} ({self.status})"
