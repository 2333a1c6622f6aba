"""SetNetworkProfile (2.0.1 B09): a network connection profile checked before it is sent (every
reason at once), then stored by the station in a configuration slot."""
from urllib.parse import urlsplit

from csms.ocpp import outbound, schemas
from csms.ocpp.framing import OCPP201

from . import _version

SECURITY_PROFILES = range(0, 4)
# Profiles 2 and 3 are TLS (server, then client certificates): their endpoint is wss://.
TLS_SECURITY_PROFILES = {2, 3}

# The device model knows which slots a station offers (NetworkConfigurationPriority's
# valuesList); stations cannot import it, so the devicemodel app registers the lookup here.
_slot_lookups = []


class InvalidNetworkProfile(ValueError):
    def __init__(self, reasons):
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def register_slot_lookup(lookup):
    """lookup(station) -> sorted list of the configuration slots it offers, or None (unknown)."""
    if lookup not in _slot_lookups:
        _slot_lookups.append(lookup)


def configuration_slots(station):
    for lookup in _slot_lookups:
        slots = lookup(station)
        if slots is not None:
            return slots
    return None


def validate(station, configuration_slot, connection_data):
    """Every reason the profile cannot be sent to `station` (empty: it can)."""
    reasons = []
    if not isinstance(configuration_slot, int) or isinstance(configuration_slot, bool):
        reasons.append("configurationSlot must be an integer")
    elif configuration_slot < 0:
        reasons.append("configurationSlot must be 0 or more")
    else:
        slots = configuration_slots(station)
        if slots is not None and configuration_slot not in slots:
            reasons.append(f"configurationSlot {configuration_slot} is not one the station offers "
                           f"(OCPPCommCtrlr.NetworkConfigurationPriority slots: "
                           f"{', '.join(map(str, slots)) or 'none'})")
    if not isinstance(connection_data, dict):
        return reasons + ["connectionData must be an object"]
    url = connection_data.get("ocppCsmsUrl")
    profile = connection_data.get("securityProfile")
    if isinstance(url, str):
        parts = urlsplit(url)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            reasons.append("ocppCsmsUrl must be a ws:// or wss:// URL with a host")
        elif parts.scheme == "ws" and profile in TLS_SECURITY_PROFILES:
            reasons.append(f"security profile {profile} uses TLS: ocppCsmsUrl must be wss://")
    if isinstance(profile, int) and profile not in SECURITY_PROFILES:
        reasons.append("securityProfile must be 0, 1, 2 or 3")
    timeout = connection_data.get("messageTimeout")
    if isinstance(timeout, int) and timeout <= 0:
        reasons.append("messageTimeout must be a positive number of seconds")
    if connection_data.get("ocppTransport") == "SOAP":
        reasons.append("ocppTransport SOAP: this CSMS speaks OCPP-J (JSON) only")
    payload = {"configurationSlot": configuration_slot, "connectionData": connection_data}
    reasons += schemas.describe_errors(OCPP201, "SetNetworkProfile", schemas.REQUEST, payload)
    return reasons


def set_network_profile(station, configuration_slot, connection_data, source=""):
    """Send SetNetworkProfile; returns the command (its answer: Accepted, Rejected or Failed).
    Raises InvalidNetworkProfile with every reason before anything is sent."""
    version = _version(station)
    if version != OCPP201:
        raise InvalidNetworkProfile([f"OCPP {version} has no SetNetworkProfile (2.0.1 only; a 1.6 "
                                     "station's endpoint is vendor configuration)"])
    reasons = validate(station, configuration_slot, connection_data)
    if reasons:
        raise InvalidNetworkProfile(reasons)
    payload = {"configurationSlot": configuration_slot, "connectionData": connection_data}
    return outbound.send_call(station.identity, version, "SetNetworkProfile", payload,
                              source=source)
