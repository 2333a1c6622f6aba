"""GetTransactionStatus requests (2.0.1 E14) and the station's answers: is the transaction still
ongoing there, and does the station still hold messages queued for the CSMS."""
from django.db import models

from csms.models import Command
from stations.models import Station

__all__ = ["TransactionStatusRequest"]


class TransactionStatusRequest(models.Model):
    class Trigger(models.TextChoices):
        OPERATOR = "Operator"
        RECONNECT = "Reconnect"  # the station reconnected while a transaction of it was running

    station = models.ForeignKey(Station, on_delete=models.CASCADE,
                                related_name="transaction_status_requests")
    # The transaction asked about; none: the question is whether any message is queued at all.
    transaction = models.ForeignKey("transactions.Transaction", on_delete=models.CASCADE,
                                    null=True, blank=True, related_name="status_requests")
    # The transactionId sent (the wire id).
    asked_transaction_id = models.CharField(max_length=36, blank=True)
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.OPERATOR)
    command = models.ForeignKey(Command, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+")
    # The command's outcome once known (accepted, error, timeout, offline); blank while waiting.
    outcome = models.CharField(max_length=10, blank=True)
    ongoing_indicator = models.BooleanField(null=True, blank=True)
    messages_in_queue = models.BooleanField(null=True, blank=True)
    # The answer said "not ongoing, nothing queued": the transaction was marked for settlement.
    marked_for_settlement = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"GetTransactionStatus {self.asked_transaction_id or '(any)'} to {self.station}"
