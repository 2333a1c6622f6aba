"""Celery tasks of the device model: thin wrappers around provisioning and commands."""
import logging

from celery import shared_task
from django.conf import settings

from csms.ocpp import outbound
from stations.models import Station

from . import commands, provisioning

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def provision_station(station_pk, policy_ids, registration_status, first_boot,
                      reboot_after_accept=False):
    run = provisioning.provision(station_pk, policy_ids, registration_status, first_boot,
                                 reboot_after_accept)
    return run.pk


@shared_task(ignore_result=True)
def settle_pending():
    commands.settle_pending()


@shared_task(ignore_result=True)
def request_periodic_reports(report_base=None):
    """The operator's periodic report (DEVICEMODEL_PERIODIC_REPORT) from every connected station."""
    report_base = report_base or settings.DEVICEMODEL_PERIODIC_REPORT
    if not report_base:
        return 0
    requested = 0
    for station in Station.objects.filter(online=True,
                                          registration_status=Station.RegistrationStatus.ACCEPTED):
        try:
            commands.request_report(station, report_base, source="task:periodic-report")
            requested += 1
        except (outbound.InvalidCommand, commands.StationNotReady) as error:
            logger.warning("periodic %s for %s not requested: %s", report_base, station, error)
    return requested
