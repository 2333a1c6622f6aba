"""A station that lost its charging profiles gets them back: after a boot, 2.0.1 stations are asked
what they hold (GetChargingProfiles) and the missing ones re-sent; 1.6 stations get every live one."""
import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction as db_transaction
from django.db.models import Q
from django.utils import timezone

from csms.models import Command
from csms.ocpp import outbound, presence
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


def unrestored(station):
    """Profiles an earlier restore re-sent without success (error after a re-send): the station
    does not hold them, and a boot or a complete report tries again."""
    return ChargingProfile.objects.filter(station=station, state=State.ERROR,
                                          restore_attempts__gt=0)


def _superseded(row):
    """A newer live profile took this one's place (same purpose, stackLevel and EVSE, or id)."""
    same = Q(purpose=row.purpose, stack_level=row.stack_level, evse_id=row.evse_id) | Q(
        charging_profile_id=row.charging_profile_id)
    return ChargingProfile.objects.filter(same, station_id=row.station_id, pk__gt=row.pk,
                                          state__in=ChargingProfile.LIVE_STATES).exists()


def restorable(station, rows=None):
    """Of `rows` (default: the station's installed profiles and those a restore could not put
    back), those the CSMS sent and would put back: not past validTo, not TxProfiles of a
    transaction no longer running, not what the site allocator manages (TxDefault/Tx on a site
    member: the sites' own re-install covers those), not replaced meanwhile."""
    if rows is None:
        rows = ChargingProfile.objects.filter(station=station, state=State.INSTALLED) | \
            unrestored(station)
    rows = list(rows.filter(reported=False).select_related("transaction"))
    now = timezone.now()
    in_site = bool(rows) and SiteMember.objects.filter(station=station).exists()
    return [row for row in rows
            if not (row.valid_to and row.valid_to <= now)
            and not (row.purpose == Purpose.TX and (row.transaction is None or
                                                    row.transaction.state != Transaction.State.ACTIVE))
            and not (in_site and row.purpose in SITE_MANAGED)
            and not (row.state == State.ERROR and _superseded(row))]


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
    longer holds. Refused, a CALLERROR (no GetChargingProfiles there) or parts that stopped
    coming (incomplete): re-send all, as for 1.6. Timeout or offline: nothing; the next boot asks
    again."""
    if not is_restore_report(report):
        return None
    station = report.station
    if report.status in (ProfileReport.Status.COMPLETE, ProfileReport.Status.EMPTY):
        # What it reported is installed again (the reconcile); the rest was lost.
        chosen = restorable(station, ChargingProfile.objects.filter(
            station=station, pk__in=cleared_pks, state=State.CLEARED) | unrestored(station))
    elif report.status == ProfileReport.Status.INCOMPLETE or \
            report.command.status in (Command.Status.REJECTED, Command.Status.ERROR):
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


def resend(station, profiles, retry=False):
    """SetChargingProfile again for each profile (same row, id and content), pending until the
    station answers; returns the commands. The first send after a boot is attempt 1; a `retry`
    counts on."""
    from ..commands import profile_payload

    sent = []
    for profile in profiles:
        with db_transaction.atomic():
            if retry and not ChargingProfile.objects.select_for_update().filter(
                    pk=profile.pk, state=State.ERROR,
                    restore_attempts=profile.restore_attempts).exists():
                continue  # another pass (or a boot) sent it meanwhile
            command = outbound.send_call(station.identity, station.ocpp_version,
                                         "SetChargingProfile",
                                         profile_payload(profile, station.ocpp_version),
                                         source=RESTORE_SOURCE)
            profile.state, profile.command = State.PENDING, command
            profile.restore_attempts = profile.restore_attempts + 1 if retry else 1
            profile.save(update_fields=["state", "command", "restore_attempts", "updated_at"])
        sent.append(command)
    return sent


# --- the beat's pass: reports that never end, re-sends that failed ---------------------------------

# Answers after which a re-send is worth repeating (a refusal is the station's word: not retried).
RETRIED = (Command.Status.TIMEOUT, Command.Status.OFFLINE, Command.Status.ERROR)


def retry_delay(attempts):
    """Seconds after the failure of attempt `attempts` before the next: doubling from the base."""
    return settings.SMARTCHARGING_RESTORE_RETRY_SECONDS * 2 ** (attempts - 1)


def time_out_reports(now=None):
    """Reports the station accepted but whose last part has not come within the timeout end
    incomplete; a restore's falls back to re-sending everything. Returns how many ended."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.SMARTCHARGING_REPORT_TIMEOUT_SECONDS)
    ended = 0
    stale = ProfileReport.objects.filter(status=ProfileReport.Status.REQUESTED,
                                         command__status=Command.Status.ACCEPTED,
                                         created_at__lte=cutoff).values_list("pk", flat=True)
    for pk in list(stale[:100]):
        with db_transaction.atomic():
            report = ProfileReport.objects.select_for_update(skip_locked=True, of=("self",)).filter(
                pk=pk, status=ProfileReport.Status.REQUESTED).select_related("command").first()
            if report is None:
                continue
            report.status = ProfileReport.Status.INCOMPLETE
            report.completed_at = now
            report.save(update_fields=["status", "completed_at"])
            logger.warning("profile report %s of station %s incomplete after %s part(s)",
                           report.pk, report.station_id, report.parts)
            report_settled(report, [])
            ended += 1
    return ended


def due_retries(now=None):
    """Profiles whose restore re-send failed (timeout, offline, CALLERROR) with attempts left,
    whose back-off is over, on stations connected now: {station: [profile, ...]}."""
    now = now or timezone.now()
    failed = list(ChargingProfile.objects.filter(
        state=State.ERROR, restore_attempts__gt=0,
        restore_attempts__lt=settings.SMARTCHARGING_RESTORE_ATTEMPTS,
        command__source=RESTORE_SOURCE, command__status__in=RETRIED,
    ).select_related("station", "command")[:500])
    due = {}
    connected = presence.live_identities({row.station.identity for row in failed}) if failed \
        else set()
    for row in failed:
        failed_at = row.command.finished_at or row.updated_at
        if row.station.identity not in connected:
            continue  # "while the station stays connected": its next boot starts over
        if failed_at + timedelta(seconds=retry_delay(row.restore_attempts)) > now:
            continue
        due.setdefault(row.station, []).append(row)
    return due


def retry_failed_resends(now=None):
    """Re-send once more what failed and is due (restorable still); returns the commands."""
    sent = []
    for station, rows in due_retries(now).items():
        chosen = restorable(station, ChargingProfile.objects.filter(
            pk__in=[row.pk for row in rows], state=State.ERROR))
        sent.extend(resend(station, chosen, retry=True))
    return sent


def restore_pass(now=None):
    """The beat's pass: (reports timed out, re-sends retried)."""
    return time_out_reports(now), len(retry_failed_resends(now))
