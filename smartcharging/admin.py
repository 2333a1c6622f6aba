from django.contrib import admin

from .models import ChargingLimit, ChargingProfile, EVChargingNeeds, EVChargingSchedule, ProfileReport


@admin.register(ChargingProfile)
class ChargingProfileAdmin(admin.ModelAdmin):
    list_display = ["charging_profile_id", "station", "evse_id", "purpose", "stack_level", "kind",
                    "state", "reported", "updated_at"]
    list_filter = ["state", "purpose", "kind", "reported"]
    search_fields = ["station__identity", "=charging_profile_id"]
    raw_id_fields = ["station", "transaction", "command", "clear_command", "replaced_by"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(ProfileReport)
class ProfileReportAdmin(admin.ModelAdmin):
    list_display = ["id", "station", "evse_id", "status", "parts", "created_at", "completed_at"]
    list_filter = ["status"]
    search_fields = ["station__identity"]
    raw_id_fields = ["station", "command"]


@admin.register(ChargingLimit)
class ChargingLimitAdmin(admin.ModelAdmin):
    list_display = ["station", "evse_id", "charging_limit_source", "is_grid_critical",
                    "notified_at", "cleared_at"]
    list_filter = ["charging_limit_source", "is_grid_critical"]
    search_fields = ["station__identity"]
    raw_id_fields = ["station"]


@admin.register(EVChargingNeeds)
class EVChargingNeedsAdmin(admin.ModelAdmin):
    list_display = ["station", "evse_id", "requested_energy_transfer", "departure_time",
                    "answer_status", "received_at"]
    search_fields = ["station__identity"]
    raw_id_fields = ["station"]


@admin.register(EVChargingSchedule)
class EVChargingScheduleAdmin(admin.ModelAdmin):
    list_display = ["station", "evse_id", "time_base", "received_at"]
    search_fields = ["station__identity"]
    raw_id_fields = ["station"]
