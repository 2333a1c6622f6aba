from django.contrib import admin

from .models import (
    IdToken, LocalList, MeterValue, RemoteStart, Reservation, StationTariff, Tariff, Transaction,
    TransactionEvent, TrustedRoot,
)


@admin.register(IdToken)
class IdTokenAdmin(admin.ModelAdmin):
    list_display = ["id_token", "type", "status", "expires_at", "group", "charging_priority",
                    "spending_limit", "seen_first_at_station"]
    list_filter = ["type", "status", "seen_first_at_station"]
    search_fields = ["id_token", "description"]
    raw_id_fields = ["group"]
    filter_horizontal = ["allowed_stations"]


class StationTariffInline(admin.TabularInline):
    model = StationTariff
    extra = 0
    raw_id_fields = ["station"]


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin):
    list_display = ["name", "currency", "price_per_kwh", "price_per_minute", "price_per_session",
                    "idle_fee_per_minute", "idle_grace_minutes", "vat_percent", "is_default"]
    inlines = [StationTariffInline]


class TransactionEventInline(admin.TabularInline):
    model = TransactionEvent
    extra = 0
    can_delete = False
    readonly_fields = ["seq_no", "event_type", "timestamp", "trigger_reason", "offline", "payload",
                       "answer", "received_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Transaction)
class TransactionAdmin(admin.ModelAdmin):
    # Derived from the station's messages: read-only, or billing would drift from the wire.
    list_display = ["transaction_id", "station", "state", "started_at", "ended_at",
                    "id_token_value", "energy_wh", "total_cost", "currency"]
    list_filter = ["state", "ocpp_version", "offline", "settlement", "authorization_status"]
    search_fields = ["transaction_id", "station__identity", "id_token_value"]
    readonly_fields = [f.name for f in Transaction._meta.fields]
    inlines = [TransactionEventInline]

    def has_add_permission(self, request):
        return False


@admin.register(MeterValue)
class MeterValueAdmin(admin.ModelAdmin):
    list_display = ["timestamp", "station", "transaction", "measurand", "phase", "context",
                    "raw_value", "unit", "value", "base_unit"]
    list_filter = ["measurand", "context", "after_end"]
    search_fields = ["station__identity", "transaction__transaction_id"]
    readonly_fields = [f.name for f in MeterValue._meta.fields]


@admin.register(Reservation)
class ReservationAdmin(admin.ModelAdmin):
    list_display = ["id", "station", "evse_id", "id_token", "expires_at", "status"]
    list_filter = ["status"]
    search_fields = ["station__identity", "id_token__id_token"]
    raw_id_fields = ["station", "id_token", "command", "cancel_command"]


@admin.register(RemoteStart)
class RemoteStartAdmin(admin.ModelAdmin):
    list_display = ["id", "station", "id_token_value", "evse_id", "status", "transaction", "created_at"]
    raw_id_fields = ["station", "command", "transaction"]


@admin.register(LocalList)
class LocalListAdmin(admin.ModelAdmin):
    list_display = ["station", "version_number", "reported_version", "reported_at", "updated_at"]
    readonly_fields = ["version_number", "reported_version", "reported_at", "entries", "selection"]


from .models import CustomerInformationRequest, IdTokenErasure  # noqa: E402


@admin.register(CustomerInformationRequest)
class CustomerInformationRequestAdmin(admin.ModelAdmin):
    list_display = ["id", "station", "report", "clear", "status", "erasure", "created_at",
                    "completed_at"]
    list_filter = ["status", "report", "clear"]
    search_fields = ["station__identity", "customer_identifier"]
    raw_id_fields = ["station", "command", "erasure"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(IdTokenErasure)
class IdTokenErasureAdmin(admin.ModelAdmin):
    """The erasure audit: never added, changed or deleted by hand."""

    list_display = ["id", "pseudonym", "id_token_type", "erased_by", "erased_at", "reason"]
    search_fields = ["pseudonym", "erased_by", "reason"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TrustedRoot)
class TrustedRootAdmin(admin.ModelAdmin):
    """Trusted MO roots for Plug & Charge: a contract certificate must chain to one of them."""

    list_display = ["__str__", "subject", "serial_number", "not_after", "created_at"]
    search_fields = ["name", "subject", "serial_number", "fingerprint"]
    readonly_fields = ["subject", "serial_number", "not_before", "not_after", "fingerprint",
                       "created_at"]
