from datetime import date, datetime, time, timedelta, timezone

import django_filters
from django.db.models import Q

from .models import IdToken, MeterValue, Reservation, Transaction


class TransactionFilter(django_filters.FilterSet):
    station = django_filters.CharFilter(field_name="station__identity")
    id_token = django_filters.CharFilter(field_name="id_token_value")
    started_after = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="gte")
    started_before = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="lt")
    ended_after = django_filters.IsoDateTimeFilter(field_name="ended_at", lookup_expr="gte")
    ended_before = django_filters.IsoDateTimeFilter(field_name="ended_at", lookup_expr="lt")
    # The dashboard's date-range picker: whole UTC days, both ends included.
    date_from = django_filters.DateFilter(method="filter_date_from",
                                          label="Started on or after this day (UTC)")
    date_to = django_filters.DateFilter(method="filter_date_to",
                                        label="Started on or before this day (UTC)")
    flagged = django_filters.BooleanFilter(method="filter_flagged",
                                           label="With an anomaly (not billed)")
    refused = django_filters.BooleanFilter(method="filter_refused",
                                           label="Start token not accepted")

    class Meta:
        model = Transaction
        fields = ["station", "id_token", "state", "ocpp_version", "transaction_id", "evse_id",
                  "connector_id", "offline", "remote_start_id", "stopped_reason", "settlement"]

    def filter_date_from(self, queryset, name, value):
        return queryset.filter(started_at__gte=_day_start(value))

    def filter_date_to(self, queryset, name, value):
        if value == date.max:  # the day after it does not exist
            return queryset
        return queryset.filter(started_at__lt=_day_start(value + timedelta(days=1)))

    def filter_flagged(self, queryset, name, value):
        return queryset.exclude(anomaly="") if value else queryset.filter(anomaly="")

    def filter_refused(self, queryset, name, value):
        accepted = Q(authorization_status__in=["", "Accepted"])
        return queryset.exclude(accepted) if value else queryset.filter(accepted)


def _day_start(day):
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


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
