from django.contrib import admin

from .models import (
    Component, Event, ProvisioningPolicy, ProvisioningRun, Report, ReportPart, Variable,
    VariableAttribute, VariableCharacteristics, VariableMonitor, VariableRequest,
    VariableRequestItem, VariableValueChange,
)


class VariableAttributeInline(admin.TabularInline):
    model = VariableAttribute
    extra = 0
    readonly_fields = ["updated_at", "observed_at", "source"]


class VariableCharacteristicsInline(admin.StackedInline):
    model = VariableCharacteristics
    extra = 0


@admin.register(Component)
class ComponentAdmin(admin.ModelAdmin):
    list_display = ["station", "name", "instance", "evse_id", "connector_id"]
    list_filter = ["name"]
    search_fields = ["station__identity", "name"]
    raw_id_fields = ["station"]


@admin.register(Variable)
class VariableAdmin(admin.ModelAdmin):
    list_display = ["station", "component", "name", "instance"]
    search_fields = ["station__identity", "name", "component__name"]
    raw_id_fields = ["station", "component"]
    inlines = [VariableCharacteristicsInline, VariableAttributeInline]


@admin.register(VariableValueChange)
class VariableValueChangeAdmin(admin.ModelAdmin):
    list_display = ["changed_at", "attribute", "old_value", "new_value", "source"]
    search_fields = ["attribute__variable__station__identity", "attribute__variable__name"]
    readonly_fields = [f.name for f in VariableValueChange._meta.fields]


@admin.register(VariableMonitor)
class VariableMonitorAdmin(admin.ModelAdmin):
    list_display = ["station", "monitor_id", "variable", "type", "value", "severity"]
    list_filter = ["type", "severity"]
    search_fields = ["station__identity"]
    raw_id_fields = ["station", "variable"]


class ReportPartInline(admin.TabularInline):
    model = ReportPart
    extra = 0
    fields = ["seq_no", "tbc", "generated_at", "received_at"]
    readonly_fields = fields


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ["station", "request_id", "kind", "status", "parts_received", "parts_expected",
                    "items_stored", "requested_at", "completed_at"]
    list_filter = ["kind", "status"]
    search_fields = ["station__identity"]
    raw_id_fields = ["station", "command"]
    inlines = [ReportPartInline]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["timestamp", "station", "variable", "trigger", "severity", "actual_value",
                    "cleared", "cleared_at"]
    list_filter = ["trigger", "cleared", "severity", "event_notification_type"]
    search_fields = ["station__identity", "variable__name", "variable__component__name"]
    raw_id_fields = ["station", "variable"]


class VariableRequestItemInline(admin.TabularInline):
    model = VariableRequestItem
    extra = 0
    readonly_fields = [f.name for f in VariableRequestItem._meta.fields]


@admin.register(VariableRequest)
class VariableRequestAdmin(admin.ModelAdmin):
    list_display = ["id", "station", "action", "source", "created_at", "completed_at",
                    "reboot_required"]
    list_filter = ["action", "reboot_required"]
    search_fields = ["station__identity"]
    inlines = [VariableRequestItemInline]


@admin.register(ProvisioningPolicy)
class ProvisioningPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "enabled", "ocpp_version", "vendor_name", "model", "apply_on",
                    "initial_report", "accept_pending"]
    list_filter = ["enabled", "apply_on", "ocpp_version"]


@admin.register(ProvisioningRun)
class ProvisioningRunAdmin(admin.ModelAdmin):
    list_display = ["started_at", "station", "boot_status", "status", "accepted_station",
                    "finished_at"]
    list_filter = ["status", "boot_status"]
    search_fields = ["station__identity"]
    readonly_fields = ["station", "policies", "boot_status", "status", "log", "accepted_station",
                       "started_at", "finished_at"]
