from django.contrib import admin

from . import roles
from .models import ApiToken, AuditEntry, Command, MessageLogEntry, ServerProcess, StationPresence


def _admin_site_has_permission(request):
    # Every role may enter the admin; its model permissions (csms/roles.py) decide what each sees
    # and changes: viewers view only, operators never see users or groups.
    return roles.role_of(request.user) is not None


admin.site.has_permission = _admin_site_has_permission


@admin.register(ServerProcess)
class ServerProcessAdmin(admin.ModelAdmin):
    list_display = ["server_id", "hostname", "pid", "started_at", "last_beat_at"]


@admin.register(StationPresence)
class StationPresenceAdmin(admin.ModelAdmin):
    list_display = ["identity", "server", "ocpp_version", "connected_at"]
    search_fields = ["identity"]


@admin.register(Command)
class CommandAdmin(admin.ModelAdmin):
    list_display = ["id", "identity", "action", "status", "created_at", "sent_at", "finished_at"]
    list_filter = ["status", "action", "ocpp_version"]
    search_fields = ["identity", "message_id"]
    readonly_fields = [f.name for f in Command._meta.fields]


@admin.register(MessageLogEntry)
class MessageLogEntryAdmin(admin.ModelAdmin):
    list_display = ["timestamp", "identity", "direction", "message_type", "action", "outcome",
                    "duration_ms"]
    list_filter = ["direction", "message_type", "action"]
    search_fields = ["identity", "message_id"]
    readonly_fields = [f.name for f in MessageLogEntry._meta.fields]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "username", "ip_address", "kind", "identity", "summary"]
    list_filter = ["kind"]
    search_fields = ["username", "identity", "summary"]
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "key_hint", "created_at", "expires_at", "revoked_at",
                    "last_used_at"]
    # The digest is never shown; revoking is setting revoked_at.
    fields = ["user", "name", "key_hint", "expires_at", "revoked_at", "last_used_at"]
    readonly_fields = ["user", "name", "key_hint", "last_used_at"]

    def has_add_permission(self, request):
        return False  # a token's secret is shown once: issue them from the dashboard or the API
