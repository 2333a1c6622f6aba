"""The network's security log page (filters) and the station page's security panel: its
security events, failed logins and throttle, and the password rotation action (A01)."""
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from ..actions import password_rotation
from ..actions.security import station_login_state
from ..models import PasswordRotation, SecurityEvent, Station

PAGE_SIZE = 100


class SecurityLogFilter(forms.Form):
    station = forms.CharField(required=False, max_length=48)
    type = forms.CharField(required=False, max_length=50)
    critical = forms.ChoiceField(required=False, choices=[("", "any"), ("yes", "critical only"),
                                                          ("no", "not critical")])
    since = forms.DateField(required=False, help_text="UTC day, YYYY-MM-DD")
    until = forms.DateField(required=False, help_text="UTC day, YYYY-MM-DD (inclusive)")

    def filter(self, queryset):
        data = self.cleaned_data
        if data["station"]:
            queryset = queryset.filter(station__identity=data["station"])
        if data["type"]:
            queryset = queryset.filter(type=data["type"])
        if data["critical"]:
            queryset = queryset.filter(critical=data["critical"] == "yes")
        if data["since"]:
            queryset = queryset.filter(timestamp__date__gte=data["since"])
        if data["until"]:
            queryset = queryset.filter(timestamp__date__lte=data["until"])
        return queryset


@login_required
@require_GET
def security_log(request):
    form = SecurityLogFilter(request.GET or None)
    events = SecurityEvent.objects.select_related("station")
    status = 200
    if form.is_bound:
        if form.is_valid():
            events = form.filter(events)
        else:
            events, status = events.none(), 400
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "stations/security_log.html", {
        "form": form, "page": page, "query": query.urlencode(),
        "types": SecurityEvent.objects.order_by("type").values_list("type", flat=True).distinct(),
    }, status=status)


def panel(station):
    """What the station page's security panel shows."""
    return {
        "station": station,
        "security_events": list(station.security_events.all()[:10]),
        "login": station_login_state(station),
        "rotations": list(station.password_rotations.all()[:5]),
    }


@login_required
@require_POST
def station_rotate_password(request, identity):
    station = get_object_or_404(Station, identity=identity)
    try:
        rotation = password_rotation.rotate_password(station, source=f"dashboard:{request.user.username}")
    except password_rotation.RotationRefused as error:
        messages.error(request, f"Password not rotated: {error}")
    else:
        if rotation.state == PasswordRotation.State.FAILED:
            messages.error(request, f"Password not rotated: the station is offline ({rotation.detail}).")
        else:
            messages.success(request, "A new password was sent to the station; it replaces the "
                                      "stored one when the station accepts it.")
    return redirect(reverse("stations:detail", args=[identity]) + "#security-panel")


@login_required
@require_GET
def station_security_panel(request, identity):
    """The panel's body, read after the station page loads (the page's query count stays fixed)."""
    station = get_object_or_404(Station, identity=identity)
    return render(request, "stations/security_panel_body.html", panel(station))
