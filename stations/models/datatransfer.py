"""DataTransfer exchanges in both directions (2.0.1 and 1.6): what was sent, by whom, and the
answer, so every vendor-specific exchange with a station can be looked at on its page."""
from django.db import models


class DataTransferExchange(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "in", "Station → CSMS"
        OUTBOUND = "out", "CSMS → station"

    # Answer statuses (both versions), plus what became of an outbound call without an answer.
    ANSWER_STATUSES = ("Accepted", "Rejected", "UnknownMessageId", "UnknownVendorId")
    PENDING = ""

    station = models.ForeignKey("stations.Station", on_delete=models.CASCADE,
                                related_name="data_transfers")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    vendor_id = models.CharField(max_length=255)
    message_id = models.CharField(max_length=50, blank=True)
    # The request's data: any JSON on 2.0.1, a string on 1.6; None when absent.
    data = models.JSONField(null=True, blank=True)
    # The answer's status, or the outbound call's outcome when it got none (offline, timeout,
    # error); blank while an outbound call waits for its answer.
    status = models.CharField(max_length=20, blank=True)
    answer_data = models.JSONField(null=True, blank=True)
    # Outbound only: the call that carried it.
    command = models.ForeignKey("csms.Command", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+")
    source = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["station", "-id"], name="data_transfer_station_idx")]

    def __str__(self):
        return f"{self.station} {self.direction} {self.vendor_id}/{self.message_id or '-'}"
