"""Under /api/ every error is JSON: Django's own pages (unrouted 404, 500, DEBUG pages) become
`{"detail": ...}` answers with the same status and headers; a missing final slash is a 308."""
from urllib.parse import urlsplit

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse

from .errors import json_error

API_PREFIX = "/api/"
DETAILS = {
    400: "Bad request.",
    403: "You do not have permission to perform this action.",
    404: "Not found.",
    405: "Method not allowed.",
    500: "Internal server error; it has been logged.",
}
# Headers of the original answer that still hold for its JSON replacement.
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "Vary")


def is_api(request):
    return request.path_info.startswith(API_PREFIX)


def is_json(response):
    content_type = response.get("Content-Type", "").split(";")[0].strip().lower()
    return content_type == "application/json" or content_type.endswith("+json")


def is_slash_redirect(request, response):
    """CommonMiddleware's APPEND_SLASH answer."""
    return urlsplit(response.get("Location", "")).path == request.path + "/"


class ApiErrorMiddleware:
    """Sync and async alike, so it adds no thread hop to an ASGI request."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.is_async:
            return self.__acall__(request)
        return self.as_json(request, self.get_response(request))

    async def __acall__(self, request):
        return self.as_json(request, await self.get_response(request))

    def process_exception(self, request, exception):
        """A view's uncaught exception (non-DRF views; DRF's have their own handler)."""
        if not is_api(request):
            return None
        if isinstance(exception, Http404):
            return JsonResponse({"detail": DETAILS[404]}, status=404)
        if isinstance(exception, PermissionDenied):
            return JsonResponse({"detail": DETAILS[403]}, status=403)
        return json_error(exception, request)

    def as_json(self, request, response):
        if not is_api(request) or is_json(response) or response.streaming:
            return response
        if response.status_code == 301 and is_slash_redirect(request, response):
            # 308, not CommonMiddleware's 301: a client following a 301 turns a POST into a GET.
            redirect = JsonResponse({"detail": f"API paths end with a slash: {response['Location']}"},
                                    status=308)
            redirect["Location"] = response["Location"]
            return redirect
        if response.status_code < 400:
            return response
        detail = DETAILS.get(response.status_code) or response.reason_phrase
        if response.status_code == 404:
            detail = f"No API endpoint at {request.path}; the endpoints are listed at /api/v1/docs/."
        replacement = JsonResponse({"detail": detail}, status=response.status_code,
                                   json_dumps_params={"ensure_ascii": False})
        for header in KEPT_HEADERS:
            if header in response:
                replacement[header] = response[header]
        return replacement

