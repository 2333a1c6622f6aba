"""The firmware-campaign API: preview a selection, create a campaign over it, start, pause, resume
and cancel it, follow its targets; station tags for the selection."""
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from csms.api.errors import Conflict
from stations.actions import campaigns
from stations.models import (
    CampaignTarget, FirmwareCampaign, FirmwareImage, Station, StationTag,
)


class SelectionSerializer(serializers.Serializer):
    image = serializers.PrimaryKeyRelatedField(queryset=FirmwareImage.objects.all())
    filter_vendor = serializers.CharField(max_length=50, required=False, allow_blank=True)
    filter_model = serializers.CharField(max_length=50, required=False, allow_blank=True)
    filter_firmware_version = serializers.CharField(max_length=50, required=False,
                                                    allow_blank=True)
    filter_tag = serializers.CharField(max_length=50, required=False, allow_blank=True)
    filter_identities = serializers.ListField(
        child=serializers.CharField(max_length=48), required=False, max_length=100000,
        help_text="Explicit stations; a site's stations are chosen by listing them here.")


class PreviewSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    stations = serializers.ListField(child=serializers.CharField())
    excluded = serializers.ListField(child=serializers.DictField())
    unknown = serializers.ListField(child=serializers.CharField())


class CampaignSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:firmware-campaign-detail")
    image_version = serializers.CharField(source="image.version", read_only=True)
    counts = serializers.SerializerMethodField()
    filter_identities = serializers.ListField(
        child=serializers.CharField(max_length=48), required=False, max_length=100000,
        help_text="Explicit stations; a site's stations are chosen by listing them here.")

    class Meta:
        model = FirmwareCampaign
        fields = ["id", "url", "name", "image", "image_version", "filter_vendor", "filter_model",
                  "filter_firmware_version", "filter_tag", "filter_identities", "concurrency",
                  "window_start", "window_end", "timezone", "retries", "canary_size",
                  "failure_threshold", "state", "state_reason", "canary_passed", "counts",
                  "created_at", "started_at", "finished_at"]
        read_only_fields = ["state", "state_reason", "canary_passed", "created_at",
                            "started_at", "finished_at"]

    def get_counts(self, campaign) -> dict:
        return campaigns.counts(campaign)


class TargetSerializer(serializers.ModelSerializer):
    station = serializers.CharField(source="station.identity")
    firmware_version = serializers.CharField(source="station.firmware_version")
    update_status = serializers.CharField(source="update.status", default=None)

    class Meta:
        model = CampaignTarget
        fields = ["id", "position", "station", "state", "attempts", "last_status", "detail",
                  "update", "update_status", "firmware_version", "started_at", "finished_at"]


class StationTagSerializer(serializers.ModelSerializer):
    station = serializers.SlugRelatedField(slug_field="identity", queryset=Station.objects.all())

    class Meta:
        model = StationTag
        fields = ["id", "station", "name"]


def _django_errors(error):
    return ValidationError(error.message_dict if hasattr(error, "error_dict") else error.messages)


def _by(request):
    return f"api:{request.user.username}"


class FirmwareCampaignViewSet(mixins.CreateModelMixin, mixins.ListModelMixin,
                              mixins.RetrieveModelMixin, mixins.DestroyModelMixin,
                              viewsets.GenericViewSet):
    """Firmware campaigns: one image rolled out over the stations a filter chooses, in batches
    (concurrency limit), canary first, inside a maintenance window, with retries; it pauses
    itself when the failure rate passes the threshold. States: draft → running ⇄ paused /
    auto_paused → completed, or cancelled."""

    queryset = FirmwareCampaign.objects.select_related("image")
    serializer_class = CampaignSerializer
    filterset_fields = ["state", "image"]
    ordering_fields = ["id", "created_at", "name"]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        try:
            serializer.instance = campaigns.create_campaign(created_by=self.request.user, **data)
        except DjangoValidationError as error:
            raise _django_errors(error)

    def perform_destroy(self, instance):
        if instance.state in campaigns.ACTIVE_STATES:
            raise Conflict(f"campaign {instance.pk} is {instance.state}: cancel it first")
        instance.delete()

    @extend_schema(request=SelectionSerializer, responses={200: PreviewSerializer})
    @action(detail=False, methods=["post"])
    def preview(self, request):
        """The stations a filter would choose (identity order = turn order), the matched ones
        the image does not apply to, and listed identities no station has."""
        body = SelectionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        chosen, excluded, unknown = campaigns.select_stations(
            data["image"], vendor=data.get("filter_vendor", ""),
            model=data.get("filter_model", ""),
            firmware_version=data.get("filter_firmware_version", ""),
            tag=data.get("filter_tag", ""), identities=data.get("filter_identities", ()))
        return Response({"count": len(chosen), "stations": [s.identity for s in chosen],
                         "excluded": excluded, "unknown": unknown})

    def _control(self, request, operation):
        try:
            campaign = operation(self.get_object(), by=_by(request))
        except campaigns.CampaignStateError as error:
            raise Conflict(str(error))
        return Response(CampaignSerializer(campaign, context={"request": request}).data)

    # A state that does not allow the change: 409 (documented with every 4xx).
    _control_schema = extend_schema(request=None, responses={200: CampaignSerializer})

    @_control_schema
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        """draft → running: updates start at once (inside the maintenance window)."""
        return self._control(request, campaigns.start_campaign)

    @_control_schema
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        """running / auto_paused → paused: no new updates start; those in progress go on."""
        return self._control(request, campaigns.pause_campaign)

    @_control_schema
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """paused / auto_paused → running; the failure rate counts from now."""
        return self._control(request, campaigns.resume_campaign)

    @_control_schema
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """No new updates start (pending and waiting targets are skipped); those in progress
        finish and are counted."""
        return self._control(request, campaigns.cancel_campaign)

    @extend_schema(responses={200: TargetSerializer(many=True)}, parameters=[
        OpenApiParameter("state", str, enum=CampaignTarget.State.values,
                         description="Only targets in this state.")])
    @action(detail=True, methods=["get"])
    def targets(self, request, pk=None):
        """The campaign's stations in turn order: state, attempts, the last firmware status and
        why a target failed."""
        # Not get_object(): its filters would read ?state= as the campaign's state.
        campaign = get_object_or_404(self.get_queryset(), pk=pk)
        targets = campaign.targets.select_related("station", "update")
        wanted = request.query_params.get("state")
        if wanted:
            if wanted not in CampaignTarget.State.values:
                raise ValidationError({"state": [
                    f"One of {', '.join(CampaignTarget.State.values)}."]})
            targets = targets.filter(state=wanted)
        page = self.paginate_queryset(targets.order_by("position"))
        return self.get_paginated_response(TargetSerializer(page, many=True).data)


class StationTagViewSet(mixins.CreateModelMixin, mixins.ListModelMixin,
                        mixins.RetrieveModelMixin, mixins.DestroyModelMixin,
                        viewsets.GenericViewSet):
    """Labels on stations, for choosing firmware campaign targets (filter_tag)."""

    queryset = StationTag.objects.select_related("station")
    serializer_class = StationTagSerializer
    filterset_fields = ["name"]
    ordering_fields = ["id", "name"]

    @extend_schema(parameters=[OpenApiParameter("station", str,
                                                description="Only this station's tags.")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        queryset = super().get_queryset()
        identity = self.request.query_params.get("station")
        return queryset.filter(station__identity=identity) if identity else queryset

    def perform_create(self, serializer):
        data = serializer.validated_data
        if StationTag.objects.filter(station=data["station"], name=data["name"]).exists():
            raise ValidationError({"name": [f"{data['station']} already has tag {data['name']!r}."]})
        serializer.save()

