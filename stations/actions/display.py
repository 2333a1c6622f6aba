"""Display messages (2.0.1 block O): validating a message, applying the station's answers to
Set/Get/ClearDisplayMessage and reconciling a completed NotifyDisplayMessages report."""
import logging

from django.db import transaction as db_transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from csms.models import Command

from ..models import DisplayMessage, DisplayMessageReport

logger = logging.getLogger(__name__)
Status = DisplayMessage.Status
ReportStatus = DisplayMessageReport.Status
CONTENT_MAX = 512
LANGUAGE_MAX = 8
TRANSACTION_ID_MAX = 36

# Another app (transactions) answers "does this station have this transaction?"; stations cannot
# import it (imports run one way), so it registers the check here.
_transaction_checks = []


class InvalidDisplayMessage(ValueError):
    def __init__(self, reasons):
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def register_transaction_check(check):
    """check(station, transaction_id) -> bool; registered once by the transactions app."""
    if check not in _transaction_checks:
        _transaction_checks.append(check)


def validate_message(station, data):
    """Every reason `data` (model field names) cannot be sent, as a list (empty: fine)."""
    reasons = []
    content = data.get("content") or ""
    if not content:
        reasons.append("content is required")
    if len(content) > CONTENT_MAX:
        reasons.append(f"content is longer than {CONTENT_MAX} characters")
    if len(data.get("language") or "") > LANGUAGE_MAX:
        reasons.append(f"language is longer than {LANGUAGE_MAX} characters")
    if data.get("priority") not in DisplayMessage.Priority.values:
        reasons.append(f"priority must be one of {', '.join(DisplayMessage.Priority.values)}")
    if data.get("state") and data["state"] not in DisplayMessage.State.values:
        reasons.append(f"state must be one of {', '.join(DisplayMessage.State.values)}")
    if data.get("format", DisplayMessage.Format.UTF8) not in DisplayMessage.Format.values:
        reasons.append(f"format must be one of {', '.join(DisplayMessage.Format.values)}")
    start, end = data.get("start_time"), data.get("end_time")
    if start and end and end <= start:
        reasons.append("end_time must come after start_time")
    if end and end <= timezone.now():
        reasons.append("end_time is already past")
    transaction_id = data.get("transaction_id") or ""
    if len(transaction_id) > TRANSACTION_ID_MAX:
        reasons.append(f"transaction_id is longer than {TRANSACTION_ID_MAX} characters")
    elif transaction_id and _transaction_checks and not any(
            check(station, transaction_id) for check in _transaction_checks):
        reasons.append(f"station {station.identity} has no transaction {transaction_id!r}")
    return reasons


def create_message(station, data):
    """A pending message row from validated `data`; the message id defaults to the row's pk."""
    reasons = validate_message(station, data)
    if reasons:
        raise InvalidDisplayMessage(reasons)
    fields = {key: data[key] for key in (
        "priority", "state", "start_time", "end_time", "transaction_id", "format", "language",
        "content", "display") if data.get(key) not in (None, "")}
    message = DisplayMessage.objects.create(
        station=station, message_id=data.get("message_id") or 0, **fields)
    if not data.get("message_id"):
        message.message_id = message.pk
        message.save(update_fields=["message_id"])
    return message


def message_info(message):
    """The 2.0.1 MessageInfoType of a row."""
    info = {"id": message.message_id, "priority": message.priority,
            "message": {"format": message.format, "content": message.content}}
    if message.language:
        info["message"]["language"] = message.language
    if message.state:
        info["state"] = message.state
    if message.start_time:
        info["startDateTime"] = _iso(message.start_time)
    if message.end_time:
        info["endDateTime"] = _iso(message.end_time)
    if message.transaction_id:
        info["transactionId"] = message.transaction_id
    if message.display:
        info["display"] = message.display
    return info


def _iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


def attach_command(row, command, field="command"):
    setattr(row, field, command)
    row.save(update_fields=[field, "updated_at"] if hasattr(row, "updated_at") else [field])


# --- the station's answers (command_finished) -------------------------------------------------

def settle_set_message(command):
    """SetDisplayMessage answered: Accepted shows it (an older live message with the same id is
    replaced); any other status is the station's reason for refusing; no answer: failed."""
    with db_transaction.atomic():
        message = DisplayMessage.objects.select_for_update().filter(
            command_id=command.pk, status=Status.PENDING).first()
        if message is None:
            return None
        answer = (command.response or {}).get("status", "")
        if command.status == Command.Status.ACCEPTED:
            message.status = Status.ACCEPTED
            DisplayMessage.objects.filter(
                station_id=message.station_id, message_id=message.message_id,
                status__in=DisplayMessage.LIVE_STATUSES).exclude(pk=message.pk).update(
                status=Status.REPLACED, updated_at=timezone.now())
        elif command.status == Command.Status.REJECTED:
            message.status, message.rejection_reason = Status.REJECTED, answer[:30]
        else:
            message.status = Status.FAILED
        message.save(update_fields=["status", "rejection_reason", "updated_at"])
    return message


def settle_clear_message(command):
    """ClearDisplayMessage answered: Accepted or Unknown (the station does not hold it) both
    mean it is not shown any more."""
    message = DisplayMessage.objects.filter(clear_command_id=command.pk).first()
    if message is None or message.status == Status.CLEARED:
        return message
    if command.status in (Command.Status.ACCEPTED, Command.Status.REJECTED) and \
            (command.response or {}).get("status") in ("Accepted", "Unknown"):
        message.status, message.cleared_at = Status.CLEARED, timezone.now()
        message.save(update_fields=["status", "cleared_at", "updated_at"])
    return message


def settle_report_request(command):
    """GetDisplayMessages answered: Accepted waits for the parts; Unknown means none match (the
    scope is reconciled at once); a failure ends the request."""
    with db_transaction.atomic():
        report = DisplayMessageReport.objects.select_for_update().filter(
            command_id=command.pk, status=ReportStatus.REQUESTED).first()
        if report is None or command.status == Command.Status.ACCEPTED:
            return report
        if (command.response or {}).get("status") == "Unknown":
            _reconcile(report, [])
            report.status = ReportStatus.EMPTY
        else:
            report.status = ReportStatus.FAILED
        report.completed_at = timezone.now()
        report.save(update_fields=["status", "completed_at"])
    return report


# --- NotifyDisplayMessages ---------------------------------------------------------------------

def record_display_messages(station_pk, payload):
    """One NotifyDisplayMessages part, kept with its request; the last one (tbc false)
    reconciles. False for a requestId the CSMS never sent to this station."""
    with db_transaction.atomic():
        report = DisplayMessageReport.objects.select_for_update().filter(
            station_id=station_pk, pk=payload["requestId"]).first()
        if report is None:
            return False
        report.messages = list(report.messages) + list(payload.get("messageInfo") or [])
        report.parts += 1
        if not payload.get("tbc", False) and report.status == ReportStatus.REQUESTED:
            _reconcile(report, report.messages)
            report.status = ReportStatus.COMPLETE
            report.completed_at = timezone.now()
        report.save()
    return True


def _in_scope(criteria):
    scope = {}
    if criteria.get("id"):
        scope["message_id__in"] = criteria["id"]
    if criteria.get("priority"):
        scope["priority"] = criteria["priority"]
    if criteria.get("state"):
        scope["state"] = criteria["state"]
    return scope


def _reported_fields(info):
    content = info.get("message") or {}
    return {
        "priority": info["priority"], "state": info.get("state", ""),
        "start_time": _parse(info.get("startDateTime")), "end_time": _parse(info.get("endDateTime")),
        "transaction_id": info.get("transactionId", ""), "format": content.get("format", "UTF8"),
        "language": content.get("language", ""), "content": content.get("content", ""),
        "display": info.get("display"),
    }


def _parse(value):
    return parse_datetime(value) if value else None


def _reconcile(report, reported):
    """What the station reports is shown (stored as reported when the CSMS never set it); live
    messages within the request's scope it no longer reports are cleared."""
    station_pk = report.station_id
    seen = []
    for info in reported:
        fields = _reported_fields(info)
        tracked = DisplayMessage.objects.filter(
            station_id=station_pk, message_id=info["id"],
            status__in=DisplayMessage.LIVE_STATUSES).order_by("-id").first()
        if tracked is None:
            tracked = DisplayMessage.objects.create(
                station_id=station_pk, message_id=info["id"], status=Status.ACCEPTED,
                reported=True, **fields)
        else:
            for name, value in fields.items():
                setattr(tracked, name, value)
            tracked.status = Status.ACCEPTED
            tracked.save()
        seen.append(tracked.pk)
    gone = DisplayMessage.objects.filter(
        station_id=station_pk, status=Status.ACCEPTED, **_in_scope(report.criteria or {}))
    now = timezone.now()
    return gone.exclude(pk__in=seen).update(status=Status.CLEARED, cleared_at=now, updated_at=now)


def settle_finished():
    """The sweep: answers a failed receiver left unapplied (a pending message or report whose
    command has its outcome). Returns how many rows it looked at."""
    finished = Command.FINISHED
    rows = 0
    for command_id in DisplayMessage.objects.filter(
            status=Status.PENDING, command__status__in=finished).values_list("command_id", flat=True):
        settle_set_message(Command.objects.get(pk=command_id))
        rows += 1
    for command_id in DisplayMessage.objects.filter(
            status__in=DisplayMessage.LIVE_STATUSES, clear_command__status__in=finished,
            clear_command__response__status__in=["Accepted", "Unknown"]).values_list(
            "clear_command_id", flat=True):
        settle_clear_message(Command.objects.get(pk=command_id))
        rows += 1
    for command_id in DisplayMessageReport.objects.filter(
            status=ReportStatus.REQUESTED, command__status__in=finished).exclude(
            command__status=Command.Status.ACCEPTED).values_list("command_id", flat=True):
        settle_report_request(Command.objects.get(pk=command_id))
        rows += 1
    return rows
