from django.contrib import admin

from . import actions
from .models import (
    ChargingLimit, ChargingProfile, EVChargingNeeds, EVChargingSchedule, ProfileReport, Site,
    SiteAllocation, SiteMember,
)


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


class SiteMemberInline(admin.TabularInline):
    model = SiteMember
    raw_id_fields = ["station"]
    readonly_fields = ["added_at"]
    extra = 0


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "enabled", "limit_unit", "safety_margin_percent", "fallback_limit",
                    "rounds", "last_round_at"]
    list_filter = ["enabled"]
    search_fields = ["name"]
    inlines = [SiteMemberInline]
    readonly_fields = ["reallocation_due_at", "round_lease_until", "limit_next_change_at",
                       "rounds", "last_round_at", "last_round", "created_at", "updated_at"]

    def save_related(self, request, form, formsets, change):
        # A changed limit or membership is shared out again, as through the API.
        super().save_related(request, form, formsets, change)
        actions.site_changed(form.instance.pk)


@admin.register(SiteAllocation)
class SiteAllocationAdmin(admin.ModelAdmin):
    list_display = ["site", "station", "evse_id", "transaction", "priority", "target", "held",
                    "tx_held", "fallback_held", "measured", "state", "updated_at"]
    list_filter = ["state", "site"]
    search_fields = ["station__identity"]
    raw_id_fields = ["site", "station", "transaction", "profile", "fallback_profile"]
