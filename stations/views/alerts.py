"""The operational alerts page: filtered list (re-read live on "alert" pushes) and acknowledge."""
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from ..actions import alerts as alert_actions
from ..models import Alert

PAGE_SIZE = 50
# What the page shows: the filter's choices and the rows each one means.
SHOW = {
    "open": ("Active, not acknowledged", {"state": Alert.State.ACTIVE,
                                          "acknowledged_at__isnull": True}),
    "active": ("Active", {"state": Alert.State.ACTIVE}),
    "acknowledged": ("Acknowledged", {"acknowledged_at__isnull": False}),
    "cleared": ("Cleared", {"state": Alert.State.CLEARED}),
    "all": ("All", {}),
}


def _filters(request):
    show = request.GET.get("show", "active")
    filters = {"show": show if show in SHOW else "active", "kind": request.GET.get("kind", ""),
               "station": request.GET.get("station", "").strip()}
    if filters["kind"] not in Alert.Kind.values:
        filters["kind"] = ""
    return filters


def _alerts(request, filters):
    alerts = Alert.objects.select_related("station").filter(**SHOW[filters["show"]][1])
    if filters["kind"]:
        alerts = alerts.filter(kind=filters["kind"])
    if filters["station"]:
        alerts = alerts.filter(station__identity__icontains=filters["station"])
    return Paginator(alerts, PAGE_SIZE).get_page(request.GET.get("page"))


def _context(request):
    filters = _filters(request)
    return {"filters": filters, "page": _alerts(request, filters), "kinds": Alert.Kind.choices,
            "show_choices": [(key, label) for key, (label, _) in SHOW.items()],
            "active_count": Alert.objects.filter(state=Alert.State.ACTIVE).count(),
            "query": request.GET.urlencode()}


@login_required
@require_GET
def alert_list(request):
    return render(request, "stations/alerts.html", _context(request))


@login_required
@require_GET
def alert_rows(request):
    """The table alone, for the page to re-read on a push (same filters as the page)."""
    return render(request, "stations/alerts_rows.html", _context(request))


@login_required
@require_POST
def alert_acknowledge(request, pk):
    alert = alert_actions.acknowledge(get_object_or_404(Alert, pk=pk), request.user.get_username())
    if request.headers.get("x-requested-with") == "fetch":
        return JsonResponse(alert_actions.alert_summary(alert))
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = reverse("stations:alerts")
    return redirect(back)
