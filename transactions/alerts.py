"""Alerts of the transactions app: a running transaction without news (no event, no reading) for
ALERT_TRANSACTION_SILENT_SECONDS, raised and cleared by the stations app's beat pass; an end
clears it at once."""
from datetime import timedelta

from django.conf import settings
from django.db import transaction as db_transaction
from django.db.models import Exists, OuterRef, Q

from stations.actions import alerts
from stations.models import Alert

from .models import Transaction
from .signals import transaction_changed

Kind, State = Alert.Kind, Alert.State


def _silent(now):
    threshold = settings.ALERT_TRANSACTION_SILENT_SECONDS
    limit = now - timedelta(seconds=threshold)
    return Transaction.objects.filter(state=Transaction.State.ACTIVE).filter(
        Q(last_news_at__lt=limit) | Q(last_news_at__isnull=True, created_at__lt=limit))


def check_silent_transactions(now):
    """Raise for running transactions silent past the threshold, clear those that spoke or ended."""
    if not settings.ALERT_TRANSACTION_SILENT_SECONDS:
        return
    silent = _silent(now)
    still_silent = silent.filter(station=OuterRef("station"), transaction_id=OuterRef("subject"))
    alerts.clear_alerts(Alert.objects.filter(kind=Kind.TRANSACTION_SILENT, state=State.ACTIVE)
                        .exclude(Exists(still_silent)), now)
    already = Alert.objects.filter(kind=Kind.TRANSACTION_SILENT, state=State.ACTIVE,
                                   station=OuterRef("station"), subject=OuterRef("transaction_id"))
    newly_silent = silent.exclude(Exists(already)).values_list(
        "station", "transaction_id", "last_news_at", "created_at")
    alerts.raise_new(Kind.TRANSACTION_SILENT, [
        (station_pk, transaction_id,
         f"Transaction {transaction_id} running, nothing heard since {since:%Y-%m-%d %H:%M:%S} UTC",
         {"transaction_id": transaction_id, "last_news_at": since.isoformat()})
        for station_pk, transaction_id, last_news_at, created_at in newly_silent
        for since in [last_news_at or created_at]], now)


def on_transaction_changed(sender, transaction, **kwargs):
    if transaction.state != Transaction.State.ENDED:
        return
    station_pk, transaction_id = transaction.station_id, transaction.transaction_id
    db_transaction.on_commit(lambda: alerts.clear_alert(Kind.TRANSACTION_SILENT, station_pk,
                                                        transaction_id))


alerts.register_periodic_check(check_silent_transactions)
transaction_changed.connect(on_transaction_changed, dispatch_uid="alerts-transaction-ended")
