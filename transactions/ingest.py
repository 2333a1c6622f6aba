"""The hot path of charging data, top to bottom: meter readings and the usual 2.0.1
TransactionEvent (Updated, next in seqNo order, no token), which are most of what a fleet sends.

1. The handler (on the event loop) parses the readings, then submits a job to the process's
   group commit (`csms.ocpp.ingest`) and awaits it: the station is answered after the COMMIT.
2. The job works from the transaction this socket holder keeps in memory (`session.data`, loaded
   once per transaction and session): it continues the transaction's fold on a copy
   (`derivation.continue_fold`, the same code the one-message path runs), then writes the new
   state with a compare-and-set — `UPDATE ... WHERE write_stamp = <the kept one>` and the tariff's
   stamp unchanged — and inserts the event and its readings with plain multi-row INSERTs. Three
   statements for an Updated, two for a 1.6 MeterValues, and no row lock or re-read.
3. Anything else goes the one-message way (`actions`, on the sessions' thread pool): an event
   that does not simply come next (out of order, a repeat, a token, the start or the end), a
   transaction the CSMS does not hold as running, and any compare-and-set that finds the row
   changed by someone else (the operator closing it, the settlement, a tariff edit). The job then
   has written nothing, and the kept copy is dropped so the next message reads the row again.

The kept copy is replaced only after the commit (`on_commit`), so a batch that rolls back leaves
it as the database has it. Signals (`meter_values_stored`, `transaction_changed`) are sent inside
the batch's transaction like on the one-message path, so their receivers' on-commit work runs
after the same COMMIT."""
import copy
from functools import partial

from django.db import connection, transaction as db_transaction
from django.db.models.constants import OnConflict
from django.utils import timezone

from csms import metrics
from csms.ocpp import ingest, sessiondb

from . import actions
from .actions.common import OCPP16, OCPP201, parse_time
from .actions.derivation import FOLDED_FIELDS, continue_fold, placement
from .actions.events import transaction_event_answer
from .actions.meter_values import sampled_values
from .actions.settlement import heard_from
from .models import MeterValue, Transaction, TransactionEvent
from .signals import meter_values_stored, transaction_changed
from .write_stamps import new_stamp

FALLBACK = object()  # a job's answer: nothing written, take the one-message path
KEPT = "transactions.running"  # session.data key: {transaction id: Transaction}
MOST_KEPT = 8  # a station runs a transaction per EVSE at most


# --- handlers ----------------------------------------------------------------------------------

async def transaction_event_201(session, payload):
    if ingest.enabled() and _may_come_next(payload):
        rows = sampled_values(payload.get("meterValue"), OCPP201)
        answer = await ingest.submit(partial(_fold_event, session, payload, rows))
        if answer is not FALLBACK:
            return answer
        metrics.ingest_fallback("TransactionEvent")
    forget(session, payload["transactionInfo"]["transactionId"])
    return await sessiondb.SessionDatabaseCall(actions.record_transaction_event)(session.station_pk, payload)


async def meter_values_16(session, payload):
    transaction_id = payload.get("transactionId")
    connector_id = payload["connectorId"]
    if ingest.enabled():
        rows = sampled_values(payload["meterValue"], OCPP16)
        if transaction_id is None:
            job = partial(_store_readings, session.station_pk, rows, connector_id=connector_id)
        else:
            job = partial(_fold_readings_16, session, str(transaction_id), connector_id, rows)
        if await ingest.submit(job) is not FALLBACK:
            return {}
        metrics.ingest_fallback("MeterValues")
        forget(session, transaction_id)
    await sessiondb.SessionDatabaseCall(actions.record_meter_values_16)(
        session.station_pk, connector_id, payload["meterValue"], transaction_id)
    return {}


async def meter_values_201(session, payload):
    if ingest.enabled():
        rows = sampled_values(payload["meterValue"], OCPP201)
        await ingest.submit(partial(_store_readings, session.station_pk, rows,
                                    evse_id=payload["evseId"]))
    else:
        await sessiondb.SessionDatabaseCall(actions.record_meter_values_201)(
            session.station_pk, payload["evseId"], payload["meterValue"])
    return {}


def forget(session, transaction_id):
    """Drop the kept copy (the one-message path is about to change the row)."""
    if transaction_id is not None:
        session.data.get(KEPT, {}).pop(str(transaction_id), None)


def _may_come_next(payload):
    return (payload["eventType"] == "Updated" and not payload.get("idToken")
            and payload.get("reservationId") is None
            and payload["transactionInfo"].get("remoteStartId") is None)


# --- jobs (on the group commit's thread, inside its transaction) --------------------------------

def _fold_event(session, payload, rows):
    """A 2.0.1 Updated that comes next: the fold continued, the event and its readings stored."""
    folded = _continued(session, payload["transactionInfo"]["transactionId"], rows, payload)
    if folded is None:
        return FALLBACK
    transaction, before = folded
    answer = transaction_event_answer(transaction, None)
    event_id = _insert_event(transaction, payload, answer)
    evse = payload.get("evse") or {}
    _insert_readings(session.station_pk, rows, transaction, evse.get("id"),
                     evse.get("connectorId"), event_id)
    _announce(session, transaction, before, rows, evse.get("id"), evse.get("connectorId"))
    return answer


def _fold_readings_16(session, transaction_id, connector_id, rows):
    """A 1.6 MeterValues of a running transaction, after everything stored: folded and stored."""
    folded = _continued(session, transaction_id, rows)
    if folded is None:
        return FALLBACK
    transaction, before = folded
    _insert_readings(session.station_pk, rows, transaction, None, connector_id, None)
    _announce(session, transaction, before, rows, None, connector_id)
    return {}


def _store_readings(station_pk, rows, evse_id=None, connector_id=None):
    """Readings outside any transaction (2.0.1 MeterValues; 1.6 without a transactionId)."""
    _insert_readings(station_pk, rows, None, evse_id, connector_id, None)
    if rows:
        meter_values_stored.send(sender=MeterValue, station_pk=station_pk, transaction=None,
                                 evse_id=evse_id, connector_id=connector_id, rows=rows)
    return {}


def _continued(session, transaction_id, rows, payload=None):
    """The kept transaction's fold continued on a copy and written by compare-and-set:
    (the new transaction, its placement before), or None with nothing written."""
    kept = _kept(session, transaction_id)
    if kept is None:
        return None
    transaction = copy.copy(kept)
    before = placement(transaction)
    heard_from(transaction)
    if not continue_fold(transaction, rows, payload) or not _compare_and_set(transaction, kept):
        return None
    return transaction, before


def _kept(session, transaction_id):
    """The running transaction this session keeps, read once (with its tariff)."""
    kept = session.data.setdefault(KEPT, {})
    transaction = kept.get(transaction_id)
    if transaction is None:
        transaction = (Transaction.objects.select_related("tariff")
                       .filter(station_id=session.station_pk, transaction_id=transaction_id).first())
        if transaction is None or transaction.state != Transaction.State.ACTIVE \
                or not transaction.derivation:
            return None
        if len(kept) >= MOST_KEPT:
            kept.clear()  # transactions the CSMS settled without the station saying so
        kept[transaction_id] = transaction
    return transaction


def _announce(session, transaction, before, rows, evse_id, connector_id):
    if rows:
        meter_values_stored.send(sender=MeterValue, station_pk=session.station_pk,
                                 transaction=transaction, evse_id=evse_id,
                                 connector_id=connector_id, rows=rows)
    if placement(transaction) != before:
        transaction_changed.send(sender=Transaction, transaction=transaction)
    db_transaction.on_commit(partial(_keep, session, transaction))


def _keep(session, transaction):
    session.data.setdefault(KEPT, {})[transaction.transaction_id] = transaction


# --- statements ---------------------------------------------------------------------------------

_FOLDED = [Transaction._meta.get_field(name) for name in FOLDED_FIELDS]
_EVENT = [TransactionEvent._meta.get_field(name) for name in (
    "transaction", "seq_no", "event_type", "timestamp", "trigger_reason", "offline", "payload",
    "answer", "received_at")]
_READING = [MeterValue._meta.get_field(name) for name in (
    "station", "transaction", "evse_id", "connector_id", "timestamp", "measurand", "phase",
    "location", "context", "raw_value", "unit", "multiplier", "value", "base_unit",
    "signed_meter_value", "event", "after_end")]
# Columns whose Python value the backend cannot take as it is (the rest are str/int/bool/None).
_ADAPTED = {"timestamp", "value", "signed_meter_value", "payload", "answer", "received_at",
            "last_event_at", "energy_wh", "meter_start_wh", "total_cost", "cost_breakdown",
            "derivation", "last_news_at", "settle_due_at", "updated_at"}


def _statement_cursor():
    """A cursor for the statements below. On PostgreSQL it binds parameters on the server:
    Django's default (client-side binding) quotes every parameter into the SQL text in Python,
    a fifth of the hot path's CPU for a multi-row INSERT; the server also keeps the plans of
    these few statements (psycopg prepares a statement after its fifth use). Logged and counted
    like any Django cursor."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    import psycopg

    connection.ensure_connection()
    return connection._prepare_cursor(psycopg.Cursor(connection.connection))


def _adapt(field, value):
    return field.get_db_prep_save(value, connection) if field.name in _ADAPTED else value


def _compare_and_set(transaction, kept):
    """Write the folded fields if the row is still the one kept (same write stamp, still
    running, same tariff at the same stamp); False, writing nothing, otherwise."""
    transaction.updated_at = timezone.now()
    transaction.write_stamp = new_stamp()
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in _FOLDED)
    params = [_adapt(field, getattr(transaction, field.attname)) for field in _FOLDED]
    condition = f"{quote('id')} = %s AND write_stamp = %s AND state = %s"
    params += [transaction.write_stamp, transaction.pk, kept.write_stamp,
               Transaction.State.ACTIVE.value]
    tariff = kept.tariff
    if tariff is None:
        condition += " AND tariff_id IS NULL"
    else:
        condition += (" AND tariff_id = %s AND EXISTS (SELECT 1 FROM transactions_tariff"
                      " WHERE id = %s AND write_stamp = %s)")
        params += [tariff.pk, tariff.pk, tariff.write_stamp]
    with _statement_cursor() as cursor:
        cursor.execute(f"UPDATE transactions_transaction SET {assignments}, write_stamp = %s"
                       f" WHERE {condition}", params)
        return cursor.rowcount == 1


def _insert_event(transaction, payload, answer):
    values = {"transaction": transaction.pk, "seq_no": payload["seqNo"],
              "event_type": payload["eventType"], "timestamp": parse_time(payload["timestamp"]),
              "trigger_reason": payload["triggerReason"],
              "offline": payload.get("offline", False), "payload": payload, "answer": answer,
              "received_at": timezone.now()}
    columns = ", ".join(field.column for field in _EVENT)
    placeholders = ", ".join(["%s"] * len(_EVENT))
    params = [_adapt(field, values[field.name]) for field in _EVENT]
    with _statement_cursor() as cursor:
        if connection.features.can_return_columns_from_insert:
            cursor.execute(f"INSERT INTO transactions_transactionevent ({columns}) VALUES"
                           f" ({placeholders}) RETURNING id", params)
            return cursor.fetchone()[0]
        cursor.execute(f"INSERT INTO transactions_transactionevent ({columns}) VALUES"
                       f" ({placeholders})", params)
        return cursor.lastrowid


def _insert_readings(station_pk, rows, transaction, evse_id, connector_id, event_id):
    """One multi-row INSERT; a repeated reading of a transaction is skipped by its unique key,
    as the one-message path's bulk_create(ignore_conflicts) does."""
    if not rows:
        return
    fixed = {"station": station_pk, "transaction": transaction and transaction.pk,
             "evse_id": evse_id, "connector_id": connector_id, "event": event_id,
             "after_end": False}
    params = []
    for row in rows:
        params += [_adapt(field, fixed[field.name] if field.name in fixed else row[field.name])
                   for field in _READING]
    ignore = OnConflict.IGNORE if transaction is not None else None
    columns = ", ".join(field.column for field in _READING)
    one_row = "(" + ", ".join(["%s"] * len(_READING)) + ")"
    suffix = connection.ops.on_conflict_suffix_sql(_READING, ignore, None, None) if ignore else ""
    with _statement_cursor() as cursor:
        cursor.execute(f"{connection.ops.insert_statement(on_conflict=ignore)}"
                       f" transactions_metervalue ({columns}) VALUES"
                       f" {', '.join([one_row] * len(rows))} {suffix}", params)
