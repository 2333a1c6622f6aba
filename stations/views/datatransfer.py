"""The station page's DataTransfer panel (both directions; send one) and its SetNetworkProfile
form (2.0.1 B09)."""
import json

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from csms.ocpp import outbound
from csms.ocpp.framing import OCPP16

from ..actions import datatransfer as exchange_actions
from ..commands import StationNotReady
from ..commands import datatransfer as datatransfer_commands
from ..commands import network as network_commands
from ..models import DataTransferExchange, Station

PANEL_ROWS = 20
# Characters of data shown in the panel; the whole is one click away.
DATA_PREVIEW = 80
COMMAND_WAIT_SECONDS = 1.5


def _text(value):
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _pretty(value):
    """A string as it is (1.6 data, most answers), anything else as indented JSON."""
    if value is None:
        return "(none)"
    return value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False)


def _preview(value):
    text = _text(value)
    return (text[:DATA_PREVIEW] + "…", True) if len(text) > DATA_PREVIEW else (text, False)


@login_required
@require_GET
def station_data_transfers(request, identity):
    """The panel's rows, newest first (read after the page loads: the page's query count stays
    fixed)."""
    station = get_object_or_404(Station, identity=identity)
    rows = []
    for exchange in station.data_transfers.all()[:PANEL_ROWS]:
        exchange.data_preview, exchange.data_cut = _preview(exchange.data)
        exchange.answer_preview, exchange.answer_cut = _preview(exchange.answer_data)
        rows.append(exchange)
    return render(request, "stations/datatransfer_rows.html",
                  {"exchanges": rows, "station": station})


@login_required
@require_GET
def data_transfer_detail(request, identity, pk):
    exchange = get_object_or_404(DataTransferExchange.objects.select_related("station", "command"),
                                 pk=pk, station__identity=identity)
    pretty = {"data": _pretty(exchange.data), "answer_data": _pretty(exchange.answer_data)}
    return render(request, "stations/datatransfer_detail.html",
                  {"exchange": exchange, "station": exchange.station, "pretty": pretty})


class DataTransferForm(forms.Form):
    vendor_id = forms.CharField(max_length=255, label="Vendor id")
    message_id = forms.CharField(max_length=50, required=False, label="Message id")
    data = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    data_is_json = forms.BooleanField(required=False, label="Data is JSON (2.0.1)")

    def __init__(self, *args, station=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.station = station

    def clean(self):
        cleaned = super().clean()
        text = cleaned.get("data") or ""
        if not text:
            cleaned["data"] = None
        elif cleaned.get("data_is_json"):
            if self.station is not None and self.station.ocpp_version == OCPP16:
                raise forms.ValidationError("OCPP 1.6 data is a string: untick 'Data is JSON'.")
            try:
                cleaned["data"] = json.loads(text)
            except ValueError as error:
                raise forms.ValidationError(f"Data is not valid JSON: {error}")
        return cleaned


def _errors(form):
    return "; ".join(" ".join(problems) if field == "__all__" else f"{field}: {' '.join(problems)}"
                     for field, problems in form.errors.items())


@login_required
@require_POST
def station_data_transfer_send(request, identity):
    station = get_object_or_404(Station, identity=identity)
    target = reverse("stations:detail", args=[station.identity]) + "#datatransfer-panel"
    form = DataTransferForm(request.POST, station=station)
    if not form.is_valid():
        messages.error(request, f"DataTransfer not sent: {_errors(form)}")
        return redirect(target)
    data = form.cleaned_data
    try:
        exchange, command = datatransfer_commands.data_transfer(
            station, data["vendor_id"], data["message_id"], data["data"],
            source=f"dashboard:{request.user.username}")
    except (StationNotReady, outbound.InvalidCommand) as error:
        messages.error(request, f"DataTransfer not sent: {error}")
        return redirect(target)
    command = outbound.wait_for_outcome(command, COMMAND_WAIT_SECONDS)
    exchange = exchange_actions.settle_command(command) or exchange
    label = f"DataTransfer {exchange.vendor_id}/{exchange.message_id or '-'}"
    if not command.is_finished:
        messages.info(request, f"{label} sent; the answer shows in the panel when it comes.")
    else:
        level = messages.SUCCESS if exchange.status == "Accepted" else messages.ERROR
        messages.add_message(request, level, f"{label}: {exchange.status}")
    return redirect(target)


class NetworkProfileForm(forms.Form):
    configuration_slot = forms.IntegerField(min_value=0, label="Slot")
    ocpp_csms_url = forms.CharField(max_length=512, label="CSMS URL")
    security_profile = forms.TypedChoiceField(choices=[(n, str(n)) for n in range(4)], coerce=int,
                                              label="Security profile")
    ocpp_interface = forms.ChoiceField(
        choices=[(name, name) for name in ("Wired0", "Wired1", "Wired2", "Wired3", "Wireless0",
                                           "Wireless1", "Wireless2", "Wireless3")],
        label="Interface")
    message_timeout = forms.IntegerField(min_value=1, initial=30, label="Message timeout (s)")
    ocpp_version = forms.ChoiceField(choices=[("OCPP20", "OCPP 2.0(.1)"), ("OCPP16", "OCPP 1.6")],
                                     label="OCPP")
    apn = forms.CharField(required=False, label="APN (JSON)",
                          widget=forms.Textarea(attrs={"rows": 1}))
    vpn = forms.CharField(required=False, label="VPN (JSON)",
                          widget=forms.Textarea(attrs={"rows": 1}))

    def clean(self):
        cleaned = super().clean()
        for name in ("apn", "vpn"):
            if cleaned.get(name):
                try:
                    cleaned[name] = json.loads(cleaned[name])
                except ValueError as error:
                    self.add_error(name, f"not valid JSON: {error}")
        return cleaned

    def connection_data(self):
        data = self.cleaned_data
        connection = {"ocppVersion": data["ocpp_version"], "ocppTransport": "JSON",
                      "ocppCsmsUrl": data["ocpp_csms_url"],
                      "messageTimeout": data["message_timeout"],
                      "securityProfile": data["security_profile"],
                      "ocppInterface": data["ocpp_interface"]}
        for name in ("apn", "vpn"):
            if data.get(name):
                connection[name] = data[name]
        return connection


@login_required
@require_POST
def station_network_profile(request, identity):
    station = get_object_or_404(Station, identity=identity)
    target = reverse("stations:detail", args=[station.identity]) + "#network-profile"
    form = NetworkProfileForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"SetNetworkProfile not sent: {_errors(form)}")
        return redirect(target)
    try:
        command = network_commands.set_network_profile(
            station, form.cleaned_data["configuration_slot"], form.connection_data(),
            source=f"dashboard:{request.user.username}")
    except (StationNotReady, network_commands.InvalidNetworkProfile,
            outbound.InvalidCommand) as error:
        messages.error(request, f"SetNetworkProfile not sent: {error}")
        return redirect(target)
    command = outbound.wait_for_outcome(command, COMMAND_WAIT_SECONDS)
    answer = (command.response or {}).get("status") if command.is_finished else None
    slot = form.cleaned_data["configuration_slot"]
    if answer is None:
        text = (f"SetNetworkProfile slot {slot}: {command.status}"
                + ("" if command.is_finished else " (the answer shows under Recent commands)"))
        messages.add_message(request, messages.ERROR if command.is_finished else messages.INFO,
                             text)
    else:
        messages.add_message(request, messages.SUCCESS if answer == "Accepted" else messages.ERROR,
                             f"SetNetworkProfile slot {slot}: {answer}")
    return redirect(target)
