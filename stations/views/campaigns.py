"""Dashboard pages of firmware campaigns: the list with a form to create one, and a campaign's page
(progress, counts per state, failures, controls) whose progress part re-reads itself."""
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from ..actions import campaigns
from ..models import CampaignTarget, FirmwareCampaign, FirmwareImage, Station

# How often (ms) the campaign page re-reads its progress.
REFRESH_MS = 2000
CONTROLS = {
    "start": campaigns.start_campaign,
    "pause": campaigns.pause_campaign,
    "resume": campaigns.resume_campaign,
    "cancel": campaigns.cancel_campaign,
}
# Which controls each state offers.
CONTROLS_BY_STATE = {
    FirmwareCampaign.State.DRAFT: ["start", "cancel"],
    FirmwareCampaign.State.RUNNING: ["pause", "cancel"],
    FirmwareCampaign.State.PAUSED: ["resume", "cancel"],
    FirmwareCampaign.State.AUTO_PAUSED: ["resume", "pause", "cancel"],
}


class CampaignForm(forms.Form):
    name = forms.CharField(max_length=100)
    image = forms.ModelChoiceField(queryset=FirmwareImage.objects.all())
    filter_vendor = forms.CharField(max_length=50, required=False, label="Vendor")
    filter_model = forms.CharField(max_length=50, required=False, label="Model")
    filter_firmware_version = forms.CharField(max_length=50, required=False,
                                              label="Current firmware")
    filter_tag = forms.CharField(max_length=50, required=False, label="Tag")
    filter_identities = forms.CharField(
        required=False, label="Stations", widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Identities separated by spaces, commas or lines (e.g. a site's stations).")
    concurrency = forms.IntegerField(min_value=1, initial=10)
    window_start = forms.TimeField(required=False, label="Window from",
                                   widget=forms.TimeInput(attrs={"type": "time"}))
    window_end = forms.TimeField(required=False, label="Window to",
                                 widget=forms.TimeInput(attrs={"type": "time"}))
    timezone = forms.CharField(max_length=64, initial="UTC")
    retries = forms.IntegerField(min_value=0, initial=0)
    canary_size = forms.IntegerField(min_value=0, initial=0, label="Canary")
    failure_threshold = forms.FloatField(min_value=0, max_value=1, initial=0.2,
                                         label="Failure threshold (0-1)")

    def clean_filter_identities(self):
        return self.cleaned_data["filter_identities"].replace(",", " ").split()


@login_required
def campaign_list(request):
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = campaigns.create_campaign(created_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            messages.success(request, f"Campaign {campaign.name} created with "
                                      f"{campaign.targets.count()} stations (draft).")
            return redirect("stations:campaign", pk=campaign.pk)
    rows = list(FirmwareCampaign.objects.select_related("image"))
    for campaign in rows:
        campaign.tally = campaigns.counts(campaign)
    return render(request, "stations/campaign_list.html", {"campaigns": rows, "form": form})


def _progress_context(campaign):
    return {
        "campaign": campaign,
        "tally": campaigns.counts(campaign),
        "states": CampaignTarget.State,
        "failures": campaign.targets.filter(state=CampaignTarget.State.FAILED)
                    .select_related("station", "update").order_by("position"),
        "waiting": campaign.targets.filter(state=CampaignTarget.State.WAITING)
                   .select_related("station").order_by("position"),
        "controls": CONTROLS_BY_STATE.get(campaign.state, []),
    }


@login_required
@require_GET
def campaign_detail(request, pk):
    campaign = get_object_or_404(FirmwareCampaign.objects.select_related("image"), pk=pk)
    context = _progress_context(campaign)
    context.update(refresh_ms=REFRESH_MS, targets=campaign.targets.select_related(
        "station", "update").order_by("position"))
    return render(request, "stations/campaign_detail.html", context)


@login_required
@require_GET
def campaign_progress(request, pk):
    """The page's live part alone, re-read every REFRESH_MS."""
    campaign = get_object_or_404(FirmwareCampaign.objects.select_related("image"), pk=pk)
    return render(request, "stations/campaign_progress.html", _progress_context(campaign))


@login_required
@require_POST
def campaign_control(request, pk, operation):
    campaign = get_object_or_404(FirmwareCampaign, pk=pk)
    control = CONTROLS.get(operation)
    if control is None:
        messages.error(request, f"Unknown operation {operation!r}.")
    else:
        try:
            campaign = control(campaign, by=f"dashboard:{request.user.username}")
        except campaigns.CampaignStateError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Campaign {campaign.name}: {campaign.get_state_display()}.")
    return redirect("stations:campaign", pk=pk)


@login_required
@require_GET
def campaign_station_panel(request, identity):
    """The station page's panel body (read after the page loads): its tags and campaigns."""
    station = get_object_or_404(Station, identity=identity)
    targets = (station.campaign_targets.select_related("campaign__image")
               .order_by("-campaign__created_at")[:20])
    return render(request, "stations/campaign_station_panel_body.html",
                  {"station": station, "tags": station.tags.all(), "targets": targets})
