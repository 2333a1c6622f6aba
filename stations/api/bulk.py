"""The bulk-operation API: one command (Reset, ChangeAvailability, SendLocalList, a report request)
sent to listed stations or to all a filter chooses; its progress and each station's outcome."""
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from stations.actions import bulk
from stations.models import BulkOperation, BulkTarget

MAX_LISTED_STATIONS = 10000


class BulkOperationCreateSerializer(serializers.Serializer):
    action = serializers.CharField(
        max_length=32, help_text="A bulk action's name: reset, change_availability, "
                                 "send_local_list, report (GET actions/ lists them).")
    parameters = serializers.DictField(
        child=serializers.CharField(max_length=50), required=False, default=dict,
        help_text='The action\'s options, e.g. {"type": "OnIdle"}; omitted ones take their '
                  "default (the first allowed value).")
    stations = serializers.ListField(
        child=serializers.CharField(max_length=48), required=False,
        max_length=MAX_LISTED_STATIONS, help_text="Station identities; or give `filter`.")
    filter = serializers.DictField(
        child=serializers.CharField(max_length=100), required=False,
        help_text='The station list\'s filter, e.g. {"state": "online", "ocpp_version": "1.6"}: '
                  "every station it matches.")

    def validate(self, data):
        if bool(data.get("stations")) == ("filter" in data):
            raise ValidationError({"stations": ["Give either a non-empty `stations` list or a "
                                                "`filter`."]})
        return data


class BulkOperationSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:bulk-operation-detail")
    description = serializers.SerializerMethodField()
    counts = serializers.SerializerMethodField()

    class Meta:
        model = BulkOperation
        fields = ["id", "url", "action", "parameters", "description", "selection_identities",
                  "selection_filter", "state", "counts", "source", "created_at", "finished_at"]
        read_only_fields = fields

    def get_description(self, operation) -> str:
        return bulk.describe(operation)

    def get_counts(self, operation) -> dict:
        """Targets per outcome, plus total, done (with an outcome) and percent."""
        return bulk.counts(operation)


class BulkTargetSerializer(serializers.ModelSerializer):
    station = serializers.CharField(source="identity")
    command_status = serializers.CharField(source="command.status", default=None)

    class Meta:
        model = BulkTarget
        fields = ["position", "station", "outcome", "detail", "command", "command_status",
                  "sent_at", "finished_at"]


class BulkActionSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    options = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class BulkOperationViewSet(mixins.CreateModelMixin, mixins.ListModelMixin,
                           mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Bulk operations: one command sent to many stations (each in its own OCPP version), at
    most BULK_OPERATION_CONCURRENCY awaiting an answer at once. Each station's outcome: queued,
    sent, accepted, rejected, error, timeout, offline or not_supported."""

    queryset = BulkOperation.objects.all()
    serializer_class = BulkOperationSerializer
    filterset_fields = ["state", "action"]
    ordering_fields = ["id", "created_at"]

    def get_serializer_class(self):
        return BulkOperationCreateSerializer if self.action == "create" else BulkOperationSerializer

    @extend_schema(request=BulkOperationCreateSerializer, responses={201: BulkOperationSerializer})
    def create(self, request, *args, **kwargs):
        """Start a bulk operation at once; follow it at its URL (or its targets/)."""
        body = BulkOperationCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            operation = bulk.create_operation(
                data["action"], data.get("parameters"), identities=data.get("stations") or (),
                filter_data=data.get("filter"), created_by=request.user,
                source=f"api:{request.user.username}")
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict if hasattr(error, "error_dict")
                                  else error.messages)
        operation.refresh_from_db()
        return Response(BulkOperationSerializer(operation, context={"request": request}).data,
                        status=201)

    @extend_schema(responses={200: BulkActionSerializer(many=True)})
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def actions(self, request):
        """The bulk actions and their options (the first allowed value is the default)."""
        return Response([{"name": item.name, "label": item.label,
                          "options": {name: list(values) for name, values in item.options.items()}}
                         for item in bulk.registered().values()])

    @extend_schema(responses={200: BulkTargetSerializer(many=True)}, parameters=[
        OpenApiParameter("outcome", str, enum=BulkTarget.Outcome.values,
                         description="Only stations with this outcome.")])
    @action(detail=True, methods=["get"])
    def targets(self, request, pk=None):
        """Each station's outcome, in identity order."""
        # Not get_object(): its filters would read ?outcome= against the operation.
        operation = get_object_or_404(self.get_queryset(), pk=pk)
        targets = operation.targets.select_related("command")
        wanted = request.query_params.get("outcome")
        if wanted:
            if wanted not in BulkTarget.Outcome.values:
                raise ValidationError({"outcome": [
                    f"One of {', '.join(BulkTarget.Outcome.values)}."]})
            targets = targets.filter(outcome=wanted)
        page = self.paginate_queryset(targets.order_by("position"))
        return self.get_paginated_response(BulkTargetSerializer(page, many=True).data)
