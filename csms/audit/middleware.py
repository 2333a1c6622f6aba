"""Records every successful state-changing request of a signed-in person or integration; a request
that recorded something more specific (a command, a model change) adds no generic entry."""
import json

from csms.roles import WRITE_METHODS

from . import recorder as audit
from .models import AuditEntry

# Bodies read up front to be summarised (the view may consume the stream); bigger ones are not.
MAX_JSON_BODY = 64 * 1024


class AuditMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in WRITE_METHODS:
            return self.get_response(request)
        body = _json_body(request)
        marker = audit.begin(request)
        try:
            response = self.get_response(request)
            context = audit.current()
            user, _, _ = audit.actor(request)
            if user is not None and response.status_code < 400 and not context.recorded:
                details = {"body": body if body is not None else _form_body(request)}
                audit.record(AuditEntry.Kind.REQUEST, f"{request.method} {request.path}"[:300],
                             details=details)
            if context.recorded:
                AuditEntry.objects.filter(pk__in=[e.pk for e in context.recorded]).update(
                    status_code=response.status_code)
            return response
        finally:
            audit.end(marker)


def _json_body(request):
    if not request.content_type.endswith("json"):
        return None
    try:
        if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_JSON_BODY:
            return {"omitted": "body too large"}
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return {"omitted": "not JSON"}


def _form_body(request):
    try:
        return {key: values if len(values) > 1 else values[0]
                for key, values in request.POST.lists()}
    except Exception:  # an unreadable body (bad multipart) is the view's problem, not ours
        return {}
