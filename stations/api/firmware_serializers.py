"""Serializers of the firmware API: images, updates, publications and their requests."""
from rest_framework import serializers

from csms.api.serializers import INTEGER_MAX, CommandSerializer, ModelSerializer

from ..models import FirmwareImage, FirmwarePublication, FirmwareUpdate, Station

STATION_INPUT = {"slug_field": "identity", "queryset": Station.objects.all(),
                 "help_text": "The station's identity."}
WAIT_HELP = "Seconds to wait for the station's answer (0: return at once)."


class FirmwareImageSerializer(ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:firmware-image-detail")
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    file = serializers.FileField(required=False, allow_null=True, use_url=False,
                                 help_text="The image (multipart); or give external_url.")
    is_signed = serializers.BooleanField(read_only=True)

    class Meta:
        model = FirmwareImage
        fields = ["id", "url", "name", "version", "vendor", "model", "file", "external_url",
                  "size", "sha256", "md5", "signature", "signing_certificate", "is_signed",
                  "uploaded_at", "uploaded_by"]
        read_only_fields = ["size", "sha256", "md5", "uploaded_at", "uploaded_by"]


class FirmwareUpdateSerializer(ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:firmware-update-detail")
    station = serializers.SlugRelatedField(slug_field="identity", read_only=True)
    image = FirmwareImageSerializer(read_only=True)
    command = CommandSerializer(read_only=True, allow_null=True)
    is_final = serializers.BooleanField(read_only=True)
    location = serializers.SerializerMethodField(
        help_text="The URL the station was told to fetch the image from.")

    class Meta:
        model = FirmwareUpdate
        fields = ["id", "url", "station", "image", "request_id", "action", "status", "is_final",
                  "answer", "history", "retries", "retry_interval", "retrieve_at", "install_at",
                  "location", "download_expires_at", "downloads", "version_confirmed",
                  "reported_version", "source", "command", "created_at", "updated_at"]
        read_only_fields = fields

    def get_location(self, update) -> str:
        from ..commands.firmware import location_of
        return location_of(update)


class FirmwareUpdateRequestSerializer(serializers.Serializer):
    station = serializers.SlugRelatedField(**STATION_INPUT)
    image = serializers.PrimaryKeyRelatedField(queryset=FirmwareImage.objects.all())
    retrieve_at = serializers.DateTimeField(required=False, allow_null=True,
                                            help_text="When to download (default now).")
    install_at = serializers.DateTimeField(required=False, allow_null=True)
    retries = serializers.IntegerField(min_value=0, max_value=INTEGER_MAX, required=False,
                                       allow_null=True)
    retry_interval = serializers.IntegerField(min_value=0, max_value=INTEGER_MAX, required=False,
                                              allow_null=True)
    force = serializers.BooleanField(default=False,
                                     help_text="Send even if the image's vendor/model differ.")
    wait = serializers.FloatField(min_value=0, max_value=60, default=0, help_text=WAIT_HELP)


class FirmwarePublicationSerializer(ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:firmware-publication-detail")
    station = serializers.SlugRelatedField(slug_field="identity", read_only=True)
    image = serializers.PrimaryKeyRelatedField(read_only=True)
    command = CommandSerializer(read_only=True, allow_null=True)

    class Meta:
        model = FirmwarePublication
        fields = ["id", "url", "station", "image", "request_id", "status", "answer",
                  "published_locations", "history", "downloads", "source", "command",
                  "created_at", "updated_at"]
        read_only_fields = fields


class PublishRequestSerializer(serializers.Serializer):
    station = serializers.SlugRelatedField(**STATION_INPUT)
    image = serializers.PrimaryKeyRelatedField(queryset=FirmwareImage.objects.all())
    retries = serializers.IntegerField(min_value=0, max_value=INTEGER_MAX, required=False,
                                       allow_null=True)
    retry_interval = serializers.IntegerField(min_value=0, max_value=INTEGER_MAX, required=False,
                                              allow_null=True)
    wait = serializers.FloatField(min_value=0, max_value=60, default=0, help_text=WAIT_HELP)


class UnpublishRequestSerializer(serializers.Serializer):
    station = serializers.SlugRelatedField(**STATION_INPUT)
    image = serializers.PrimaryKeyRelatedField(queryset=FirmwareImage.objects.all())
    wait = serializers.FloatField(min_value=0, max_value=60, default=0, help_text=WAIT_HELP)
