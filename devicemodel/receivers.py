"""Applies stations' answers to variable requests and reports as they arrive."""
from django.dispatch import receiver

from csms.ocpp.signals import command_finished

from .models import Report, VariableRequest

# Calls whose answer a VariableRequest or Report of this app waits for.
REQUEST_ACTIONS = {"GetVariables", "SetVariables", "GetConfiguration", "ChangeConfiguration",
                   "SetVariableMonitoring", "ClearVariableMonitoring"}
REPORT_ACTIONS = {"GetBaseReport", "GetReport", "GetMonitoringReport", "GetConfiguration"}


@receiver(command_finished, dispatch_uid="devicemodel.apply_station_answer")
def apply_station_answer(sender, command, **kwargs):
    from . import commands

    if command.action in REQUEST_ACTIONS:
        for request in VariableRequest.objects.filter(
                items__command_id=command.pk, completed_at__isnull=True).distinct():
            commands.settle_variable_request(request)
    if command.action in REPORT_ACTIONS:
        for report in Report.objects.filter(command_id=command.pk, status=Report.Status.REQUESTED):
            commands.settle_report(report)
