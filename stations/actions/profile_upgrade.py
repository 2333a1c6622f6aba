"""A05: raising a station's security profile. 2.0.1: SetNetworkProfile (a slot with the new
profile and the wss URL), SetVariables NetworkConfigurationPriority (that slot first), Reset
OnIdle; 1.6 (security white paper): ChangeConfiguration SecurityProfile (+ Reset Soft when the
station asks for a reboot). Each step goes out only after the previous one was accepted. The
stored profile is raised only when the station comes back over the new profile's transport, so a
failed upgrade never locks it out; afterwards no downgrade is admitted."""
import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from csms.models import Command
from csms.ocpp import outbound
from csms.ocpp.framing import OCPP16, OCPP201
from csms.ocpp.signals import command_finished

from ..commands import StationNotReady, network
from ..models import SecurityProfileUpgrade, Station
from ..security_profiles import BASIC_AUTH_OVER_TLS, MUTUAL_TLS

logger = logging.getLogger(__name__)
State = SecurityProfileUpgrade.State
UPGRADE_ACTIONS = {"SetNetworkProfile", "SetVariables", "Reset", "ChangeConfiguration"}
# The slot a 2.0.1 upgrade writes when the station never reported which slots it offers: slot 1
# usually holds the profile it runs on now, which must stay for its fallback (A05).
DEFAULT_CONFIGURATION_SLOT = 2


class UpgradeRefused(ValueError):
    """The upgrade cannot be started (a downgrade, the same profile, or a bad network profile);
    `reasons` lists every reason."""

    def __init__(self, reasons):
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def tls_url():
    """The wss:// URL stations are given for profiles 2 and 3 (without their identity)."""
    if settings.PUBLIC_OCPP_TLS_URL:
        return settings.PUBLIC_OCPP_TLS_URL
    host = urlsplit(settings.PUBLIC_BASE_URL).hostname or "localhost"
    port = f":{settings.TLS_PORT}" if settings.TLS_PORT else ""
    return f"wss://{host}{port}/ocpp"


def default_configuration_slot(station):
    """The highest slot the station offers (it is least likely to be the one in use), or 2."""
    slots = network.configuration_slots(station)
    return slots[-1] if slots else DEFAULT_CONFIGURATION_SLOT


def priority_value(station, configuration_slot):
    """NetworkConfigurationPriority with the new slot first and the others after it, so the
    station can fall back to its previous profile if the new one fails to connect (A05)."""
    slots = network.configuration_slots(station) or [1]
    ordered = [configuration_slot] + [slot for slot in slots if slot != configuration_slot]
    return ",".join(str(slot) for slot in ordered)


def refusal_reasons(station, to_profile):
    """Why `station` cannot be raised to `to_profile` (empty: it can)."""
    if to_profile not in (BASIC_AUTH_OVER_TLS, MUTUAL_TLS):
        return [f"security profile {to_profile} cannot be a target: upgrades go to 2 or 3"]
    if to_profile < station.security_profile:
        return [f"downgrade refused: {station.identity} has security profile "
                f"{station.security_profile}, and a profile is never lowered"]
    if to_profile == station.security_profile:
        return [f"{station.identity} already has security profile {to_profile}"]
    return []


def start_upgrade(station, to_profile, configuration_slot=None, ocpp_csms_url="",
                  ocpp_interface="Wired0", source=""):
    """Start raising `station` to `to_profile`; returns the SecurityProfileUpgrade (InProgress,
    or Failed at once when the station is offline). Raises UpgradeRefused / StationNotReady."""
    reasons = refusal_reasons(station, to_profile)
    if reasons:
        raise UpgradeRefused(reasons)
    if not station.ocpp_version:
        raise StationNotReady(
            f"{station.identity} has never connected; its OCPP version is unknown")
    upgrade = SecurityProfileUpgrade(station=station, from_profile=station.security_profile,
                                     to_profile=to_profile, source=source[:100])
    if station.ocpp_version == OCPP201:
        upgrade.configuration_slot = (default_configuration_slot(station)
                                      if configuration_slot is None else configuration_slot)
        upgrade.ocpp_csms_url = ocpp_csms_url or tls_url()
        reasons = network.validate(station, upgrade.configuration_slot,
                                   _connection_data(upgrade, ocpp_interface))
        if reasons:
            raise UpgradeRefused(reasons)
    elif configuration_slot is not None or ocpp_csms_url:
        # 1.6 has no network profiles: the station keeps the URL its vendor configuration holds.
        raise UpgradeRefused(["configuration_slot and ocpp_csms_url are for OCPP 2.0.1 stations; "
                              "a 1.6 station's wss URL is its vendor configuration"])
    with transaction.atomic():
        # Only the newest upgrade of a station may still raise its profile.
        SecurityProfileUpgrade.objects.filter(
            station=station, state__in=SecurityProfileUpgrade.OPEN).update(
            state=State.SUPERSEDED, finished_at=timezone.now())
        upgrade.save()
        first = _step_request(upgrade, 0, ocpp_interface=ocpp_interface)
        command = outbound.send_call(station.identity, station.ocpp_version, *first, source=source)
        upgrade.command = command
        upgrade.save(update_fields=["command"])
    if command.is_finished:  # offline: recorded at once, no receiver ran in this transaction
        settle_command(command)
        upgrade.refresh_from_db()
    return upgrade


def _connection_data(upgrade, ocpp_interface="Wired0"):
    return {"ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppCsmsUrl": upgrade.ocpp_csms_url,
            "messageTimeout": max(1, int(settings.OCPP_CALL_TIMEOUT)),
            "securityProfile": upgrade.to_profile, "ocppInterface": ocpp_interface}


def _step_request(upgrade, step, ocpp_interface="Wired0", previous=None):
    """(action, payload) of `step`, or None when the sequence is done."""
    station = upgrade.station
    if station.ocpp_version == OCPP16:
        if step == 0:
            return "ChangeConfiguration", {"key": "SecurityProfile",
                                           "value": str(upgrade.to_profile)}
        if step == 1 and (previous.response or {}).get("status") == "RebootRequired":
            return "Reset", {"type": "Soft"}
        return None
    if step == 0:
        return "SetNetworkProfile", {"configurationSlot": upgrade.configuration_slot,
                                     "connectionData": _connection_data(upgrade, ocpp_interface)}
    if step == 1:
        return "SetVariables", {"setVariableData": [{
            "attributeType": "Actual",
            "attributeValue": priority_value(station, upgrade.configuration_slot),
            "component": {"name": "OCPPCommCtrlr"},
            "variable": {"name": "NetworkConfigurationPriority"}}]}
    if step == 2:
        return "Reset", {"type": "OnIdle"}
    return None


def _accepted(command):
    """Whether the station took this step: every SetVariables item Accepted or RebootRequired
    (the Reset follows), any other answer Accepted / Scheduled / RebootRequired."""
    if command.status != Command.Status.ACCEPTED:
        return False
    response = command.response or {}
    if command.action == "SetVariables":
        results = response.get("setVariableResult") or []
        return bool(results) and all(
            r.get("attributeStatus") in ("Accepted", "RebootRequired") for r in results)
    return response.get("status") in ("Accepted", "Scheduled", "RebootRequired")


def settle_command(command):
    """Apply the station's answer to the upgrade whose current step it is (idempotent): send
    the next step, or wait for the reconnect, or end Rejected / Failed."""
    if command.action not in UPGRADE_ACTIONS or not command.is_finished:
        return
    with transaction.atomic():
        upgrade = (SecurityProfileUpgrade.objects.select_for_update()
                   .filter(command=command, state=State.IN_PROGRESS)
                   .select_related("station").first())
        if upgrade is None:
            return
        now = timezone.now()
        if not _accepted(command):
            answered = command.status in (Command.Status.ACCEPTED, Command.Status.REJECTED)
            upgrade.state = State.REJECTED if answered else State.FAILED
            upgrade.detail = f"{command.action}: {command.error_code or command.status}"[:200]
            upgrade.finished_at = now
            upgrade.save(update_fields=["state", "detail", "finished_at"])
            logger.warning("Security profile upgrade of %s stopped at %s (%s)",
                           upgrade.station.identity, command.action, upgrade.detail)
            return
        next_request = _step_request(upgrade, upgrade.step + 1, previous=command)
        if next_request is None:
            upgrade.state = State.AWAITING_RECONNECT
            upgrade.save(update_fields=["state"])
            return
        upgrade.step += 1
        upgrade.command = outbound.send_call(upgrade.station.identity, command.ocpp_version,
                                             *next_request, source=command.source)
        # Offline now: outbound announces that outcome after the commit, which settles it.
        upgrade.save(update_fields=["step", "command"])


@receiver(command_finished, dispatch_uid="stations.profile_upgrade_answer")
def _on_command_finished(sender, command, **kwargs):
    settle_command(command)


def _transport_satisfies(profile, identity, transport):
    if transport is None or not transport.tls:
        return False
    if profile == MUTUAL_TLS:
        return not transport.client_problem and transport.client_cn == identity
    return True


def upgrade_proven(station, identity, transport):
    """The open upgrade of `station` that this connection's transport satisfies, or None. Only
    TLS connections can satisfy one, so a plain-ws admission costs no query."""
    if transport is None or not transport.tls:
        return None
    upgrade = SecurityProfileUpgrade.objects.filter(
        station=station, state__in=SecurityProfileUpgrade.OPEN).first()
    if upgrade and _transport_satisfies(upgrade.to_profile, identity, transport):
        return upgrade
    return None


def complete(upgrade):
    """The station came back over the new profile's transport (and passed its checks): raise
    the stored profile. From now on the old transport is refused (no downgrade)."""
    with transaction.atomic():
        station = Station.objects.select_for_update().get(pk=upgrade.station_id)
        updated = SecurityProfileUpgrade.objects.filter(
            pk=upgrade.pk, state__in=SecurityProfileUpgrade.OPEN).update(
            state=State.COMPLETED, finished_at=timezone.now())
        if not updated or station.security_profile >= upgrade.to_profile:
            return False
        station.security_profile = upgrade.to_profile
        station.save(update_fields=["security_profile"])
    logger.info("Station %s now has security profile %s", station.identity, upgrade.to_profile)
    return True
