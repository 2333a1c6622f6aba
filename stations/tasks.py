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


@shared_task(ignore_result=True)
def data_transfer(identity, vendor_id, message_id="", data=None, source="task:data-transfer"):
    """DataTransfer to one station; returns the exchange's pk (the answer lands on it)."""
    from .commands.datatransfer import data_transfer as send_data_transfer
    from .models import Station

    exchange, command = send_data_transfer(Station.objects.get(identity=identity), vendor_id,
                                           message_id, data, source=source)
    return exchange.pk


@shared_task(ignore_result=True)
def set_network_profile(identity, configuration_slot, connection_data,
                        source="task:network-profile"):
    """SetNetworkProfile (2.0.1) to one station, validated first; returns the command's pk."""
    from .commands.network import set_network_profile as send_network_profile
    from .models import Station

    return send_network_profile(Station.objects.get(identity=identity), configuration_slot,
                                connection_data, source=source).pk


# --- display messages (2.0.1) ---------------------------------------------------------------

@shared_task(ignore_result=True)
def set_display_message(station_pk, data, source="task:display-message"):
    """SetDisplayMessage to one station; `data` in the API's field names (times ISO 8601)."""
    from django.utils.dateparse import parse_datetime

    from .commands import display
    from .models import Station

    data = dict(data)
    for name in ("start_time", "end_time"):
        if data.get(name):
            data[name] = parse_datetime(data[name])
    message, _ = display.set_display_message(Station.objects.get(pk=station_pk), data,
                                             source=source)
    return message.pk


@shared_task(ignore_result=True)
def clear_display_message(message_pk, source="task:display-message"):
    from .commands import display
    from .models import DisplayMessage

    return display.clear_display_message(DisplayMessage.objects.get(pk=message_pk),
                                         source=source).pk


@shared_task(ignore_result=True)
def get_display_messages(station_pk, ids=None, priority=None, state=None,
                         source="task:display-message"):
    from .commands import display
    from .models import Station

    report, _ = display.get_display_messages(Station.objects.get(pk=station_pk), ids, priority,
                                             state, source=source)
    return report.pk


@shared_task(ignore_result=True)
def settle_display_messages():
    """The beat's pass: display-message answers a failed receiver left unapplied."""
    from .actions import display

    return display.settle_finished()


@shared_task(ignore_result=True)
def start_firmware_update(station_pk, image_pk, retrieve_at=None, install_at=None, retries=None,
                          retry_interval=None, force=False, source="task:firmware-update"):
    """UpdateFirmware to one station (times as ISO 8601 strings); returns the update's pk."""
    from django.utils.dateparse import parse_datetime

    from .actions import firmware as firmware_actions
    from .models import FirmwareImage, Station

    update = firmware_actions.start_update(
        Station.objects.get(pk=station_pk), FirmwareImage.objects.get(pk=image_pk),
        retrieve_at=parse_datetime(retrieve_at) if retrieve_at else None,
        install_at=parse_datetime(install_at) if install_at else None, retries=retries,
        retry_interval=retry_interval, force=force, source=source)
    return update.pk


@shared_task(ignore_result=True)
def settle_data_transfers():
    """Outbound DataTransfer answers a failed receiver left unapplied."""
    from .actions import datatransfer

    return datatransfer.settle_finished()


@shared_task(ignore_result=True)
def check_alerts():
    """The beat's pass over the time-based alerts (stations offline, transactions silent)."""
    from .actions import alerts

    return alerts.check_alerts()


# --- bulk operations --------------------------------------------------------------------------

@shared_task(ignore_result=True)
def advance_bulk_operation(operation_pk):
    """Send a bulk operation's next commands (after its creation and each station's answer)."""
    from .actions import bulk

    return bulk.advance_operation(operation_pk)


@shared_task(ignore_result=True)
def advance_bulk_operations():
    """The beat's pass over running bulk operations (outcomes a failed receiver left unapplied)."""
    from .actions import bulk

    return bulk.advance_running_operations()


@shared_task(ignore_result=True)
def sign_certificate(signing_request_pk):
    """Sign an accepted CSR and send the chain in CertificateSigned (after SignCertificate's answer)."""
    from .commands import certificates

    row = certificates.send_signed_certificate(signing_request_pk)
    return row.pk if row else None


@shared_task(ignore_result=True)
def renew_station_certificates():
    """The beat's pass asking stations whose certificate expires soon for a new CSR."""
    from .commands import certificates

    return certificates.renew_due_certificates()
