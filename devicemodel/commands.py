"""CSMS -> station device-model operations for both OCPP versions, and the reading of answers.

1.6 GetConfiguration/ChangeConfiguration land in the same inventory as 2.0.1 variables.
"""
import time

from django.db import transaction
from django.db.models import Q

from csms.models import Command
from csms.ocpp import outbound
from csms.ocpp.framing import OCPP16, OCPP201
from stations.commands import StationNotReady

from . import actions
from .models import (
    CONFIGURATION_COMPONENT, REPORT_BASES, AttributeType, DataType, MonitorType, Mutability, Report,
    Variable, VariableAttribute, VariableCharacteristics, VariableRequest,
)
from .values import (
    check_item_shapes, check_value, component_dict, component_key, split_items, variable_dict,
    variable_key,
)

Action = VariableRequest.Action

# The standard OCPP 1.6 keys whose type the CSMS knows, so their values are checked before sending
# (1.6 GetConfiguration reports no types). name: (dataType, unit, minLimit); measurand lists are
# free CSV strings on 1.6.
KNOWN_16_KEYS = {
    "HeartbeatInterval": (DataType.INTEGER, "s", 0),
    "ConnectionTimeOut": (DataType.INTEGER, "s", 0),
    "MeterValueSampleInterval": (DataType.INTEGER, "s", 0),
    "ClockAlignedDataInterval": (DataType.INTEGER, "s", 0),
    "MinimumStatusDuration": (DataType.INTEGER, "s", 0),
    "ResetRetries": (DataType.INTEGER, "", 0),
    "TransactionMessageAttempts": (DataType.INTEGER, "", 0),
    "TransactionMessageRetryInterval": (DataType.INTEGER, "s", 0),
    "WebSocketPingInterval": (DataType.INTEGER, "s", 0),
    "BlinkRepeat": (DataType.INTEGER, "", 0),
    "LightIntensity": (DataType.INTEGER, "%", 0),
    "MaxEnergyOnInvalidId": (DataType.INTEGER, "Wh", 0),
    "GetConfigurationMaxKeys": (DataType.INTEGER, "", 1),
    "NumberOfConnectors": (DataType.INTEGER, "", 0),
    "LocalAuthListMaxLength": (DataType.INTEGER, "", 0),
    "SendLocalListMaxLength": (DataType.INTEGER, "", 0),
    "ChargeProfileMaxStackLevel": (DataType.INTEGER, "", 0),
    "MaxChargingProfilesInstalled": (DataType.INTEGER, "", 0),
    "AllowOfflineTxForUnknownId": (DataType.BOOLEAN, "", None),
    "AuthorizationCacheEnabled": (DataType.BOOLEAN, "", None),
    "AuthorizeRemoteTxRequests": (DataType.BOOLEAN, "", None),
    "LocalAuthListEnabled": (DataType.BOOLEAN, "", None),
    "LocalAuthorizeOffline": (DataType.BOOLEAN, "", None),
    "LocalPreAuthorize": (DataType.BOOLEAN, "", None),
    "StopTransactionOnEVSideDisconnect": (DataType.BOOLEAN, "", None),
    "StopTransactionOnInvalidId": (DataType.BOOLEAN, "", None),
    "UnlockConnectorOnEVSideDisconnect": (DataType.BOOLEAN, "", None),
    "StopTxnAlignedData": (DataType.STRING, "", None),
    "StopTxnSampledData": (DataType.STRING, "", None),
    "MeterValuesAlignedData": (DataType.STRING, "", None),
    "MeterValuesSampledData": (DataType.STRING, "", None),
}

# Where each version says how many items / bytes one message may carry (2.0.1 appendix names,
# older drafts spelled the action into the variable name).
LIMIT_COMPONENTS = {
    Action.GET_VARIABLES: "DeviceDataCtrlr",
    Action.SET_VARIABLES: "DeviceDataCtrlr",
    Action.SET_VARIABLE_MONITORING: "MonitoringCtrlr",
    Action.CLEAR_VARIABLE_MONITORING: "MonitoringCtrlr",
}
FAILED_COMMAND_STATUSES = {Command.Status.ERROR, Command.Status.TIMEOUT, Command.Status.OFFLINE}


def station_version(station):
    if not station.ocpp_version:
        raise StationNotReady(f"{station.identity} has never connected; its OCPP version is unknown")
    return station.ocpp_version


def known_16_characteristics(key):
    known = KNOWN_16_KEYS.get(key)
    if known is None:
        return None
    data_type, unit, min_limit = known
    return {"dataType": data_type, "unit": unit, "minLimit": min_limit, "supportsMonitoring": False}


def _int_or_none(text):
    try:
        number = int(str(text).strip())
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def message_limits(station, action):
    """(items per message, bytes per message) the station reported for `action`, or None each."""
    if station.ocpp_version == OCPP16:
        if action != Action.GET_CONFIGURATION:
            return None, None
        value = VariableAttribute.objects.filter(
            variable__station=station, variable__component__name=CONFIGURATION_COMPONENT,
            variable__name="GetConfigurationMaxKeys", type=AttributeType.ACTUAL,
        ).values_list("value", flat=True).first()
        return _int_or_none(value), None
    component = LIMIT_COMPONENTS.get(action)
    if component is None:
        return None, None
    rows = VariableAttribute.objects.filter(
        variable__station=station, variable__component__name=component,
        variable__component__evse_id__isnull=True, type=AttributeType.ACTUAL,
    ).filter(
        Q(variable__name__in=["ItemsPerMessage", "BytesPerMessage"], variable__instance=action)
        | Q(variable__name__in=[f"ItemsPerMessage{action}", f"BytesPerMessage{action}"])
    ).values_list("variable__name", "value")
    limits = {"Items": None, "Bytes": None}
    for name, value in rows:
        limits[name[:5]] = _int_or_none(value)
    return limits["Items"], limits["Bytes"]


# --- item translation -------------------------------------------------------------------------

def _item_fields(item, version, with_value):
    component = item.get("component")
    if component is None:
        if version == OCPP201:
            raise outbound.InvalidCommand(["component is required on OCPP 2.0.1"])
        component = {"name": CONFIGURATION_COMPONENT}
    name, instance, evse_id, connector_id = component_key(component)
    variable_name, variable_instance = variable_key(item["variable"])
    fields = {
        "component_name": name, "component_instance": instance, "evse_id": evse_id,
        "connector_id": connector_id, "variable_name": variable_name,
        "variable_instance": variable_instance,
        "attribute_type": item.get("attributeType") or AttributeType.ACTUAL,
    }
    if with_value:
        fields["value"] = item["attributeValue"]
    return fields


def _ocpp_component(fields):
    return component_dict(fields["component_name"], fields["component_instance"],
                          fields["evse_id"], fields["connector_id"])


def _ocpp_variable(fields):
    return variable_dict(fields["variable_name"], fields["variable_instance"])


def _get_variable_data(fields):
    data = {"component": _ocpp_component(fields), "variable": _ocpp_variable(fields)}
    if fields["attribute_type"] != AttributeType.ACTUAL:
        data["attributeType"] = fields["attribute_type"]
    return data


def _set_variable_data(fields):
    data = _get_variable_data(fields)
    data["attributeValue"] = fields["value"]
    return data


def _set_monitoring_data(fields):
    data = {"value": fields["monitor_value"], "type": fields["monitor_type"],
            "severity": fields["severity"], "component": _ocpp_component(fields),
            "variable": _ocpp_variable(fields)}
    if fields.get("transaction"):
        data["transaction"] = True
    if fields.get("monitor_id") is not None:
        data["id"] = fields["monitor_id"]
    return data


def _label(fields):
    variable = fields["variable_name"] + (f"[{fields['variable_instance']}]"
                                          if fields["variable_instance"] else "")
    component = fields["component_name"] + (f"[{fields['component_instance']}]"
                                            if fields["component_instance"] else "")
    if fields["evse_id"] is not None:
        component += f"@{fields['evse_id']}" + (f"/{fields['connector_id']}"
                                                if fields["connector_id"] is not None else "")
    return f"{component}.{variable}"


def _check_shapes(items, needs_value):
    if not isinstance(items, list) or not items:
        raise outbound.InvalidCommand(["items must be a non-empty list"])
    problems = check_item_shapes(items, needs_value)
    if problems:
        raise outbound.InvalidCommand(problems)


def _send_batches(station, action, request_fields, build_payload, source, chunks=None):
    """Validate every payload first (nothing is created when one is invalid), then create the
    request and send one call per chunk."""
    version = station_version(station)
    positions = list(range(len(request_fields)))
    if chunks is None:
        items_limit, bytes_limit = message_limits(station, action)
        chunks = split_items(positions, lambda chunk: build_payload([request_fields[i] for i in chunk]),
                             items_limit, bytes_limit)
    payloads = [build_payload([request_fields[i] for i in chunk]) for chunk in chunks]
    for payload in payloads:
        outbound.check_request(version, action, payload)
    # One transaction: the calls go out on commit, once their items know them, so an answer
    # always finds the items it settles.
    with transaction.atomic():
        request = actions.create_variable_request(station, action, request_fields, source)
        items = list(request.items.order_by("position"))
        for chunk, payload in zip(chunks, payloads):
            command = outbound.send_call(station.identity, version, action, payload, source=source)
            actions.assign_command([items[i] for i in chunk], command)
    return request


# --- variables --------------------------------------------------------------------------------

def get_variables(station, items, source=""):
    """GetVariables (2.0.1) or GetConfiguration with keys (1.6), split to the station's limits."""
    version = station_version(station)
    _check_shapes(items, needs_value=False)
    fields = [_item_fields(item, version, with_value=False) for item in items]
    if version == OCPP201:
        return _send_batches(station, Action.GET_VARIABLES, fields,
                             lambda chunk: {"getVariableData": [_get_variable_data(f) for f in chunk]},
                             source)
    return _send_batches(station, Action.GET_CONFIGURATION, fields,
                         lambda chunk: {"key": [f["variable_name"] for f in chunk]}, source)


def check_set_items(station, fields, version):
    """Every reason (per item) why the values may not be sent, from the stored characteristics,
    mutability and MinSet/MaxSet; unknown variables are left to the station to judge."""
    names = {f["variable_name"] for f in fields}
    variables = {}
    for variable in (Variable.objects.filter(station=station, name__in=names)
                     .select_related("component", "characteristics").prefetch_related("attributes")):
        component = variable.component
        variables[(component.key, (variable.name, variable.instance))] = variable
    problems = []
    for index, item in enumerate(fields):
        key = ((item["component_name"], item["component_instance"], item["evse_id"],
                item["connector_id"]), (item["variable_name"], item["variable_instance"]))
        variable = variables.get(key)
        characteristics = attributes = None
        if variable is not None:
            characteristics = getattr(variable, "characteristics", None)
            attributes = {attribute.type: attribute for attribute in variable.attributes.all()}
        if characteristics is None and version == OCPP16:
            known = known_16_characteristics(item["variable_name"])
            if known:
                characteristics = VariableCharacteristics(
                    data_type=known["dataType"], unit=known["unit"], min_limit=known["minLimit"])
        attribute = (attributes or {}).get(item["attribute_type"])
        for problem in check_value(item["value"], characteristics, attribute, attributes, version):
            problems.append(f"item {index} ({_label(item)}): {problem}")
    return problems


def set_variables(station, items, source=""):
    """SetVariables (2.0.1, split to the station's limits) or one ChangeConfiguration per key
    (1.6); values outside what the station declared are refused before anything is sent."""
    version = station_version(station)
    _check_shapes(items, needs_value=True)
    fields = [_item_fields(item, version, with_value=True) for item in items]
    problems = check_set_items(station, fields, version)
    if problems:
        raise outbound.InvalidCommand(problems)
    if version == OCPP201:
        return _send_batches(station, Action.SET_VARIABLES, fields,
                             lambda chunk: {"setVariableData": [_set_variable_data(f) for f in chunk]},
                             source)
    return _send_batches(station, Action.CHANGE_CONFIGURATION, fields,
                         lambda chunk: {"key": chunk[0]["variable_name"], "value": chunk[0]["value"]},
                         source, chunks=[[index] for index in range(len(fields))])


# --- monitoring -------------------------------------------------------------------------------

def _require_201(station, what):
    version = station_version(station)
    if version != OCPP201:
        raise outbound.InvalidCommand([f"{what} needs OCPP 2.0.1; {station.identity} speaks {version}"])
    return version


def set_variable_monitoring(station, monitors, source=""):
    """SetVariableMonitoring; each monitor {component, variable, type, value, severity,
    transaction?, id?} is checked against the variable's characteristics first."""
    _require_201(station, "Variable monitoring")
    if not isinstance(monitors, list) or not monitors:
        raise outbound.InvalidCommand(["monitors must be a non-empty list"])
    problems, fields = [], []
    for index, monitor in enumerate(monitors):
        shape = check_item_shapes([monitor], needs_value=False)
        if shape or not isinstance(monitor.get("component"), dict):
            problems.append(f"monitor {index}: component and variable are required")
            continue
        item = _item_fields(monitor, OCPP201, with_value=False)
        item.pop("attribute_type")
        if monitor.get("type") not in MonitorType.values:
            problems.append(f"monitor {index}: type must be one of {', '.join(MonitorType.values)}")
        severity = monitor.get("severity")
        if not isinstance(severity, int) or isinstance(severity, bool) or not 0 <= severity <= 9:
            problems.append(f"monitor {index}: severity must be an integer from 0 (Danger) to 9 (Debug)")
        value = monitor.get("value")
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            problems.append(f"monitor {index}: value must be a number")
        item.update(monitor_type=monitor.get("type", ""), monitor_value=value, severity=severity,
                    transaction=bool(monitor.get("transaction", False)), monitor_id=monitor.get("id"))
        fields.append(item)
    if not problems:
        problems = _check_monitorable(station, fields)
    if problems:
        raise outbound.InvalidCommand(problems)
    return _send_batches(station, Action.SET_VARIABLE_MONITORING, fields,
                         lambda chunk: {"setMonitoringData": [_set_monitoring_data(f) for f in chunk]},
                         source)


def _check_monitorable(station, fields):
    """Part 1 §4.4: thresholds only on numbers; nothing on a variable that cannot be monitored."""
    names = {f["variable_name"] for f in fields}
    known = {}
    for characteristics in VariableCharacteristics.objects.filter(
            variable__station=station, variable__name__in=names).select_related("variable__component"):
        variable = characteristics.variable
        known[(variable.component.key, (variable.name, variable.instance))] = characteristics
    problems = []
    for index, item in enumerate(fields):
        key = ((item["component_name"], item["component_instance"], item["evse_id"],
                item["connector_id"]), (item["variable_name"], item["variable_instance"]))
        characteristics = known.get(key)
        if characteristics is None:
            continue
        if not characteristics.supports_monitoring:
            problems.append(f"monitor {index} ({_label(item)}): the variable does not support monitoring")
        elif item["monitor_type"] in (MonitorType.UPPER_THRESHOLD, MonitorType.LOWER_THRESHOLD) \
                and characteristics.data_type not in (DataType.INTEGER, DataType.DECIMAL):
            problems.append(f"monitor {index} ({_label(item)}): threshold monitors need a number "
                            f"variable, not {characteristics.data_type}")
    return problems


def clear_variable_monitoring(station, monitor_ids, source=""):
    _require_201(station, "Variable monitoring")
    if not isinstance(monitor_ids, list) or not monitor_ids or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in monitor_ids):
        raise outbound.InvalidCommand(["ids must be a non-empty list of monitor ids"])
    fields = [{"monitor_id": monitor_id} for monitor_id in monitor_ids]
    return _send_batches(station, Action.CLEAR_VARIABLE_MONITORING, fields,
                         lambda chunk: {"id": [f["monitor_id"] for f in chunk]}, source)


def set_monitoring_base(station, monitoring_base, source=""):
    version = _require_201(station, "SetMonitoringBase")
    return outbound.send_call(station.identity, version, "SetMonitoringBase",
                              {"monitoringBase": monitoring_base}, source=source)


def set_monitoring_level(station, severity, source=""):
    version = _require_201(station, "SetMonitoringLevel")
    return outbound.send_call(station.identity, version, "SetMonitoringLevel",
                              {"severity": severity}, source=source)


# --- reports ----------------------------------------------------------------------------------

def request_report(station, kind, component_variables=None, component_criteria=None,
                   monitoring_criteria=None, source=""):
    """GetBaseReport / GetReport / GetMonitoringReport (2.0.1) or GetConfiguration (1.6, every
    inventory kind maps to it); returns the Report whose progress follows the answers."""
    version = station_version(station)
    criteria = {key: value for key, value in (
        ("componentVariable", component_variables), ("componentCriteria", component_criteria),
        ("monitoringCriteria", monitoring_criteria)) if value}
    if version == OCPP16:
        if kind == Report.Kind.MONITORING:
            raise outbound.InvalidCommand(["OCPP 1.6 has no monitoring reports"])
        keys = [item["variable"]["name"] for item in component_variables or [] if item.get("variable")]
        action, payload, kind = "GetConfiguration", ({"key": keys} if keys else {}), Report.Kind.CONFIGURATION
    elif kind in REPORT_BASES:
        action, payload = "GetBaseReport", {"requestId": 0, "reportBase": kind}
    elif kind == Report.Kind.CUSTOM:
        action, payload = "GetReport", {"requestId": 0, **{
            key: value for key, value in criteria.items() if key != "monitoringCriteria"}}
    elif kind == Report.Kind.MONITORING:
        action, payload = "GetMonitoringReport", {"requestId": 0, **{
            key: value for key, value in criteria.items() if key != "componentCriteria"}}
    else:
        raise outbound.InvalidCommand([f"{kind} reports are for OCPP 1.6 stations"])
    outbound.check_request(version, action, payload)
    with transaction.atomic():  # the call goes out once the report row knows it
        report = actions.create_report(station, kind, criteria, source)
        if "requestId" in payload:
            payload["requestId"] = report.request_id
        actions.attach_command(report, outbound.send_call(station.identity, version, action, payload,
                                                          source=source))
    return report


def configuration_report_data(configuration_keys):
    """1.6 configurationKey entries as NotifyReport reportData items of one component."""
    items = []
    for entry in configuration_keys:
        attribute = {"type": AttributeType.ACTUAL,
                     "mutability": Mutability.READ_ONLY if entry["readonly"] else Mutability.READ_WRITE}
        if "value" in entry:
            attribute["value"] = entry["value"]
        item = {"component": {"name": CONFIGURATION_COMPONENT},
                "variable": {"name": entry["key"]}, "variableAttribute": [attribute]}
        known = known_16_characteristics(entry["key"])
        if known:
            item["variableCharacteristics"] = known
        items.append(item)
    return items


def _lock_and_refresh(instance):
    """Inside a transaction: wait for the row's lock, then re-read what the last holder wrote."""
    list(type(instance).objects.select_for_update().filter(pk=instance.pk).values_list("pk"))
    instance.refresh_from_db()


def settle_report(report):
    """Read the answer to a report request: Accepted waits for parts; 1.6 answers carry the data.

    The answer's receiver, an API call waiting for it and the periodic safety net may all get
    here at once: they take turns on the report's row, so the answer is applied once."""
    with transaction.atomic():
        _lock_and_refresh(report)
        return _settle_report(report)


def _settle_report(report):
    command = report.command
    if report.status != Report.Status.REQUESTED or command is None or not command.is_finished:
        return report
    if command.status in FAILED_COMMAND_STATUSES:
        actions.set_report_status(report, Report.Status.FAILED,
                                  f"{command.status}: {command.error_description or command.error_code}")
    elif report.kind == Report.Kind.CONFIGURATION:
        response = command.response or {}
        data = configuration_report_data(response.get("configurationKey", []))
        stored = actions.store_inventory(report.station_id, data, f"report:{report.request_id}")
        unknown = response.get("unknownKey") or []
        actions.set_report_status(report, Report.Status.DONE,
                                  f"Unknown keys: {', '.join(unknown)}" if unknown else "",
                                  items_stored=stored)
    else:
        answer = (command.response or {}).get("status", "")
        info = ((command.response or {}).get("statusInfo") or {}).get("reasonCode", "")
        if answer == "Accepted":
            report.status = Report.Status.ACCEPTED
            report.save(update_fields=["status"])
        elif answer == "EmptyResultSet":
            actions.set_report_status(report, Report.Status.DONE, "EmptyResultSet", items_stored=0)
        else:
            actions.set_report_status(report, Report.Status.REJECTED,
                                      f"{answer} {info}".strip() or "Rejected")
    return report


# --- reading per-item answers -----------------------------------------------------------------

def _result_key(result, with_type=True):
    key = (component_key(result["component"]), variable_key(result["variable"]))
    return key + ((result.get("attributeType") or AttributeType.ACTUAL,) if with_type else ())


def _item_key(item, with_type=True):
    key = (item.component_key, item.variable_key)
    return key + ((item.attribute_type or AttributeType.ACTUAL,) if with_type else ())


def _settle_command_items(request, command, items):
    station_id = request.station_id
    source = f"{request.action}:{request.source}" if request.source else request.action
    if command.status in FAILED_COMMAND_STATUSES or command.response is None:
        for item in items:
            item.status = command.status
            item.status_info = {"reasonCode": command.error_code or command.status,
                                "additionalInfo": command.error_description[:512]}
        return
    response = command.response
    action = request.action
    if action in (Action.GET_VARIABLES, Action.SET_VARIABLES):
        field = "getVariableResult" if action == Action.GET_VARIABLES else "setVariableResult"
        results = {}
        for result in response.get(field, []):
            results.setdefault(_result_key(result), []).append(result)
        for item in items:
            matches = results.get(_item_key(item))
            if not matches:
                item.status, item.status_info = "Missing", {"reasonCode": "NoResult"}
                continue
            result = matches.pop(0)
            item.status = result["attributeStatus"]
            item.status_info = result.get("attributeStatusInfo")
            if action == Action.GET_VARIABLES:
                item.result_value = result.get("attributeValue")
                if item.status == "Accepted" and item.result_value is not None:
                    actions.record_value(station_id, item.component_key, item.variable_key,
                                         item.attribute_type, item.result_value, source)
            elif item.status in ("Accepted", "RebootRequired"):
                actions.record_value(station_id, item.component_key, item.variable_key,
                                     item.attribute_type, item.value, source,
                                     reboot_required=item.status == "RebootRequired")
    elif action == Action.GET_CONFIGURATION:
        found = {entry["key"]: entry for entry in response.get("configurationKey", [])}
        actions.store_inventory(station_id, configuration_report_data(found.values()), source)
        for item in items:
            entry = found.get(item.variable_name)
            item.status = "Accepted" if entry else "UnknownVariable"
            item.result_value = entry.get("value") if entry else None
    elif action == Action.CHANGE_CONFIGURATION:
        for item in items:
            item.status = response.get("status", "")
            if item.status in ("Accepted", "RebootRequired"):
                actions.record_value(station_id, item.component_key, item.variable_key,
                                     AttributeType.ACTUAL, item.value, source,
                                     reboot_required=item.status == "RebootRequired")
    elif action == Action.SET_VARIABLE_MONITORING:
        results = {}
        for result in response.get("setMonitoringResult", []):
            key = _result_key(result, with_type=False) + (result["type"], result["severity"])
            results.setdefault(key, []).append(result)
        for item in items:
            matches = results.get(_item_key(item, with_type=False) + (item.monitor_type, item.severity))
            if not matches:
                item.status, item.status_info = "Missing", {"reasonCode": "NoResult"}
                continue
            result = matches.pop(0)
            item.status, item.status_info = result["status"], result.get("statusInfo")
            if item.status == "Accepted" and result.get("id") is not None:
                item.monitor_id = result["id"]
                actions.record_monitor(station_id, item.component_key, item.variable_key,
                                       result["id"], item.monitor_type, item.monitor_value,
                                       item.severity, item.transaction, source)
    elif action == Action.CLEAR_VARIABLE_MONITORING:
        results = {result["id"]: result for result in response.get("clearMonitoringResult", [])}
        cleared = []
        for item in items:
            result = results.get(item.monitor_id)
            item.status = result["status"] if result else "Missing"
            item.status_info = result.get("statusInfo") if result else {"reasonCode": "NoResult"}
            # NotFound: the station has no such monitor, so neither should the CSMS.
            if item.status in ("Accepted", "NotFound"):
                cleared.append(item.monitor_id)
        actions.forget_monitors(station_id, cleared)


def settle_variable_request(request):
    """Store the per-item results of every finished call of the request; True once complete.

    Callers race (the answer's receiver, an API call waiting for it, the periodic safety net):
    they take turns on the request's row, so each result is stored once."""
    with transaction.atomic():
        _lock_and_refresh(request)
        return _settle_variable_request(request)


def _settle_variable_request(request):
    if request.completed_at is not None:
        return True
    pending = list(request.items.filter(status="", command__isnull=False).select_related("command"))
    by_command = {}
    for item in pending:
        by_command.setdefault(item.command_id, []).append(item)
    for items in by_command.values():
        command = items[0].command
        if not command.is_finished:
            continue
        _settle_command_items(request, command, items)
        actions.settle_items(items)
    return actions.finish_request_if_settled(request)


def wait_for_request(request, seconds):
    """Wait up to `seconds` for the request's calls, then store what came back."""
    deadline = time.monotonic() + seconds
    for command in Command.objects.filter(pk__in=request.items.values("command")).order_by("id"):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        outbound.wait_for_outcome(command, remaining)
    settle_variable_request(request)
    request.refresh_from_db()
    return request


def wait_for_report(report, seconds):
    if report.command_id and seconds > 0:
        outbound.wait_for_outcome(report.command, seconds)
        report.refresh_from_db()
    return settle_report(report)


def settle_pending():
    """Safety net behind receivers.py (run periodically): settle requests and reports whose
    answers were not applied when they came, and time out reports whose parts stopped coming."""
    finished = list(Command.FINISHED)
    for request in VariableRequest.objects.filter(
            completed_at__isnull=True, items__status="",
            items__command__status__in=finished).distinct():
        settle_variable_request(request)
    for report in Report.objects.filter(
            status=Report.Status.REQUESTED, command__status__in=finished).select_related("command"):
        settle_report(report)
    actions.expire_reports()
