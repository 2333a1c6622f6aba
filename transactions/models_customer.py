"""Customer information (2.0.1 N09/N10): CustomerInformation requests with the station's
NotifyCustomerInformation parts, and the audit of CSMS-side erasures of a customer's data."""
from django.db import models

from csms.models import Command
from stations.models import Station

__all__ = ["CustomerInformationRequest", "IdTokenErasure"]


class IdTokenErasure(models.Model):
    """The audit line of one erasure. It names the token by its row and its pseudonym, never by
    the value that was erased."""

    id_token = models.ForeignKey("transactions.IdToken", on_delete=models.SET_NULL, null=True,
                                 blank=True, related_name="erasures")
    pseudonym = models.CharField(max_length=36)
    id_token_type = models.CharField(max_length=16)
    erased_by = models.CharField(max_length=150)
    erased_at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=500, blank=True)
    # What was changed, by kind: {"token_fields": [...], "transactions": n, ...}.
    erased = models.JSONField(default=dict)

    class Meta:
        ordering = ["-id"]


class CustomerInformationRequest(models.Model):
    """One CustomerInformation request (its pk is the requestId) and the document the station's
    NotifyCustomerInformation parts assemble to, in seqNo order."""

    class Status(models.TextChoices):
        REQUESTED = "requested"    # sent, not answered yet
        RECEIVING = "receiving"    # accepted; parts expected
        COMPLETE = "complete"      # every part 0..last is in (or nothing to report was asked)
        REJECTED = "rejected"      # the station answered Rejected or Invalid
        FAILED = "failed"          # not delivered: offline, timeout or CALLERROR

    station = models.ForeignKey(Station, on_delete=models.CASCADE,
                                related_name="customer_information_requests")
    report = models.BooleanField(default=False)
    clear = models.BooleanField(default=False)
    # Exactly one of the three identifiers.
    id_token = models.CharField(max_length=36, blank=True)
    id_token_type = models.CharField(max_length=16, blank=True)
    customer_identifier = models.CharField(max_length=64, blank=True)
    # 2.0.1 CertificateHashDataType: {hashAlgorithm, issuerNameHash, issuerKeyHash, serialNumber}.
    customer_certificate = models.JSONField(null=True, blank=True)
    command = models.ForeignKey(Command, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    # {seqNo: {"data", "generatedAt", "tbc"}} as received; a repeated seqNo is kept once.
    parts = models.JSONField(default=dict, blank=True)
    # The seqNo of the part with tbc false, once seen.
    last_seq_no = models.IntegerField(null=True, blank=True)
    document = models.TextField(blank=True)
    # The erasure that sent this request (clear at the stations that saw the token).
    erasure = models.ForeignKey(IdTokenErasure, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="station_requests")
    requested_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    @property
    def request_id(self):
        return self.pk

    @property
    def part_count(self):
        return len(self.parts)
