"""Signals other apps listen to instead of importing station internals."""
from django.dispatch import Signal

# Sent after a BootNotification is recorded, in the thread that handled it (not yet answered).
# kwargs: station (Station), ocpp_version, registration_status, first_boot (bool).
station_booted = Signal()

# Sent once per WebSocket session when a station (re)connects, after its presence is written and
# before any of its frames is handled, in the thread that recorded the connection (not when a
# stalled server restores its sessions). kwargs: station_pk, identity, ocpp_version.
station_connected = Signal()

# Sent after a connector's status is stored (not for a late replay of an older one), in the
# thread that handled the StatusNotification. kwargs: station_pk, evse_id (None on 1.6),
# connector_id, status, status_at (datetime or None).
connector_status_changed = Signal()

# Sent after a FirmwareUpdate's status or counters change, once the change is committed.
# kwargs: update (FirmwareUpdate).
firmware_update_changed = Signal()

# Sent when an alert is raised, changes or is cleared/acknowledged, once committed.
# kwargs: alert (the alert row), change ("raised", "updated", "cleared" or "acknowledged").
alert_changed = Signal()

# Sent when a station's socket closed and its disconnection is recorded (also for stations whose
# server process died holding them), in the thread that recorded it. kwargs: station_pk, identity.
station_disconnected = Signal()

# Sent after a LogRequest's status changes (the station's answer, its status notifications, the
# upload), once committed. kwargs: log_request_pk.
log_request_changed = Signal()
