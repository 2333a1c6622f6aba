"""The device-model part of the network overview (stations.overview): active NotifyEvent alerts."""
from stations import overview

from . import actions

LATEST_ALERTS = 10


@overview.register
def device_alerts(now):
    active = actions.active_alerts()
    latest = active.select_related("station", "variable__component").order_by(
        "-timestamp", "-id")[:LATEST_ALERTS]
    return {"alerts": {"active": active.count(), "latest": [{
        "source": "device",
        "station": event.station.identity,
        "title": f"{event.variable.component.name} {event.variable.name}",
        "message": " ".join(part for part in (event.actual_value, event.tech_info) if part)[:300],
        "severity": event.severity,
        "raised_at": event.timestamp,
    } for event in latest]}}
