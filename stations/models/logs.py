"""Log and diagnostics requests (GetLog 2.0.1 and 1.6 security extension, 1.6 GetDiagnostics): what
was asked, what the station reported, and the file it uploaded to the CSMS's one-time URL."""
from django.db import models


class LogRequest(models.Model):
    class Kind(models.TextChoices):
        DIAGNOSTICS_LOG = "DiagnosticsLog", "Diagnostics log (GetLog)"
        SECURITY_LOG = "SecurityLog", "Security log (GetLog)"
        DIAGNOSTICS_16 = "Diagnostics", "1.6 diagnostics (GetDiagnostics)"

    class Status(models.TextChoices):
        # CSMS states
        REQUESTED = "Requested"  # the command is queued or sent, no answer yet
        ACCEPTED = "Accepted"  # the station took the request on
        REJECTED = "Rejected"
        NOT_DELIVERED = "NotDelivered"  # offline, timed out or answered with a CALLERROR
        RECEIVED = "Received"  # the file is stored; the station has not said Uploaded yet
        CANCELED = "Canceled"  # a later request's AcceptedCanceled answer ended this one
        EXPIRED = "Expired"  # the upload URL expired with no file received
        # LogStatusNotification (2.0.1, 1.6 security extension)
        UPLOADING = "Uploading"
        UPLOADED = "Uploaded"
        UPLOAD_FAILURE = "UploadFailure"
        BAD_MESSAGE = "BadMessage"
        NOT_SUPPORTED_OPERATION = "NotSupportedOperation"
        PERMISSION_DENIED = "PermissionDenied"
        IDLE = "Idle"
        ACCEPTED_CANCELED = "AcceptedCanceled"
        # DiagnosticsStatusNotification (1.6); Idle, Uploading and Uploaded as above
        UPLOAD_FAILED = "UploadFailed"

    # No later notification or upload changes these.
    FINAL_STATUSES = {
        Status.REJECTED, Status.NOT_DELIVERED, Status.CANCELED, Status.EXPIRED,
        Status.UPLOAD_FAILURE, Status.UPLOAD_FAILED, Status.BAD_MESSAGE,
        Status.NOT_SUPPORTED_OPERATION, Status.PERMISSION_DENIED, Status.ACCEPTED_CANCELED,
    }

    station = models.ForeignKey("stations.Station", on_delete=models.CASCADE,
                                related_name="log_requests")
    # The requestId sent (the row's pk); 1.6 GetDiagnostics carries none.
    request_id = models.PositiveIntegerField(null=True, blank=True, db_index=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    oldest_timestamp = models.DateTimeField(null=True, blank=True)
    latest_timestamp = models.DateTimeField(null=True, blank=True)
    retries = models.PositiveIntegerField(null=True, blank=True)
    retry_interval = models.PositiveIntegerField(null=True, blank=True)
    command = models.ForeignKey("csms.Command", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+")
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.REQUESTED)
    # The last status the station itself reported (kept when the CSMS sets Expired).
    station_status = models.CharField(max_length=24, blank=True)
    status_at = models.DateTimeField(null=True, blank=True)
    upload_token = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    max_bytes = models.PositiveBigIntegerField()
    file = models.FileField(upload_to="logs/", max_length=255, blank=True)
    # The station's name for the file (its answer's filename, or the upload's).
    file_name = models.CharField(max_length=255, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    uploaded_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["station", "-created_at"], name="logrequest_station_recent")]

    def __str__(self):
        return f"{self.station_id} {self.kind} #{self.pk} {self.status}"

    @property
    def is_final(self):
        return self.status in self.FINAL_STATUSES or (
            self.status == self.Status.UPLOADED and self.uploaded_at is not None)
