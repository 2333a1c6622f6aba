"""Pure rules of the device model: addressing keys, value checks against a variable's
characteristics and attributes, and splitting requests to a station's message limits."""
import json
import math
from datetime import datetime

from .models import AttributeType, DataType, Mutability

# OCPP 2.0.1 SetVariableData.attributeValue and 1.6 ChangeConfiguration.value maximum lengths.
MAX_SET_VALUE_LENGTH = {"2.0.1": 1000, "1.6": 500}
BOOLEAN_VALUES = {"true", "false"}
# A CALL's envelope around its payload: [2,"<36-char message id>","<Action>",...].
ENVELOPE_BYTES = 48


def component_key(component):
    """(name, instance, evse_id, connector_id) of an OCPP ComponentType dict."""
    evse = component.get("evse") or {}
    return (
        component["name"], component.get("instance") or "",
        evse.get("id"), evse.get("connectorId") if evse else None,
    )


def variable_key(variable):
    return (variable["name"], variable.get("instance") or "")


def component_dict(name, instance="", evse_id=None, connector_id=None):
    """The OCPP ComponentType for a key (inverse of component_key)."""
    component = {"name": name}
    if instance:
        component["instance"] = instance
    if evse_id is not None:
        component["evse"] = {"id": evse_id}
        if connector_id is not None:
            component["evse"]["connectorId"] = connector_id
    return component


def variable_dict(name, instance=""):
    variable = {"name": name}
    if instance:
        variable["instance"] = instance
    return variable


def check_item_shapes(items, needs_value):
    """Problems with a list of {component, variable, attributeType?, attributeValue?} items."""
    if not isinstance(items, list):
        return ["must be a list of items"]
    problems = []
    for index, item in enumerate(items):
        where = f"item {index}"
        if not isinstance(item, dict):
            problems.append(f"{where}: must be an object")
            continue
        variable = item.get("variable")
        if not isinstance(variable, dict) or not isinstance(variable.get("name"), str) \
                or not variable["name"]:
            problems.append(f"{where}: variable.name is required")
        component = item.get("component")
        if component is not None and (not isinstance(component, dict)
                                      or not isinstance(component.get("name"), str)):
            problems.append(f"{where}: component must be an object with a name")
        attribute_type = item.get("attributeType", AttributeType.ACTUAL)
        if attribute_type not in AttributeType.values:
            problems.append(f"{where}: attributeType must be one of {', '.join(AttributeType.values)}")
        if needs_value and not isinstance(item.get("attributeValue"), str):
            problems.append(f"{where}: attributeValue (a string) is required")
    return problems


def _number(text):
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _attribute_number(attributes_by_type, attribute_type):
    attribute = (attributes_by_type or {}).get(attribute_type)
    return _number(attribute.value) if attribute is not None else None


def numeric_bounds(characteristics, attribute_type, attributes_by_type):
    """(low, high) a number may take: the physical limits, narrowed for Actual/Target by the
    configured MinSet/MaxSet (part 1 §4.3)."""
    low, high = characteristics.min_limit, characteristics.max_limit
    if attribute_type in (None, AttributeType.ACTUAL, AttributeType.TARGET):
        min_set = _attribute_number(attributes_by_type, AttributeType.MIN_SET)
        max_set = _attribute_number(attributes_by_type, AttributeType.MAX_SET)
        if min_set is not None:
            low = min_set if low is None else max(low, min_set)
        if max_set is not None:
            high = max_set if high is None else min(high, max_set)
    return low, high


def _format_limit(value):
    return f"{value:g}"


def check_value(value, characteristics=None, attribute=None, attributes_by_type=None,
                ocpp_version="2.0.1"):
    """Reasons why `value` may not be written to an attribute (empty when it may).

    characteristics: VariableCharacteristics or None (unknown: only the length is checked);
    attribute: the VariableAttribute being set, or None when the CSMS has not seen it;
    attributes_by_type: the variable's attributes by type, for MinSet/MaxSet bounds.
    """
    problems = []
    max_length = MAX_SET_VALUE_LENGTH.get(ocpp_version, 1000)
    if not isinstance(value, str):
        return ["the value must be a string"]
    if len(value) > max_length:
        problems.append(f"is longer than {max_length} characters")
    if attribute is not None:
        if attribute.mutability == Mutability.READ_ONLY:
            problems.append("is read-only")
        elif attribute.constant:
            problems.append("is constant")
    if characteristics is None:
        return problems
    data_type = characteristics.data_type
    number = None
    if data_type == DataType.INTEGER:
        try:
            number = int(value.strip())
        except ValueError:
            problems.append(f"{value!r} is not an integer")
    elif data_type == DataType.DECIMAL:
        number = _number(value)
        if number is None:
            problems.append(f"{value!r} is not a decimal number")
    elif data_type == DataType.BOOLEAN:
        if value.strip().lower() not in BOOLEAN_VALUES:
            problems.append(f"{value!r} is not true or false")
    elif data_type == DataType.DATE_TIME:
        try:
            datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            problems.append(f"{value!r} is not an ISO 8601 date-time")
    elif data_type in (DataType.OPTION_LIST, DataType.MEMBER_LIST, DataType.SEQUENCE_LIST):
        allowed = characteristics.allowed_values
        chosen = [part.strip() for part in value.split(",")] if value.strip() else []
        if data_type == DataType.OPTION_LIST and len(chosen) != 1:
            problems.append("must be exactly one of the allowed values")
        unknown = [part for part in chosen if allowed and part not in allowed]
        if unknown:
            problems.append(f"{', '.join(unknown)} not in the allowed values ({', '.join(allowed)})")
        if data_type != DataType.OPTION_LIST and len(set(chosen)) != len(chosen):
            problems.append("lists a value twice")
    if number is not None:
        low, high = numeric_bounds(characteristics, attribute.type if attribute else None,
                                   attributes_by_type)
        if low is not None and number < low:
            problems.append(f"{value} is below the minimum {_format_limit(low)}")
        if high is not None and number > high:
            problems.append(f"{value} is above the maximum {_format_limit(high)}")
    elif (data_type in (DataType.STRING, DataType.OPTION_LIST, DataType.MEMBER_LIST,
                        DataType.SEQUENCE_LIST)
          and characteristics.max_limit is not None and len(value) > characteristics.max_limit):
        # For strings and lists maxLimit is the longest (CSV) string the station takes.
        problems.append(f"is longer than {_format_limit(characteristics.max_limit)} characters")
    return problems


def split_items(items, wrap, items_per_message=None, bytes_per_message=None):
    """Split `items` into chunks so that each payload `wrap(chunk)` respects the station's
    ItemsPerMessage / BytesPerMessage (when known). An item too big alone goes alone."""
    chunks, current = [], []
    for item in items:
        candidate = current + [item]
        too_many = items_per_message and len(candidate) > items_per_message
        too_big = bytes_per_message and current and frame_size(wrap(candidate)) > bytes_per_message
        if current and (too_many or too_big):
            chunks.append(current)
            current = [item]
        else:
            current = candidate
    if current:
        chunks.append(current)
    return chunks


def frame_size(payload, action="SetVariableMonitoring"):
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return len(body.encode()) + ENVELOPE_BYTES + len(action)
