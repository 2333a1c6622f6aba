"""The transactions app's bulk action: SendLocalList (the local authorization list) to many
stations at once, the same send as for one station (found by stations.actions.bulk)."""
from stations.actions.bulk import BulkAction, register

from . import commands

register(BulkAction(
    "send_local_list", "Send local list", options={"update_type": ("Full", "Differential")},
    send=lambda station, options, source: commands.send_local_list(
        station, options["update_type"], source=source)))
