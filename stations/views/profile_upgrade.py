"""The station page's security profile panel: the profile enforced now, its upgrades (A05) and
the form that starts one."""
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from ..actions import profile_upgrade
from ..commands import StationNotReady
from ..models import SecurityProfileUpgrade, Station


class ProfileUpgradeForm(forms.Form):
    security_profile = forms.TypedChoiceField(choices=[(2, "2"), (3, "3")], coerce=int)
    configuration_slot = forms.IntegerField(required=False, min_value=0, max_value=2**31 - 1)
    ocpp_csms_url = forms.CharField(required=False, max_length=512)


def panel(station):
    """What the panel shows: the station, its last upgrades and the profiles it may go to."""
    return {
        "station": station,
        "upgrades": list(station.profile_upgrades.select_related("command")[:5]),
        "targets": [profile for profile in (2, 3) if profile > station.security_profile],
        "default_url": profile_upgrade.tls_url(),
    }


@login_required
@require_POST
def station_profile_upgrade(request, identity):
    station = get_object_or_404(Station, identity=identity)
    form = ProfileUpgradeForm(request.POST)
    back = redirect(reverse("stations:detail", args=[identity]) + "#profile-upgrade-panel")
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"Security profile not raised: {field}: {' '.join(errors)}")
        return back
    data = form.cleaned_data
    try:
        upgrade = profile_upgrade.start_upgrade(
            station, data["security_profile"], configuration_slot=data["configuration_slot"],
            ocpp_csms_url=data["ocpp_csms_url"], source=f"dashboard:{request.user.username}")
    except (profile_upgrade.UpgradeRefused, StationNotReady) as error:
        messages.error(request, f"Security profile not raised: {error}")
        return back
    if upgrade.state == SecurityProfileUpgrade.State.FAILED:
        messages.error(request, f"Security profile not raised: the station is offline "
                                f"({upgrade.detail}).")
    else:
        messages.success(request, f"Upgrade to security profile {upgrade.to_profile} sent; the "
                                  "profile changes when the station reconnects with it.")
    return back


@login_required
@require_GET
def station_profile_upgrade_panel(request, identity):
    """The panel's body, read after the station page loads (the page's query count stays fixed)."""
    station = get_object_or_404(Station, identity=identity)
    return render(request, "stations/profile_upgrade_panel_body.html", panel(station))
