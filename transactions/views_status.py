"""The transaction page's "Ask the station" button: GetTransactionStatus (2.0.1 E14)."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from csms.ocpp import outbound

from . import actions, commands
from .actions import transaction_status
from .models import Transaction

COMMAND_WAIT_SECONDS = 1.5


@login_required
@require_POST
def transaction_status_request(request, pk):
    transaction = get_object_or_404(Transaction.objects.select_related("station"), pk=pk)
    target = reverse("transactions:detail", args=[pk]) + "#transaction-status"
    try:
        status_request, command = commands.get_transaction_status(
            transaction.station, transaction, source=f"dashboard:{request.user.username}")
    except (commands.StationNotReady, actions.InvalidRequest) as error:
        messages.error(request, f"GetTransactionStatus not sent: {error}")
        return redirect(target)
    command = outbound.wait_for_outcome(command, COMMAND_WAIT_SECONDS)
    status_request = transaction_status.settle_command(command) or status_request
    if not command.is_finished:
        messages.info(request, "GetTransactionStatus sent; reload for the answer.")
    elif status_request.outcome != "accepted":
        messages.error(request, f"GetTransactionStatus: {status_request.outcome}")
    else:
        messages.success(request, "The station says the transaction is "
                         + ("ongoing" if status_request.ongoing_indicator else "not ongoing")
                         + (", with messages still queued." if status_request.messages_in_queue
                            else ", with no message queued."))
    return redirect(target)
