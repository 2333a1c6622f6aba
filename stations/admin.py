from django.contrib import admin

from .models import Connector, Evse, Station


class EvseInline(admin.TabularInline):
    model = Evse
    extra = 0


class ConnectorInline(admin.TabularInline):
    model = Connector
    extra = 0
    readonly_fields = ["status", "error_code", "info", "vendor_error_code", "status_at", "updated_at"]


@admin.register(Station)
class StationAdmin(admin.ModelAdmin):
    list_display = ["identity", "online", "ocpp_version", "registration_policy",
                    "registration_status", "vendor_name", "model", "last_message_at"]
    list_filter = ["online", "ocpp_version", "registration_status", "registration_policy"]
    search_fields = ["identity", "description", "serial_number"]
    # Never the password hash: only whether there is one (passwords change via the API/page).
    exclude = ["password_hash"]
    readonly_fields = ["has_password", "registration_status", "ocpp_version", "online",
                       "connection_changed_at", "last_message_at", "remote_address",
                       "vendor_name", "model", "serial_number", "firmware_version", "modem_iccid",
                       "modem_imsi", "boot_reason", "last_boot_at", "status", "error_code"]
    inlines = [EvseInline, ConnectorInline]

    @admin.display(boolean=True, description="Password set")
    def has_password(self, station):
        return bool(station.password_hash)


@admin.register(Evse)
class EvseAdmin(admin.ModelAdmin):
    list_display = ["station", "evse_id"]
    search_fields = ["station__identity"]


@admin.register(Connector)
class ConnectorAdmin(admin.ModelAdmin):
    list_display = ["station", "evse", "connector_id", "status", "error_code", "status_at"]
    list_filter = ["status"]
    search_fields = ["station__identity"]


from .models import DisplayMessage, DisplayMessageReport  # noqa: E402


@admin.register(DisplayMessage)
class DisplayMessageAdmin(admin.ModelAdmin):
    """Read-only: messages are sent and cleared through the API or the station page."""

    list_display = ["station", "message_id", "priority", "state", "status", "rejection_reason",
                    "reported", "transaction_id", "updated_at"]
    list_filter = ["status", "priority", "reported"]
    search_fields = ["station__identity", "content", "transaction_id"]
    raw_id_fields = ["station", "command", "clear_command"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DisplayMessageReport)
class DisplayMessageReportAdmin(admin.ModelAdmin):
    list_display = ["id", "station", "status", "parts", "created_at", "completed_at"]
    list_filter = ["status"]
    raw_id_fields = ["station", "command"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


from .models import CampaignTarget, FirmwareCampaign, StationTag  # noqa: E402


@admin.register(StationTag)
class StationTagAdmin(admin.ModelAdmin):
    list_display = ["name", "station"]
    list_filter = ["name"]
    search_fields = ["name", "station__identity"]
    raw_id_fields = ["station"]


class CampaignTargetInline(admin.TabularInline):
    model = CampaignTarget
    fields = ["position", "station", "state", "attempts", "last_status", "detail"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(FirmwareCampaign)
class FirmwareCampaignAdmin(admin.ModelAdmin):
    """Read-only here: campaigns change state through the dashboard page and the API only."""

    list_display = ["name", "image", "state", "created_at", "started_at", "finished_at"]
    list_filter = ["state"]
    search_fields = ["name"]
    inlines = [CampaignTargetInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


from .models import FirmwareImage, FirmwarePublication, FirmwareUpdate  # noqa: E402


@admin.register(FirmwareImage)
class FirmwareImageAdmin(admin.ModelAdmin):
    list_display = ["name", "version", "vendor", "model", "size", "uploaded_at"]
    list_filter = ["vendor", "model"]
    search_fields = ["name", "version", "sha256"]
    readonly_fields = ["size", "sha256", "md5", "uploaded_at", "uploaded_by"]


@admin.register(FirmwareUpdate)
class FirmwareUpdateAdmin(admin.ModelAdmin):
    list_display = ["station", "image", "request_id", "status", "downloads", "created_at"]
    list_filter = ["status", "action"]
    search_fields = ["station__identity"]
    list_select_related = ["station", "image"]
    raw_id_fields = ["station", "image", "command"]
    # Changed by the station's answers and notifications, not by hand.
    readonly_fields = ["status", "answer", "history", "downloads", "download_token",
                       "version_confirmed", "reported_version"]


@admin.register(FirmwarePublication)
class FirmwarePublicationAdmin(admin.ModelAdmin):
    list_display = ["station", "image", "request_id", "status", "created_at"]
    list_filter = ["status"]
    list_select_related = ["station", "image"]
    raw_id_fields = ["station", "image", "command"]
