"""Pushes to the dashboard when a transaction starts, ends or gets meter readings: the station
page's Charging panel and the transactions list follow them without polling."""
from django.db import transaction as db_transaction
from django.dispatch import receiver

from stations import live

from .models import MeterValue, Transaction
from .signals import meter_values_stored, transaction_changed


def transaction_event(transaction, change):
    return {"transaction": transaction.pk, "transaction_id": transaction.transaction_id,
            "state": transaction.state, "change": change}, live.identity_of(transaction.station_id)


@receiver(transaction_changed, sender=Transaction, dispatch_uid="live-transaction-changed")
def transaction_placed(sender, transaction, **kwargs):
    change = "started" if transaction.state == Transaction.State.ACTIVE else "ended"
    snapshot = _Snapshot(transaction)

    def push():
        data, station = transaction_event(snapshot, change)
        live.publish("transaction", data, station=station)

    db_transaction.on_commit(push)


@receiver(meter_values_stored, sender=MeterValue, dispatch_uid="live-meter-values")
def meter_values_arrived(sender, transaction, **kwargs):
    if transaction is None:
        return
    snapshot = _Snapshot(transaction)
    # Readings arrive every few seconds per session: one push per transaction per moment.
    db_transaction.on_commit(lambda: live.publish_soon(
        "transaction", snapshot.pk, lambda: transaction_event(snapshot, "meter")))


class _Snapshot:
    """The fields an event needs, read when the signal fires (the row object lives on)."""

    def __init__(self, transaction):
        self.pk, self.transaction_id = transaction.pk, transaction.transaction_id
        self.state, self.station_id = transaction.state, transaction.station_id
