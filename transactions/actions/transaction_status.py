"""GetTransactionStatus (2.0.1 E14): the requests, the station's answers applied to them, and
the automatic question when a station reconnects while the CSMS has one of its transactions
running: still ongoing there? messages still queued? Not ongoing and nothing queued: settle."""
from django.db import transaction as db_transaction
from django.utils import timezone

from csms.models import Command

from ..models import Transaction, TransactionStatusRequest
from .settlement import station_not_ongoing

Trigger = TransactionStatusRequest.Trigger
# More running transactions than this on one station is a data problem, not a reason to flood it.
RECONNECT_QUESTIONS_MAX = 10


def create_request(station, transaction=None, trigger=Trigger.OPERATOR):
    return TransactionStatusRequest.objects.create(
        station=station, transaction=transaction, trigger=trigger,
        asked_transaction_id=transaction.transaction_id if transaction else "",
    )


def attach_command(status_request, command):
    status_request.command = command
    status_request.save(update_fields=["command"])


def settle_command(command):
    """Apply a finished GetTransactionStatus command to its request (idempotent): store the
    answer and, when the station no longer runs the transaction and holds nothing queued,
    mark it for settlement."""
    if not command.is_finished:
        return None
    with db_transaction.atomic():
        status_request = (TransactionStatusRequest.objects.select_for_update()
                          .filter(command=command).first())
        if status_request is None or status_request.outcome:
            return status_request
        response = command.response if isinstance(command.response, dict) else {}
        status_request.outcome = command.status
        status_request.answered_at = command.finished_at or timezone.now()
        if command.status == Command.Status.ACCEPTED:
            status_request.messages_in_queue = response.get("messagesInQueue")
            status_request.ongoing_indicator = response.get("ongoingIndicator")
        if (status_request.transaction_id and status_request.ongoing_indicator is False
                and status_request.messages_in_queue is False):
            status_request.marked_for_settlement = bool(
                station_not_ongoing(status_request.transaction_id))
        status_request.save()
    return status_request



def running_transactions(station_pk):
    """What a reconnecting station is asked about: its running transactions (station loaded)."""
    return list(Transaction.objects.filter(station_id=station_pk, state=Transaction.State.ACTIVE)
                .select_related("station").order_by("id")[:RECONNECT_QUESTIONS_MAX])


def settle_finished():
    """The sweep: requests whose command has its outcome but which a failed receiver left
    unanswered. Returns how many it settled."""
    waiting = (TransactionStatusRequest.objects.filter(outcome="",
                                                       command__status__in=Command.FINISHED)
               .select_related("command"))
    settled = 0
    for status_request in waiting[:1000]:
        settle_command(status_request.command)
        settled += 1
    return settled
