"""Outbound DataTransfer answers (and outcomes without one) applied to their exchanges."""
from django.dispatch import receiver

from csms.ocpp.signals import command_finished

from ..actions import datatransfer as actions


@receiver(command_finished, dispatch_uid="stations.data_transfer_answer")
def apply_data_transfer_answer(sender, command, **kwargs):
    if command.action == "DataTransfer":
        actions.settle_command(command)
