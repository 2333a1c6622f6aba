"""Dashboard pages for stations: the live list, one station's page, registration and commands."""
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from csms.models import Command, MessageLogEntry
from csms.ocpp import outbound, schemas
from csms.ocpp.framing import OCPP16, OCPP201

from .. import actions, commands
from ..live_receivers import outcome_text
from ..forms import (
    MessageLogFilter,
    RegistrationPolicyForm,
    ResetForm,
    SendCallForm,
    StationFilter,
    StationRegistrationForm,
    TriggerMessageForm,
)
from ..models import Connector, Evse, Station

STATIONS_PER_PAGE = 100
LOG_ROWS = 100
COMMAND_ROWS = 20
# A command's answer usually arrives within this; longer ones show up live in the table.
COMMAND_WAIT_SECONDS = 1.5


@login_required
@require_GET
def station_list(request):
    stations = Station.objects.prefetch_related(
        Prefetch("connectors", queryset=Connector.objects.select_related("evse"))
    )
    station_filter = StationFilter(request.GET or None, queryset=stations)
    page = Paginator(station_filter.qs, STATIONS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filter": station_filter,
        "page": page,
        "counts": station_counts_data(),
        "query": query.urlencode(),
        "live": _live_subscription(station_filter, page),
    }
    return render(request, "stations/station_list.html", context)


def _live_subscription(station_filter, page):
    """What the list page subscribes to on the dashboard socket: its rows, filters and order, so
    pushes for other stations never add rows (the page re-reads itself when one may belong)."""
    cleaned = station_filter.form.cleaned_data if station_filter.form.is_valid() else {}
    rows = list(page.object_list)
    return {
        "page": "station-list",
        "kinds": ["station", "station-list"],
        "stations": [station.identity for station in rows],
        "filters": {name: value for name, value in cleaned.items() if value and name != "sort"},
        "sort": cleaned.get("sort") or "identity",
        "range": [rows[0].identity, rows[-1].identity] if rows else None,
        "open_end": not page.has_next(),
    }


def station_counts_data():
    return Station.objects.aggregate(
        total=Count("id"),
        online=Count("id", filter=Q(online=True)),
        pending=Count("id", filter=Q(registration_status=Station.RegistrationStatus.PENDING)),
    )


@login_required
@require_GET
def station_counts(request):
    return JsonResponse(station_counts_data())


@login_required
def station_register(request):
    form = StationRegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        station = form.save()
        messages.success(request, f"Station {station.identity} registered "
                                  f"(its boot will be answered {station.registration_policy}).")
        return redirect("stations:detail", identity=station.identity)
    status = 400 if form.is_bound else 200
    return render(request, "stations/station_register.html", {"form": form}, status=status)


def _load_station(identity):
    return get_object_or_404(
        Station.objects.prefetch_related(
            Prefetch("evses", queryset=Evse.objects.prefetch_related("connectors")),
            Prefetch("connectors", queryset=Connector.objects.filter(evse__isnull=True),
                     to_attr="station_connectors"),
        ),
        identity=identity,
    )


@login_required
@require_GET
def station_detail(request, identity):
    station = _load_station(identity)
    return render(request, "stations/station_detail.html", _detail_context(request, station))


def _detail_context(request, station, status_forms=None):
    version = station.ocpp_version or OCPP201
    log_filter = MessageLogFilter(request.GET, queryset=MessageLogEntry.objects.filter(
        identity=station.identity))
    context = {
        "station": station,
        "log_filter": log_filter,
        "log_entries": _with_pretty_frames(log_filter.qs[:LOG_ROWS]),
        "commands": _recent_commands(station.identity),
        "reset_form": ResetForm(ocpp_version=version),
        "trigger_form": TriggerMessageForm(ocpp_version=version),
        "send_form": SendCallForm(ocpp_version=version),
        "policy_form": RegistrationPolicyForm(
            initial={"registration_policy": station.registration_policy}),
        "can_send": bool(station.ocpp_version),
    }
    context.update(status_forms or {})
    return context


def _recent_commands(identity):
    recent = list(Command.objects.filter(identity=identity)[:COMMAND_ROWS])
    for command in recent:
        command.outcome_text = outcome_text(command)
        command.payload_json = json.dumps(command.payload, ensure_ascii=False)
        command.response_json = (json.dumps(command.response, ensure_ascii=False)
                                 if command.response is not None else "")
        command.pretty_exchange = "request " + json.dumps(command.payload, indent=2, ensure_ascii=False)
        if command.response is not None:
            command.pretty_exchange += "\nanswer  " + json.dumps(command.response, indent=2,
                                                                 ensure_ascii=False)
    return recent


def _with_pretty_frames(entries):
    entries = list(entries)
    for entry in entries:
        try:
            entry.pretty_frame = json.dumps(json.loads(entry.frame), indent=2, ensure_ascii=False)
        except ValueError:
            entry.pretty_frame = entry.frame  # a malformed frame is shown as it arrived
    return entries


@login_required
@require_GET
def station_log(request, identity):
    """The message log rows of a station (newest first); `after` returns only newer rows."""
    station = get_object_or_404(Station, identity=identity)
    log_filter = MessageLogFilter(request.GET, queryset=MessageLogEntry.objects.filter(
        identity=station.identity))
    if not log_filter.is_valid():
        return JsonResponse({"detail": log_filter.errors}, status=400)
    entries = _with_pretty_frames(log_filter.qs[:LOG_ROWS])
    return render(request, "stations/_log_rows.html", {"log_entries": entries})


@login_required
@require_GET
def station_commands(request, identity):
    station = get_object_or_404(Station, identity=identity)
    return render(request, "stations/_command_rows.html",
                  {"commands": _recent_commands(station.identity)})


@login_required
@require_GET
def station_charging(request, identity):
    """The station page's Charging panel alone, re-read when a transaction of the station changes."""
    station = get_object_or_404(Station, identity=identity)
    return render(request, "transactions/station_panel.html", {"station": station})


@login_required
@require_POST
def station_reset(request, identity):
    station = _load_station(identity)
    form = ResetForm(request.POST, ocpp_version=station.ocpp_version)
    if not form.is_valid():
        return _rejected(request, station, {"reset_form": form})
    data = form.cleaned_data
    return _send(request, station, {"reset_form": form}, lambda source: commands.reset(
        station, data["type"], data.get("evse_id"), source=source))


@login_required
@require_POST
def station_trigger(request, identity):
    station = _load_station(identity)
    form = TriggerMessageForm(request.POST, ocpp_version=station.ocpp_version)
    if not form.is_valid():
        return _rejected(request, station, {"trigger_form": form})
    data = form.cleaned_data
    return _send(request, station, {"trigger_form": form}, lambda source: commands.trigger_message(
        station, data["requested_message"], data.get("evse_id"), data.get("connector_id"),
        source=source))


@login_required
@require_POST
def station_send(request, identity):
    station = _load_station(identity)
    form = SendCallForm(request.POST, ocpp_version=station.ocpp_version)
    if not form.is_valid():
        return _rejected(request, station, {"send_form": form})
    data = form.cleaned_data
    return _send(request, station, {"send_form": form}, lambda source: commands.send(
        station, data["action"], data["payload"], source=source))


def _send(request, station, forms, build):
    try:
        command = build(f"dashboard:{request.user.username}")
    except commands.StationNotReady as error:
        messages.error(request, str(error))
        return _rejected(request, station, forms, status=409)
    except outbound.InvalidCommand as error:
        messages.error(request, str(error))
        return _rejected(request, station, forms)
    command = outbound.wait_for_outcome(command, COMMAND_WAIT_SECONDS)
    # The page follows the command (dashboard.js): its outcome replaces this line when it comes.
    messages.add_message(request, _outcome_level(command), _outcome_text(command),
                         extra_tags=command_flash_tag(command))
    return redirect(reverse("stations:detail", args=[station.identity]) + "#commands")


def command_flash_tag(command):
    return f"command command-{command.pk}"


def _outcome_text(command):
    text = f"{command.action} #{command.pk}: {command.status}"
    if command.response and "status" in command.response:
        return f"{text} (the station answered {command.response['status']})"
    detail = " ".join(part for part in (command.error_code, command.error_description) if part)
    if detail:
        return f"{text} ({detail})"
    if not command.is_finished:
        return f"{text}; its outcome will appear below"
    return text


def _outcome_level(command):
    if not command.is_finished:
        return messages.INFO
    return messages.SUCCESS if command.status == Command.Status.ACCEPTED else messages.ERROR


def _rejected(request, station, forms, status=400):
    return render(request, "stations/station_detail.html",
                  _detail_context(request, station, forms), status=status)


@login_required
@require_POST
def station_registration_policy(request, identity):
    """Set the answer to the station's next boot; accepting a Pending station asks it to re-boot."""
    station = _load_station(identity)
    form = RegistrationPolicyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose Accepted, Pending or Rejected.")
        return _rejected(request, station, {"policy_form": form})
    policy = form.cleaned_data["registration_policy"]
    actions.set_registration_policy(station, policy)
    text = f"{station.identity}: its next boot will be answered {policy}."
    if (policy == Station.RegistrationStatus.ACCEPTED and station.online
            and station.registration_status == Station.RegistrationStatus.PENDING):
        # A Pending station may be triggered to boot again now instead of at its retry interval.
        try:
            commands.trigger_message(station, "BootNotification",
                                     source=f"dashboard:{request.user.username}")
            text += " Asked it to send a BootNotification now."
        except (commands.StationNotReady, outbound.InvalidCommand):
            pass
    messages.success(request, text)
    return redirect("stations:detail", identity=station.identity)


@login_required
@require_GET
def action_schema(request, ocpp_version, action):
    """The request schema of a CSMS -> station action, to help fill the generic command form."""
    if ocpp_version not in (OCPP201, OCPP16) or action not in outbound.outgoing_actions(ocpp_version):
        raise Http404("No such CSMS -> station action")
    path = schemas.schema_path(ocpp_version, action, schemas.REQUEST)
    return JsonResponse(json.loads(path.read_text()))
