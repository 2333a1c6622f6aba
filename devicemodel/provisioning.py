"""Boot-time provisioning: the policies matching a booting station run after its boot answer,
reading and setting variables, requesting its first inventory, and accepting a Pending station."""
import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.dispatch import receiver
from django.utils import timezone

from csms.ocpp import outbound
from stations import actions as station_actions
from stations import commands as station_commands
from stations.models import Station
from stations.signals import station_booted
from stations.standing import asked_at_boot, may_have

from . import actions, commands
from .models import ProvisioningPolicy, ProvisioningRun, Report, VariableAttribute

logger = logging.getLogger(__name__)
SOURCE = "provisioning"
# A station accepted by provisioning boots again at once; that boot needs no second run.
REBOOT_GRACE = timedelta(seconds=60)


@asked_at_boot("values_awaiting_reboot")
def _values_awaiting_reboot(station_pk):
    return VariableAttribute.objects.filter(variable__station_id=station_pk, reboot_required=True)


@asked_at_boot("provisioning_policies")
def _provisioning_policies(station_pk):
    return ProvisioningPolicy.objects.filter(enabled=True)  # whichever station


@receiver(station_booted)
def on_station_booted(sender, station, ocpp_version, registration_status, first_boot, **kwargs):
    if may_have(station, "values_awaiting_reboot"):
        actions.clear_reboot_flags(station.pk)
    if (registration_status == Station.RegistrationStatus.REJECTED
            or not may_have(station, "provisioning_policies")):
        return
    policies = [policy for policy in _provisioning_policies(station.pk)
                if policy.applies_to(station, ocpp_version)]
    if not policies:
        return
    # The boot that provisioning itself asked for, right after accepting: only what waits for
    # an Accepted station (the initial report) is left to do.
    reboot_after_accept = ProvisioningRun.objects.filter(
        station=station, accepted_station=True, finished_at__gte=timezone.now() - REBOOT_GRACE,
    ).exists()
    accepted = registration_status == Station.RegistrationStatus.ACCEPTED
    has_work = any(
        (accepted and policy.initial_report and _lacks_report(station, policy.initial_report))
        or (not reboot_after_accept and policy.runs_on(registration_status, first_boot))
        for policy in policies
    )
    if not has_work:
        return
    arguments = (station.pk, [policy.pk for policy in policies], registration_status, first_boot,
                 reboot_after_accept)
    transaction.on_commit(lambda: start(*arguments))


def start(*arguments):
    from .tasks import provision_station

    if settings.CELERY_TASK_ALWAYS_EAGER:
        # An eager task runs in the caller, here the server's handler thread before the boot
        # answer is sent; the run waits for the station's answers, so it gets its own thread.
        threading.Thread(target=_run_eagerly, args=arguments, daemon=True,
                         name=f"provision-{arguments[0]}").start()
    else:
        provision_station.delay(*arguments)


def _run_eagerly(*arguments):
    from .tasks import provision_station

    try:
        provision_station.delay(*arguments)
    except Exception:
        logger.exception("provisioning of station %s failed", arguments[0])
    finally:
        connection.close()


def provision(station_pk, policy_ids, registration_status, first_boot, reboot_after_accept=False):
    """Run the matching policies on a station that just booted; returns the ProvisioningRun."""
    station = Station.objects.get(pk=station_pk)
    policies = list(ProvisioningPolicy.objects.filter(pk__in=policy_ids))
    run = ProvisioningRun.objects.create(station=station, boot_status=registration_status)
    run.policies.set(policies)
    try:
        _provision(run, station, policies, registration_status, first_boot, reboot_after_accept)
    except (outbound.InvalidCommand, commands.StationNotReady) as error:
        run.log.append(f"stopped: {error}")
        run.status = ProvisioningRun.Status.FAILED
    if run.status == ProvisioningRun.Status.RUNNING:
        run.status = ProvisioningRun.Status.DONE
    run.finished_at = timezone.now()
    run.save()
    return run


def _provision(run, station, policies, registration_status, first_boot, reboot_after_accept):
    if registration_status == Station.RegistrationStatus.ACCEPTED:
        _request_initial_reports(run, station, policies)
    running = [policy for policy in policies if policy.runs_on(registration_status, first_boot)
               and not reboot_after_accept]
    get_items = [item for policy in running for item in policy.get_variables]
    set_items = [item for policy in running for item in policy.set_variables]
    requests = []
    if get_items:
        requests.append(commands.get_variables(station, get_items, source=SOURCE))
    if set_items:
        requests.append(commands.set_variables(station, set_items, source=SOURCE))
    calls = sum(request.items.values("command").distinct().count() for request in requests)
    budget = calls * (settings.OCPP_CALL_TIMEOUT + 1)
    all_set = True
    for request in requests:
        started = timezone.now()
        request = commands.wait_for_request(request, budget)
        budget -= (timezone.now() - started).total_seconds()
        statuses = list(request.items.values_list("status", flat=True))
        run.log.append(f"{request.action} #{request.pk}: {', '.join(s or 'pending' for s in statuses)}")
        if request.action in (request.Action.SET_VARIABLES, request.Action.CHANGE_CONFIGURATION):
            all_set = all(status in ("Accepted", "RebootRequired") for status in statuses)
    if not all_set:
        run.status = ProvisioningRun.Status.FAILED
    if registration_status == Station.RegistrationStatus.PENDING and any(
            policy.accept_pending for policy in running):
        if not all_set:
            run.log.append("left Pending: not every set was accepted")
            return
        # Configure, then accept: the next boot is Accepted; ask for it now instead of waiting
        # for the station's retry interval.
        station.refresh_from_db()
        station_actions.set_registration_policy(station, Station.RegistrationStatus.ACCEPTED)
        run.accepted_station = True
        trigger = station_commands.trigger_message(station, "BootNotification", source=SOURCE)
        run.log.append(f"accepted; BootNotification triggered (command {trigger.pk})")


def _lacks_report(station, report_base):
    kind = report_base if station.ocpp_version == "2.0.1" else Report.Kind.CONFIGURATION
    return not Report.objects.filter(station=station, kind=kind).exclude(
        status__in=[Report.Status.REJECTED, Report.Status.FAILED, Report.Status.TIMED_OUT]
    ).exists()


def _request_initial_reports(run, station, policies):
    for base in sorted({policy.initial_report for policy in policies if policy.initial_report}):
        if _lacks_report(station, base):
            report = commands.request_report(station, base, source=SOURCE)
            run.log.append(f"{report.kind} report requested (request {report.request_id})")
