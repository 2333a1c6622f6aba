"""Signals other apps listen to instead of importing station internals."""
from django.dispatch import Signal

# Sent after a BootNotification is recorded, in the thread that handled it (not yet answered).
# kwargs: station (Station), ocpp_version, registration_status, first_boot (bool).
station_booted = Signal()
