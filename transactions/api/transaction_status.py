"""/api/v1/transaction-status-requests/: GetTransactionStatus (2.0.1 E14) sent by an operator or
by the CSMS when a station reconnects, with the station's answers."""
import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from csms.api.serializers import CommandSerializer, ModelSerializer
from csms.ocpp import outbound
from stations.models import Station
from transactions import commands
from transactions.actions import transaction_status
from transactions.models import Transaction, TransactionStatusRequest

from .operations import operate, parse_body, source_of


class TransactionStatusRequestSerializer(ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:transaction-status-request-detail")
    station = serializers.SlugRelatedField(slug_field="identity", read_only=True)
    transaction = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    command = CommandSerializer(read_only=True, allow_null=True)

    class Meta:
        model = TransactionStatusRequest
        fields = ["id", "url", "station", "transaction", "asked_transaction_id", "trigger",
                  "outcome", "ongoing_indicator", "messages_in_queue", "marked_for_settlement",
                  "command", "created_at", "answered_at"]
        read_only_fields = fields


class TransactionStatusCreateSerializer(serializers.Serializer):
    station = serializers.SlugRelatedField(slug_field="identity", queryset=Station.objects.all(),
                                           help_text="The station's identity (OCPP 2.0.1).")
    transaction_id = serializers.CharField(
        max_length=36, required=False, allow_blank=True,
        help_text="The transaction asked about (its id at the station); omitted: the station "
                  "only says whether it holds queued messages.")
    wait = serializers.FloatField(required=False, default=0, min_value=0,
                                  help_text="Seconds to wait for the station's answer.")


class TransactionStatusFilter(django_filters.FilterSet):
    station = django_filters.CharFilter(field_name="station__identity")

    class Meta:
        model = TransactionStatusRequest
        fields = ["station", "transaction", "trigger", "outcome", "marked_for_settlement"]


class TransactionStatusRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                                      viewsets.GenericViewSet):
    """GetTransactionStatus requests and answers (ongoingIndicator, messagesInQueue); an answer
    "not ongoing, nothing queued" marks the transaction for settlement (StationNotOngoing)."""

    queryset = TransactionStatusRequest.objects.select_related("station", "command")
    serializer_class = TransactionStatusRequestSerializer
    filterset_class = TransactionStatusFilter
    ordering_fields = ["id", "created_at"]

    @extend_schema(request=TransactionStatusCreateSerializer,
                   responses={201: TransactionStatusRequestSerializer,
                              202: TransactionStatusRequestSerializer})
    def create(self, request):
        """Send GetTransactionStatus: 201 with the answer when it came within `wait`, else 202.
        400: an unknown transaction or a 1.6 station; 409: a station that never connected."""
        data = parse_body(TransactionStatusCreateSerializer, request)
        station, transaction = data["station"], None
        if data.get("transaction_id"):
            transaction = Transaction.objects.filter(
                station=station, transaction_id=data["transaction_id"]).first()
            if transaction is None:
                raise ValidationError(f"{station.identity} has no transaction "
                                      f"{data['transaction_id']!r}.")
        status_request, command = operate(lambda: commands.get_transaction_status(
            station, transaction, source=source_of(request)))
        if data["wait"]:
            command = outbound.wait_for_outcome(command, data["wait"])
        transaction_status.settle_command(command)  # idempotent; the receiver may be first
        body = self.get_serializer(self.get_queryset().get(pk=status_request.pk)).data
        return Response(body, headers={"Location": body["url"]},
                        status=status.HTTP_201_CREATED if command.is_finished
                        else status.HTTP_202_ACCEPTED)
