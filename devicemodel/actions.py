"""Every state change of the device model, shared by handlers, commands, API, pages and tasks.

Inventory writes are set-based (a fixed number of queries per report, whatever its size).
"""
import logging
from datetime import UTC, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from stations import live

from .models import (
    AttributeType, Component, Event, Mutability, Report, ReportPart, Variable, VariableAttribute,
    VariableCharacteristics, VariableMonitor, VariableRequest, VariableRequestItem,
    VariableValueChange,
)
from .values import component_key, variable_key

logger = logging.getLogger(__name__)
# Above this many names a lookup reads the station's whole table instead of an IN list.
SMALL_LOOKUP = 200
BATCH_SIZE = 500
ATTRIBUTE_FIELDS = ["value", "mutability", "persistent", "constant", "reboot_required",
                    "observed_at"]


def parse_time(value):
    if not value:
        return None
    parsed = parse_datetime(value) if isinstance(value, str) else value
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, UTC)
    return parsed


# --- components and variables -----------------------------------------------------------------

def ensure_components(station_id, keys):
    """{component key: id} for `keys`, creating the components the CSMS has not seen."""
    keys = set(keys)
    if not keys:
        return {}
    queryset = Component.objects.filter(station_id=station_id)
    names = {key[0] for key in keys}
    if len(names) <= SMALL_LOOKUP:
        queryset = queryset.filter(name__in=names)

    def load():
        return {
            (name, instance, evse_id, connector_id): pk
            for pk, name, instance, evse_id, connector_id in queryset.values_list(
                "id", "name", "instance", "evse_id", "connector_id")
        }

    known = load()
    missing = keys - known.keys()
    if missing:
        Component.objects.bulk_create(
            [Component(station_id=station_id, name=name, instance=instance, evse_id=evse_id,
                       connector_id=connector_id)
             for name, instance, evse_id, connector_id in missing],
            ignore_conflicts=True, batch_size=BATCH_SIZE,
        )
        known = load()
    return {key: known[key] for key in keys}


def ensure_variables(station_id, pairs):
    """{(component key, variable key): variable id}, creating what is missing."""
    pairs = set(pairs)
    if not pairs:
        return {}
    components = ensure_components(station_id, {component for component, _ in pairs})
    wanted = {(components[ck], vk[0], vk[1]): (ck, vk) for ck, vk in pairs}
    queryset = Variable.objects.filter(station_id=station_id)
    names = {name for _, name, _ in wanted}
    if len(names) <= SMALL_LOOKUP:
        queryset = queryset.filter(name__in=names, component_id__in={c for c, _, _ in wanted})

    def load():
        return {
            (component_id, name, instance): pk
            for pk, component_id, name, instance in queryset.values_list(
                "id", "component_id", "name", "instance")
        }

    known = load()
    missing = wanted.keys() - known.keys()
    if missing:
        Variable.objects.bulk_create(
            [Variable(station_id=station_id, component_id=component_id, name=name, instance=instance)
             for component_id, name, instance in missing],
            ignore_conflicts=True, batch_size=BATCH_SIZE,
        )
        known = load()
    return {wanted[key]: known[key] for key in wanted}


def find_variable(station_id, component_name, variable_name, component_instance="",
                  variable_instance="", evse_id=None, connector_id=None):
    return (
        Variable.objects.filter(
            station_id=station_id, name=variable_name, instance=variable_instance or "",
            component__name=component_name, component__instance=component_instance or "",
            component__evse_id=evse_id, component__connector_id=connector_id,
        ).select_related("component", "characteristics").first()
    )


# --- attributes and their history -------------------------------------------------------------

def upsert_attributes(station_id, rows, source, whole_station=False):
    """Write attribute rows {variable_id, type, value?, mutability?, persistent?, constant?,
    reboot_required?, observed_at?}; fields a row leaves out keep their stored value. Value changes go to the history.
    Returns the number of attributes created or changed."""
    now = timezone.now()
    wanted = {}
    for row in rows:
        wanted[(row["variable_id"], row.get("type") or AttributeType.ACTUAL)] = row
    if not wanted:
        return 0
    queryset = VariableAttribute.objects.all()
    if whole_station or len(wanted) > SMALL_LOOKUP:
        queryset = queryset.filter(variable__station_id=station_id)
    else:
        queryset = queryset.filter(variable_id__in={variable_id for variable_id, _ in wanted})
    existing = {
        (values[1], values[2]): values
        for values in queryset.values_list("id", "variable_id", "type", *ATTRIBUTE_FIELDS)
    }
    writes, changes = [], []
    for (variable_id, attribute_type), row in wanted.items():
        current = existing.get((variable_id, attribute_type))
        if current is None:
            fields = {"value": None, "mutability": Mutability.READ_WRITE, "persistent": False,
                      "constant": False, "reboot_required": False, "observed_at": None}
        else:
            fields = dict(zip(ATTRIBUTE_FIELDS, current[3:]))
            observed_at = row.get("observed_at")
            if observed_at and fields["observed_at"] and fields["observed_at"] > observed_at:
                continue  # events arrive out of order after an offline period: keep the newest
        updated = dict(fields)
        if "value" in row:
            updated["observed_at"] = None
        for name in ATTRIBUTE_FIELDS:
            if name in row:
                updated[name] = row[name]
        if current is not None and updated == fields:
            continue
        writes.append(VariableAttribute(variable_id=variable_id, type=attribute_type,
                                        updated_at=now, source=source[:100], **updated))
        if current is not None and updated["value"] != fields["value"]:
            changes.append(VariableValueChange(attribute_id=current[0], old_value=fields["value"],
                                               new_value=updated["value"], changed_at=now,
                                               source=source[:100]))
    if writes:
        VariableAttribute.objects.bulk_create(
            writes, update_conflicts=True, unique_fields=["variable", "type"],
            update_fields=ATTRIBUTE_FIELDS + ["updated_at", "source"], batch_size=BATCH_SIZE,
        )
    if changes:
        VariableValueChange.objects.bulk_create(changes, batch_size=BATCH_SIZE)
    return len(writes)


def store_inventory(station_id, report_data, source):
    """Store NotifyReport reportData items (or 1.6 keys translated to that shape); returns the
    number of variables reported."""
    pairs = {(component_key(item["component"]), variable_key(item["variable"]))
             for item in report_data}
    variables = ensure_variables(station_id, pairs)
    characteristics, attribute_rows = {}, []
    for item in report_data:
        variable_id = variables[(component_key(item["component"]), variable_key(item["variable"]))]
        found = item.get("variableCharacteristics")
        if found:
            characteristics[variable_id] = VariableCharacteristics(
                variable_id=variable_id, unit=found.get("unit") or "",
                data_type=found["dataType"], min_limit=found.get("minLimit"),
                max_limit=found.get("maxLimit"), values_list=found.get("valuesList") or "",
                supports_monitoring=found.get("supportsMonitoring", False),
            )
        for attribute in item.get("variableAttribute", []):
            row = {
                "variable_id": variable_id,
                "type": attribute.get("type", AttributeType.ACTUAL),
                "mutability": attribute.get("mutability", Mutability.READ_WRITE),
                "persistent": attribute.get("persistent", False),
                "constant": attribute.get("constant", False),
            }
            if "value" in attribute:  # WriteOnly attributes report no value: keep what we know
                row["value"] = attribute["value"]
            attribute_rows.append(row)
    if characteristics:
        VariableCharacteristics.objects.bulk_create(
            list(characteristics.values()), update_conflicts=True, unique_fields=["variable"],
            update_fields=["unit", "data_type", "min_limit", "max_limit", "values_list",
                           "supports_monitoring"],
            batch_size=BATCH_SIZE,
        )
    upsert_attributes(station_id, attribute_rows, source, whole_station=len(pairs) > SMALL_LOOKUP)
    return len(variables)


def record_value(station_id, component, variable, attribute_type, value, source,
                 mutability=None, reboot_required=None):
    """One attribute value learnt from the station (Get/Set results)."""
    variable_id = ensure_variables(station_id, {(component, variable)})[(component, variable)]
    row = {"variable_id": variable_id, "type": attribute_type or AttributeType.ACTUAL,
           "value": value}
    if mutability:
        row["mutability"] = mutability
    if reboot_required is not None:
        row["reboot_required"] = reboot_required
    return upsert_attributes(station_id, [row], source)


def clear_reboot_flags(station_id):
    """The station rebooted: values waiting for it are now in effect."""
    return VariableAttribute.objects.filter(
        variable__station_id=station_id, reboot_required=True
    ).update(reboot_required=False)


# --- monitors ---------------------------------------------------------------------------------

def store_monitors(station_id, monitoring_data, source, replace_all=False):
    """Store NotifyMonitoringReport `monitor` items; a full report replaces the station's set."""
    now = timezone.now()
    pairs = {(component_key(item["component"]), variable_key(item["variable"]))
             for item in monitoring_data}
    variables = ensure_variables(station_id, pairs)
    monitors = {}
    for item in monitoring_data:
        variable_id = variables[(component_key(item["component"]), variable_key(item["variable"]))]
        for monitor in item["variableMonitoring"]:
            monitors[monitor["id"]] = VariableMonitor(
                station_id=station_id, variable_id=variable_id, monitor_id=monitor["id"],
                type=monitor["type"], value=monitor["value"], severity=monitor["severity"],
                transaction=monitor["transaction"], updated_at=now, source=source[:100],
            )
    if replace_all:
        VariableMonitor.objects.filter(station_id=station_id).exclude(
            monitor_id__in=list(monitors)).delete()
    if monitors:
        VariableMonitor.objects.bulk_create(
            list(monitors.values()), update_conflicts=True, unique_fields=["station", "monitor_id"],
            update_fields=["variable", "type", "value", "severity", "transaction", "updated_at",
                           "source"],
            batch_size=BATCH_SIZE,
        )
    return len(monitors)


def record_monitor(station_id, component, variable, monitor_id, monitor_type, value, severity,
                   transaction_only, source):
    variable_id = ensure_variables(station_id, {(component, variable)})[(component, variable)]
    VariableMonitor.objects.update_or_create(
        station_id=station_id, monitor_id=monitor_id,
        defaults={"variable_id": variable_id, "type": monitor_type, "value": value,
                  "severity": severity, "transaction": transaction_only,
                  "updated_at": timezone.now(), "source": source[:100]},
    )


def forget_monitors(station_id, monitor_ids):
    return VariableMonitor.objects.filter(station_id=station_id, monitor_id__in=monitor_ids).delete()


# --- reports ----------------------------------------------------------------------------------

def create_report(station, kind, criteria=None, source=""):
    """A report request numbered for the station (its pk, unless the station already used it)."""
    with transaction.atomic():
        report = Report.objects.create(station=station, kind=kind, criteria=criteria or {},
                                       source=source[:100])
        request_id = report.pk
        if Report.objects.filter(station=station, request_id=request_id).exists():
            request_id = (Report.objects.filter(station=station).aggregate(m=Max("request_id"))["m"]
                          or 0) + 1
        report.request_id = request_id
        report.save(update_fields=["request_id"])
    return report


def attach_command(report, command):
    report.command = command
    report.save(update_fields=["command"])


def set_report_status(report, status, detail="", items_stored=None):
    report.status = status
    report.status_detail = detail[:300]
    fields = ["status", "status_detail"]
    if status in (Report.Status.DONE, Report.Status.REJECTED, Report.Status.FAILED):
        report.completed_at = timezone.now()
        fields.append("completed_at")
    if items_stored is not None:
        report.items_stored = items_stored
        fields.append("items_stored")
    report.save(update_fields=fields)


@transaction.atomic
def record_report_part(station_id, request_id, seq_no, tbc, generated_at, data, monitoring=False):
    """Keep one NotifyReport/NotifyMonitoringReport part. An inventory part is stored at once, so
    the page shows what has arrived while parts are missing (a part that never comes hides
    nothing else); the report is done when the parts 0..last are all in. Returns the report."""
    now = timezone.now()
    report, _ = Report.objects.get_or_create(
        station_id=station_id, request_id=request_id,
        defaults={"kind": Report.Kind.MONITORING if monitoring else Report.Kind.CUSTOM,
                  "status": Report.Status.RECEIVING, "source": "station"},
    )
    try:
        with transaction.atomic():
            # Monitoring parts keep their data until the set is complete: an unfiltered report
            # then replaces every monitor the station no longer has.
            ReportPart.objects.create(report=report, seq_no=seq_no, tbc=tbc,
                                      generated_at=parse_time(generated_at),
                                      data=(data or []) if monitoring else [])
    except IntegrityError:
        # seqNo repeats are replays after a lost answer: answer the same, count once.
        return report
    source = f"report:{report.request_id}"
    if not data:
        stored = 0
    elif monitoring:
        stored = store_monitors(station_id, data, source)
    else:
        # Parts are applied as they come, not in seqNo order: a station reports each variable
        # in one part, so the order does not change the result.
        stored = store_inventory(station_id, data, source)
    report.parts_received = report.parts.count()
    report.last_part_at = now
    if not tbc:
        report.parts_expected = seq_no + 1
    if report.status != Report.Status.DONE:
        report.status = Report.Status.RECEIVING
    report.items_stored = F("items_stored") + stored
    report.save(update_fields=["parts_received", "last_part_at", "parts_expected", "status",
                               "items_stored"])
    report.refresh_from_db(fields=["items_stored"])
    if report.parts_expected is not None and report.status != Report.Status.DONE:
        present = report.parts.filter(seq_no__lt=report.parts_expected).count()
        if present == report.parts_expected:
            complete_report(report, monitoring)
    _report_progressed(station_id, report)
    return report


def _report_progressed(station_id, report):
    """The device-model page re-reads its reports and tree when a part is stored (on commit)."""
    data = {"report": report.request_id, "status": report.status}
    transaction.on_commit(lambda: live.publish("report", data, station=live.identity_of(station_id)))


def complete_report(report, monitoring):
    if monitoring:
        items = []
        for data in report.parts.filter(seq_no__lt=report.parts_expected).order_by("seq_no") \
                .values_list("data", flat=True):
            items.extend(data or [])
        unfiltered = not report.criteria and report.kind == Report.Kind.MONITORING
        stored = store_monitors(report.station_id, items, f"report:{report.request_id}",
                                replace_all=unfiltered)
        # The rows stay (a replayed part is recognised by its seqNo); their data is stored.
        report.parts.update(data=[])
    else:
        stored = report.items_stored  # stored part by part as they came
    set_report_status(report, Report.Status.DONE, items_stored=stored)


def expire_reports():
    """Reports whose parts stopped coming are shown as timed out (late parts still count)."""
    deadline = timezone.now() - timedelta(seconds=settings.DEVICEMODEL_REPORT_TIMEOUT)
    return Report.objects.filter(status__in=Report.OPEN).filter(
        Q(last_part_at__lt=deadline) | Q(last_part_at__isnull=True, requested_at__lt=deadline)
    ).update(status=Report.Status.TIMED_OUT,
             status_detail="No complete report arrived in time (the parts that came are stored)")


# --- events -----------------------------------------------------------------------------------

@transaction.atomic
def record_events(station_id, payload):
    """Store NotifyEvent items; a cleared event returns earlier alerts of its variable to normal,
    and each event's actualValue updates the variable's Actual value."""
    items = payload["eventData"]
    variables = ensure_variables(station_id, {
        (component_key(item["component"]), variable_key(item["variable"])) for item in items
    })
    monitor_ids = {item["variableMonitoringId"] for item in items if "variableMonitoringId" in item}
    severities = dict(
        VariableMonitor.objects.filter(station_id=station_id, monitor_id__in=monitor_ids)
        .values_list("monitor_id", "severity")
    ) if monitor_ids else {}
    generated_at = parse_time(payload.get("generatedAt"))
    events, latest_values = [], {}
    for item in items:
        variable_id = variables[(component_key(item["component"]), variable_key(item["variable"]))]
        timestamp = parse_time(item["timestamp"])
        events.append(Event(
            station_id=station_id, variable_id=variable_id, event_id=item["eventId"],
            timestamp=timestamp, trigger=item["trigger"], cause=item.get("cause"),
            actual_value=item["actualValue"], tech_code=item.get("techCode", ""),
            tech_info=item.get("techInfo", ""), cleared=item.get("cleared", False),
            transaction_id=item.get("transactionId", ""),
            variable_monitoring_id=item.get("variableMonitoringId"),
            event_notification_type=item["eventNotificationType"],
            severity=severities.get(item.get("variableMonitoringId")),
            seq_no=payload.get("seqNo", 0), generated_at=generated_at,
        ))
        if variable_id not in latest_values or latest_values[variable_id][0] <= timestamp:
            latest_values[variable_id] = (timestamp, item["actualValue"], item["eventId"])
    Event.objects.bulk_create(events, ignore_conflicts=True)
    settle_alerts(station_id, set(variables.values()))
    upsert_attributes(station_id, [
        {"variable_id": variable_id, "type": AttributeType.ACTUAL, "value": value,
         "observed_at": timestamp}
        for variable_id, (timestamp, value, event_id) in latest_values.items()
    ], f"event:{items[-1]['eventId']}" if len(items) == 1 else "events")
    return len(events)


def settle_alerts(station_id, variable_ids):
    """Mark active alerts cleared when a cleared event of the same variable (and the same monitor,
    when both name one) is at or after them, whichever order they arrived in."""
    active = list(Event.objects.filter(
        station_id=station_id, variable_id__in=variable_ids, trigger=Event.Trigger.ALERTING,
        cleared=False, cleared_at__isnull=True,
    ).only("id", "variable_id", "variable_monitoring_id", "timestamp"))
    if not active:
        return 0
    earliest = min(event.timestamp for event in active)
    clearing = list(Event.objects.filter(
        station_id=station_id, variable_id__in={event.variable_id for event in active},
        cleared=True, timestamp__gte=earliest,
    ).order_by("timestamp").values_list("variable_id", "variable_monitoring_id", "timestamp"))
    settled = []
    for alert in active:
        for variable_id, monitor_id, timestamp in clearing:
            same_monitor = (monitor_id is None or alert.variable_monitoring_id is None
                            or monitor_id == alert.variable_monitoring_id)
            if variable_id == alert.variable_id and same_monitor and timestamp >= alert.timestamp:
                alert.cleared_at = timestamp
                settled.append(alert)
                break
    if settled:
        Event.objects.bulk_update(settled, ["cleared_at"])
    return len(settled)


def active_alerts():
    return Event.objects.filter(trigger=Event.Trigger.ALERTING, cleared=False,
                                cleared_at__isnull=True)


# --- variable requests ------------------------------------------------------------------------

def create_variable_request(station, action, items, source=""):
    """A request and its items (dicts of VariableRequestItem fields), numbered in order."""
    with transaction.atomic():
        request = VariableRequest.objects.create(station=station, action=action,
                                                 source=source[:100])
        VariableRequestItem.objects.bulk_create([
            VariableRequestItem(request=request, position=position, **item)
            for position, item in enumerate(items)
        ])
    return request


def assign_command(items, command):
    VariableRequestItem.objects.filter(pk__in=[item.pk for item in items]).update(command=command)
    for item in items:
        item.command = command


def settle_items(items):
    """Save item results; callers fill status/status_info/result_value first."""
    now = timezone.now()
    for item in items:
        item.settled_at = now
    VariableRequestItem.objects.bulk_update(
        items, ["status", "status_info", "result_value", "monitor_id", "settled_at"]
    )


def finish_request_if_settled(request):
    if request.completed_at is not None:
        return True
    statuses = list(request.items.values_list("status", flat=True))
    if any(status == "" for status in statuses):
        return False
    request.completed_at = timezone.now()
    request.reboot_required = "RebootRequired" in statuses
    request.save(update_fields=["completed_at", "reboot_required"])
    return True
