"""Signals of the protocol core for domain apps to react to, without the core importing them."""
from django.dispatch import Signal

# Sent once when a Command gets its outcome (accepted, rejected, error, timeout or offline), in
# the thread that recorded it: the server process for answers and timeouts, the sweep for the
# rest. kwargs: command. Receivers apply the station's answer to their own rows; keep them quick.
command_finished = Signal()

# Sent when a queued Command is claimed for sending (status "sent"), in the claiming thread.
# kwargs: command. Used by the dashboard to show a command leave the queue.
command_sent = Signal()

# Sent after a batch of message-log rows is written, in the log writer's thread.
# kwargs: identities (set of station identities the batch holds frames of).
message_log_written = Signal()
