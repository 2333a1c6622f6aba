"""The device model's bulk action: a report request to many stations at once (GetBaseReport on
2.0.1, GetConfiguration on 1.6), the same request as for one station (found by
stations.actions.bulk)."""
from stations.actions.bulk import BulkAction, register

from . import commands
from .models import Report


def _request_report(station, options, source):
    return commands.request_report(station, options["report_base"], source=source).command


register(BulkAction(
    "report", "Report request (GetBaseReport / GetConfiguration)",
    options={"report_base": (Report.Kind.FULL_INVENTORY.value,
                             Report.Kind.CONFIGURATION_INVENTORY.value,
                             Report.Kind.SUMMARY_INVENTORY.value)},
    send=_request_report))
