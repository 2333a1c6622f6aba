"""The hot path of charging data, top to bottom: meter readings and the usual 2.0.1
TransactionEvent (Updated, next in seqNo order, no token), which are most of what a fleet sends.

1. The handler (on the event loop) parses the readings, then submits a job to the process's
   group commit (`csms.ocpp.ingest`) and awaits it: the station is answered after the COMMIT.
2. The job (a `Reading`) works from the transaction this socket holder keeps in memory
   (`session.data`, loaded once per transaction and session): it continues the transaction's
   fold on a copy (`derivation.continue_fold`, the same code the one-message path runs). Then
   `write_readings` writes every Reading of the batch together: one compare-and-set for all
   their transactions (`UPDATE ... FROM (VALUES ...) WHERE write_stamp = <the kept one>` and the
   tariff's stamp unchanged, RETURNING the rows it changed), one multi-row INSERT for their
   events and one for all their readings. A batch of 300 messages costs three statements, not
   three per message, and no row lock or re-read. (SQLite, one writer, no UPDATE ... FROM
   with typed VALUES: one compare-and-set per message there.)
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
from django.utils import timezone

from csms import bulk, metrics
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
        evse = payload.get("evse") or {}
        answer = await ingest.submit(Reading(
            session, sampled_values(payload.get("meterValue"), OCPP201),
            transaction_id=payload["transactionInfo"]["transactionId"], event=payload,
            evse_id=evse.get("id"), connector_id=evse.get("connectorId")))
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
        job = Reading(session, rows, connector_id=connector_id,
                      transaction_id=None if transaction_id is None else str(transaction_id))
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
        await ingest.submit(Reading(session, rows, evse_id=payload["evseId"]))
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

class Reading:
    """One message's readings for the group commit: of a running transaction (a 2.0.1 Updated
    that comes next, `event`, or a 1.6 MeterValues with a transactionId), or of none. Every
    Reading of a batch is written by `write_readings`, which shares each statement among them."""

    def __init__(self, session, rows, transaction_id=None, event=None, evse_id=None,
                 connector_id=None):
        self.session, self.rows, self.event = session, rows, event
        self.transaction_id = transaction_id
        self.evse_id, self.connector_id = evse_id, connector_id

    @staticmethod
    def write_together(jobs):
        return write_readings(jobs)


def write_readings(jobs):
    """The readings of many stations stored with one statement of each kind: folds continued
    (in Python), one compare-and-set UPDATE for all the transactions, one INSERT for the
    2.0.1 events, one for every reading. A job whose transaction is not simply continued gets
    FALLBACK and has written nothing. Returns each job's answer in order."""
    answers = [{} for _ in jobs]
    folds = []  # (index, job, new transaction, kept transaction, placement before)
    written = []  # (index, job, new transaction or None, placement before)
    for index, job in enumerate(jobs):
        if job.transaction_id is None:
            written.append((index, job, None, None))
            continue
        continued = _continued(job.session, job.transaction_id, job.rows, job.event)
        if continued is None:
            answers[index] = FALLBACK
        else:
            folds.append((index, job, *continued))
    changed = _compare_and_set_all([(new, kept) for _, _, new, kept, _ in folds])
    for index, job, transaction, _, before in folds:
        if transaction.pk not in changed:
            answers[index] = FALLBACK
            continue
        if job.event is not None:
            answers[index] = transaction_event_answer(transaction, None)
        written.append((index, job, transaction, before))
    events = [(job, transaction, answers[index]) for index, job, transaction, _ in written
              if job.event is not None]
    event_ids = {id(job): event_id
                 for (job, _, _), event_id in zip(events, _insert_events(events))}
    _insert_readings([(job, transaction, event_ids.get(id(job)))
                      for _, job, transaction, _ in written])
    for _, job, transaction, before in written:
        _announce(job, transaction, before)
    return answers


def _continued(session, transaction_id, rows, payload=None):
    """The kept transaction's fold continued on a copy (nothing written): (the new transaction,
    the kept one, its placement before), or None when it does not simply continue."""
    kept = _kept(session, transaction_id)
    if kept is None:
        return None
    transaction = copy.copy(kept)
    before = placement(transaction)
    heard_from(transaction)
    if not continue_fold(transaction, rows, payload):
        return None
    transaction.updated_at = timezone.now()
    transaction.write_stamp = new_stamp()
    return transaction, kept, before


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


def _announce(job, transaction, before):
    station_pk = job.session.station_pk
    if job.rows:
        meter_values_stored.send(sender=MeterValue, station_pk=station_pk,
                                 transaction=transaction, evse_id=job.evse_id,
                                 connector_id=job.connector_id, rows=job.rows)
    if transaction is None:
        return
    if placement(transaction) != before:
        transaction_changed.send(sender=Transaction, transaction=transaction)
    db_transaction.on_commit(partial(_keep, job.session, transaction))


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


def _adapt(field, value):
    return bulk.db_value(field, value) if field.name in _ADAPTED else value


def _compare_and_set_all(pairs):
    """Write the folded fields of each (new, kept) transaction whose row is still the kept one
    (same write stamp, still running, same tariff at the same stamp); returns the pks written.
    PostgreSQL: one UPDATE ... FROM unnest(...) for all; SQLite: one UPDATE each."""
    if connection.vendor != "postgresql":
        return {new.pk for new, kept in pairs if _compare_and_set(new, kept)}
    if not pairs:
        return set()
    quote = connection.ops.quote_name
    keys = ["id", "old_stamp", "new_stamp", "tariff_id", "tariff_stamp"]
    names = keys + [field.column for field in _FOLDED]
    assignments = ", ".join(f"{quote(field.column)} = v.{quote(field.column)}" for field in _FOLDED)
    rows = []
    for new, kept in pairs:
        tariff = kept.tariff
        rows.append([new.pk, kept.write_stamp, new.write_stamp, tariff and tariff.pk,
                     tariff and tariff.write_stamp]
                    + [_adapt(field, getattr(new, field.attname)) for field in _FOLDED])
    source, params = bulk.unnest(["bigint"] * len(keys)
                                 + [field.cast_db_type(connection) for field in _FOLDED], rows)
    with bulk.statement_cursor() as cursor:
        cursor.execute(
            f"UPDATE transactions_transaction AS t SET {assignments},"
            f" write_stamp = v.new_stamp"
            f" FROM {source} AS v({', '.join(quote(name) for name in names)})"
            f" WHERE t.id = v.id AND t.write_stamp = v.old_stamp AND t.state = %s"
            f" AND t.tariff_id IS NOT DISTINCT FROM v.tariff_id"
            f" AND (v.tariff_id IS NULL OR EXISTS (SELECT 1 FROM transactions_tariff f"
            f" WHERE f.id = v.tariff_id AND f.write_stamp = v.tariff_stamp))"
            f" RETURNING t.id", params + [Transaction.State.ACTIVE.value])
        return {row[0] for row in cursor.fetchall()}


def _compare_and_set(transaction, kept):
    """Write the folded fields if the row is still the one kept (same write stamp, still
    running, same tariff at the same stamp); False, writing nothing, otherwise."""
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
    with bulk.statement_cursor() as cursor:
        cursor.execute(f"UPDATE transactions_transaction SET {assignments}, write_stamp = %s"
                       f" WHERE {condition}", params)
        return cursor.rowcount == 1


def _insert_events(events):
    """The 2.0.1 events of (job, transaction, answer): their ids, in order."""
    now = timezone.now()
    rows = []
    for job, transaction, answer in events:
        payload = job.event
        values = {"transaction": transaction.pk, "seq_no": payload["seqNo"],
                  "event_type": payload["eventType"], "timestamp": parse_time(payload["timestamp"]),
                  "trigger_reason": payload["triggerReason"],
                  "offline": payload.get("offline", False), "payload": payload,
                  "answer": answer, "received_at": now}
        rows.append([_adapt(field, values[field.name]) for field in _EVENT])
    return bulk.insert(TransactionEvent._meta.db_table, _EVENT, rows, returning="id")


def _insert_readings(writes):
    """Every reading of (job, transaction or None, event id) in one INSERT; a repeated reading
    of a transaction is skipped by its unique key, as the one-message path's
    bulk_create(ignore_conflicts) does (readings of no transaction fall outside that partial
    key, so the clause never skips them)."""
    of_transactions, of_none = [], []
    for job, transaction, event_id in writes:
        fixed = {"station": job.session.station_pk, "transaction": transaction and transaction.pk,
                 "evse_id": job.evse_id, "connector_id": job.connector_id, "event": event_id,
                 "after_end": False}
        (of_none if transaction is None else of_transactions).extend(
            [_adapt(field, fixed[field.name] if field.name in fixed else row[field.name])
             for field in _READING] for row in job.rows)
    table = MeterValue._meta.db_table
    if connection.vendor == "postgresql":
        # ON CONFLICT DO NOTHING skips unique conflicts only: one statement for both kinds.
        bulk.insert(table, _READING, of_transactions + of_none, skip_conflicts=True)
    else:
        # SQLite's INSERT OR IGNORE would also skip a row that breaks any other constraint.
        bulk.insert(table, _READING, of_transactions, skip_conflicts=True)
        bulk.insert(table, _READING, of_none)
