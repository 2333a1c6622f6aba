"""A01: rotating a station's Basic-auth password. A new password is made and sent (2.0.1
SetVariables SecurityCtrlr.BasicAuthPassword; 1.6 ChangeConfiguration AuthorizationKey); the
stored hash changes only when the station accepts, and the old one stays valid until the
station logs in with the new one."""
import logging
import secrets
import string

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from csms.models import Command
from csms.ocpp import outbound
from csms.ocpp.framing import OCPP16, OCPP201

from ..models import PasswordRotation, Station

logger = logging.getLogger(__name__)
State = PasswordRotation.State
ROTATION_ACTIONS = {OCPP201: "SetVariables", OCPP16: "ChangeConfiguration"}
PASSWORD_LENGTH_201 = 32  # within the 16-40 characters of SecurityCtrlr.BasicAuthPassword
PASSWORD_BYTES_16 = 20  # the 1.6 security white paper: AuthorizationKey as up to 40 hex digits
REDACTED = "********"


class RotationRefused(ValueError):
    """The station cannot take a new password now (never connected, or no password to rotate)."""


def new_password(ocpp_version):
    if ocpp_version == OCPP16:
        return secrets.token_hex(PASSWORD_BYTES_16)
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(PASSWORD_LENGTH_201))


def rotation_request(ocpp_version, password):
    """(action, payload) that gives the station `password`."""
    if ocpp_version == OCPP16:
        return "ChangeConfiguration", {"key": "AuthorizationKey", "value": password}
    return "SetVariables", {"setVariableData": [{
        "attributeType": "Actual", "attributeValue": password,
        "component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"}}]}


def rotate_password(station, source=""):
    """Make a new password and send it; returns the PasswordRotation (state Sent, or Failed at
    once when the station is offline). Nothing about the station's password changes yet."""
    if not station.ocpp_version:
        raise RotationRefused(f"{station.identity} has never connected; its OCPP version is unknown")
    password = new_password(station.ocpp_version)
    action, payload = rotation_request(station.ocpp_version, password)
    with transaction.atomic():
        # Only the newest rotation may still change the password.
        PasswordRotation.objects.filter(station=station, state=State.SENT).update(
            state=State.SUPERSEDED, finished_at=timezone.now())
        rotation = PasswordRotation.objects.create(
            station=station, new_password_hash=make_password(password), source=source[:100])
        command = outbound.send_call(station.identity, station.ocpp_version, action, payload,
                                     source=source)
        rotation.command = command
        rotation.save(update_fields=["command"])
    if command.is_finished:  # offline: recorded at once, no receiver ran in this transaction
        settle_command(command)
        rotation.refresh_from_db()
    return rotation


def _accepted(command):
    if command.status != Command.Status.ACCEPTED:
        return False
    response = command.response or {}
    if command.action == "SetVariables":
        results = response.get("setVariableResult") or []
        return bool(results) and all(r.get("attributeStatus") == "Accepted" for r in results)
    return response.get("status") == "Accepted"


def settle_command(command):
    """Apply the station's answer to its rotation (idempotent), and drop the password from the
    stored command: it was needed only to send it."""
    if command.action not in ROTATION_ACTIONS.values():
        return
    rotation = PasswordRotation.objects.filter(command=command).first()
    if rotation is None:
        return
    if command.is_finished:
        _redact(command)
    if rotation.state != State.SENT or not command.is_finished:
        return
    now = timezone.now()
    with transaction.atomic():
        station = Station.objects.select_for_update().get(pk=rotation.station_id)
        if not PasswordRotation.objects.filter(pk=rotation.pk, state=State.SENT).exists():
            return
        if _accepted(command):
            # The grace of an older accepted rotation ends: only one previous password at a time.
            PasswordRotation.objects.filter(station=station, state=State.ACCEPTED).update(
                state=State.SUPERSEDED, previous_password_hash="", finished_at=now)
            PasswordRotation.objects.filter(pk=rotation.pk).update(
                state=State.ACCEPTED, accepted_at=now,
                previous_password_hash=station.password_hash)
            station.password_hash = rotation.new_password_hash
            station.save(update_fields=["password_hash"])
            logger.info("Station %s accepted a new password", station.identity)
        else:
            # An answer that is not Accepted (a top-level status, or a SetVariables item) is a
            # refusal; no answer at all (offline, timeout, CALLERROR) a failure.
            answered = command.status in (Command.Status.ACCEPTED, Command.Status.REJECTED)
            state = State.REJECTED if answered else State.FAILED
            detail = command.error_code or command.status
            PasswordRotation.objects.filter(pk=rotation.pk).update(
                state=state, finished_at=now, detail=str(detail)[:200])


def _redact(command):
    payload = command.payload or {}
    if command.action == "ChangeConfiguration" and payload.get("value") not in (None, REDACTED):
        payload = {**payload, "value": REDACTED}
    elif command.action == "SetVariables" and any(
            item.get("attributeValue") != REDACTED for item in payload.get("setVariableData", [])):
        payload = {**payload, "setVariableData": [
            {**item, "attributeValue": REDACTED} for item in payload["setVariableData"]]}
    else:
        return
    Command.objects.filter(pk=command.pk).update(payload=payload)


def previous_password_hash(station):
    """The password that is still valid after an accepted rotation, until the new one is used."""
    return PasswordRotation.objects.filter(station=station, state=State.ACCEPTED).values_list(
        "previous_password_hash", flat=True).first() or ""


def complete_on_login(station):
    """The station logged in with its current password: a rotation's old password is gone."""
    PasswordRotation.objects.filter(station=station, state=State.ACCEPTED).update(
        state=State.COMPLETED, previous_password_hash="", finished_at=timezone.now())
