"""Validation of every payload against the official OCPP JSON schemas shipped by `ocpp`.

Validators are compiled once per (version, action, direction) with jsonschema-rs, the fastest of
the three validators measured (benchmarks/validation.py); a failure maps to the OCPP error code.
"""
import functools
import json
from pathlib import Path

import jsonschema_rs
import ocpp

from .framing import OCPP16, OCPP201, OcppError

SCHEMA_DIRS = {
    OCPP201: Path(ocpp.__file__).parent / "v201" / "schemas",
    OCPP16: Path(ocpp.__file__).parent / "v16" / "schemas",
}
REQUEST, RESPONSE = "request", "response"

# jsonschema-rs error kinds -> OCPP error kinds (2.0.1 names; framing maps them for 1.6).
# OCPP-J: Occurrence = a field missing or repeated too often, Type = wrong data type,
# Property = a field with a value outside its constraints, Format = the payload's shape is wrong.
ERROR_KIND_TO_OCPP = {
    "Required": "OccurrenceConstraintViolation",
    "MinItems": "OccurrenceConstraintViolation",
    "MaxItems": "OccurrenceConstraintViolation",
    "UniqueItems": "OccurrenceConstraintViolation",
    "MinProperties": "OccurrenceConstraintViolation",
    "MaxProperties": "OccurrenceConstraintViolation",
    "Type": "TypeConstraintViolation",
    "Enum": "PropertyConstraintViolation",
    "Constant": "PropertyConstraintViolation",
    "MaxLength": "PropertyConstraintViolation",
    "MinLength": "PropertyConstraintViolation",
    "Maximum": "PropertyConstraintViolation",
    "Minimum": "PropertyConstraintViolation",
    "ExclusiveMaximum": "PropertyConstraintViolation",
    "ExclusiveMinimum": "PropertyConstraintViolation",
    "MultipleOf": "PropertyConstraintViolation",
    "Pattern": "PropertyConstraintViolation",
    "Format": "PropertyConstraintViolation",
}


def schema_path(ocpp_version, action, direction):
    if ocpp_version == OCPP201:
        suffix = "Request" if direction == REQUEST else "Response"
    else:
        suffix = "" if direction == REQUEST else "Response"
    return SCHEMA_DIRS[ocpp_version] / f"{action}{suffix}.json"


@functools.cache
def actions(ocpp_version):
    """Every action that has a request schema in this version."""
    names = set()
    for path in SCHEMA_DIRS[ocpp_version].glob("*.json"):
        stem = path.stem
        if ocpp_version == OCPP201:
            if stem.endswith("Request"):
                names.add(stem[: -len("Request")])
        elif not stem.endswith("Response"):
            names.add(stem)
    return frozenset(names)


@functools.cache
def validator(ocpp_version, action, direction):
    path = schema_path(ocpp_version, action, direction)
    if not path.exists():
        return None
    schema = json.loads(path.read_text())
    # The 1.6 schemas carry an `id` of the form "urn:OCPP:1.6:..." that is not a resolvable base.
    schema.pop("id", None)
    return jsonschema_rs.validator_for(schema)


def validate(ocpp_version, action, direction, payload):
    """Raise OcppError with the matching constraint code when payload fails its schema."""
    compiled = validator(ocpp_version, action, direction)
    if compiled is None:
        raise OcppError("NotImplemented", f"Unknown action {action!r} for OCPP {ocpp_version}")
    if compiled.is_valid(payload):
        return
    error = next(compiled.iter_errors(payload))
    kind = type(error.kind).__name__
    where = "/".join(str(part) for part in error.instance_path) or "(payload)"
    raise OcppError(
        ERROR_KIND_TO_OCPP.get(kind, "FormatViolation"),
        f"{where}: {error.message}",
        details={"path": where, "constraint": kind},
    )


def describe_errors(ocpp_version, action, direction, payload, limit=10):
    """Human-readable schema errors for an API user (empty when valid)."""
    compiled = validator(ocpp_version, action, direction)
    if compiled is None:
        return [f"Unknown action {action!r} for OCPP {ocpp_version}"]
    errors = []
    for error in compiled.iter_errors(payload):
        where = "/".join(str(part) for part in error.instance_path) or "(payload)"
        errors.append(f"{where}: {error.message}")
        if len(errors) >= limit:
            break
    return errors
