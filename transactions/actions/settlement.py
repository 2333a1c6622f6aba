"""Transactions a station never ends: marked after a reboot or a connector reported Available,
closed when nothing more is heard (grace, TRANSACTIONS_STALE_AFTER) or by an operator."""
from datetime import timedelta

from django.conf import settings
from django.db import transaction as db_transaction
from django.db.models import Q
from django.utils import timezone

from csms.models import Command

from ..models import Transaction
from .common import OCPP201
from .derivation import derive

Settlement = Transaction.Settlement
# How many due transactions one sweep closes (the next sweep takes the rest).
SWEEP_BATCH = 200
# A 1.6 boot this soon after the CSMS asked for one (TriggerMessage) is no restart.
TRIGGERED_BOOT_WINDOW = timedelta(minutes=5)
TRIGGER_ANSWERED = [Command.Status.SENT, Command.Status.ACCEPTED]


class TransactionEnded(Exception):
    """The transaction has ended already: there is nothing to close."""


def heard_from(transaction, now=None):
    """News of a transaction (an event or a reading): a running one is not stale for another
    TRANSACTIONS_STALE_AFTER, and a reboot's or Available's pending close is called off."""
    now = now or timezone.now()
    transaction.last_news_at = now
    stale_after = settings.TRANSACTIONS_STALE_AFTER
    if transaction.state == Transaction.State.ACTIVE and stale_after:
        transaction.settle_due_at = now + timedelta(seconds=stale_after)
        transaction.settle_reason = Settlement.NO_NEWS
    else:
        transaction.settle_due_at, transaction.settle_reason = None, ""


def _close_unless_heard(transactions, reason, now=None):
    """Close these running transactions after the grace period unless the station reports
    them meanwhile (an earlier close already due stays)."""
    due = (now or timezone.now()) + timedelta(seconds=settings.TRANSACTIONS_SETTLE_GRACE)
    return transactions.filter(state=Transaction.State.ACTIVE).filter(
        Q(settle_due_at__isnull=True) | Q(settle_due_at__gt=due),
    ).update(settle_due_at=due, settle_reason=reason)


def station_rebooted(station_pk, identity, ocpp_version, boot_reason):
    """A BootNotification: the station restarted (2.0.1 unless Triggered, which is no restart;
    1.6 unless the CSMS just triggered it, 1.6 carries no reason), so what it was charging is
    gone unless it reports it again (2.0.1 stations resend queued events, 1.6 ones queued
    Start/StopTransactions)."""
    if ocpp_version == OCPP201 and boot_reason == "Triggered":
        return 0
    running = Transaction.objects.filter(station_id=station_pk, state=Transaction.State.ACTIVE)
    if ocpp_version != OCPP201 and running.exists() and Command.objects.filter(
            identity=identity, action="TriggerMessage", status__in=TRIGGER_ANSWERED,
            payload__requestedMessage="BootNotification",
            created_at__gte=timezone.now() - TRIGGERED_BOOT_WINDOW).exists():
        return 0
    return _close_unless_heard(running, Settlement.STATION_REBOOTED)


def connector_available(station_pk, evse_id, connector_id, status_at=None):
    """A connector reported Available: no transaction runs there any more (evse_id None: 1.6)."""
    running = Transaction.objects.filter(station_id=station_pk)
    if evse_id is None:
        running = running.filter(evse_id__isnull=True, connector_id=connector_id)
    else:
        running = running.filter(Q(connector_id__isnull=True) | Q(connector_id=connector_id),
                                 evse_id=evse_id)
    if status_at is not None:  # a status older than the transaction's news says nothing of it
        running = running.filter(Q(last_event_at__isnull=True) | Q(last_event_at__lt=status_at))
    return _close_unless_heard(running, Settlement.CONNECTOR_AVAILABLE)


NOTES = {
    Settlement.STATION_REBOOTED: "The station rebooted and did not report this transaction "
                                 "again by {due} UTC.",
    Settlement.CONNECTOR_AVAILABLE: "The connector was reported Available and the station did "
                                    "not end this transaction by {due} UTC.",
    Settlement.NO_NEWS: "Nothing heard of it since {last_news} UTC.",
    Settlement.NOT_ONGOING: "The station answered GetTransactionStatus that it no longer runs "
                            "this transaction and holds no queued message; nothing more was "
                            "heard of it by {due} UTC.",
}


def station_not_ongoing(transaction_pk):
    """E14: GetTransactionStatus answered not ongoing with no messages queued: close it after
    the grace period unless the station reports it meanwhile."""
    running = Transaction.objects.filter(pk=transaction_pk)
    return _close_unless_heard(running, Settlement.NOT_ONGOING)


def _moment(value):
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "its start"


def settle_due(now=None):
    """Close every running transaction whose settle time has passed; returns how many."""
    now = now or timezone.now()
    due = list(Transaction.objects.filter(state=Transaction.State.ACTIVE, settle_due_at__lte=now)
               .order_by("settle_due_at").values_list("pk", flat=True)[:SWEEP_BATCH])
    closed = 0
    for pk in due:
        with db_transaction.atomic():
            transaction = _locked(pk)
            if (transaction.state != Transaction.State.ACTIVE or transaction.settle_due_at is None
                    or transaction.settle_due_at > now):
                continue  # heard from meanwhile
            reason = transaction.settle_reason or Settlement.NO_NEWS
            note = NOTES[reason].format(due=_moment(transaction.settle_due_at),
                                        last_news=_moment(transaction.last_news_at))
            _close(transaction, reason, "CSMS", note, now)
            closed += 1
    return closed


def close_transaction(pk, closed_by, note):
    """An operator closes a running transaction (the station is not told: this is the CSMS's
    record only). Raises TransactionEnded when it has ended already."""
    with db_transaction.atomic():
        transaction = _locked(pk)
        if transaction.state != Transaction.State.ACTIVE:
            raise TransactionEnded(f"Transaction {transaction.transaction_id} has ended already.")
        return _close(transaction, Settlement.OPERATOR, closed_by, note, timezone.now())


def _locked(pk):
    return (Transaction.objects.select_for_update(of=("self",)).select_related("tariff")
            .get(pk=pk))


def _close(transaction, reason, closed_by, note, now):
    transaction.settlement, transaction.settled_at = reason, now
    transaction.settled_by, transaction.settlement_note = closed_by[:150], note[:500]
    transaction.settle_due_at, transaction.settle_reason = None, ""
    # derive() ends it by the settlement unless (until) the station's own Ended is stored.
    return derive(transaction)
