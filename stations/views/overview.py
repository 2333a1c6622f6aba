"""The dashboard's home page: the network at a glance (stations.overview), kept live by
static/stations/overview.js, which re-reads /api/v1/overview/ after pushes."""
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.http import require_GET

from stations import overview
from stations.api.overview import OverviewSerializer

# Segments of the connector bar, in order: (group, label).
CONNECTOR_SEGMENTS = [
    ("available", "Available"), ("occupied", "Occupied / charging"), ("reserved", "Reserved"),
    ("faulted", "Faulted"), ("unavailable", "Unavailable"), ("offline", "Offline"),
    ("unknown", "No status yet"),
]


@login_required
@require_GET
def network_overview(request):
    figures = OverviewSerializer(overview.figures()).data
    total = figures["connectors"]["total"]
    segments = [{"group": group, "label": label, "count": figures["connectors"][group],
                 "percent": (100 * figures["connectors"][group] / total) if total else 0}
                for group, label in CONNECTOR_SEGMENTS]
    return render(request, "stations/overview.html", {
        "figures": figures, "segments": segments,
    })


@require_GET
def favicon(request):
    """Pages without the icon link (admin, API docs) make browsers ask for /favicon.ico."""
    return redirect(static("favicon.svg"), permanent=True)
