"""/api/v1/customer-information/ (2.0.1 N09/N10): ask a station to report and/or clear what it
holds about a customer, follow the request and read (or download) the assembled document; and
`POST /api/v1/id-tokens/<id>/erase/`, the CSMS-side erasure of a token's personal data."""
import django_filters
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from csms.api.serializers import CommandSerializer, ModelSerializer
from csms.ocpp import outbound
from stations.models import Station
from transactions.actions import customer_data
from transactions.models import CustomerInformationRequest, IdTokenErasure, IdTokenType

from .operations import operate, parse_body, source_of

WAIT_HELP = "Seconds to wait for the station's answer (0: return at once)."


class CertificateHashDataSerializer(serializers.Serializer):
    hashAlgorithm = serializers.ChoiceField(choices=["SHA256", "SHA384", "SHA512"])
    issuerNameHash = serializers.CharField(max_length=128)
    issuerKeyHash = serializers.CharField(max_length=128)
    serialNumber = serializers.CharField(max_length=40)


class CustomerInformationSerializer(ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:customer-information-detail")
    station = serializers.SlugRelatedField(slug_field="identity", read_only=True)
    request_id = serializers.IntegerField(read_only=True)
    part_count = serializers.IntegerField(read_only=True)
    command = CommandSerializer(read_only=True, allow_null=True)

    class Meta:
        model = CustomerInformationRequest
        fields = ["id", "url", "station", "request_id", "report", "clear", "id_token",
                  "id_token_type", "customer_identifier", "customer_certificate", "status",
                  "part_count", "last_seq_no", "document", "erasure", "requested_by", "command",
                  "created_at", "completed_at"]
        read_only_fields = fields


class CustomerInformationListSerializer(CustomerInformationSerializer):
    class Meta(CustomerInformationSerializer.Meta):
        fields = [name for name in CustomerInformationSerializer.Meta.fields if name != "document"]
        read_only_fields = fields


class CustomerInformationCreateSerializer(serializers.Serializer):
    station = serializers.SlugRelatedField(slug_field="identity", queryset=Station.objects.all(),
                                           help_text="The station's identity (OCPP 2.0.1).")
    report = serializers.BooleanField(default=False, help_text="Ask for what it holds.")
    clear = serializers.BooleanField(default=False, help_text="Ask it to clear what it holds.")
    id_token = serializers.CharField(max_length=36, required=False, allow_blank=True)
    id_token_type = serializers.ChoiceField(choices=IdTokenType.choices, default="ISO14443")
    customer_identifier = serializers.CharField(max_length=64, required=False, allow_blank=True)
    customer_certificate = CertificateHashDataSerializer(required=False, allow_null=True)
    wait = serializers.FloatField(required=False, default=0, min_value=0, help_text=WAIT_HELP)

    def validate(self, data):
        reasons = customer_data.check_request(
            data["report"], data["clear"], data.get("id_token"), data.get("customer_identifier"),
            data.get("customer_certificate"))
        if reasons:
            raise ValidationError({"non_field_errors": reasons})
        return data


class CustomerInformationFilter(django_filters.FilterSet):
    station = django_filters.CharFilter(field_name="station__identity")

    class Meta:
        model = CustomerInformationRequest
        fields = ["station", "status", "id_token", "customer_identifier", "erasure"]


class CustomerInformationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                                 viewsets.GenericViewSet):
    """CustomerInformation requests (2.0.1): requested → receiving → complete (the parts
    assembled in seqNo order into `document`) / rejected / failed."""

    queryset = CustomerInformationRequest.objects.select_related("station", "command")
    filterset_class = CustomerInformationFilter
    ordering_fields = ["id", "created_at", "completed_at"]

    def get_serializer_class(self):
        if self.action == "list":
            return CustomerInformationListSerializer
        return CustomerInformationSerializer

    @extend_schema(request=CustomerInformationCreateSerializer,
                   responses={201: CustomerInformationSerializer,
                              202: CustomerInformationSerializer})
    def create(self, request):
        """Send CustomerInformation: exactly one of id_token, customer_identifier,
        customer_certificate; report and/or clear. 201 once answered, else 202."""
        data = parse_body(CustomerInformationCreateSerializer, request)
        certificate = data.get("customer_certificate")
        info, command = operate(lambda: customer_data.customer_information(
            data["station"], report=data["report"], clear=data["clear"],
            id_token=data.get("id_token") or None, id_token_type=data["id_token_type"],
            customer_identifier=data.get("customer_identifier") or "",
            customer_certificate=dict(certificate) if certificate else None,
            requested_by=request.user.get_username(), source=source_of(request)))
        if data["wait"]:
            command = outbound.wait_for_outcome(command, data["wait"])
        if command.is_finished:
            customer_data.settle_request(command)
        body = CustomerInformationSerializer(self.get_queryset().get(pk=info.pk),
                                             context={"request": request}).data
        code = status.HTTP_201_CREATED if command.is_finished else status.HTTP_202_ACCEPTED
        return Response(body, status=code, headers={"Location": body["url"]})

    @extend_schema(responses={(200, "text/plain"): str})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        """The assembled document as a text file (409 until every part is in)."""
        info = self.get_object()
        if info.status != CustomerInformationRequest.Status.COMPLETE:
            return Response({"detail": f"The request is {info.status}; the document is not "
                                       "complete."}, status=status.HTTP_409_CONFLICT)
        response = HttpResponse(info.document, content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="customer-information-{info.station.identity}-{info.pk}.txt"')
        return response


# --- erasure ----------------------------------------------------------------------------------

class EraseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True,
                                   help_text="Why (e.g. the data-protection request's reference).")
    clear_at_stations = serializers.BooleanField(
        default=False, help_text="Also send CustomerInformation clear=true to every OCPP 2.0.1 "
                                 "station that charged the token.")


class IdTokenErasureSerializer(ModelSerializer):
    station_requests = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = IdTokenErasure
        fields = ["id", "id_token", "pseudonym", "id_token_type", "erased_by", "erased_at",
                  "reason", "erased", "station_requests"]
        read_only_fields = fields


def erase(request, token):
    """The id-token viewset's `erase/` action (staff only)."""
    if not request.user.is_staff:
        raise PermissionDenied("Only operators (staff users) may erase a customer's data.")
    data = parse_body(EraseSerializer, request)
    erasure = operate(lambda: customer_data.erase_id_token(
        token, request.user.get_username(), data.get("reason", ""),
        clear_at_stations=data["clear_at_stations"], source=source_of(request)))
    return Response(IdTokenErasureSerializer(erasure).data, status=status.HTTP_200_OK)
