"""Every API error answers JSON with a `detail` message a person can read (plus field errors):
4xx for the caller's mistakes, 503 + Retry-After while a backing service is down, else 500."""
import logging
import sys

import kombu.exceptions
import redis.exceptions
from channels.exceptions import ChannelFull
from django.conf import settings
from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.db import DatabaseError, DataError, IntegrityError, NotSupportedError, ProgrammingError
from django.db.models import ProtectedError, RestrictedError
from django.http import JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from csms.ocpp.bridge import ChannelLayerUnavailable
from csms.ocpp.outbound import InvalidCommand

logger = logging.getLogger("csms.api")

SERVER_ERROR = "Internal server error; it has been logged. Retrying will not help until it is fixed."
# Raised while Redis (channel layer, broker) cannot be reached: the service is down, not the request.
UNAVAILABLE_ERRORS = (
    redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, kombu.exceptions.OperationalError,
    ConnectionError, ChannelFull, ChannelLayerUnavailable,
)
# Bugs or bad data, not an outage: the database answered.
DATABASE_FAULTS = (ProgrammingError, NotSupportedError)


class Conflict(exceptions.APIException):
    """409: the request clashes with the resource's current state (e.g. an operation running)."""
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def exception_handler(exc, context):
    """DRF's handler, plus JSON for what it leaves to Django (database down, uncaught errors)."""
    if isinstance(exc, InvalidCommand):
        return Response({"detail": str(exc), "errors": exc.errors}, status=status.HTTP_400_BAD_REQUEST)
    response = drf_exception_handler(exc, context)
    if response is None:
        set_rollback()
        return json_error(exc, context.get("request"), Response)
    if isinstance(exc, exceptions.ValidationError):
        errors = response.data
        response.data = {"detail": _first_message(errors), "errors": errors}
    return response


def server_error(request):
    """Django's handler500 (an exception outside any view, DEBUG off): JSON under /api/."""
    error = sys.exc_info()[1]
    if not request.path_info.startswith("/api/"):
        return defaults.server_error(request)
    if error is None:
        return JsonResponse({"detail": SERVER_ERROR}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    # django.request has logged the traceback already.
    return json_error(error, request, log_traceback=False)


def json_error(exc, request, response_class=JsonResponse, log_traceback=True):
    """The answer to an exception nothing else handled: 4xx for a request Django or the database refused,
    503 + Retry-After for an outage, else a logged 500 that reveals nothing of the internals."""
    path = getattr(request, "path", "?")
    if isinstance(exc, RequestDataTooBig):
        return response_class({"detail": f"The request body is larger than "
                                         f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."},
                              status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, (SuspiciousOperation, BadRequest)):
        return response_class({"detail": str(exc) or "Bad request."}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DataError):
        logger.warning("API %s: the database refused a value: %s", path, exc)
        return response_class({"detail": "A value is out of the range the database can store."},
                              status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, (ProtectedError, RestrictedError)):
        kinds = sorted({str(row._meta.verbose_name_plural) for row in exc.args[1]})
        return response_class({"detail": f"It cannot be deleted: {', '.join(kinds)} refer to it."},
                              status=status.HTTP_409_CONFLICT)
    if isinstance(exc, IntegrityError):
        logger.warning("API %s: conflicting write: %s", path, exc)
        return response_class({"detail": "The change conflicts with data written at the same time; "
                                         "read it again and retry."}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, UNAVAILABLE_ERRORS) or (isinstance(exc, DatabaseError)
                                               and not isinstance(exc, DATABASE_FAULTS)):
        service = "database" if isinstance(exc, DatabaseError) else "message broker"
        logger.error("API %s: %s unavailable: %s: %s", path, service, type(exc).__name__, exc)
        return response_class(
            {"detail": f"The {service} is unavailable; retry shortly."},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(settings.API_RETRY_AFTER_SECONDS)},
        )
    if log_traceback:
        logger.error("API %s: unhandled %s", path, type(exc).__name__, exc_info=exc)
    return response_class({"detail": SERVER_ERROR}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)


def _first_message(errors):
    if isinstance(errors, dict):
        for field, value in errors.items():
            message = _first_message(value)
            return message if field == "non_field_errors" else f"{field}: {message}"
    if isinstance(errors, list) and errors:
        return _first_message(errors[0])
    return str(errors) or "Invalid request"
