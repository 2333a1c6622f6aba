"""The 3-tier tree of a station's device model (station -> EVSE -> connector -> components ->
variables), loaded in a fixed number of queries for the API and the dashboard."""
from dataclasses import dataclass, field

from .models import Variable
from .values import component_dict, variable_dict


@dataclass
class ComponentNode:
    component: object
    variables: list = field(default_factory=list)


@dataclass
class ConnectorNode:
    connector_id: int
    components: list = field(default_factory=list)


@dataclass
class EvseNode:
    evse_id: int
    components: list = field(default_factory=list)
    connectors: dict = field(default_factory=dict)


def load_variables(queryset):
    """Variables with their component, characteristics, attributes and monitors (4 queries)."""
    return list(
        queryset.select_related("component", "characteristics")
        .prefetch_related("attributes", "monitors")
        .order_by("component__evse_id", "component__connector_id", "component__name",
                  "component__instance", "name", "instance")
    )


def group_by_component(variables):
    nodes = {}
    for variable in variables:
        node = nodes.get(variable.component_id)
        if node is None:
            node = nodes[variable.component_id] = ComponentNode(variable.component)
        node.variables.append(variable)
    return list(nodes.values())


def three_tiers(variables):
    """(station-level component nodes, [EvseNode with its connectors]) in id order."""
    station_level, evses = [], {}
    for node in group_by_component(variables):
        component = node.component
        if component.evse_id is None:
            station_level.append(node)
            continue
        evse = evses.setdefault(component.evse_id, EvseNode(component.evse_id))
        if component.connector_id is None:
            evse.components.append(node)
        else:
            evse.connectors.setdefault(component.connector_id,
                                       ConnectorNode(component.connector_id)).components.append(node)
    ordered = []
    for evse_id in sorted(evses):
        evse = evses[evse_id]
        evse.connectors = [evse.connectors[key] for key in sorted(evse.connectors)]
        ordered.append(evse)
    return station_level, ordered


def variable_json(variable):
    characteristics = getattr(variable, "characteristics", None)
    data = variable_dict(variable.name, variable.instance)
    data["attributes"] = [
        {"type": attribute.type, "value": attribute.value, "mutability": attribute.mutability,
         "persistent": attribute.persistent, "constant": attribute.constant,
         "reboot_required": attribute.reboot_required,
         "updated_at": attribute.updated_at.isoformat(), "source": attribute.source}
        for attribute in variable.attributes.all()
    ]
    data["characteristics"] = None if characteristics is None else {
        "unit": characteristics.unit, "dataType": characteristics.data_type,
        "minLimit": characteristics.min_limit, "maxLimit": characteristics.max_limit,
        "valuesList": characteristics.values_list,
        "supportsMonitoring": characteristics.supports_monitoring,
    }
    data["monitors"] = [
        {"id": monitor.monitor_id, "type": monitor.type, "value": monitor.value,
         "severity": monitor.severity, "transaction": monitor.transaction}
        for monitor in variable.monitors.all()
    ]
    return data


def tree_json(station, variables):
    components = []
    for node in group_by_component(variables):
        component = node.component
        data = component_dict(component.name, component.instance, component.evse_id,
                              component.connector_id)
        data["variables"] = [variable_json(variable) for variable in node.variables]
        components.append(data)
    return {"station": station.identity, "ocpp_version": station.ocpp_version,
            "variables": len(variables), "components": components}


def station_variables(station):
    return Variable.objects.filter(station=station)
