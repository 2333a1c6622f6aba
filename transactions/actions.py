"""Every state change of the transactions domain (tokens, authorization, transactions, meter
values, cost, reservations, remote starts, local lists), shared by handlers, API, pages and tasks."""
import csv
import io
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction as db_transaction
from django.db.models import Exists, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from csms.models import Command

from . import metering
from .models import (
    IdToken, IdTokenType, LocalList, LocalListUpdate, MeterValue, RemoteStart, Reservation,
    StationTariff, Tariff, Transaction, TransactionEvent, TransactionNumber,
)

logger = logging.getLogger(__name__)
OCPP16, OCPP201 = "1.6", "2.0.1"
# A 1.6 idTag carries no type; recorded tokens get the type of the usual RFID card UID.
ID_TAG_TYPE = IdTokenType.ISO14443
# 2.0.1 statuses 1.6 cannot say are all "not valid" there.
STATUS_TO_16 = {"Accepted": "Accepted", "Blocked": "Blocked", "Expired": "Expired",
                "ConcurrentTx": "ConcurrentTx"}
ATTEMPTS = 3


class InvalidRequest(ValueError):
    """A user asked for something that cannot be done; the message says why."""


def parse_time(value):
    if not value:
        return None
    parsed = parse_datetime(value) if isinstance(value, str) else value
    if parsed is None:
        return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, dt_timezone.utc)
    return parsed.astimezone(dt_timezone.utc)


def iso(value):
    return value.astimezone(dt_timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _retrying(operation):
    """Run `operation` in a transaction; a unique-key race with a concurrent writer retries it."""
    for attempt in range(ATTEMPTS):
        try:
            with db_transaction.atomic():
                return operation()
        except IntegrityError:
            if attempt == ATTEMPTS - 1:
                raise


# --- id tokens and authorization ----------------------------------------------------------------

def _tokens_presented_as(value, token_type=None):
    # 1.6 idTags carry no type: they match on value alone.
    queryset = IdToken.objects.select_related("group").filter(id_token=value)
    return (queryset.filter(type=token_type) if token_type else queryset).order_by("id")


def find_token(value, token_type=None):
    """The token with this value (and type, on 2.0.1); 1.6 idTags match on value alone."""
    return _tokens_presented_as(value, token_type).first()


def _token_for_authorization(value, token_type, station_pk, for_transaction):
    """find_token() with what authorize() checks beyond the row itself, in the same query:
    whether the token is restricted to some stations and allowed at this one, and whether it
    is in another active transaction."""
    allowed = IdToken.allowed_stations.through.objects.filter(idtoken=OuterRef("pk"))
    others = Transaction.objects.filter(id_token=OuterRef("pk"), state=Transaction.State.ACTIVE)
    if for_transaction is not None:
        others = others.exclude(pk=for_transaction.pk)
    return _tokens_presented_as(value, token_type).annotate(
        restricted=Exists(allowed), allowed_here=Exists(allowed.filter(station=station_pk)),
        in_other_transaction=Exists(others)).first()


@dataclass
class Authorization:
    status: str  # in 2.0.1 AuthorizationStatus words
    token: IdToken | None = None


def authorize(station_pk, value, token_type=None, for_transaction=None):
    """The authorization status of a presented token at a station (BRIEF §4)."""
    token = _token_for_authorization(value, token_type, station_pk, for_transaction)
    if token is None:
        if settings.TRANSACTIONS_UNKNOWN_ID_TOKEN_POLICY != "accept":
            return Authorization("Unknown")
        token, created = record_unknown_token(value, token_type or ID_TAG_TYPE)
        if created:  # no station restriction, in no transaction
            token.restricted = token.allowed_here = token.in_other_transaction = False
        else:  # recorded by a concurrent request meanwhile
            token = _token_for_authorization(value, token.type, station_pk, for_transaction)
    now = timezone.now()
    group = token.group
    if token.status == IdToken.Status.BLOCKED or (group and group.status == IdToken.Status.BLOCKED):
        return Authorization("Blocked", token)
    if token.status == IdToken.Status.INVALID:
        return Authorization("Invalid", token)
    if token.expires_at and token.expires_at <= now:
        return Authorization("Expired", token)
    if token.restricted and not token.allowed_here:
        return Authorization("NotAtThisLocation", token)
    if token.spending_limit is not None and spent_by(token) >= token.spending_limit:
        return Authorization("NoCredit", token)
    if not token.allow_concurrent_transactions and token.in_other_transaction:
        return Authorization("ConcurrentTx", token)
    return Authorization("Accepted", token)


def spent_by(token):
    return Transaction.objects.filter(id_token=token).aggregate(
        total=Sum("total_cost"))["total"] or 0


def record_unknown_token(value, token_type):
    """(token, created): the token recorded on first presentation."""
    return IdToken.objects.get_or_create(
        id_token=value, type=token_type,
        defaults={"seen_first_at_station": True, "description": "Recorded when first presented"},
    )


def _cache_expiry(token):
    if token.expires_at:
        return token.expires_at
    lifetime = settings.TRANSACTIONS_ID_TOKEN_CACHE_SECONDS
    return timezone.now() + timedelta(seconds=lifetime) if lifetime else None


def id_token_info(token, status, with_cache_expiry=True):
    """2.0.1 IdTokenInfo of a token for a status."""
    info = {"status": status}
    if token is None:
        return info
    expiry = _cache_expiry(token) if with_cache_expiry else token.expires_at
    if expiry:
        info["cacheExpiryDateTime"] = iso(expiry)
    if token.charging_priority:
        info["chargingPriority"] = token.charging_priority
    if token.language:
        info["language1"] = token.language
    if token.group:
        info["groupIdToken"] = {"idToken": token.group.id_token, "type": token.group.type}
    if token.personal_message:
        message = {"format": token.personal_message_format, "content": token.personal_message}
        if token.language:
            message["language"] = token.language
        info["personalMessage"] = message
    if token.allowed_evse_ids:
        info["evseId"] = list(token.allowed_evse_ids)
    return info


def id_tag_info(token, status, with_cache_expiry=True):
    """1.6 IdTagInfo of a token for a (2.0.1-worded) status."""
    info = {"status": STATUS_TO_16.get(status, "Invalid")}
    if token is None:
        return info
    expiry = _cache_expiry(token) if with_cache_expiry else token.expires_at
    if expiry:
        info["expiryDate"] = iso(expiry)
    if token.group:
        info["parentIdTag"] = token.group.id_token[:20]
    return info


def info_for(version, authorization):
    if version == OCPP16:
        return id_tag_info(authorization.token, authorization.status)
    return id_token_info(authorization.token, authorization.status)


def authorize_request(station_pk, version, value, token_type=None):
    """Authorize.req: the idTokenInfo (2.0.1) or idTagInfo (1.6) to answer with."""
    return info_for(version, authorize(station_pk, value, token_type))


# --- token management ---------------------------------------------------------------------------

CSV_FIELDS = ["id_token", "type", "status", "expires_at", "group", "language", "personal_message",
              "charging_priority", "allow_concurrent_transactions", "spending_limit", "description"]


def import_tokens_csv(text):
    """Create or update tokens from CSV (header: id_token plus any of CSV_FIELDS); the group
    column names a token value (created as a Central token if new). Returns counts; raises
    InvalidRequest naming the first bad line, and then changes nothing."""
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "id_token" not in reader.fieldnames:
        raise InvalidRequest("The CSV needs a header line with an id_token column.")
    unknown = set(reader.fieldnames) - set(CSV_FIELDS)
    if unknown:
        raise InvalidRequest(f"Unknown CSV columns: {', '.join(sorted(unknown))}")
    created = updated = 0
    with db_transaction.atomic():
        for line, row in enumerate(reader, start=2):
            try:
                was_created = _import_token_row(row)
            except (ValueError, KeyError) as error:
                raise InvalidRequest(f"Line {line}: {error}") from error
            created += was_created
            updated += not was_created
    return {"created": created, "updated": updated}


def _import_token_row(row):
    from django.core.exceptions import ValidationError

    value = (row.get("id_token") or "").strip()
    if not value or len(value) > 36:
        raise ValueError("id_token must have 1 to 36 characters")
    token_type = (row.get("type") or "").strip() or IdTokenType.ISO14443
    if token_type not in IdTokenType.values:
        raise ValueError(f"unknown type {token_type!r}")
    token, created = IdToken.objects.get_or_create(id_token=value, type=token_type)
    for field in ("status", "language", "personal_message", "description"):
        if (row.get(field) or "").strip():
            setattr(token, field, row[field].strip())
    if (row.get("expires_at") or "").strip():
        expires_at = parse_time(row["expires_at"].strip())
        if expires_at is None:
            raise ValueError(f"expires_at {row['expires_at']!r} is not an ISO 8601 date-time")
        token.expires_at = expires_at
    if (row.get("charging_priority") or "").strip():
        token.charging_priority = int(row["charging_priority"])
    if (row.get("allow_concurrent_transactions") or "").strip():
        token.allow_concurrent_transactions = row["allow_concurrent_transactions"].strip().lower() in {
            "1", "true", "yes"}
    if (row.get("spending_limit") or "").strip():
        from decimal import Decimal, InvalidOperation
        try:
            token.spending_limit = Decimal(row["spending_limit"].strip())
        except InvalidOperation:
            raise ValueError("spending_limit is not a number") from None
    if (row.get("group") or "").strip():
        group = find_token(row["group"].strip()) or IdToken.objects.create(
            id_token=row["group"].strip()[:36], type=IdTokenType.CENTRAL,
            description="Group token")
        token.group = group
    try:
        token.full_clean(exclude=["allowed_stations"])
    except ValidationError as error:
        raise ValueError("; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items()))
    token.save()
    return created


# --- meter values -------------------------------------------------------------------------------

def sampled_values(meter_values, version):
    """Flatten meterValue[] into MeterValue field dicts (defaults per OCPP: measurand
    Energy.Active.Import.Register, context Sample.Periodic, location Outlet, unit Wh)."""
    rows = []
    for meter_value in meter_values or []:
        timestamp = parse_time(meter_value["timestamp"])
        for sample in meter_value["sampledValue"]:
            measurand = sample.get("measurand", metering.ENERGY_REGISTER)
            if version == OCPP201:
                unit_of_measure = sample.get("unitOfMeasure") or {}
                unit = unit_of_measure.get("unit") or metering.default_unit(measurand)
                multiplier = unit_of_measure.get("multiplier", 0)
                signed = sample.get("signedMeterValue")
            else:
                unit = sample.get("unit") or metering.default_unit(measurand)
                multiplier = 0
                signed = {"format": "SignedData"} if sample.get("format") == "SignedData" else None
            raw = sample["value"]
            value, base_unit = (None, unit) if signed and version == OCPP16 else metering.normalize(
                raw, unit, multiplier)
            rows.append({
                "timestamp": timestamp, "measurand": measurand, "phase": sample.get("phase", ""),
                "location": sample.get("location", "Outlet"),
                "context": sample.get("context", "Sample.Periodic"),
                "raw_value": str(raw)[:2500], "unit": unit, "multiplier": multiplier,
                "value": value, "base_unit": base_unit, "signed_meter_value": signed,
            })
    return rows


def store_meter_values(station_pk, rows, transaction=None, evse_id=None, connector_id=None):
    # A repeated reading of a transaction is ignored by its unique key (counted once).
    MeterValue.objects.bulk_create(
        [MeterValue(station_id=station_pk, transaction=transaction, evse_id=evse_id,
                    connector_id=connector_id, **row) for row in rows],
        ignore_conflicts=transaction is not None,
    )


def record_meter_values_201(station_pk, evse_id, meter_values):
    """2.0.1 MeterValues: readings outside transactions (evseId 0 is the main meter)."""
    store_meter_values(station_pk, sampled_values(meter_values, OCPP201), evse_id=evse_id)


def record_meter_values_16(station_pk, connector_id, meter_values, transaction_id=None):
    """1.6 MeterValues: tied to its transaction when it names one the CSMS knows."""
    rows = sampled_values(meter_values, OCPP16)

    def store():
        transaction = None
        if transaction_id is not None:
            transaction = (Transaction.objects.select_for_update()
                           .filter(station_id=station_pk, transaction_id=str(transaction_id)).first())
        store_meter_values(station_pk, rows, transaction, connector_id=connector_id)
        if transaction is not None and not fold_in_order(transaction, rows):
            derive(transaction)
    _retrying(store)


# --- transactions -------------------------------------------------------------------------------

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
        # The usual event, next in seqNo order (so not a repeat), is folded in as it comes.
        if fold_in_order(transaction, rows, payload):
            event.answer = _transaction_event_answer(transaction, None)
            event.save(force_insert=True)
            store_meter_values(station_pk, rows, transaction, evse.get("id"), evse.get("connectorId"))
            return event.answer
        earlier = None if getattr(transaction, "is_new", False) else (
            transaction.events.filter(seq_no=payload["seqNo"]).first())
        if earlier is not None:
            # seqNo repeats are replays after offline: answer the same, count once.
            return earlier.answer
        event.save(force_insert=True)
        store_meter_values(station_pk, rows, transaction, evse.get("id"), evse.get("connectorId"))
        # Authorized before deriving: an unknown token the policy accepts is recorded first.
        id_token = payload.get("idToken")
        authorization = id_token and authorize(station_pk, id_token["idToken"],
                                               id_token["type"], for_transaction=transaction)
        derive(transaction, presented=authorization and authorization.token)
        event.answer = _transaction_event_answer(transaction, authorization)
        event.save(update_fields=["answer"])
        return event.answer

    return _retrying(record)


def _transaction_event_answer(transaction, authorization):
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
        event = TransactionEvent.objects.create(
            transaction=transaction, event_type=TransactionEvent.EventType.STARTED,
            timestamp=timestamp, trigger_reason="StartTransaction", payload=payload,
        )
        store_meter_values(station_pk, [_register_row(timestamp, payload["meterStart"],
                                                      "Transaction.Begin")],
                           transaction, connector_id=payload["connectorId"])
        authorization = authorize(station_pk, payload["idTag"], for_transaction=transaction)
        derive(transaction, presented=authorization.token)
        event.answer = {"transactionId": number.pk,
                        "idTagInfo": id_tag_info(authorization.token, authorization.status)}
        event.save(update_fields=["answer"])
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
    start is kept too; a repeat answers the same and changes nothing."""
    timestamp = parse_time(payload["timestamp"])

    def record():
        transaction = _transaction(station_pk, str(payload["transactionId"]), OCPP16)
        if transaction.state == Transaction.State.ENDED:  # a repeat: it has its Ended event
            return transaction.events.get(event_type=TransactionEvent.EventType.ENDED).answer
        event = TransactionEvent.objects.create(
            transaction=transaction, event_type=TransactionEvent.EventType.ENDED,
            timestamp=timestamp, trigger_reason="StopTransaction", payload=payload,
        )
        rows = sampled_values(payload.get("transactionData"), OCPP16)
        rows.append(_register_row(timestamp, payload["meterStop"], "Transaction.End"))
        store_meter_values(station_pk, rows, transaction, connector_id=transaction.connector_id)
        derive(transaction)
        answer = {}
        if payload.get("idTag"):
            authorization = authorize(station_pk, payload["idTag"],
                                      for_transaction=transaction)
            answer["idTagInfo"] = id_tag_info(authorization.token, authorization.status)
        event.answer = answer
        event.save(update_fields=["answer"])
        return answer

    return _retrying(record)


EVENT_RANK = {"Started": 0, "Updated": 1, "Ended": 2}


def _event_order(event):
    # 2.0.1 events order by seqNo; 1.6 ones (no seqNo) by time, a start before a stop.
    return (event.seq_no if event.seq_no is not None else -1, event.timestamp,
            EVENT_RANK[event.event_type])


def _as_201(event, version):
    """A 1.6 start or stop read as the 2.0.1 event fields the derivation uses."""
    payload = event.payload
    if version == OCPP201:
        return payload
    if event.event_type == "Started":
        return {"idToken": {"idToken": payload["idTag"], "type": ""},
                "evse": {"connectorId": payload["connectorId"]},
                "reservationId": payload.get("reservationId"), "transactionInfo": {}}
    converted = {"transactionInfo": {"stoppedReason": payload.get("reason", "Local")},
                 "triggerReason": "StopAuthorized" if payload.get("idTag") else ""}
    if payload.get("idTag"):
        converted["idToken"] = {"idToken": payload["idTag"], "type": ""}
    return converted


def derive(transaction, presented=None):
    """Recompute every derived field of a transaction from all its events (in seqNo order) and
    meter values. A pure function of the stored set, so arrival order and repeats cannot matter.
    `presented`: a token the caller has just looked up for this event (saves looking it up again)."""
    version = transaction.ocpp_version
    events = sorted(transaction.events.all(), key=_event_order)
    fields = {"evse_id": None, "connector_id": None, "charging_state": "", "stopped_reason": "",
              "reservation_id_sent": None, "time_spent_charging": None,
              "number_of_phases_used": None}
    start_token = stop_token = None
    remote_start_id = None
    states = []
    started_at = ended_at = None
    for event in events:
        payload = _as_201(event, version)
        info = payload.get("transactionInfo") or {}
        evse = payload.get("evse") or {}
        if event.event_type == "Started":
            started_at = event.timestamp
        if event.event_type == "Ended":
            ended_at = event.timestamp
            # OCPP: stoppedReason may only be omitted when it is Local.
            fields["stopped_reason"] = info.get("stoppedReason") or "Local"
        if fields["evse_id"] is None and evse.get("id") is not None:
            fields["evse_id"] = evse["id"]
        if fields["connector_id"] is None and evse.get("connectorId") is not None:
            fields["connector_id"] = evse["connectorId"]
        if info.get("chargingState"):
            fields["charging_state"] = info["chargingState"]
            states.append((event.timestamp, info["chargingState"]))
        for key, name in (("timeSpentCharging", "time_spent_charging"),):
            if info.get(key) is not None:
                fields[name] = info[key]
        if payload.get("numberOfPhasesUsed") is not None:
            fields["number_of_phases_used"] = payload["numberOfPhasesUsed"]
        if remote_start_id is None and info.get("remoteStartId") is not None:
            remote_start_id = info["remoteStartId"]
        if fields["reservation_id_sent"] is None and payload.get("reservationId") is not None:
            fields["reservation_id_sent"] = payload["reservationId"]
        token = payload.get("idToken")
        if token:
            if start_token is None:
                start_token = token
            elif payload.get("triggerReason") == "StopAuthorized" or event.event_type == "Ended":
                stop_token = token
        elif (payload.get("triggerReason") == "StopAuthorized" and version == OCPP16
              and start_token is not None):
            stop_token = start_token
    if events:
        started_at = started_at or events[0].timestamp
        transaction.last_event_at = max(event.timestamp for event in events)
        seq_nos = [event.seq_no for event in events if event.seq_no is not None]
        transaction.last_seq_no = max(seq_nos) if seq_nos else None
    for name, value in fields.items():
        setattr(transaction, name, value)
    transaction.started_at = started_at
    transaction.ended_at = ended_at
    transaction.state = Transaction.State.ENDED if ended_at else Transaction.State.ACTIVE
    transaction.offline = any(event.offline for event in events)
    transaction.event_count = len(events)
    if remote_start_id is not None:
        transaction.remote_start_id = remote_start_id
    if start_token:
        value, token_type = start_token["idToken"], start_token.get("type", "")
        # Every later event of a session names the same start token: look it up once.
        if not (transaction.id_token_id and transaction.id_token_value == value
                and transaction.id_token_type == token_type):
            # find_token() again, unless the caller's lookup was the same one.
            same = (presented is not None and presented.id_token == value
                    and (not token_type or presented.type == token_type))
            transaction.id_token = presented if same else find_token(value, token_type or None)
        transaction.id_token_value, transaction.id_token_type = value, token_type
    if stop_token:
        transaction.stop_id_token_value = stop_token["idToken"]
        transaction.stop_id_token_type = stop_token.get("type", "")

    samples = list(transaction.meter_values.filter(
        measurand__in=[metering.ENERGY_REGISTER, metering.ENERGY_INTERVAL],
    ).values_list("timestamp", "measurand", "phase", "value"))
    energy, first, last = metering.energy_wh(samples)
    transaction.energy_wh = energy
    transaction.meter_start_wh = first
    transaction.meter_stop_wh = last if ended_at else None
    readings = metering.register_readings(samples)
    closed, charging_since = metering.fold_charging_states(states)
    fold = RunningFold(
        energy_mode=metering.energy_mode(samples), first=readings[0] if readings else None,
        last=readings[-1] if readings else None, rising=metering.rising_time(readings),
        charging_closed=closed, charging_since=charging_since)
    _finish_derivation(transaction, fold, ended_at or transaction.last_event_at)
    transaction.save()
    _link_reservation(transaction)
    if transaction.remote_start_id is not None:
        RemoteStart.objects.filter(pk=transaction.remote_start_id, station_id=transaction.station_id,
                                   transaction__isnull=True).update(transaction=transaction)
    return transaction


@dataclass
class RunningFold:
    """What derive()'s fold over events and register readings carries beyond the transaction's
    own fields, kept on the row (`Transaction.derivation`) so that an event or reading that sorts
    after everything stored can be folded in without re-reading the transaction."""
    energy_mode: str
    first: metering.Reading | None
    last: metering.Reading | None
    rising: timedelta
    charging_closed: timedelta
    charging_since: object  # datetime | None

    def as_json(self):
        def reading(value):
            return value and [value.timestamp.isoformat(), format(value.value.normalize(), "f")]
        return {"energy_mode": self.energy_mode, "first": reading(self.first),
                "last": reading(self.last), "rising_us": _microseconds(self.rising),
                "charging_closed_us": _microseconds(self.charging_closed),
                "charging_since": self.charging_since and self.charging_since.isoformat()}

    @classmethod
    def from_json(cls, data):
        def reading(value):
            return value and metering.Reading(datetime.fromisoformat(value[0]), Decimal(value[1]))
        since = data["charging_since"]
        return cls(energy_mode=data["energy_mode"], first=reading(data["first"]),
                   last=reading(data["last"]), rising=timedelta(microseconds=data["rising_us"]),
                   charging_closed=timedelta(microseconds=data["charging_closed_us"]),
                   charging_since=since and datetime.fromisoformat(since))


def _microseconds(duration):
    return duration // timedelta(microseconds=1)


def _finish_derivation(transaction, fold, as_of):
    """Energy, charging time and cost from the fold, as of the end or the newest event."""
    if fold.first is not None:
        transaction.energy_wh = fold.last.value - fold.first.value
        transaction.meter_start_wh = fold.first.value
    if transaction.time_spent_charging is not None:
        transaction.charging_seconds = transaction.time_spent_charging
    elif transaction.charging_state:  # some event reported a charging state
        transaction.charging_seconds = metering.charging_seconds(
            fold.charging_closed, fold.charging_since, as_of)
    else:
        transaction.charging_seconds = int(fold.rising.total_seconds())
    _apply_cost(transaction, as_of)
    transaction.derivation = fold.as_json()


# Written by the in-order path; the rest of a transaction's row stays as derive() left it.
FOLDED_FIELDS = ["evse_id", "connector_id", "charging_state", "time_spent_charging",
                 "number_of_phases_used", "offline", "last_seq_no", "last_event_at",
                 "event_count", "energy_wh", "meter_start_wh", "charging_seconds", "total_cost",
                 "currency", "cost_breakdown", "derivation", "updated_at"]
# The precision MeterValue.value keeps on every backend (SQLite stores 15 significant digits).
STORED_PLACES, STORED_DIGITS = 6, 15


def _stored_exactly(value):
    exponent, digits = value.normalize().as_tuple()[2:0:-1]
    return exponent >= -STORED_PLACES and len(digits) <= STORED_DIGITS


def _fold_readings(fold, rows):
    """Fold new readings into a running fold; False when they don't simply come after the
    stored ones (earlier, per phase, intervals, or more precise than stored)."""
    new = []
    for row in rows:
        if row["value"] is None or row["measurand"] not in (metering.ENERGY_REGISTER,
                                                            metering.ENERGY_INTERVAL):
            continue
        if row["measurand"] == metering.ENERGY_REGISTER and not row["phase"]:
            if not _stored_exactly(row["value"]):
                return False
            new.append(metering.Reading(row["timestamp"], row["value"]))
        elif fold.energy_mode != "registers":  # they would count, and only derive() sums them
            return False
    if fold.energy_mode not in ("registers", "none"):
        return False
    new.sort(key=lambda reading: (reading.timestamp, reading.value))
    if not new:
        return True
    if fold.last is not None and new[0].timestamp <= fold.last.timestamp:
        return False
    fold.rising += metering.rising_time(new, fold.last)
    fold.first = fold.first or new[0]
    fold.last = new[-1]
    fold.energy_mode = "registers"
    return True


def _can_fold_event(transaction, payload):
    """A 2.0.1 Updated that sorts after every stored event and carries nothing only derive()
    handles (tokens, reservation, remote start)."""
    return (transaction.ocpp_version == OCPP201 and payload["eventType"] == "Updated"
            and transaction.last_seq_no is not None and payload["seqNo"] > transaction.last_seq_no
            and not payload.get("idToken") and payload.get("reservationId") is None
            and payload["transactionInfo"].get("remoteStartId") is None)


def fold_in_order(transaction, rows, payload=None):
    """derive() for one more 2.0.1 event (`payload`) or 1.6 meter readings that come after
    everything stored, without re-reading the transaction: the same fold, continued from its
    kept state. Returns False, changing nothing, when derive() must recompute instead."""
    if not transaction.derivation or transaction.state != Transaction.State.ACTIVE:
        return False
    if payload is not None and not _can_fold_event(transaction, payload):
        return False
    fold = RunningFold.from_json(transaction.derivation)
    if not _fold_readings(fold, rows):
        return False
    if payload is not None:
        info, evse = payload["transactionInfo"], payload.get("evse") or {}
        timestamp = parse_time(payload["timestamp"])
        if transaction.evse_id is None and evse.get("id") is not None:
            transaction.evse_id = evse["id"]
        if transaction.connector_id is None and evse.get("connectorId") is not None:
            transaction.connector_id = evse["connectorId"]
        if info.get("chargingState"):
            transaction.charging_state = info["chargingState"]
            fold.charging_closed, fold.charging_since = metering.fold_charging_states(
                [(timestamp, info["chargingState"])], fold.charging_closed, fold.charging_since)
        if info.get("timeSpentCharging") is not None:
            transaction.time_spent_charging = info["timeSpentCharging"]
        if payload.get("numberOfPhasesUsed") is not None:
            transaction.number_of_phases_used = payload["numberOfPhasesUsed"]
        transaction.last_event_at = max(transaction.last_event_at, timestamp)
        transaction.last_seq_no = payload["seqNo"]
        transaction.offline = transaction.offline or payload.get("offline", False)
        transaction.event_count += 1
    _finish_derivation(transaction, fold, transaction.last_event_at)
    transaction.save(update_fields=FOLDED_FIELDS)
    return True


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


def _link_reservation(transaction):
    reservation_id = transaction.reservation_id_sent
    if reservation_id is None or transaction.reservation_id == reservation_id:
        return
    reservation = Reservation.objects.filter(pk=reservation_id, station_id=transaction.station_id).first()
    if reservation is None:
        return
    Transaction.objects.filter(pk=transaction.pk).update(reservation=reservation)
    transaction.reservation = reservation
    if reservation.status != Reservation.Status.USED:
        reservation.status = Reservation.Status.USED
        reservation.save(update_fields=["status", "updated_at"])


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


# --- reservations -------------------------------------------------------------------------------

def create_reservation(station, id_token, expires_at, evse_id=None, connector_type=""):
    if expires_at <= timezone.now():
        raise InvalidRequest("expires_at must be in the future.")
    return Reservation.objects.create(station=station, id_token=id_token, expires_at=expires_at,
                                      evse_id=evse_id, connector_type=connector_type or "")


def attach_command(row, command, field="command"):
    setattr(row, field, command)
    row.settled = False
    row.save(update_fields=[field, "settled"])


RESERVE_ANSWERS = {"Accepted", "Faulted", "Occupied", "Rejected", "Unavailable"}


def settle_reservation(reservation):
    """Apply the answer to its last command (ReserveNow or CancelReservation) once it came."""
    with db_transaction.atomic():
        reservation = Reservation.objects.select_for_update().get(pk=reservation.pk)
        if reservation.settled:
            return reservation
        cancelling = reservation.cancel_command_id is not None
        command = reservation.cancel_command if cancelling else reservation.command
        if command is not None and not command.is_finished:
            return reservation
        answer = (command.response or {}).get("status") if command else None
        if cancelling:
            if answer == "Accepted" and reservation.status in Reservation.OPEN:
                reservation.status = Reservation.Status.CANCELLED
        elif reservation.status == Reservation.Status.PENDING:
            if answer in RESERVE_ANSWERS:
                reservation.status = answer
            else:
                reservation.status = Reservation.Status.FAILED
        reservation.settled = True
        reservation.save(update_fields=["status", "settled", "updated_at"])
    return reservation


def reservation_status_update(station_pk, reservation_id, update_status):
    """ReservationStatusUpdate (2.0.1): the station ended a reservation (Expired or Removed)."""
    new_status = {"Expired": Reservation.Status.EXPIRED,
                  "Removed": Reservation.Status.REMOVED}[update_status]
    Reservation.objects.filter(
        pk=reservation_id, station_id=station_pk,
        status__in=[Reservation.Status.PENDING, Reservation.Status.ACCEPTED],
    ).update(status=new_status, updated_at=timezone.now())


def expire_reservations(now=None):
    """The CSMS ends open reservations past their expiry itself, whatever the station says."""
    return Reservation.objects.filter(
        status__in=[Reservation.Status.PENDING, Reservation.Status.ACCEPTED],
        expires_at__lte=now or timezone.now(),
    ).update(status=Reservation.Status.EXPIRED, updated_at=timezone.now())


# --- remote starts ------------------------------------------------------------------------------

def create_remote_start(station, value, token_type="", evse_id=None):
    return RemoteStart.objects.create(station=station, id_token_value=value,
                                      id_token_type=token_type or "", evse_id=evse_id)


def settle_remote_start(remote_start):
    command = remote_start.command
    if command is not None and not command.is_finished:
        return remote_start
    response = (command.response or {}) if command else {}
    remote_start.status = response.get("status") or (command.status if command else "")
    remote_start.settled = True
    update = ["status", "settled"]
    # 2.0.1: a transaction already running on the EVSE is named in the answer.
    if response.get("transactionId") and remote_start.transaction_id is None:
        running = Transaction.objects.filter(station_id=remote_start.station_id,
                                             transaction_id=response["transactionId"]).first()
        if running:
            remote_start.transaction = running
            update.append("transaction")
    remote_start.save(update_fields=update)
    return remote_start


# --- local authorization lists ------------------------------------------------------------------

def _entry_key(token):
    return f"{token.id_token}|{token.type}"


def local_list_content(station, version, selection=None):
    """{key: idTokenInfo or idTagInfo} of the tokens a station's list holds (all, or the selected
    pks); tokens not allowed at the station are left out. Status without concurrency or credit:
    the list says whether a token is valid, not whether it is charging now."""
    tokens = IdToken.objects.select_related("group").prefetch_related("allowed_stations")
    if selection is not None:
        tokens = tokens.filter(pk__in=selection)
    content = {}
    now = timezone.now()
    for token in tokens:
        allowed = [s.pk for s in token.allowed_stations.all()]
        if allowed and station.pk not in allowed:
            continue
        if version == OCPP16 and len(token.id_token) > 20:
            continue  # a 1.6 idTag has at most 20 characters
        if token.status != IdToken.Status.ACCEPTED:
            status = token.status
        elif token.expires_at and token.expires_at <= now:
            status = "Expired"
        else:
            status = "Accepted"
        if version == OCPP16:
            key = token.id_token
            info = id_tag_info(token, status, with_cache_expiry=False)
        else:
            key = _entry_key(token)
            info = id_token_info(token, status, with_cache_expiry=False)
        content[key] = info
    return content


def local_list_of(station):
    local_list, _ = LocalList.objects.get_or_create(station=station)
    return local_list


def plan_local_list(station, update_type, selection=None):
    """What to send: (LocalListUpdate row, payload). A Differential is only possible from a list
    the CSMS knows the station holds; otherwise (never sent, a VersionMismatch, or the station
    reporting another version) a Full list is sent instead."""
    version = station.ocpp_version
    local_list = local_list_of(station)
    if selection is None and update_type == "Differential":
        selection = local_list.selection
    desired = local_list_content(station, version, selection)
    knows_station_list = local_list.entries is not None and (
        local_list.reported_version is None or local_list.reported_version == local_list.version_number)
    if update_type == "Differential" and not knows_station_list:
        update_type = "Full"
    number = max(local_list.version_number, local_list.reported_version or 0) + 1
    if update_type == "Full":
        changes = desired
    else:
        current = local_list.entries
        changes = {key: info for key, info in desired.items() if current.get(key) != info}
        # An entry without info removes the token from the station's list.
        changes.update({key: None for key in current if key not in desired})
    update = LocalListUpdate.objects.create(
        local_list=local_list, kind=LocalListUpdate.Kind.SEND, update_type=update_type,
        version_number=number, resulting_entries=desired, selection=selection,
    )
    return update, _local_list_payload(version, number, update_type, changes)


def _local_list_payload(version, number, update_type, changes):
    entries = []
    for key, info in sorted(changes.items()):
        if version == OCPP16:
            entry = {"idTag": key}
            if info is not None:
                entry["idTagInfo"] = info
        else:
            value, token_type = key.rsplit("|", 1)
            entry = {"idToken": {"idToken": value, "type": token_type}}
            if info is not None:
                entry["idTokenInfo"] = info
        entries.append(entry)
    if version == OCPP16:
        return {"listVersion": number, "updateType": update_type, "localAuthorizationList": entries}
    payload = {"versionNumber": number, "updateType": update_type}
    if entries:
        payload["localAuthorizationList"] = entries
    return payload


def settle_local_list_update(update):
    with db_transaction.atomic():
        update = LocalListUpdate.objects.select_for_update(of=("self",)).select_related("command").get(pk=update.pk)
        command = update.command
        if update.settled or (command is not None and not command.is_finished):
            return update
        response = (command.response or {}) if command else {}
        local_list = LocalList.objects.select_for_update().get(pk=update.local_list_id)
        if update.kind == LocalListUpdate.Kind.GET_VERSION:
            reported = response.get("versionNumber", response.get("listVersion"))
            update.outcome = "Reported" if reported is not None else (command.status if command else "")
            if reported is not None:
                local_list.reported_version = reported
                local_list.reported_at = timezone.now()
                if reported != local_list.version_number:
                    local_list.entries = None  # the station holds another list: next one is Full
        else:
            update.outcome = response.get("status") or (command.status if command else "")
            if update.outcome == "Accepted":
                local_list.version_number = update.version_number
                local_list.entries = update.resulting_entries
                local_list.selection = update.selection
                local_list.reported_version = update.version_number
            elif update.outcome == "VersionMismatch":
                local_list.entries = None
        local_list.save()
        update.settled = True
        update.save(update_fields=["outcome", "settled"])
    return update


# --- settling answers ---------------------------------------------------------------------------

def settle_command(command_id):
    """Apply the station's answer to whatever row waits on this command."""
    waiting = Q(command_id=command_id) | Q(cancel_command_id=command_id)
    for reservation in Reservation.objects.filter(waiting, settled=False):
        settle_reservation(reservation)
    for remote_start in RemoteStart.objects.filter(settled=False, command_id=command_id):
        settle_remote_start(remote_start)
    for update in LocalListUpdate.objects.filter(settled=False, command_id=command_id):
        settle_local_list_update(update)


def settle_finished():
    """Sweep: apply every answer that came since the last sweep (the embedded default's way of
    reacting to answers without a worker blocking on them)."""
    finished = list(Command.FINISHED)
    settled = 0
    waiting = Reservation.objects.filter(settled=False).filter(
        Q(cancel_command__status__in=finished)
        | Q(cancel_command__isnull=True, command__status__in=finished))
    for reservation in waiting:
        settle_reservation(reservation)
        settled += 1
    for remote_start in RemoteStart.objects.filter(settled=False, command__status__in=finished):
        settle_remote_start(remote_start)
        settled += 1
    for update in LocalListUpdate.objects.filter(settled=False, command__status__in=finished):
        settle_local_list_update(update)
        settled += 1
    return settled


def save_token(form):
    """Create or change a token from a validated dashboard form."""
    return form.save()


def set_token_status(token, status):
    if status not in IdToken.Status.values:
        raise InvalidRequest(f"Unknown token status {status!r}")
    token.status = status
    token.save(update_fields=["status", "updated_at"])
    return token
