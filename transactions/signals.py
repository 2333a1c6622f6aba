"""Signals other apps (load management) listen to instead of importing transaction internals."""
from django.dispatch import Signal

# A transaction started, ended or got its EVSE (sent inside the writer's database transaction:
# act on commit). kwargs: transaction (Transaction).
transaction_changed = Signal()

# Meter readings were stored (inside the writer's database transaction). kwargs: station_pk,
# transaction (Transaction or None), evse_id, connector_id, rows (MeterValue field dicts).
meter_values_stored = Signal()
