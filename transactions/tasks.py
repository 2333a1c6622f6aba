"""Celery tasks of the transactions domain: thin wrappers around actions and commands."""
import logging

from celery import shared_task

from csms.ocpp import outbound

from . import actions, commands

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def settle_answers():
    return actions.settle_finished()


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
