"""Dashboard: a station's display messages — add one (SetDisplayMessage), clear one, ask the
station what it shows (GetDisplayMessages); the panel itself is templatetags/display_panel.py."""
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Case, Value, When
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from csms.ocpp import outbound

from .. import commands as station_commands
from ..actions import display as actions
from ..commands import display as commands
from ..models import DisplayMessage, Station

# The answer usually arrives within this; later ones show up when the page is read again.
ANSWER_WAIT_SECONDS = 1.5
PANEL_ROWS = 30


class DisplayMessageForm(forms.Form):
    content = forms.CharField(max_length=512, widget=forms.Textarea(attrs={"rows": 2}))
    priority = forms.ChoiceField(choices=DisplayMessage.Priority.choices,
                                 initial=DisplayMessage.Priority.NORMAL_CYCLE)
    state = forms.ChoiceField(choices=[("", "any state")] + DisplayMessage.State.choices,
                              required=False)
    format = forms.ChoiceField(choices=DisplayMessage.Format.choices,
                               initial=DisplayMessage.Format.UTF8)
    language = forms.CharField(max_length=8, required=False)
    start_time = forms.DateTimeField(required=False, label="From (UTC)", widget=forms.DateTimeInput(
        attrs={"type": "datetime-local"}))
    end_time = forms.DateTimeField(required=False, label="Until (UTC)", widget=forms.DateTimeInput(
        attrs={"type": "datetime-local"}))
    transaction_id = forms.CharField(max_length=36, required=False, label="Transaction")
    message_id = forms.IntegerField(min_value=1, max_value=2**31 - 1, required=False,
                                    label="Message id", help_text="The same id replaces.")


def panel(station, form=None):
    """The panel's context: live messages first, then the newest others."""
    live_first = Case(When(status__in=DisplayMessage.LIVE_STATUSES, then=Value(0)),
                      default=Value(1))
    rows = DisplayMessage.objects.filter(station=station).order_by(live_first, "-id")[:PANEL_ROWS]
    return {"station": station, "display_messages": list(rows),
            "display_form": form or DisplayMessageForm(),
            "display_supported": station.ocpp_version in ("", "2.0.1")}


def _back(station):
    return redirect(reverse("stations:detail", args=[station.identity]) + "#display-messages")


def _answered(command, settle):
    command = outbound.wait_for_outcome(command, ANSWER_WAIT_SECONDS)
    if command.is_finished:
        settle(command)
    return command


def _refused(request, error):
    messages.error(request, f"Not sent: {error}")


@login_required
@require_POST
def display_message_add(request, identity):
    station = get_object_or_404(Station, identity=identity)
    form = DisplayMessageForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(f"{name}: {' '.join(text)}" for name, text in form.errors.items())
        messages.error(request, f"Not sent: {errors}")
        return _back(station)
    try:
        message, command = commands.set_display_message(
            station, form.cleaned_data, source=f"dashboard:{request.user.username}")
    except (actions.InvalidDisplayMessage, station_commands.StationNotReady) as error:
        _refused(request, error)
        return _back(station)
    _answered(command, actions.settle_set_message)
    message.refresh_from_db()
    text = f"Display message {message.message_id}: {message.status}"
    if message.rejection_reason:
        text += f" ({message.rejection_reason})"
    level = messages.SUCCESS if message.status == DisplayMessage.Status.ACCEPTED else \
        messages.INFO if message.status == DisplayMessage.Status.PENDING else messages.ERROR
    messages.add_message(request, level, text)
    return _back(station)


@login_required
@require_POST
def display_message_clear(request, identity, pk):
    station = get_object_or_404(Station, identity=identity)
    message = get_object_or_404(DisplayMessage, pk=pk, station=station)
    try:
        command = commands.clear_display_message(
            message, source=f"dashboard:{request.user.username}")
    except (actions.InvalidDisplayMessage, station_commands.StationNotReady) as error:
        _refused(request, error)
        return _back(station)
    command = _answered(command, actions.settle_clear_message)
    answer = (command.response or {}).get("status") or command.status
    messages.info(request, f"Clear display message {message.message_id}: {answer}")
    return _back(station)


@login_required
@require_POST
def display_message_refresh(request, identity):
    station = get_object_or_404(Station, identity=identity)
    try:
        report, command = commands.get_display_messages(
            station, source=f"dashboard:{request.user.username}")
    except (actions.InvalidDisplayMessage, station_commands.StationNotReady) as error:
        _refused(request, error)
        return _back(station)
    command = _answered(command, actions.settle_report_request)
    answer = (command.response or {}).get("status") or command.status
    messages.info(request, f"GetDisplayMessages #{report.pk}: {answer}; the list follows the "
                           "station's report")
    return _back(station)
