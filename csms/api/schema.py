"""OpenAPI schema hooks: every operation documents the JSON errors it can answer (csms/api/errors.py),
so clients and schema-driven tests know an error's shape."""

ERROR = {
    "type": "object",
    "description": "An error: `detail` says what went wrong; `errors` holds field errors of a 400.",
    "properties": {
        "detail": {"type": "string"},
        "errors": {"description": "A 400's errors: by field name, or a list of reasons.",
                   "oneOf": [{"type": "object", "additionalProperties": True},
                             {"type": "array", "items": {}}]},
    },
    "required": ["detail"],
}
ERROR_REF = {"$ref": "#/components/schemas/Error"}
ERRORS = {
    "4XX": {"description": "The request is wrong (400 with field errors, 401, 403, 404, 405, 406, "
                           "409 the station cannot take it now, 415).",
            "content": {"application/json": {"schema": ERROR_REF}}},
    "500": {"description": "An unexpected failure; it has been logged.",
            "content": {"application/json": {"schema": ERROR_REF}}},
    "503": {"description": "The database or Redis is unreachable; retry after `Retry-After` seconds.",
            "headers": {"Retry-After": {"schema": {"type": "integer"},
                                        "description": "Seconds to wait before retrying."}},
            "content": {"application/json": {"schema": ERROR_REF}}},
}
METHODS = {"get", "put", "patch", "post", "delete"}


def document_errors(result, generator, request, public):
    """Postprocessing hook: add the shared Error schema and the error answers to each operation."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method in METHODS:
                responses = operation.setdefault("responses", {})
                for code, response in ERRORS.items():
                    responses.setdefault(code, response)
    return result
