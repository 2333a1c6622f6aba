"""Dashboard pages of the device model: a station's 3-tier browser (edit, read, report) and the
network-wide alerts view."""
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from csms.ocpp import outbound
from stations.models import Station

from . import actions, commands, tree
from .filters import EventFilter, VariableFilter
from .models import REPORT_BASES, AttributeType, DataType, Event, Report, Variable, VariableRequest
from .values import numeric_bounds

EDITABLE_TYPES = (AttributeType.ACTUAL, AttributeType.TARGET)
# Past this many variables the browser opens components only on demand.
OPEN_COMPONENTS_UP_TO = 300


def input_spec(variable, attribute, attributes):
    """How to edit an attribute in a form: the input kind and the bounds the browser enforces
    (the server checks the same rules again before sending)."""
    characteristics = getattr(variable, "characteristics", None)
    spec = {"kind": "text", "maxlength": 500 if variable.component.name == "ChargePointConfiguration"
            else 1000}
    if characteristics is None:
        return spec
    data_type = characteristics.data_type
    if data_type in (DataType.INTEGER, DataType.DECIMAL):
        low, high = numeric_bounds(characteristics, attribute.type, attributes)
        spec.update(kind="number", step="1" if data_type == DataType.INTEGER else "any",
                    min=None if low is None else f"{low:g}", max=None if high is None else f"{high:g}")
    elif data_type == DataType.BOOLEAN:
        spec.update(kind="select", options=["true", "false"])
    elif data_type == DataType.OPTION_LIST and characteristics.allowed_values:
        spec.update(kind="select", options=characteristics.allowed_values)
    elif characteristics.max_limit is not None:
        spec["maxlength"] = int(characteristics.max_limit)
    if data_type in (DataType.MEMBER_LIST, DataType.SEQUENCE_LIST):
        spec["hint"] = "comma-separated, from: " + ", ".join(characteristics.allowed_values)
    return spec


def decorate(variables):
    """Attach what the template shows to each variable: attributes by type and edit forms."""
    for variable in variables:
        attributes = {attribute.type: attribute for attribute in variable.attributes.all()}
        variable.attributes_by_type = attributes
        variable.shown_attributes = [attributes[t] for t in AttributeType.values if t in attributes]
        variable.edits = [
            {"attribute": attributes[t], "spec": input_spec(variable, attributes[t], attributes)}
            for t in EDITABLE_TYPES if t in attributes and attributes[t].writable
        ]
        variable.characteristics_or_none = getattr(variable, "characteristics", None)
    return variables


@login_required
def device_model(request, identity):
    station = get_object_or_404(Station, identity=identity)
    if request.method == "POST":
        return _act(request, station)
    filterset = VariableFilter(request.GET, tree.station_variables(station))
    variables = decorate(tree.load_variables(filterset.qs if filterset.is_valid()
                                             else tree.station_variables(station)))
    station_level, evses = tree.three_tiers(variables)
    context = {
        "station": station,
        "filters": request.GET,
        "variable_count": len(variables),
        "open_components": len(variables) <= OPEN_COMPONENTS_UP_TO or bool(request.GET),
        "station_components": station_level,
        "evses": evses,
        "reports": Report.objects.filter(station=station)[:10],
        "report_kinds": REPORT_BASES + ([Report.Kind.MONITORING] if station.ocpp_version != "1.6"
                                        else []),
        "requests": VariableRequest.objects.filter(station=station).prefetch_related("items")[:5],
        "alerts": actions.active_alerts().filter(station=station)
        .select_related("variable__component")[:20],
    }
    return render(request, "devicemodel/device_model.html", context)


def _act(request, station):
    source = f"dashboard:{request.user.username}"
    action = request.POST.get("action")
    back = reverse("devicemodel:browser", kwargs={"identity": station.identity})
    if request.GET:
        back += "?" + request.GET.urlencode()
    try:
        if action in ("set", "get"):
            variable = get_object_or_404(Variable.objects.select_related("component"),
                                         station=station, pk=request.POST.get("variable"))
            item = {"component": _component(variable.component),
                    "variable": {"name": variable.name, **({"instance": variable.instance}
                                                           if variable.instance else {})},
                    "attributeType": request.POST.get("attribute_type") or AttributeType.ACTUAL}
            if action == "set":
                item["attributeValue"] = request.POST.get("value", "")
                sent = commands.set_variables(station, [item], source=source)
            else:
                sent = commands.get_variables(station, [item], source=source)
            sent = commands.wait_for_request(sent, settings.DEVICEMODEL_DASHBOARD_WAIT)
            _flash_request(request, sent, str(variable))
        elif action == "report":
            report = commands.request_report(station, request.POST.get("kind", ""), source=source)
            report = commands.wait_for_report(report, settings.DEVICEMODEL_DASHBOARD_WAIT)
            messages.info(request, f"{report.get_kind_display()} report #{report.request_id}: "
                                   f"{report.status}")
        else:
            messages.error(request, f"Unknown action {action!r}")
    except outbound.InvalidCommand as error:
        for problem in error.errors:
            messages.error(request, f"Not sent: {problem}")
    except commands.StationNotReady as error:
        messages.error(request, str(error))
    return redirect(back)


def _component(component):
    data = {"name": component.name}
    if component.instance:
        data["instance"] = component.instance
    if component.evse_id is not None:
        data["evse"] = {"id": component.evse_id}
        if component.connector_id is not None:
            data["evse"]["connectorId"] = component.connector_id
    return data


def _flash_request(request, sent, label):
    item = sent.items.first()
    if not item.status:
        messages.info(request, f"{sent.action} {label}: sent, no answer yet")
        return
    text = f"{sent.action} {label}: {item.status}"
    if item.result_value is not None:
        text += f" = {item.result_value}"
    if item.status == "RebootRequired":
        text += " (takes effect after the station reboots)"
    level = messages.SUCCESS if item.status in ("Accepted", "RebootRequired") else messages.ERROR
    messages.add_message(request, level, text)


@login_required
def alerts(request):
    """Active alerts of every station, most severe first, and the latest cleared ones."""
    filterset = EventFilter(request.GET, actions.active_alerts().select_related(
        "station", "variable__component"))
    active = filterset.qs if filterset.is_valid() else actions.active_alerts()
    active = active.order_by(F("severity").asc(nulls_last=True), "-timestamp")[:500]
    cleared = (Event.objects.filter(trigger=Event.Trigger.ALERTING, cleared_at__isnull=False)
               .select_related("station", "variable__component").order_by("-cleared_at")[:50])
    return render(request, "devicemodel/alerts.html", {
        "active": active, "cleared": cleared, "filters": request.GET,
        "severities": range(10),
    })
