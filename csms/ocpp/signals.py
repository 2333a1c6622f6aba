"""Signals of the protocol core for domain apps to react to, without the core importing them."""
from django.dispatch import Signal

# Sent once when a Command gets its outcome (accepted, rejected, error, timeout or offline), in
# the thread that recorded it: the server process for answers and timeouts, the sweep for the
# rest. kwargs: command. Receivers apply the station's answer to their own rows; keep them quick.
command_finished = Signal()
