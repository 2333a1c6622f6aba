"""Firmware campaigns: choosing the stations, the operator's controls, and the advance that starts
updates in turn (canary first, within the concurrency limit and the maintenance window)."""
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.dispatch import receiver
from django.utils import timezone

from ..models import CampaignTarget, FirmwareCampaign, FirmwareUpdate, Station
from ..signals import firmware_update_changed, station_booted
from ..standing import asked_at_boot, may_have

logger = logging.getLogger(__name__)

State = FirmwareCampaign.State
TargetState = CampaignTarget.State
ACTIVE_STATES = {State.RUNNING, State.PAUSED, State.AUTO_PAUSED}


class CampaignStateError(Exception):
    """The operator asked for a change the campaign's state does not allow (API: 409)."""


def select_stations(image, *, vendor="", model="", firmware_version="", tag="", identities=()):
    """The stations a filter chooses, and what it leaves out: (stations, excluded, unknown).

    `excluded` are matched stations the image does not apply to (vendor/model), with the reason;
    `unknown` are listed identities no station has."""
    stations = Station.objects.all()
    if vendor:
        stations = stations.filter(vendor_name__iexact=vendor)
    if model:
        stations = stations.filter(model__iexact=model)
    if firmware_version:
        stations = stations.filter(firmware_version=firmware_version)
    if tag:
        stations = stations.filter(tags__name=tag)
    identities = list(dict.fromkeys(identities or ()))
    unknown = []
    if identities:
        stations = stations.filter(identity__in=identities)
        known = set(Station.objects.filter(identity__in=identities)
                    .values_list("identity", flat=True))
        unknown = [identity for identity in identities if identity not in known]
    chosen, excluded = [], []
    for station in stations.distinct().order_by("identity"):
        if image.applies_to(station):
            chosen.append(station)
        else:
            excluded.append({"identity": station.identity,
                             "reason": f"image is for {image.vendor or '*'} {image.model or '*'}, "
                                       f"station is {station.vendor_name} {station.model}"})
    return chosen, excluded, unknown


def create_campaign(*, name, image, filter_vendor="", filter_model="", filter_firmware_version="",
                    filter_tag="", filter_identities=(), created_by=None, **options):
    """A draft campaign and its targets, in turn order (identity order). Raises ValidationError
    when the filter is wrong or chooses no station."""
    campaign = FirmwareCampaign(
        name=name, image=image, filter_vendor=filter_vendor, filter_model=filter_model,
        filter_firmware_version=filter_firmware_version, filter_tag=filter_tag,
        filter_identities=list(filter_identities or ()), created_by=created_by, **options)
    campaign.full_clean()
    stations, _excluded, unknown = select_stations(
        image, vendor=filter_vendor, model=filter_model, firmware_version=filter_firmware_version,
        tag=filter_tag, identities=filter_identities)
    if unknown:
        raise ValidationError({"filter_identities": f"Unknown stations: {', '.join(unknown)}"})
    if not stations:
        raise ValidationError({"filter": "The filter chooses no station the image applies to."})
    with transaction.atomic():
        campaign.save()
        CampaignTarget.objects.bulk_create(
            CampaignTarget(campaign=campaign, station=station, position=position)
            for position, station in enumerate(stations))
    return campaign


def _locked(campaign):
    return FirmwareCampaign.objects.select_for_update().get(pk=campaign.pk)


def _set_state(campaign, allowed, new_state, reason, **fields):
    with transaction.atomic():
        row = _locked(campaign)
        if row.state not in allowed:
            raise CampaignStateError(
                f"campaign {row.pk} is {row.state}; it cannot become {new_state}")
        row.state = new_state
        row.state_reason = reason
        for name, value in fields.items():
            setattr(row, name, value)
        row.save()
        if new_state == State.RUNNING:
            schedule_advance(row.pk)
    return row


def start_campaign(campaign, by=""):
    now = timezone.now()
    return _set_state(campaign, {State.DRAFT}, State.RUNNING, f"started by {by}".strip(),
                      started_at=now, rate_since=now)


def pause_campaign(campaign, by=""):
    """No new updates start; those in progress go on."""
    return _set_state(campaign, {State.RUNNING, State.AUTO_PAUSED}, State.PAUSED,
                      f"paused by {by}".strip())


def resume_campaign(campaign, by=""):
    """Running again. The operator has seen what failed: the failure rate counts from now, and a
    finished canary counts as passed (an automatic pause after it is the operator's to overrule)."""
    canary_finished = not campaign.targets.filter(position__lt=campaign.canary_size).exclude(
        state__in=CampaignTarget.FINAL).exists()
    fields = {"rate_since": timezone.now()}
    if canary_finished:
        fields["canary_passed"] = True
    return _set_state(campaign, {State.PAUSED, State.AUTO_PAUSED}, State.RUNNING,
                      f"resumed by {by}".strip(), **fields)


def cancel_campaign(campaign, by=""):
    """No new updates start (pending and waiting targets are skipped); those in progress finish
    and are still counted."""
    with transaction.atomic():
        row = _set_state(campaign, ACTIVE_STATES | {State.DRAFT}, State.CANCELLED,
                         f"cancelled by {by}".strip(), finished_at=timezone.now())
        row.targets.filter(state__in=[TargetState.PENDING, TargetState.WAITING]).update(
            state=TargetState.SKIPPED, detail="campaign cancelled", finished_at=timezone.now())
    return row


def counts(campaign):
    """Targets per state, the total, how many are done and the failure rate since the last
    (re)start, in one query."""
    rows = dict(campaign.targets.values_list("state").annotate(n=Count("id")))
    result = {state.value: rows.get(state.value, 0) for state in TargetState}
    total = sum(result.values())
    done = sum(result[state] for state in CampaignTarget.FINAL)
    result.update(total=total, done=done,
                  percent=round(100 * done / total) if total else 0)
    return result


def _failure_rate(targets):
    finished = targets.filter(state__in=[TargetState.SUCCEEDED, TargetState.FAILED])
    tally = finished.aggregate(finished=Count("id"),
                               failed=Count("id", filter=Q(state=TargetState.FAILED)))
    return tally["failed"], tally["finished"]


def _auto_pause(campaign, reason):
    campaign.state = State.AUTO_PAUSED
    campaign.state_reason = reason
    campaign.save(update_fields=["state", "state_reason"])
    logger.warning("firmware campaign %s paused itself: %s", campaign.pk, reason)


def _over_threshold(campaign, failed, finished):
    return finished and failed / finished > campaign.failure_threshold


def _describe(what, failed, finished, threshold):
    return (f"{what}: {failed} of {finished} failed "
            f"({100 * failed / finished:.0f}% > {100 * threshold:.0f}%)")


def advance_campaign(campaign_pk, now=None):
    """Start updates for the campaign's next targets as far as its state, canary, window and
    concurrency allow; returns {"started": n, "waiting": n} or None when not running.

    Runs under the campaign's row lock, so two workers (beat and a receiver) never start the
    same target twice."""
    from . import firmware

    now = now or timezone.now()
    with transaction.atomic():
        campaign = (FirmwareCampaign.objects.select_for_update(of=("self",))
                    .select_related("image").filter(pk=campaign_pk).first())
        if campaign is None or campaign.state != State.RUNNING:
            return None
        targets = campaign.targets.all()
        eligible = targets
        if campaign.canary_size and not campaign.canary_passed:
            canary = targets.filter(position__lt=campaign.canary_size)
            if not canary.exclude(state__in=CampaignTarget.FINAL).exists():
                failed, finished = _failure_rate(canary)
                if _over_threshold(campaign, failed, finished):
                    _auto_pause(campaign, _describe("canary", failed, finished,
                                                    campaign.failure_threshold))
                    return None
                campaign.canary_passed = True
                campaign.save(update_fields=["canary_passed"])
            else:
                eligible = canary
        if campaign.canary_passed or not campaign.canary_size:
            since = targets.filter(finished_at__gte=campaign.rate_since) \
                if campaign.rate_since else targets
            failed, finished = _failure_rate(since)
            if finished >= max(campaign.canary_size, 1) and _over_threshold(
                    campaign, failed, finished):
                _auto_pause(campaign, _describe("failure rate", failed, finished,
                                                campaign.failure_threshold))
                return None
        if not targets.exclude(state__in=CampaignTarget.FINAL).exists():
            campaign.state = State.COMPLETED
            campaign.finished_at = now
            campaign.save(update_fields=["state", "finished_at"])
            return {"started": 0, "waiting": 0}
        if not campaign.in_window(now):
            return {"started": 0, "waiting": targets.filter(state=TargetState.WAITING).count()}
        slots = campaign.concurrency - targets.filter(state=TargetState.IN_PROGRESS).count()
        # Sends tried, started or not: a station shown online whose socket is gone (its server
        # died, the sweep has not caught up) costs a try, so such stations cannot make every
        # advance send to all of them.
        started = tried = 0
        candidates = (eligible.filter(state__in=[TargetState.PENDING, TargetState.WAITING])
                      .select_related("station").order_by("position"))
        # Targets need no lock of their own: only an advance (under the campaign's lock) moves
        # pending and waiting ones, and receivers move only those in progress.
        for target in candidates.iterator(chunk_size=100):
            if started >= slots or tried >= slots:
                break
            station = target.station
            if not station.online or not station.ocpp_version:
                if target.state != TargetState.WAITING:
                    target.state = TargetState.WAITING
                    target.detail = "offline at its turn; starts when the station is back"
                    target.save(update_fields=["state", "detail"])
                continue
            if station.firmware_version == campaign.image.version:
                target.state = TargetState.SKIPPED
                target.detail = f"already runs {station.firmware_version}"
                target.finished_at = now
                target.save(update_fields=["state", "detail", "finished_at"])
                continue
            tried += 1
            started += _start_target(campaign, target, firmware, now)
        return {"started": started,
                "waiting": targets.filter(state=TargetState.WAITING).count()}


def _start_target(campaign, target, firmware, now):
    """One UpdateFirmware for a target; 1 if it counts against the concurrency limit."""
    try:
        update = firmware.start_update(target.station, campaign.image,
                                       source=f"campaign:{campaign.pk}")
    except (firmware.InvalidFirmware, firmware.StationNotReady) as error:
        # Refused before sending: the image does not fit the station, or its version is unknown.
        logger.info("campaign %s: %s not started: %s", campaign.pk, target.station, error)
        target.attempts += 1
        target.state = TargetState.FAILED
        target.last_status = "not sent"
        target.detail = str(error)[:200]
        target.finished_at = now
        target.save(update_fields=["attempts", "state", "last_status", "detail", "finished_at"])
        return 0
    target.update = update
    target.started_at = now
    if update.status == FirmwareUpdate.Status.OFFLINE:
        # The station's socket went away since it was last seen online.
        target.state = TargetState.WAITING
        target.detail = "offline at its turn; starts when the station is back"
        target.save(update_fields=["update", "started_at", "state", "detail"])
        return 0
    target.attempts += 1
    target.state = TargetState.IN_PROGRESS
    target.last_status = update.status
    target.detail = ""
    target.save(update_fields=["update", "started_at", "attempts", "state", "last_status",
                               "detail"])
    return 1


def apply_update_status(update):
    """Move the campaign target an update belongs to after the update's status changed."""
    with transaction.atomic():
        target = (CampaignTarget.objects.select_for_update(of=("self",))
                  .select_related("campaign").filter(update_id=update.pk).first())
        if target is None or target.state != TargetState.IN_PROGRESS:
            return None
        status = update.status
        target.last_status = status
        now = timezone.now()
        if status == FirmwareUpdate.Status.INSTALLED_CONFIRMED:
            target.state = TargetState.SUCCEEDED
            target.detail = f"runs {update.reported_version or target.campaign.image.version}"
            target.finished_at = now
        elif status == FirmwareUpdate.Status.OFFLINE:
            # Never reached the station: its turn waits for it, and no attempt is spent.
            target.state = TargetState.WAITING
            target.attempts = max(target.attempts - 1, 0)
            target.detail = "offline at its turn; starts when the station is back"
        elif update.is_final:
            if target.attempts <= target.campaign.retries:
                target.state = TargetState.PENDING
                target.detail = f"attempt {target.attempts} ended {status}; retrying"
            else:
                target.state = TargetState.FAILED
                target.detail = f"ended {status}" + (f" ({update.answer})" if update.answer else "")
                target.finished_at = now
        if target.campaign.state == State.CANCELLED and target.state in (TargetState.PENDING,
                                                                         TargetState.WAITING):
            # Cancelled, nothing starts again: a failed attempt stays a failure, an update that
            # never reached the station is skipped.
            target.state = (TargetState.FAILED if target.state == TargetState.PENDING
                            else TargetState.SKIPPED)
            target.detail = f"ended {status}; campaign cancelled"
            target.finished_at = now
        target.save(update_fields=["state", "last_status", "detail", "finished_at", "attempts"])
        if target.state != TargetState.IN_PROGRESS:
            schedule_advance(target.campaign_id)
    return target


def schedule_advance(campaign_pk):
    """Advance the campaign in a worker once the current transaction commits."""
    from .. import tasks

    transaction.on_commit(lambda: tasks.advance_firmware_campaign.delay(campaign_pk))


def advance_running_campaigns():
    """The beat's pass: every running campaign (the window may have opened, a station may be back
    without booting, a receiver may have failed). Returns the number advanced."""
    pks = list(FirmwareCampaign.objects.filter(state=State.RUNNING).values_list("pk", flat=True))
    for pk in pks:
        reconcile_targets(pk)
        advance_campaign(pk)
    return len(pks)


def reconcile_targets(campaign_pk):
    """Apply updates whose change a receiver missed (a worker died between commit and signal)."""
    stuck = (CampaignTarget.objects.filter(campaign_id=campaign_pk,
                                           state=TargetState.IN_PROGRESS)
             .exclude(update=None).select_related("update"))
    for target in stuck:
        if target.update.is_final or target.update.status == FirmwareUpdate.Status.OFFLINE:
            apply_update_status(target.update)


@receiver(firmware_update_changed, dispatch_uid="campaigns-firmware-update-changed")
def _on_firmware_update_changed(sender, update, **kwargs):
    apply_update_status(update)


@asked_at_boot("campaign_turn")
def _campaign_turn(station_pk):
    return CampaignTarget.objects.filter(
        station_id=station_pk, state=TargetState.WAITING, campaign__state=State.RUNNING)


@receiver(station_booted, dispatch_uid="campaigns-station-booted")
def _on_station_booted(sender, station, **kwargs):
    # A station back after being offline at its turn starts its update now, not at the next beat.
    if not may_have(station, "campaign_turn"):
        return
    campaign_pks = set(_campaign_turn(station.pk).values_list("campaign_id", flat=True))
    for pk in campaign_pks:
        schedule_advance(pk)
