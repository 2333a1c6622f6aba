from django.contrib import admin

from .models import Command, MessageLogEntry, ServerProcess, StationPresence


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
