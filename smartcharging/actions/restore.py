"""A station that lost its charging profiles gets them back: after a boot, 2.0.1 stations are asked
what they hold (GetChargingProfiles) and the missing ones re-sent; 1.6 stations get every live one."""
import logging

from django.db import transaction as db_transaction
from django.utils import timezone

from csms.models import Command
from csms.ocpp import outbound
from csms.ocpp.framing import OCPP16
from transactions.models import Transaction

from ..models import ChargingProfile, ProfileReport, SiteMember

logger = logging.getLogger(__name__)
# The command source of everything this module sends: it shows in the command log.
RESTORE_SOURCE = "reboot-restore"
Purpose = ChargingProfile.Purpose
State = ChargingProfile.State
# Purposes the site allocator installs itself on its members (the sites' own re-install).
SITE_MANAGED = (Purpose.TX_DEFAULT, Purpose.TX)


def restorable(station, rows=None):
    """Of `rows` (default: the station's installed profiles), those the CSMS sent and would put
    back: not past validTo, not TxProfiles of a transaction no longer running, not what the site
    allocator manages (TxDefault/Tx on a site member: the sites' own re-install covers those)."""
    if rows is None:
        rows = ChargingProfile.objects.filter(station=station, state=State.INSTALLED)
    rows = list(rows.filter(reported=False).select_related("transaction"))
    now = timezone.now()
    in_site = bool(rows) and SiteMember.objects.filter(station=station).exists()
    return [row for row in rows
            if not (row.valid_to and row.valid_to <= now)
            and not (row.purpose == Purpose.TX and (row.transaction is None or
                                                    row.transaction.state != Transaction.State.ACTIVE))
            and not (in_site and row.purpose in SITE_MANAGED)]


def station_booted(station, registration_status):
    """After a boot: ask for (2.0.1) or re-send (1.6) the profiles, in a worker, once committed."""
    if registration_status != "Accepted" or not restorable(station):
        return False
    station_pk = station.pk

    def start():
        from ..tasks import restore_profiles

        try:
            restore_profiles.delay(station_pk)
        except Exception:
            logger.exception("profile restore of station %s not started", station_pk)

    db_transaction.on_commit(start)
    return True


def restore(station):
    """2.0.1: GetChargingProfiles of everything (the report's completion re-sends what is
    missing); 1.6, which cannot say what it holds: re-send every restorable profile."""
    from .. import commands

    if station.ocpp_version == OCPP16:
        return resend(station, restorable(station))
    return commands.get_charging_profiles(station, source=RESTORE_SOURCE)[0]


def is_restore_report(report):
    return report.command_id is not None and report.command.source == RESTORE_SOURCE


def report_settled(report, cleared_pks):
    """A restore's GetChargingProfiles ended. Complete (or NoProfiles): re-send what the station no
    longer holds. Refused or a CALLERROR (no GetChargingProfiles there): re-send all, as for 1.6.
    Timeout or offline: nothing; the next boot asks again."""
    if not is_restore_report(report):
        return None
    station = report.station
    if report.status in (ProfileReport.Status.COMPLETE, ProfileReport.Status.EMPTY):
        chosen = restorable(station, ChargingProfile.objects.filter(
            station=station, pk__in=cleared_pks, state=State.CLEARED))
    elif report.command.status in (Command.Status.REJECTED, Command.Status.ERROR):
        chosen = restorable(station)
    else:
        return None
    pks = [row.pk for row in chosen]
    if pks:
        db_transaction.on_commit(lambda: _resend_later(station.pk, pks))
    return pks


def _resend_later(station_pk, pks):
    from ..tasks import resend_profiles

    try:
        resend_profiles.delay(station_pk, pks)
    except Exception:
        logger.exception("profile re-send to station %s not started", station_pk)


def resend(station, profiles):
    """SetChargingProfile again for each profile (same row, id and content), pending until the
    station answers; returns the commands."""
    from ..commands import profile_payload

    sent = []
    for profile in profiles:
        with db_transaction.atomic():
            command = outbound.send_call(station.identity, station.ocpp_version,
                                         "SetChargingProfile",
                                         profile_payload(profile, station.ocpp_version),
                                         source=RESTORE_SOURCE)
            profile.state, profile.command = State.PENDING, command
            profile.save(update_fields=["state", "command", "updated_at"])
        sent.append(command)
    return sent
