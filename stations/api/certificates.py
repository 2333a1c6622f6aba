"""The certificates API: each station's certificates (signed by the CSMS's CA, installed,
reported), the CSRs stations sent and the verdicts, the CA's own certificates, and the
InstallCertificate / DeleteCertificate / GetInstalledCertificateIds / renewal commands."""
import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from csms.api.errors import Conflict
from csms.api.serializers import CommandSerializer, ModelSerializer
from csms.ocpp import outbound

from ..actions import certificates as actions
from ..commands import StationNotReady
from ..commands import certificates as commands
from ..models import CertificateSigningRequest, Station, StationCertificate
from ..models.certificates import CertificateType, ROOT_TYPES, SIGNED_TYPES
from ..security import ca
from ..security import x509 as certs

WAIT_HELP = "Seconds to wait for the station's answer (bounded by OCPP_COMMAND_MAX_WAIT)."


class StationCertificateSerializer(ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:station-certificate-detail")
    station = serializers.SlugRelatedField(slug_field="identity", read_only=True)
    certificate_hash_data = serializers.SerializerMethodField()

    class Meta:
        model = StationCertificate
        fields = ["id", "url", "station", "certificate_type", "origin", "status",
                  "station_status", "serial_number", "subject", "issuer", "not_before",
                  "not_after", "certificate_hash_data", "child_hash_data", "pem",
                  "signing_request", "install_command", "delete_command",
                  "renewal_requested_at", "created_at", "updated_at"]
        read_only_fields = fields

    def get_certificate_hash_data(self, row) -> dict | None:
        return row.hash_data()


class CertificateSigningRequestSerializer(ModelSerializer):
    station = serializers.SlugRelatedField(slug_field="identity", read_only=True)

    class Meta:
        model = CertificateSigningRequest
        fields = ["id", "station", "certificate_type", "status", "reason_code", "reason", "csr",
                  "created_at", "updated_at"]
        read_only_fields = fields


class CertificateCommandSerializer(serializers.Serializer):
    certificate = StationCertificateSerializer(read_only=True, allow_null=True)
    command = CommandSerializer(read_only=True)


class HashDataSerializer(serializers.Serializer):
    hashAlgorithm = serializers.ChoiceField(choices=list(certs.HASH_ALGORITHMS))  # noqa: N815
    issuerNameHash = serializers.RegexField(r"^[0-9A-Fa-f]{1,128}$")  # noqa: N815
    issuerKeyHash = serializers.RegexField(r"^[0-9A-Fa-f]{1,128}$")  # noqa: N815
    serialNumber = serializers.RegexField(r"^[0-9A-Fa-f]{1,40}$")  # noqa: N815


class StationField(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        super().__init__(slug_field="identity", queryset=Station.objects.all(), **kwargs)


class InstallSerializer(serializers.Serializer):
    station = StationField()
    certificate_type = serializers.ChoiceField(choices=list(ROOT_TYPES))
    certificate = serializers.CharField(max_length=5500, help_text="One PEM certificate.")
    wait = serializers.FloatField(default=0, min_value=0, max_value=60, help_text=WAIT_HELP)


class DeleteSerializer(serializers.Serializer):
    station = StationField()
    certificate = serializers.IntegerField(
        required=False, help_text="A certificate of this station (its hash data is sent).")
    certificate_hash_data = HashDataSerializer(required=False)
    wait = serializers.FloatField(default=0, min_value=0, max_value=60, help_text=WAIT_HELP)

    def validate(self, data):
        if ("certificate" in data) == ("certificate_hash_data" in data):
            raise serializers.ValidationError("Give either certificate or certificate_hash_data.")
        if "certificate" in data:
            row = data["station"].certificates.filter(pk=data["certificate"]).first()
            if row is None:
                raise serializers.ValidationError({"certificate": "No such certificate of this station."})
            if row.hash_data() is None:
                raise serializers.ValidationError({"certificate": "Its hash data is unknown."})
            data["hash"] = certs.HashData.from_ocpp(row.hash_data())
        else:
            data["hash"] = certs.HashData.from_ocpp(data["certificate_hash_data"])
        return data


class ReportSerializer(serializers.Serializer):
    station = StationField()
    certificate_types = serializers.ListField(
        child=serializers.ChoiceField(choices=actions.REPORTABLE_TYPES), required=False,
        max_length=len(actions.REPORTABLE_TYPES), help_text="Empty: every type (1.6: one type).")
    wait = serializers.FloatField(default=0, min_value=0, max_value=60, help_text=WAIT_HELP)


class RenewSerializer(serializers.Serializer):
    station = StationField()
    certificate_type = serializers.ChoiceField(choices=list(SIGNED_TYPES),
                                               default=CertificateType.CHARGING_STATION)
    wait = serializers.FloatField(default=0, min_value=0, max_value=60, help_text=WAIT_HELP)


class CertificateFilter(django_filters.FilterSet):
    station = django_filters.CharFilter(field_name="station__identity")
    expires_before = django_filters.IsoDateTimeFilter(field_name="not_after", lookup_expr="lte")

    class Meta:
        model = StationCertificate
        fields = ["station", "certificate_type", "origin", "status", "expires_before"]


class SigningRequestFilter(django_filters.FilterSet):
    station = django_filters.CharFilter(field_name="station__identity")

    class Meta:
        model = CertificateSigningRequest
        fields = ["station", "certificate_type", "status", "reason_code"]


def _run(request, body_class, send):
    """Validate the body, send, wait as asked: 201 once answered, 202 while not."""
    body = body_class(data=request.data)
    body.is_valid(raise_exception=True)
    data = body.validated_data
    try:
        row, command = send(data, f"api:{request.user.username}")
    except StationNotReady as error:
        raise Conflict(str(error))
    except outbound.InvalidCommand as error:
        return Response({"detail": str(error), "errors": error.errors},
                        status=status.HTTP_400_BAD_REQUEST)
    if data["wait"]:
        command = outbound.wait_for_outcome(command, data["wait"])
        if command.is_finished:
            actions.settle_row(command)  # the receiver may not have run yet
    if row is not None:
        row = StationCertificate.objects.select_related("station").get(pk=row.pk)
    answer = CertificateCommandSerializer({"certificate": row, "command": command},
                                          context={"request": request}).data
    code = status.HTTP_201_CREATED if command.is_finished else status.HTTP_202_ACCEPTED
    return Response(answer, status=code)


class StationCertificateViewSet(viewsets.ReadOnlyModelViewSet):
    """Station certificates: status Sending → Installed / Rejected / NotDelivered; Deleting →
    Deleted; Replaced when a newer signed certificate of the type was installed."""

    queryset = StationCertificate.objects.select_related("station")
    serializer_class = StationCertificateSerializer
    filterset_class = CertificateFilter
    ordering_fields = ["id", "not_after", "created_at"]

    @extend_schema(request=InstallSerializer, responses={201: CertificateCommandSerializer,
                                                         202: CertificateCommandSerializer})
    @action(detail=False, methods=["post"])
    def install(self, request):
        """InstallCertificate of a root certificate (1.6: CSMS or manufacturer root)."""
        return _run(request, InstallSerializer, lambda data, source: commands.install_certificate(
            data["station"], data["certificate_type"], data["certificate"], source=source))

    @extend_schema(request=DeleteSerializer, responses={201: CertificateCommandSerializer,
                                                        202: CertificateCommandSerializer})
    @action(detail=False, methods=["post"], url_path="delete")
    def delete_certificate(self, request):
        """DeleteCertificate by hash data (of a known certificate, or given)."""
        return _run(request, DeleteSerializer, lambda data, source: commands.delete_certificate(
            data["station"], data["hash"], source=source))

    @extend_schema(request=ReportSerializer, responses={201: CertificateCommandSerializer,
                                                        202: CertificateCommandSerializer})
    @action(detail=False, methods=["post"])
    def report(self, request):
        """GetInstalledCertificateIds; the answer updates the station's certificates."""
        return _run(request, ReportSerializer, lambda data, source: (
            None, commands.get_installed_certificate_ids(
                data["station"], data.get("certificate_types"), source=source)))

    @extend_schema(request=RenewSerializer, responses={201: CertificateCommandSerializer,
                                                       202: CertificateCommandSerializer})
    @action(detail=False, methods=["post"])
    def renew(self, request):
        """Ask the station for a new CSR now (TriggerMessage; 1.6 ExtendedTriggerMessage)."""
        return _run(request, RenewSerializer, lambda data, source: (
            None, commands.request_new_certificate(
                data["station"], data["certificate_type"], source=source)))


class CertificateSigningRequestViewSet(viewsets.ReadOnlyModelViewSet):
    """CSRs stations sent (SignCertificate): Refused (reason_code, reason), Accepted, Signed,
    Failed."""

    queryset = CertificateSigningRequest.objects.select_related("station")
    serializer_class = CertificateSigningRequestSerializer
    filterset_class = SigningRequestFilter
    ordering_fields = ["id", "created_at"]


class CertificateAuthoritySerializer(serializers.Serializer):
    operator_supplied = serializers.BooleanField()
    issuer_subject = serializers.CharField()
    issuer_not_after = serializers.DateTimeField()
    root_subject = serializers.CharField()
    root_not_after = serializers.DateTimeField()
    root_pem = serializers.CharField()
    chain_pem = serializers.CharField(help_text="The issuing CA then its chain up to the root.")


def authority_summary():
    authority = ca.authority()
    return {"operator_supplied": authority.operator_supplied,
            "issuer_subject": authority.issuer.subject.rfc4514_string(),
            "issuer_not_after": authority.issuer.not_valid_after_utc,
            "root_subject": authority.root.subject.rfc4514_string(),
            "root_not_after": authority.root.not_valid_after_utc,
            "root_pem": certs.pem_of(authority.root), "chain_pem": authority.chain_pem()}


class CertificateAuthorityView(APIView):
    """The CSMS's CA: root and issuing (station sub-CA) certificates, e.g. for the TLS proxy's
    ssl_client_certificate. Generated on first use unless the operator supplied one."""

    @extend_schema(responses={200: CertificateAuthoritySerializer})
    def get(self, request):
        try:
            summary = authority_summary()
        except ca.CaUnavailable as error:
            return Response({"detail": str(error)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response(CertificateAuthoritySerializer(summary).data)
