"""The firmware API: images (multipart upload or external URL), updates pushed to one station
and followed through the station's notifications, publications on local controllers."""
import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from csms.api.errors import Conflict
from csms.api.serializers import CommandSerializer
from csms.ocpp import outbound

from ..actions import firmware as firmware_actions
from ..commands import StationNotReady
from ..models import FirmwareImage, FirmwarePublication, FirmwareUpdate
from .firmware_serializers import (
    FirmwareImageSerializer, FirmwarePublicationSerializer, FirmwareUpdateRequestSerializer,
    FirmwareUpdateSerializer, PublishRequestSerializer, UnpublishRequestSerializer,
)


def _source(request):
    return f"api:{request.user.username}"


def _invalid(error):
    return Response({"detail": str(error), "errors": error.errors},
                    status=status.HTTP_400_BAD_REQUEST)


def _parse(serializer_class, request):
    body = serializer_class(data=request.data)
    body.is_valid(raise_exception=True)
    return body.validated_data


def _wait(row, wait):
    """Wait up to `wait` s for the station's answer, then apply it (the receiver may run in
    another process: applying twice is harmless, the state only moves from queued/sent)."""
    if wait and row.command is not None:
        command = outbound.wait_for_outcome(row.command, wait)
        if command.is_finished:
            firmware_actions.settle_command(command)
    row.refresh_from_db()
    return row


class FirmwareImageFilter(django_filters.FilterSet):
    class Meta:
        model = FirmwareImage
        fields = ["name", "version", "vendor", "model"]


class FirmwareImageViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                           mixins.CreateModelMixin, mixins.DestroyModelMixin,
                           viewsets.GenericViewSet):
    """Firmware images: upload a file (multipart; size, SHA-256 and MD5 computed) or record an
    external URL. An image some station was sent cannot be deleted (409)."""

    queryset = FirmwareImage.objects.select_related("uploaded_by")
    serializer_class = FirmwareImageSerializer
    filterset_class = FirmwareImageFilter
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    ordering_fields = ["id", "uploaded_at", "version", "name"]

    def create(self, request):
        body = FirmwareImageSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            image = firmware_actions.create_image(
                name=data["name"], version=data["version"], vendor=data.get("vendor", ""),
                model=data.get("model", ""), upload=data.get("file"),
                external_url=data.get("external_url", ""), signature=data.get("signature", ""),
                signing_certificate=data.get("signing_certificate", ""),
                uploaded_by=request.user)
        except firmware_actions.InvalidFirmware as error:
            return _invalid(error)
        result = FirmwareImageSerializer(image, context={"request": request}).data
        return Response(result, status=status.HTTP_201_CREATED, headers={"Location": result["url"]})

    def destroy(self, request, pk=None):
        try:
            firmware_actions.delete_image(self.get_object())
        except firmware_actions.ImageInUse as error:
            raise Conflict(str(error))
        return Response(status=status.HTTP_204_NO_CONTENT)


class FirmwareUpdateFilter(django_filters.FilterSet):
    station = django_filters.CharFilter(field_name="station__identity")

    class Meta:
        model = FirmwareUpdate
        fields = ["station", "status", "image", "request_id", "version_confirmed"]


class FirmwareUpdateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                            viewsets.GenericViewSet):
    """Firmware updates: create = UpdateFirmware to one station (1.6: SignedUpdateFirmware for
    signed images); the status follows the answer, FirmwareStatusNotifications and the next boot
    (installed_confirmed when it reports the image's version)."""

    queryset = FirmwareUpdate.objects.select_related("station", "image__uploaded_by", "command")
    serializer_class = FirmwareUpdateSerializer
    filterset_class = FirmwareUpdateFilter
    ordering_fields = ["id", "created_at", "updated_at", "status"]

    @extend_schema(request=FirmwareUpdateRequestSerializer,
                   responses={201: FirmwareUpdateSerializer})
    def create(self, request):
        data = _parse(FirmwareUpdateRequestSerializer, request)
        try:
            update = firmware_actions.start_update(
                data["station"], data["image"], retrieve_at=data.get("retrieve_at"),
                install_at=data.get("install_at"), retries=data.get("retries"),
                retry_interval=data.get("retry_interval"), force=data["force"],
                source=_source(request))
        except StationNotReady as error:
            raise Conflict(str(error))
        except firmware_actions.InvalidFirmware as error:
            return _invalid(error)
        update = _wait(update, data["wait"])
        result = FirmwareUpdateSerializer(self.get_queryset().get(pk=update.pk),
                                          context={"request": request}).data
        return Response(result, status=status.HTTP_201_CREATED, headers={"Location": result["url"]})


class FirmwarePublicationFilter(django_filters.FilterSet):
    station = django_filters.CharFilter(field_name="station__identity")

    class Meta:
        model = FirmwarePublication
        fields = ["station", "status", "image", "request_id"]


class FirmwarePublicationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                                 viewsets.GenericViewSet):
    """PublishFirmware to a local controller (2.0.1) and its PublishFirmwareStatusNotifications;
    `unpublish` sends UnpublishFirmware for an image's MD5 checksum."""

    queryset = FirmwarePublication.objects.select_related("station", "command")
    serializer_class = FirmwarePublicationSerializer
    filterset_class = FirmwarePublicationFilter
    ordering_fields = ["id", "created_at", "updated_at"]

    @extend_schema(request=PublishRequestSerializer,
                   responses={201: FirmwarePublicationSerializer})
    def create(self, request):
        data = _parse(PublishRequestSerializer, request)
        try:
            publication = firmware_actions.start_publication(
                data["station"], data["image"], retries=data.get("retries"),
                retry_interval=data.get("retry_interval"), source=_source(request))
        except StationNotReady as error:
            raise Conflict(str(error))
        except firmware_actions.InvalidFirmware as error:
            return _invalid(error)
        publication = _wait(publication, data["wait"])
        result = FirmwarePublicationSerializer(publication, context={"request": request}).data
        return Response(result, status=status.HTTP_201_CREATED, headers={"Location": result["url"]})

    @extend_schema(request=UnpublishRequestSerializer,
                   responses={201: CommandSerializer, 202: CommandSerializer})
    @action(detail=False, methods=["post"])
    def unpublish(self, request):
        """UnpublishFirmware; on Unpublished the image's publications there become unpublished."""
        data = _parse(UnpublishRequestSerializer, request)
        try:
            command = firmware_actions.unpublish(data["station"], data["image"],
                                                 source=_source(request))
        except StationNotReady as error:
            raise Conflict(str(error))
        except firmware_actions.InvalidFirmware as error:
            return _invalid(error)
        if data["wait"]:
            command = outbound.wait_for_outcome(command, data["wait"])
            if command.is_finished:
                firmware_actions.settle_command(command)
        code = status.HTTP_201_CREATED if command.is_finished else status.HTTP_202_ACCEPTED
        return Response(CommandSerializer(command, context={"request": request}).data, status=code)
