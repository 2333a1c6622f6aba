"""Transaction messages from stations: 2.0.1 TransactionEvent and 1.6 Start/StopTransaction,
each stored once and folded into its transaction."""
from datetime import timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from .. import metering
from ..models import RemoteStart, StationTariff, Tariff, Transaction, TransactionEvent, TransactionNumber
from .authorization import authorize, id_tag_info, id_token_info
from .common import OCPP16, OCPP201, _retrying, iso, parse_time
from .derivation import derive, fold_in_order
from .meter_values import sampled_values, store_meter_values
from .settlement import heard_from


def tariff_for(station_pk):
    """The station's own tariff, else the default one (at most one is the default)."""
    assigned = Exists(StationTariff.objects.filter(station_id=station_pk, tariff=OuterRef("pk")))
    return (Tariff.objects.annotate(assigned=assigned).filter(Q(assigned=True) | Q(is_default=True))
            .order_by("-assigned").first())


def _transaction(station_pk, transaction_id, version):
    # Serialize writers of one transaction (Postgres; SQLite writers are serialized already). The
    # tariff comes along: every event prices the transaction.
    transaction = (
        Transaction.objects.select_for_update(of=("self",)).select_related("tariff")
        .filter(station_id=station_pk, transaction_id=transaction_id).first()
    )
    if transaction is None:
        # A concurrent first event of the same transaction makes this an IntegrityError, which
        # _retrying answers by running the whole event again (it then finds the row).
        transaction = Transaction.objects.create(
            station_id=station_pk, transaction_id=transaction_id, ocpp_version=version,
            tariff=tariff_for(station_pk),
        )
        transaction.is_new = True
    return transaction


def record_transaction_event(station_pk, payload):
    """TransactionEvent (2.0.1): store the event once per seqNo, re-derive the transaction from
    all its events, and return the answer. A repeat answers the same and changes nothing."""
    info = payload["transactionInfo"]

    def record():
        transaction = _transaction(station_pk, info["transactionId"], OCPP201)
        # The transaction's row is locked (or new in this database transaction): no one else can
        # add this seqNo meanwhile, so look, then insert, without get_or_create's savepoint.
        event = TransactionEvent(
            transaction=transaction, seq_no=payload["seqNo"], event_type=payload["eventType"],
            timestamp=parse_time(payload["timestamp"]), trigger_reason=payload["triggerReason"],
            offline=payload.get("offline", False), payload=payload,
        )
        evse = payload.get("evse") or {}
        rows = sampled_values(payload.get("meterValue"), OCPP201)
        heard_from(transaction)
        # The usual event, next in seqNo order (so not a repeat), is folded in as it comes.
        if fold_in_order(transaction, rows, payload):
            event.answer = transaction_event_answer(transaction, None)
            event.save(force_insert=True)
            store_meter_values(station_pk, rows, transaction, evse.get("id"),
                               evse.get("connectorId"), event=event)
            return event.answer
        earlier = None if getattr(transaction, "is_new", False) else (
            transaction.events.filter(seq_no=payload["seqNo"]).first())
        if earlier is not None:
            # seqNo repeats are replays after offline: answer the same, count once.
            return earlier.answer
        # Authorized before deriving: an unknown token the policy accepts is recorded first, and
        # the status answered is stored with the event (derive() reads the start token's).
        id_token = payload.get("idToken")
        authorization = id_token and authorize(
            station_pk, id_token["idToken"], id_token["type"], for_transaction=transaction,
            for_start=payload["eventType"] == TransactionEvent.EventType.STARTED)
        if authorization:
            event.answer = {"idTokenInfo": {"status": authorization.status}}
        event.save(force_insert=True)
        store_meter_values(station_pk, rows, transaction, evse.get("id"), evse.get("connectorId"),
                           event=event)
        derive(transaction, presented=authorization and authorization.token)
        event.answer = transaction_event_answer(transaction, authorization)
        event.save(update_fields=["answer"])
        return event.answer

    return _retrying(record)


def transaction_event_answer(transaction, authorization):
    answer = {}
    if transaction.total_cost is not None:
        answer["totalCost"] = float(transaction.total_cost)
        answer["updatedPersonalMessage"] = {
            "format": "ASCII", "content": f"Cost: {transaction.total_cost} {transaction.currency}"}
    if authorization:
        answer["idTokenInfo"] = id_token_info(authorization.token, authorization.status)
        if authorization.token and authorization.token.charging_priority:
            answer["chargingPriority"] = authorization.token.charging_priority
    return answer


def start_transaction_16(station_pk, payload):
    """StartTransaction (1.6): a new CSMS-made transactionId, or the same one for a repeat of the
    same start (same connector, idTag, timestamp and meterStart) after a reconnect."""
    timestamp = parse_time(payload["timestamp"])
    fingerprint = "|".join([str(payload["connectorId"]), payload["idTag"], iso(timestamp),
                            str(payload["meterStart"])])

    def record():
        existing = Transaction.objects.filter(station_id=station_pk,
                                              start_fingerprint=fingerprint).first()
        if existing is not None:
            started = existing.events.filter(event_type=TransactionEvent.EventType.STARTED).first()
            return started.answer
        number = TransactionNumber.objects.create()
        transaction = Transaction.objects.create(
            station_id=station_pk, transaction_id=str(number.pk), ocpp_version=OCPP16,
            start_fingerprint=fingerprint, tariff=tariff_for(station_pk),
            remote_start_id=_remote_start_for_16(station_pk, payload["idTag"], payload["connectorId"]),
        )
        authorization = authorize(station_pk, payload["idTag"], for_transaction=transaction,
                                  for_start=True)
        event = TransactionEvent.objects.create(
            transaction=transaction, event_type=TransactionEvent.EventType.STARTED,
            timestamp=timestamp, trigger_reason="StartTransaction", payload=payload,
            answer={"transactionId": number.pk,
                    "idTagInfo": id_tag_info(authorization.token, authorization.status)},
        )
        store_meter_values(station_pk, [_register_row(timestamp, payload["meterStart"],
                                                      "Transaction.Begin")],
                           transaction, connector_id=payload["connectorId"], event=event)
        heard_from(transaction)
        derive(transaction, presented=authorization.token)
        return event.answer

    return _retrying(record)


def _register_row(timestamp, wh, context):
    return {"timestamp": timestamp, "measurand": metering.ENERGY_REGISTER, "phase": "",
            "location": "Outlet", "context": context, "raw_value": str(wh), "unit": "Wh",
            "multiplier": 0, "value": metering.normalize(wh, "Wh")[0], "base_unit": "Wh",
            "signed_meter_value": None}


def _remote_start_for_16(station_pk, id_tag, connector_id):
    """1.6 carries no remoteStartId: link the newest open remote start of this idTag here."""
    since = timezone.now() - timedelta(seconds=settings.TRANSACTIONS_REMOTE_START_WINDOW)
    candidates = RemoteStart.objects.filter(
        station_id=station_pk, id_token_value=id_tag, transaction__isnull=True, created_at__gte=since,
    ).exclude(status="Rejected").order_by("-id")
    for remote_start in candidates:
        if remote_start.evse_id in (None, 0, connector_id):
            return remote_start.pk
    return None


def stop_transaction_16(station_pk, payload):
    """StopTransaction (1.6), with its transactionData. A stop of a transaction the CSMS never saw
    start is kept too; a repeat answers the same and changes nothing. A stop of a transaction the
    CSMS closed itself (settlement) replaces that closing."""
    timestamp = parse_time(payload["timestamp"])

    def record():
        transaction = _transaction(station_pk, str(payload["transactionId"]), OCPP16)
        if transaction.state == Transaction.State.ENDED:
            ended = transaction.events.filter(event_type=TransactionEvent.EventType.ENDED).first()
            if ended is not None:  # a repeat
                return ended.answer
        answer = {}
        if payload.get("idTag"):
            authorization = authorize(station_pk, payload["idTag"], for_transaction=transaction)
            answer["idTagInfo"] = id_tag_info(authorization.token, authorization.status)
        event = TransactionEvent.objects.create(
            transaction=transaction, event_type=TransactionEvent.EventType.ENDED,
            timestamp=timestamp, trigger_reason="StopTransaction", payload=payload, answer=answer,
        )
        rows = sampled_values(payload.get("transactionData"), OCPP16)
        rows.append(_register_row(timestamp, payload["meterStop"], "Transaction.End"))
        store_meter_values(station_pk, rows, transaction, connector_id=transaction.connector_id,
                           event=event)
        heard_from(transaction)
        derive(transaction)
        return answer

    return _retrying(record)
