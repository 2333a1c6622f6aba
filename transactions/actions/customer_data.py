"""Customer data (2.0.1 N09/N10): CustomerInformation requests and the document their
NotifyCustomerInformation parts assemble to, and erasing a customer's personal data on the CSMS."""
import json
import logging
import secrets

from django.db import transaction as db_transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from csms.models import Command, MessageLogEntry
from csms.ocpp import messagelog
from csms.ocpp import outbound
from csms.ocpp.framing import OCPP201
from stations.commands import _version

from ..models import (
    CustomerInformationRequest, IdToken, IdTokenErasure, LocalList, LocalListUpdate, RemoteStart,
    Transaction, TransactionEvent,
)
from .common import InvalidRequest

logger = logging.getLogger(__name__)
Status = CustomerInformationRequest.Status
PSEUDONYM_PREFIX = "erased-"


# --- CustomerInformation ----------------------------------------------------------------------

def check_request(report, clear, id_token=None, customer_identifier="", customer_certificate=None):
    """Every reason the request cannot be sent (empty: fine): exactly one identifier, at least
    one of report and clear."""
    reasons = []
    given = [name for name, value in (("id_token", id_token),
                                      ("customer_identifier", customer_identifier),
                                      ("customer_certificate", customer_certificate)) if value]
    if len(given) != 1:
        reasons.append("give exactly one of id_token, customer_identifier, customer_certificate"
                       + (f" (got {', '.join(given)})" if given else ""))
    if not (report or clear):
        reasons.append("ask for a report, a clear or both")
    return reasons


def request_payload(request):
    payload = {"requestId": request.pk, "report": request.report, "clear": request.clear}
    if request.id_token:
        payload["idToken"] = {"idToken": request.id_token, "type": request.id_token_type}
    elif request.customer_identifier:
        payload["customerIdentifier"] = request.customer_identifier
    else:
        payload["customerCertificate"] = request.customer_certificate
    return payload


def customer_information(station, report=False, clear=False, id_token=None, id_token_type="",
                         customer_identifier="", customer_certificate=None, requested_by="",
                         source="", erasure=None):
    """Send CustomerInformation (2.0.1 only): (request, command). Raises InvalidRequest before
    anything is recorded or sent."""
    version = _version(station)
    if version != OCPP201:
        raise InvalidRequest(f"OCPP {version} has no CustomerInformation: it is OCPP 2.0.1 only")
    reasons = check_request(report, clear, id_token, customer_identifier, customer_certificate)
    if reasons:
        raise InvalidRequest("; ".join(reasons))
    with db_transaction.atomic():
        request = CustomerInformationRequest.objects.create(
            station=station, report=report, clear=clear, id_token=id_token or "",
            id_token_type=(id_token_type or "ISO14443") if id_token else "",
            customer_identifier=customer_identifier or "",
            customer_certificate=customer_certificate or None, requested_by=requested_by,
            erasure=erasure)
        try:
            command = outbound.send_call(station.identity, version, "CustomerInformation",
                                         request_payload(request), source=source)
        except outbound.InvalidCommand as error:
            raise InvalidRequest("; ".join(error.errors))  # rolls the row back
        request.command = command
        request.save(update_fields=["command"])
    command.refresh_from_db()
    request.refresh_from_db()
    return request, command


def settle_request(command):
    """CustomerInformation answered: Accepted waits for the parts when a report was asked (a
    clear alone is then complete); Rejected/Invalid or no answer ends it."""
    with db_transaction.atomic():
        request = CustomerInformationRequest.objects.select_for_update().filter(
            command_id=command.pk, status=Status.REQUESTED).first()
        if request is None:
            return None
        if command.status == Command.Status.ACCEPTED:
            request.status = Status.RECEIVING if request.report else Status.COMPLETE
            _complete_if_whole(request)
        elif command.status == Command.Status.REJECTED:
            request.status = Status.REJECTED
        else:
            request.status = Status.FAILED
        if request.status != Status.RECEIVING and request.completed_at is None:
            request.completed_at = timezone.now()
        request.save(update_fields=["status", "completed_at", "document"])
    if request.erasure_id:
        _scrub_sent_token(command, request.erasure)
    return request


def record_customer_information(station_pk, payload):
    """One NotifyCustomerInformation part. Parts are kept by seqNo (a repeat counts once) and the
    document is assembled in seqNo order once parts 0..last (tbc false) are all in, whatever
    order they came in. False for a requestId the CSMS never sent to this station."""
    with db_transaction.atomic():
        request = CustomerInformationRequest.objects.select_for_update().filter(
            station_id=station_pk, pk=payload["requestId"]).first()
        if request is None:
            return False
        seq_no = str(payload["seqNo"])
        if seq_no in request.parts:
            return True  # a replay after offline: answered the same, stored once
        request.parts = {**request.parts, seq_no: {
            "data": payload["data"], "generatedAt": payload["generatedAt"],
            "tbc": payload.get("tbc", False)}}
        if not payload.get("tbc", False):
            request.last_seq_no = payload["seqNo"]
        if request.status == Status.REQUESTED:
            # The parts may come before the answer is applied; Accepted is implied.
            request.status = Status.RECEIVING
        _complete_if_whole(request)
        request.save()
    return True


def assembled_document(parts, last_seq_no):
    """The document of parts {str(seqNo): {"data", ...}} once 0..last_seq_no are all in, their
    data joined in seqNo order; None while any is missing or the last is unknown."""
    if last_seq_no is None:
        return None
    numbers = range(last_seq_no + 1)
    if not all(str(number) in parts for number in numbers):
        return None
    return "".join(parts[str(number)]["data"] for number in numbers)


def _complete_if_whole(request):
    if request.status == Status.COMPLETE:
        return
    document = assembled_document(request.parts, request.last_seq_no)
    if document is not None:
        request.document = document
        request.status = Status.COMPLETE
        request.completed_at = timezone.now()


# --- erasure on the CSMS side -------------------------------------------------------------------

def new_pseudonym():
    """Random, so nothing derives the token value back from it (a keyed hash would)."""
    return PSEUDONYM_PREFIX + secrets.token_hex(14)


def is_erased(token):
    return token.id_token.startswith(PSEUDONYM_PREFIX) and token.erasures.exists()


# Where OCPP JSON carries a token value: 2.0.1 IdTokenType.idToken, 1.6 idTag / parentIdTag.
TOKEN_KEYS = {"idToken", "idTag", "parentIdTag"}


def erase_id_token(token, erased_by, reason="", clear_at_stations=False, source=""):
    """Erase the personal data the CSMS holds of one id token (a data-protection request): its
    value becomes a random pseudonym everywhere it is stored (transactions and their events,
    remote starts, local lists, commands, the message log), its personal message, language,
    description and group are emptied and it is made Invalid; the transactions keep their energy,
    times and cost. With `clear_at_stations`, every 2.0.1 station that charged it gets
    CustomerInformation clear=true first. Returns the audit row."""
    if is_erased(token):
        raise InvalidRequest("this token was erased already")
    value, token_type = token.id_token, token.type
    pseudonym = new_pseudonym()
    # Frames this process logged but has not written yet (it writes every
    # OCPP_MESSAGE_LOG_FLUSH_SECONDS) would be stored after the scrub, with the value in them.
    messagelog.flush()
    with db_transaction.atomic():
        erasure = IdTokenErasure.objects.create(
            id_token=token, pseudonym=pseudonym, id_token_type=token_type, erased_by=erased_by,
            reason=reason)
        # 1.6 idTags carry no type: they match on value alone.
        same_type = Q(ocpp_version="1.6") | Q(id_token_type__in=[token_type, ""])
        transactions = Transaction.objects.filter(
            Q(id_token=token) | (Q(id_token_value=value) & same_type)
            | Q(stop_id_token_value=value, stop_id_token_type__in=[token_type, ""]))
        requests = []
        if clear_at_stations:
            requests = _clear_at_stations(transactions, value, token_type, erasure, erased_by,
                                          source)
        erased = {
            "token_fields": _erase_token_fields(token, pseudonym),
            "transactions": _erase_transactions(transactions, value, token_type, pseudonym),
            "remote_starts": RemoteStart.objects.filter(id_token_value=value).update(
                id_token_value=pseudonym),
            "local_lists": _erase_local_lists(value, token_type, pseudonym),
            "customer_information_requests": _erase_requests(value, token_type, pseudonym),
            "commands": _erase_commands(value, pseudonym),
            "message_log_frames": _erase_message_log(value, pseudonym),
            "station_requests": [{"station": request.station.identity,
                                  "request_id": request.pk,
                                  "command_status": request.command.status}
                                 for request in requests],
        }
        erasure.erased = erased
        erasure.save(update_fields=["erased"])
    logger.info("id token %s erased by %s (pseudonym %s)", token.pk, erased_by, pseudonym)
    return erasure


def _clear_at_stations(transactions, value, token_type, erasure, erased_by, source):
    """CustomerInformation clear=true to each 2.0.1 station that charged the token (sent before
    the value is replaced: the station knows the token by its value)."""
    from stations.models import Station

    stations = Station.objects.filter(
        pk__in=transactions.values("station_id"), ocpp_version=OCPP201).order_by("identity")
    requests = []
    for station in stations:
        request, _ = customer_information(
            station, clear=True, id_token=value, id_token_type=token_type,
            requested_by=erased_by, source=source or f"erasure:{erasure.pk}", erasure=erasure)
        requests.append(request)
    return requests


def _erase_token_fields(token, pseudonym):
    erased = ["id_token"]
    for name, empty in (("personal_message", ""), ("language", ""), ("description", ""),
                        ("group", None)):
        if getattr(token, name):
            erased.append(name)
        setattr(token, name, empty)
    token.id_token = pseudonym
    token.status = IdToken.Status.INVALID
    token.save()
    return erased


def _erase_transactions(transactions, value, token_type, pseudonym):
    pks = list(transactions.values_list("pk", flat=True))
    Transaction.objects.filter(pk__in=pks, id_token_value=value).update(id_token_value=pseudonym)
    Transaction.objects.filter(pk__in=pks, stop_id_token_value=value).update(
        stop_id_token_value=pseudonym)
    # A 1.6 start's fingerprint (connector|idTag|time|meterStart) names the idTag too.
    for pk, fingerprint in Transaction.objects.filter(
            pk__in=pks, start_fingerprint__contains=f"|{value}|").values_list(
            "pk", "start_fingerprint"):
        parts = fingerprint.split("|")
        if len(parts) == 4 and parts[1] == value:
            parts[1] = pseudonym
            Transaction.objects.filter(pk=pk).update(start_fingerprint="|".join(parts))
    for event in TransactionEvent.objects.filter(transaction_id__in=pks).only(
            "pk", "payload", "answer"):
        payload = _replaced(event.payload, value, pseudonym)
        answer = _replaced(event.answer, value, pseudonym)
        if payload != event.payload or answer != event.answer:
            TransactionEvent.objects.filter(pk=event.pk).update(payload=payload, answer=answer)
    return len(pks)


def _erase_local_lists(value, token_type, pseudonym):
    changed = 0
    for local_list in LocalList.objects.exclude(entries=None).only("pk", "entries", "selection"):
        entries = _replaced(local_list.entries, value, pseudonym, keys=True)
        if entries != local_list.entries:
            LocalList.objects.filter(pk=local_list.pk).update(entries=entries)
            changed += 1
    for update in LocalListUpdate.objects.exclude(resulting_entries=None).only(
            "pk", "resulting_entries"):
        entries = _replaced(update.resulting_entries, value, pseudonym, keys=True)
        if entries != update.resulting_entries:
            LocalListUpdate.objects.filter(pk=update.pk).update(resulting_entries=entries)
    return changed


def _erase_requests(value, token_type, pseudonym):
    """Earlier requests about this token: the station's report about the customer goes too."""
    return CustomerInformationRequest.objects.filter(id_token=value, id_token_type=token_type) \
        .exclude(erasure__pseudonym=pseudonym).update(id_token=pseudonym, parts={}, document="")


def _erase_commands(value, pseudonym):
    candidates = Command.objects.annotate(
        payload_text=Cast("payload", TextField()), response_text=Cast("response", TextField()),
    ).filter(Q(payload_text__contains=value) | Q(response_text__contains=value))
    changed = 0
    for command in candidates.only("pk", "action", "payload", "response", "status"):
        if command.action == "CustomerInformation" and not command.is_finished:
            continue  # an erasure's own clear request: scrubbed when answered
        payload = _replaced(command.payload, value, pseudonym)
        response = _replaced(command.response, value, pseudonym)
        if payload != command.payload or response != command.response:
            Command.objects.filter(pk=command.pk).update(payload=payload, response=response)
            changed += 1
    return changed


def _erase_message_log(value, pseudonym):
    """Frames stored so far carrying the value as a token (re-serialized compactly once
    changed); the log's retention (OCPP_MESSAGE_LOG_RETENTION_DAYS) purges the rest."""
    changed = 0
    for entry in MessageLogEntry.objects.filter(frame__contains=value).only("pk", "frame"):
        try:
            frame = json.loads(entry.frame)
        except ValueError:
            continue  # a malformed frame was never understood as carrying a token
        scrubbed = _replaced(frame, value, pseudonym)
        if scrubbed != frame:
            MessageLogEntry.objects.filter(pk=entry.pk).update(
                frame=json.dumps(scrubbed, separators=(",", ":"), ensure_ascii=False))
            changed += 1
    return changed


def _scrub_sent_token(command, erasure):
    """An erasure's clear request has been answered: its payload no longer needs the value."""
    value = ((command.payload or {}).get("idToken") or {}).get("idToken")
    if value and value != erasure.pseudonym:
        Command.objects.filter(pk=command.pk).update(
            payload=_replaced(command.payload, value, erasure.pseudonym))
        _erase_message_log(value, erasure.pseudonym)


def _replaced(data, value, pseudonym, keys=False, key=None):
    """`data` (JSON) with the token `value` replaced by the pseudonym where OCPP carries a token
    (TOKEN_KEYS), and with `keys`, in dict keys `value` or `value|type` (local lists key tokens
    so). Other strings equal to the value (a message id "1" ...) are left alone."""
    if isinstance(data, str):
        return pseudonym if data == value and key in TOKEN_KEYS else data
    if isinstance(data, list):
        return [_replaced(item, value, pseudonym, keys, key) for item in data]
    if isinstance(data, dict):
        return {(_replaced_key(name, value, pseudonym) if keys else name):
                _replaced(item, value, pseudonym, keys, name) for name, item in data.items()}
    return data


def _replaced_key(key, value, pseudonym):
    if key == value:
        return pseudonym
    if isinstance(key, str) and key.startswith(value + "|"):
        return pseudonym + key[len(value):]
    return key


def settle_finished():
    """The sweep: requests whose command has its outcome but no receiver applied it."""
    command_ids = list(CustomerInformationRequest.objects.filter(
        status=Status.REQUESTED, command__status__in=Command.FINISHED).values_list(
        "command_id", flat=True))
    for command in Command.objects.filter(pk__in=command_ids):
        settle_request(command)
    return len(command_ids)
