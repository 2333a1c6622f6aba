"""Pushes telling the station page that its reservation or local-list panel changed
({"kind": "panel", "panel": ...}); the panel then re-reads its rows (static/stations/deferred_rows.js)."""
from django.db import transaction as db_transaction

from stations import live


def panel_changed(station_pk, panel):
    """Push once the writer's database transaction commits (a re-read must see the change)."""
    db_transaction.on_commit(lambda: live.publish(
        "panel", {"panel": panel}, station=live.identity_of(station_pk)))
