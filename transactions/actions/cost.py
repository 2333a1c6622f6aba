"""Cost of a transaction under its tariff, the running cost and the CostUpdated schedule."""
from django.conf import settings
from django.utils import timezone

from .. import metering
from ..models import Transaction
from .common import OCPP201


def _apply_cost(transaction, as_of, charging_seconds=None):
    tariff = transaction.tariff
    if tariff is None or transaction.started_at is None:
        transaction.total_cost, transaction.cost_breakdown = None, {}
        transaction.currency = tariff.currency if tariff else ""
        return None
    duration = max((as_of - transaction.started_at).total_seconds(), 0) if as_of else 0
    cost = metering.compute_cost(
        tariff, transaction.energy_wh,
        transaction.charging_seconds if charging_seconds is None else charging_seconds, duration)
    transaction.total_cost = cost.total
    transaction.currency = cost.currency
    transaction.cost_breakdown = cost.as_dict()
    return cost


def live_cost(transaction, now=None):
    """The running cost now (charging time runs on while the last state was Charging)."""
    now = now or timezone.now()
    charging = transaction.charging_seconds
    if transaction.charging_state == "Charging" and transaction.last_event_at:
        charging += max(int((now - transaction.last_event_at).total_seconds()), 0)
    return _apply_cost(transaction, transaction.ended_at or now, charging)


def cost_updates_due(now=None):
    """Running 2.0.1 transactions with a tariff whose CostUpdated interval has passed:
    [(transaction, total)]."""
    now = now or timezone.now()
    due = []
    running = Transaction.objects.filter(
        state=Transaction.State.ACTIVE, ocpp_version=OCPP201, tariff__isnull=False,
    ).select_related("tariff", "station")
    for transaction in running:
        interval = transaction.tariff.cost_update_interval or settings.TRANSACTIONS_COST_UPDATE_INTERVAL
        last = transaction.cost_sent_at or transaction.started_at
        if last and (now - last).total_seconds() < interval:
            continue
        cost = live_cost(transaction, now)
        if cost is not None:
            due.append((transaction, cost.total))
    return due


def mark_cost_sent(transaction, total, now=None):
    Transaction.objects.filter(pk=transaction.pk).update(cost_sent=total,
                                                         cost_sent_at=now or timezone.now())


