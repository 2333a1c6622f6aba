"""Live dashboard events: anything a page may show, pushed to every dashboard socket as
{"kind": <kind>, ...data}. Best effort (bridge): never fails the caller."""
from csms.ocpp import bridge

from .actions import DASHBOARD_GROUP


def publish(kind, data, station=None):
    """Push one event. `kind` names what changed ("command", "transaction", "alert", ...);
    `station` (identity), when the event belongs to one, lets the consumer send it only to the
    pages that show that station."""
    return bridge.group_send(DASHBOARD_GROUP, {"type": "dashboard.event", "kind": kind,
                                               "station": station, "data": data})
