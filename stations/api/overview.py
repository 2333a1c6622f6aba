"""/api/v1/overview/: the network at a glance, the figures of the dashboard's home page."""
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from stations import overview


class StationCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    online = serializers.IntegerField()
    offline = serializers.IntegerField()
    pending = serializers.IntegerField(help_text="Last boot answered Pending.")
    rejected = serializers.IntegerField(help_text="Last boot answered Rejected.")
    faulted = serializers.IntegerField(help_text="A connector (or, on 1.6, connector 0) Faulted.")


class ConnectorCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    available = serializers.IntegerField()
    occupied = serializers.IntegerField(
        help_text="Occupied, or on 1.6 Charging, Preparing, SuspendedEV/EVSE, Finishing.")
    reserved = serializers.IntegerField()
    faulted = serializers.IntegerField()
    unavailable = serializers.IntegerField()
    offline = serializers.IntegerField(help_text="Any status, its station offline.")
    unknown = serializers.IntegerField(help_text="Online, no status reported yet.")


class AttentionSerializer(serializers.Serializer):
    identity = serializers.CharField()
    online = serializers.BooleanField()
    registration_status = serializers.CharField()
    status = serializers.CharField(help_text="1.6 status of connector 0 (the whole station).")
    faulted_connectors = serializers.IntegerField()
    connection_changed_at = serializers.DateTimeField(allow_null=True)
    last_message_at = serializers.DateTimeField(allow_null=True)
    reasons = serializers.ListField(child=serializers.CharField())


class OverviewAlertSerializer(serializers.Serializer):
    source = serializers.CharField(help_text=(
        "station (an operational alert: offline, faulted, rejected, ...) or device (NotifyEvent)."))
    station = serializers.CharField()
    title = serializers.CharField()
    message = serializers.CharField()
    severity = serializers.IntegerField(allow_null=True)
    raised_at = serializers.DateTimeField()


class AlertsSerializer(serializers.Serializer):
    active = serializers.IntegerField()
    latest = OverviewAlertSerializer(many=True)


class HistoryPointSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    power_kw = serializers.FloatField(help_text="Average network power over the bucket.")
    sessions = serializers.IntegerField(help_text="Transactions running at some time in it.")


class HistorySerializer(serializers.Serializer):
    bucket_seconds = serializers.IntegerField()
    points = HistoryPointSerializer(many=True)


class OverviewSerializer(serializers.Serializer):
    generated_at = serializers.DateTimeField()
    stations = StationCountsSerializer()
    connectors = ConnectorCountsSerializer()
    attention_total = serializers.IntegerField()
    attention = AttentionSerializer(many=True, help_text=(
        f"At most {overview.ATTENTION_ROWS}, worst first: faulted, boot rejected, offline, "
        "registration pending."))
    sessions_running = serializers.IntegerField()
    power_kw = serializers.FloatField(help_text=(
        "Sum of the running transactions' latest Power.Active.Import of the last 15 minutes."))
    energy_today_kwh = serializers.FloatField(help_text=(
        "Energy delivered since midnight (TIME_ZONE) by the transactions' meter readings."))
    alerts = AlertsSerializer()
    history = HistorySerializer(help_text="The last 24 hours in 15-minute buckets.")


class OverviewView(APIView):
    @extend_schema(responses={200: OverviewSerializer}, summary="The network at a glance")
    def get(self, request):
        return Response(OverviewSerializer(overview.figures()).data)
