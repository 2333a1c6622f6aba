"""Signals other apps listen to instead of importing station internals."""
from django.dispatch import Signal

# Sent after a BootNotification is recorded, in the thread that handled it (not yet answered).
# kwargs: station (Station), ocpp_version, registration_status, first_boot (bool).
station_booted = Signal()

# Sent after a connector's status is stored (not for a late replay of an older one), in the
# thread that handled the StatusNotification. kwargs: station_pk, evse_id (None on 1.6),
# connector_id, status, status_at (datetime or None).
connector_status_changed = Signal()

# Sent after a FirmwareUpdate's status or counters change, once the change is committed.
# kwargs: update (FirmwareUpdate).
firmware_update_changed = Signal()
