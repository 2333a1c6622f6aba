import django_filters

from .models import IdToken, MeterValue, Reservation, Transaction


class TransactionFilter(django_filters.FilterSet):
    station = django_filters.CharFilter(field_name="station__identity")
    id_token = django_filters.CharFilter(field_name="id_token_value")
    started_after = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="gte")
    started_before = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="lt")
    ended_after = django_filters.IsoDateTimeFilter(field_name="ended_at", lookup_expr="gte")
    ended_before = django_filters.IsoDateTimeFilter(field_name="ended_at", lookup_expr="lt")

    class Meta:
        model = Transaction
        fields = ["station", "id_token", "state", "ocpp_version", "transaction_id", "evse_id",
                  "connector_id", "offline", "remote_start_id"]


class MeterValueFilter(django_filters.FilterSet):
    since = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="lt")

    class Meta:
        model = MeterValue
        fields = ["measurand", "phase", "context", "location"]


class IdTokenFilter(django_filters.FilterSet):
    group = django_filters.CharFilter(field_name="group__id_token")

    class Meta:
        model = IdToken
        fields = ["id_token", "type", "status", "group", "seen_first_at_station"]


class ReservationFilter(django_filters.FilterSet):
    station = django_filters.CharFilter(field_name="station__identity")
    id_token = django_filters.CharFilter(field_name="id_token__id_token")

    class Meta:
        model = Reservation
        fields = ["station", "id_token", "status", "evse_id"]
