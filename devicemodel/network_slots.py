"""The configuration slots a 2.0.1 station offers for network profiles (B09), read from its
OCPPCommCtrlr.NetworkConfigurationPriority valuesList, for SetNetworkProfile's validation."""
from stations.commands import network

from .models import VariableCharacteristics


def configuration_slots(station):
    """Sorted slot numbers, or None when the station never reported the valuesList."""
    values = (VariableCharacteristics.objects
              .filter(variable__station=station, variable__component__name="OCPPCommCtrlr",
                      variable__name="NetworkConfigurationPriority")
              .values_list("values_list", flat=True).first())
    slots = sorted({int(value) for value in (values or "").split(",")
                    if value.strip().lstrip("-").isdigit()})
    return slots or None


network.register_slot_lookup(configuration_slots)
