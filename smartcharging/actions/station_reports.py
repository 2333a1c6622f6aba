"""What 2.0.1 stations report about smart charging: ReportChargingProfiles parts (reconciled with
the tracked profiles), external charging limits, EV charging needs and schedules."""
from django.db import transaction as db_transaction
from django.utils import timezone

from csms.models import Command
from transactions.actions.common import parse_time
from transactions.models import Transaction

from ..models import (
    ChargingLimit, ChargingProfile, EVChargingNeeds, EVChargingSchedule, ProfileReport,
)
from . import ev_needs, restore
from .sites import station_changed

State = ChargingProfile.State

def _parse_time(value):
    return parse_time(value) if value else None


def settle_report_request(command):
    """The answer to GetChargingProfiles: Accepted waits for the parts; NoProfiles means the
    station holds none that match (reconciled at once); a failure ends the request."""
    report = ProfileReport.objects.filter(command_id=command.pk,
                                          status=ProfileReport.Status.REQUESTED).first()
    if report is None or command.status == Command.Status.ACCEPTED:
        return report
    cleared = []
    if command.status == Command.Status.REJECTED and (command.response or {}).get("status") == "NoProfiles":
        cleared = _reconcile(report, [])
        report.status = ProfileReport.Status.EMPTY
    else:
        report.status = ProfileReport.Status.FAILED
    report.completed_at = timezone.now()
    report.save(update_fields=["status", "completed_at"])
    restore.report_settled(report, cleared)
    return report


def record_profiles_report(station_pk, payload):
    """One ReportChargingProfiles part: kept with its request; the last one (tbc false)
    reconciles what the CSMS tracks with what the station holds. False for an unknown request."""
    with db_transaction.atomic():
        report = ProfileReport.objects.select_for_update().filter(
            station_id=station_pk, pk=payload["requestId"]).first()
        if report is None:
            return False
        report.profiles = list(report.profiles) + [
            {"evseId": payload["evseId"], "chargingLimitSource": payload["chargingLimitSource"],
             "chargingProfile": profile} for profile in payload["chargingProfile"]]
        report.parts += 1
        cleared = None
        if not payload.get("tbc", False) and report.status == ProfileReport.Status.REQUESTED:
            cleared = _reconcile(report, report.profiles)
            report.status = ProfileReport.Status.COMPLETE
            report.completed_at = timezone.now()
        report.save()
        if cleared is not None:
            restore.report_settled(report, cleared)
    return True


def _reconcile(report, reported):
    """Profiles the station reports are installed (recorded when the CSMS never sent them);
    installed ones within the request's scope that it no longer holds are cleared (their pks
    returned)."""
    station = report.station
    seen = []
    for entry in reported:
        profile = entry["chargingProfile"]
        fields = {
            "evse_id": entry["evseId"], "stack_level": profile["stackLevel"],
            "purpose": profile["chargingProfilePurpose"], "kind": profile["chargingProfileKind"],
            "recurrency_kind": profile.get("recurrencyKind", ""),
            "valid_from": _parse_time(profile.get("validFrom")),
            "valid_to": _parse_time(profile.get("validTo")),
            "schedules": profile["chargingSchedule"],
            "charging_limit_source": entry["chargingLimitSource"],
        }
        tracked = ChargingProfile.objects.filter(
            station=station, charging_profile_id=profile["id"], evse_id=entry["evseId"],
        ).exclude(state__in=[State.REJECTED, State.REPLACED]).order_by("-id").first()
        if tracked is None:
            transaction_id = profile.get("transactionId")
            transaction = Transaction.objects.filter(
                station=station, transaction_id=transaction_id).first() if transaction_id else None
            tracked = ChargingProfile.objects.create(
                station=station, charging_profile_id=profile["id"], state=State.INSTALLED,
                reported=True, transaction=transaction, **fields)
        elif tracked.state != State.INSTALLED:
            tracked.state = State.INSTALLED
            tracked.save(update_fields=["state", "updated_at"])
        seen.append(tracked.pk)
    scope = ChargingProfile.objects.filter(station=station, state=State.INSTALLED)
    if report.evse_id is not None:
        scope = scope.filter(evse_id=report.evse_id)
    criteria = report.criteria or {}
    if criteria.get("chargingProfilePurpose"):
        scope = scope.filter(purpose=criteria["chargingProfilePurpose"])
    if criteria.get("stackLevel") is not None:
        scope = scope.filter(stack_level=criteria["stackLevel"])
    cleared = list(scope.exclude(pk__in=seen).values_list("pk", flat=True))
    ChargingProfile.objects.filter(pk__in=cleared).update(state=State.CLEARED)
    return cleared


def record_charging_limit(station_pk, payload):
    """NotifyChargingLimit: the station's current external limit for this EVSE and source."""
    limit = payload["chargingLimit"]
    with db_transaction.atomic():
        current = ChargingLimit.objects.select_for_update().filter(
            station_id=station_pk, evse_id=payload.get("evseId"),
            charging_limit_source=limit["chargingLimitSource"], cleared_at__isnull=True,
        ).first() or ChargingLimit(station_id=station_pk, evse_id=payload.get("evseId"),
                                   charging_limit_source=limit["chargingLimitSource"])
        current.is_grid_critical = limit.get("isGridCritical")
        current.schedules = payload.get("chargingSchedule", [])
        current.notified_at = timezone.now()
        current.save()
        # A site member's sessions are shared out again within the new limit.
        station_changed(station_pk)
    return current


def clear_charging_limit(station_pk, payload):
    """ClearedChargingLimit: the external limit of this source (and EVSE) no longer applies."""
    cleared = ChargingLimit.objects.filter(
        station_id=station_pk, charging_limit_source=payload["chargingLimitSource"],
        evse_id=payload.get("evseId"), cleared_at__isnull=True,
    ).update(cleared_at=timezone.now())
    if cleared:
        station_changed(station_pk)
    return cleared


def record_ev_charging_needs(station_pk, payload):
    """NotifyEVChargingNeeds: stored; Accepted only when a schedule will follow (ev_needs)."""
    needs = payload["chargingNeeds"]
    answer = ev_needs.answer_for(station_pk, payload["evseId"], needs)
    row = EVChargingNeeds.objects.create(
        station_id=station_pk, evse_id=payload["evseId"],
        requested_energy_transfer=needs["requestedEnergyTransfer"],
        departure_time=_parse_time(needs.get("departureTime")),
        max_schedule_tuples=payload.get("maxScheduleTuples"), charging_needs=needs,
        answer_status=answer["status"])
    ev_needs.needs_recorded(row, answer)
    return answer


def record_ev_charging_schedule(station_pk, payload):
    return EVChargingSchedule.objects.create(
        station_id=station_pk, evse_id=payload["evseId"], time_base=_parse_time(payload["timeBase"]),
        charging_schedule=payload["chargingSchedule"])
