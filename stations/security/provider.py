"""Plug & Charge requests a station cannot have answered locally (Get15118EVCertificate,
GetCertificateStatus) forwarded to the configured provider: the OCPP request POSTed as JSON,
the OCPP response it answers relayed. No database."""
import json
import urllib.error
import urllib.request

from django.conf import settings


class ProviderFailed(Exception):
    """The provider gave no usable answer; `reason_code` (≤ 20 characters) and why."""

    def __init__(self, reason_code, reason):
        super().__init__(reason)
        self.reason_code = reason_code
        self.reason = reason


def forward(action, identity, payload):
    """The provider's JSON answer to `payload` (ProviderFailed when there is none).

    The request names the action and the station in headers (X-OCPP-Action, X-OCPP-Station) so one
    provider URL serves both actions."""
    url = settings.PNC_PROVIDER_URL
    if not url:
        raise ProviderFailed("NoProvider", "PNC_PROVIDER_URL is not set")
    headers = {"Content-Type": "application/json", "Accept": "application/json",
               "X-OCPP-Action": action, "X-OCPP-Station": identity}
    if settings.PNC_PROVIDER_AUTHORIZATION:
        headers["Authorization"] = settings.PNC_PROVIDER_AUTHORIZATION
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), headers=headers,
                                     method="POST")
    try:
        with urllib.request.urlopen(request, timeout=settings.PNC_PROVIDER_TIMEOUT) as answer:
            body = answer.read(256 * 1024)
    except urllib.error.HTTPError as error:
        raise ProviderFailed("ProviderError", f"the provider answered HTTP {error.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise ProviderFailed("ProviderUnreachable", f"the provider is unreachable: {error}"
                             ) from None
    try:
        answer = json.loads(body)
    except ValueError:
        raise ProviderFailed("ProviderError", "the provider's answer is not JSON") from None
    if not isinstance(answer, dict):
        raise ProviderFailed("ProviderError", "the provider's answer is not a JSON object")
    return answer
