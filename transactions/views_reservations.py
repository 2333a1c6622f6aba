"""The station page's reservation and local-list panels: make and cancel reservations
(ReserveNow / CancelReservation), edit and send the local authorization list, ask its version."""
from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from csms.ocpp import outbound
from stations.commands import StationNotReady
from stations.models import Station

from . import actions, commands
from .models import IdToken, IdTokenType, LocalListUpdate, Reservation

PANEL_ROWS = 20
LIST_ENTRIES_SHOWN = 200
# A station usually answers within this; a later answer shows up live in the panel.
COMMAND_WAIT_SECONDS = 1.5


class ReserveForm(forms.Form):
    id_token = forms.CharField(max_length=36)
    id_token_type = forms.ChoiceField(required=False, choices=[("", "any type")] + IdTokenType.choices)
    # 2.0.1 evseId, 1.6 connectorId; empty reserves any.
    evse_id = forms.IntegerField(required=False, min_value=1, max_value=1000)
    expires_in_minutes = forms.IntegerField(min_value=1, max_value=7 * 24 * 60, initial=30)

    def clean(self):
        data = super().clean()
        if data.get("id_token"):
            token = actions.find_token(data["id_token"].strip(), data.get("id_token_type") or None)
            if token is None:
                self.add_error("id_token", f"No id token {data['id_token']!r} is known.")
            data["token"] = token
        return data


class LocalListForm(forms.Form):
    update_type = forms.ChoiceField(choices=[("Full", "Full"), ("Differential", "Differential")])
    # One token value per line; empty means every token.
    id_tokens = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}),
                                max_length=100_000)

    def clean_id_tokens(self):
        values = sorted({line.strip() for line in self.cleaned_data["id_tokens"].splitlines()
                         if line.strip()})
        if not values:
            return None
        tokens = dict(IdToken.objects.filter(id_token__in=values).values_list("id_token", "pk"))
        missing = [value for value in values if value not in tokens]
        if missing:
            raise forms.ValidationError(f"Unknown id tokens: {', '.join(missing[:20])}")
        return sorted(set(tokens.values()))


def _panel(station, anchor):
    return reverse("stations:detail", args=[station.identity]) + f"#{anchor}"


def _errors(form):
    return "; ".join(f"{field.replace('__all__', 'form')}: {' '.join(problems)}"
                     for field, problems in form.errors.items())


def _report(request, command, what):
    command = outbound.wait_for_outcome(command, COMMAND_WAIT_SECONDS)
    response = command.response or {}
    if "versionNumber" in response or "listVersion" in response:
        answer = f"version {response.get('versionNumber', response.get('listVersion'))}"
    else:
        answer = response.get("status") or command.error_code or command.status
    fine = not command.is_finished or (command.status == "accepted" and response.get("status")
                                       in (None, "Accepted"))
    messages.add_message(request, messages.SUCCESS if fine else messages.ERROR, f"{what}: {answer}",
                         extra_tags=f"command command-{command.pk}")


@login_required
@require_GET
def station_reservations(request, identity):
    """The reservation panel's rows, read after the page loads and again on pushes."""
    station = get_object_or_404(Station, identity=identity)
    return render(request, "transactions/reservations_rows.html", {
        "station": station, "now": timezone.now(),
        "reservations": station.reservations.select_related("id_token")[:PANEL_ROWS]})


@login_required
@require_POST
def station_reservation_command(request, identity, operation):
    station = get_object_or_404(Station, identity=identity)
    source = f"dashboard:{request.user.username}"
    back = _panel(station, "reservations-panel")
    try:
        if operation == "reserve":
            form = ReserveForm(request.POST)
            if not form.is_valid():
                messages.error(request, f"ReserveNow not sent: {_errors(form)}")
                return redirect(back)
            data = form.cleaned_data
            expires_at = timezone.now() + timedelta(minutes=data["expires_in_minutes"])
            reservation, command = commands.reserve(station, data["token"], expires_at,
                                                    data.get("evse_id"), source=source)
            _report(request, command, f"ReserveNow #{reservation.pk}")
        elif operation == "cancel":
            reservation = Reservation.objects.filter(
                station=station, pk=_pk(request.POST.get("reservation"))).first()
            if reservation is None:
                messages.error(request, "CancelReservation not sent: no such reservation")
                return redirect(back)
            _report(request, commands.cancel_reservation(reservation, source=source),
                    f"CancelReservation #{reservation.pk}")
        else:
            raise Http404("Unknown reservation operation")
    except (StationNotReady, outbound.InvalidCommand, actions.InvalidRequest) as error:
        messages.error(request, f"Not sent: {error}")
    return redirect(back)


@login_required
@require_GET
def station_local_list(request, identity):
    """The local-list panel's rows: versions, the entries the station holds, recent sends."""
    station = get_object_or_404(Station, identity=identity)
    local_list = actions.local_list_of(station)
    entries = sorted((local_list.entries or {}).items())
    return render(request, "transactions/local_list_rows.html", {
        "station": station, "local_list": local_list,
        "entries": [(key.rsplit("|", 1)[0], (info or {}).get("status", "")) for key, info in
                    entries[:LIST_ENTRIES_SHOWN]],
        "entry_count": len(entries),
        "selection_text": "\n".join(IdToken.objects.filter(pk__in=local_list.selection or [])
                                    .order_by("id_token").values_list("id_token", flat=True)),
        "updates": LocalListUpdate.objects.filter(local_list=local_list).select_related("command")[:10]})


@login_required
@require_POST
def station_local_list_command(request, identity, operation):
    station = get_object_or_404(Station, identity=identity)
    source = f"dashboard:{request.user.username}"
    back = _panel(station, "local-list-panel")
    try:
        if operation == "send":
            form = LocalListForm(request.POST)
            if not form.is_valid():
                messages.error(request, f"SendLocalList not sent: {_errors(form)}")
                return redirect(back)
            command = commands.send_local_list(station, form.cleaned_data["update_type"],
                                               form.cleaned_data["id_tokens"], source=source)
            _report(request, command, "SendLocalList")
        elif operation == "get-version":
            _report(request, commands.get_local_list_version(station, source=source),
                    "GetLocalListVersion")
        else:
            raise Http404("Unknown local list operation")
    except (StationNotReady, outbound.InvalidCommand, actions.InvalidRequest) as error:
        messages.error(request, f"Not sent: {error}")
    return redirect(back)


def _pk(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
