"""Celery tasks of the transactions domain: thin wrappers around actions and commands."""
import logging

from celery import shared_task

from csms.ocpp import outbound

from . import actions, commands
from .actions import transaction_status

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def settle_answers():
    return actions.settle_finished() + transaction_status.settle_finished()


@shared_task(ignore_result=True)
def expire_reservations():
    return actions.expire_reservations()


@shared_task(ignore_result=True)
def settle_stale_transactions():
    """Close running transactions nothing was heard of in time (reboot, Available, no news)."""
    return actions.settle_due()


@shared_task(ignore_result=True)
def send_cost_updates():
    """CostUpdated to every running 2.0.1 transaction whose interval has passed."""
    sent = 0
    for transaction, total in actions.cost_updates_due():
        try:
            commands.cost_updated(transaction, total)
        except outbound.InvalidCommand:
            logger.exception("CostUpdated for %s could not be built", transaction)
            continue
        actions.mark_cost_sent(transaction, total)
        sent += 1
    return sent


@shared_task(ignore_result=True)
def send_local_list(identity, update_type="Full", id_token_pks=None):
    from stations.models import Station

    station = Station.objects.get(identity=identity)
    return commands.send_local_list(station, update_type, id_token_pks, source="task:local-list").pk


@shared_task(ignore_result=True)
def get_transaction_status(identity, transaction_id=None):
    """GetTransactionStatus (2.0.1) about one transaction (its id at the station), or none."""
    from stations.models import Station

    from .models import Transaction

    station = Station.objects.get(identity=identity)
    transaction = (Transaction.objects.get(station=station, transaction_id=transaction_id)
                   if transaction_id else None)
    return commands.get_transaction_status(station, transaction,
                                           source="task:transaction-status")[0].pk


@shared_task(ignore_result=True)
def customer_information(identity, report=False, clear=False, id_token=None,
                         id_token_type="ISO14443", customer_identifier="",
                         customer_certificate=None):
    """CustomerInformation (2.0.1) to one station; the parts assemble on its request row."""
    from stations.models import Station

    from .actions import customer_data

    request, _ = customer_data.customer_information(
        Station.objects.get(identity=identity), report=report, clear=clear, id_token=id_token,
        id_token_type=id_token_type, customer_identifier=customer_identifier,
        customer_certificate=customer_certificate, source="task:customer-information")
    return request.pk


@shared_task(ignore_result=True)
def settle_customer_information():
    """The beat's pass: CustomerInformation answers a failed receiver left unapplied."""
    from .actions import customer_data

    return customer_data.settle_finished()
