"""Celery tasks of the stations app: thin wrappers around its actions and commands."""
from celery import shared_task


@shared_task(ignore_result=True)
def advance_firmware_campaign(campaign_pk):
    """Start a firmware campaign's next updates (after a change of state, target or station)."""
    from .actions import campaigns

    return campaigns.advance_campaign(campaign_pk)


@shared_task(ignore_result=True)
def advance_firmware_campaigns():
    """The beat's pass over every running firmware campaign."""
    from .actions import campaigns

    return campaigns.advance_running_campaigns()


@shared_task(ignore_result=True)
def request_log(station_pk, kind="DiagnosticsLog", oldest_timestamp=None, latest_timestamp=None,
                source="task:request-log"):
    """GetLog / GetDiagnostics for one station (timestamps as ISO 8601 strings)."""
    from django.utils.dateparse import parse_datetime

    from .commands import logs as log_commands
    from .models import Station

    log_request, command = log_commands.request_log(
        Station.objects.get(pk=station_pk), kind,
        parse_datetime(oldest_timestamp) if oldest_timestamp else None,
        parse_datetime(latest_timestamp) if latest_timestamp else None, source=source)
    return log_request.pk


@shared_task(ignore_result=True)
def sweep_log_requests():
    """Log requests whose upload URL expired with no file end Expired."""
    from .actions import logs as log_actions

    return log_actions.sweep_expired()
