"""Smart-charging events other parts of the app react to (load management, dashboards)."""
from django.dispatch import Signal

# An ISO 15118 EV told its needs (NotifyEVChargingNeeds); sender: the EVChargingNeeds row.
ev_charging_needs_received = Signal()
