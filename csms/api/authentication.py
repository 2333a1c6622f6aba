"""API authentication: `Authorization: Token <key>` (or `Bearer <key>`) with a per-user API token
(hashed, expiring, revocable), and the older single authtoken keys, which keep working."""
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from csms.accounts.models import PREFIX, ApiToken, digest

# last_used_at is written at most this often per token (seconds), not on every request.
LAST_USED_RESOLUTION = 60


class ApiTokenAuthentication(TokenAuthentication):
    keywords = ("Token", "Bearer")

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        parts = header.split()
        if not parts or parts[0] not in self.keywords:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                _("Invalid token header: give 'Token <key>' with no spaces in the key."))
        key = parts[1]
        if not key.startswith(PREFIX):
            return self.authenticate_credentials(key)  # an older authtoken key
        token = ApiToken.objects.select_related("user").filter(key_digest=digest(key)).first()
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if token.state != "active":
            raise exceptions.AuthenticationFailed(f"This API token is {token.state}.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        # The audit trail names the token that made a request.
        request._request.api_token = token
        return token.user, token
