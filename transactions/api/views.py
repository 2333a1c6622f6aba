from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from transactions import actions, commands
from transactions.filters import IdTokenFilter, MeterValueFilter, ReservationFilter, TransactionFilter
from transactions.models import IdToken, LocalList, Reservation, Tariff, Transaction
from transactions.reports import transactions_csv_response
from transactions.totals import totals as transaction_totals

from . import customer
from .operations import (
    Conflict, command_response, operate, parse_body, reserve_with, settled_command_response,
    source_of,
)
from .serializers import (
    COMMAND_RESPONSES, IdTokenImportSerializer, IdTokenSerializer, LocalListSerializer,
    MeterValueSerializer, ReservationCreateSerializer, ReservationSerializer, TariffSerializer,
    TransactionCloseSerializer, TransactionDetailSerializer, TransactionSerializer, WaitSerializer,
)
from .totals import TransactionTotalsSerializer


# --- resources ----------------------------------------------------------------------------------

class IdTokenViewSet(viewsets.ModelViewSet):
    """Id tokens (2.0.1 IdToken / 1.6 idTag): status, expiry, group, where they may charge."""

    queryset = IdToken.objects.select_related("group").prefetch_related("allowed_stations")
    serializer_class = IdTokenSerializer
    filterset_class = IdTokenFilter
    search_fields = ["id_token", "description"]
    ordering_fields = ["id_token", "created_at"]

    def perform_destroy(self, token):
        if token.transactions.exists() or token.reservations.exists():
            raise Conflict("The token has transactions or reservations; block it instead.")
        token.delete()

    @extend_schema(request=IdTokenImportSerializer, responses={200: dict})
    @action(detail=False, methods=["post"], url_path="import",
            parser_classes=[MultiPartParser, FormParser, JSONParser])
    def import_csv(self, request):
        """Create or update tokens from CSV (columns: id_token, type, status, expires_at, group,
        language, personal_message, charging_priority, allow_concurrent_transactions,
        spending_limit, description). All rows or none."""
        data = parse_body(IdTokenImportSerializer, request)
        if data.get("file"):
            try:
                text = data["file"].read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise ValidationError("The file is not UTF-8 text.")
        else:
            text = data["csv"]
        return Response(operate(lambda: actions.import_tokens_csv(text)))

    @extend_schema(request=customer.EraseSerializer, responses={200: customer.IdTokenErasureSerializer})
    @action(detail=True, methods=["post"])
    def erase(self, request, pk=None):
        """Erase the token's personal data (staff only): its value becomes a random pseudonym in
        transactions, commands and the message log, personal fields are emptied; billing data
        stays; an audit line is returned."""
        return customer.erase(request, self.get_object())


class TransactionViewSet(viewsets.ReadOnlyModelViewSet):
    """Charging sessions of both OCPP versions, with energy and cost; `export/` gives CSV."""

    filterset_class = TransactionFilter
    ordering_fields = ["started_at", "ended_at", "energy_wh", "total_cost", "id"]

    def get_queryset(self):
        queryset = Transaction.objects.select_related("station", "tariff")
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("events")
        return queryset

    def get_serializer_class(self):
        return TransactionDetailSerializer if self.action == "retrieve" else TransactionSerializer

    @extend_schema(responses=MeterValueSerializer(many=True), parameters=[
        OpenApiParameter(name, str) for name in ("measurand", "phase", "context", "location",
                                                 "since", "until")])
    @action(detail=True, methods=["get"], url_path="meter-values")
    def meter_values(self, request, pk=None):
        """Every sampled value of the transaction, oldest first (for charts and export)."""
        transaction = self.get_object()
        filterset = MeterValueFilter(request.query_params, transaction.meter_values.all())
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        page = self.paginate_queryset(filterset.qs.order_by("timestamp", "id"))
        return self.get_paginated_response(MeterValueSerializer(page, many=True).data)

    @extend_schema(request=TransactionCloseSerializer, responses=TransactionDetailSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Close a running transaction the station never ended (the CSMS's record only: the
        station is not told; stopped_reason ClosedByOperator, last reading as stop). 409 when it
        has ended already. A later Ended from the station replaces this closing."""
        transaction = self.get_object()
        data = parse_body(TransactionCloseSerializer, request)
        try:
            actions.close_transaction(transaction.pk, request.user.get_username(), data["reason"])
        except actions.TransactionEnded as error:
            raise Conflict(str(error))
        closed = self.get_queryset().prefetch_related("events").get(pk=transaction.pk)
        return Response(TransactionDetailSerializer(closed, context={"request": request}).data)

    @extend_schema(responses=TransactionTotalsSerializer, filters=True)
    @action(detail=False, methods=["get"])
    def totals(self, request):
        """Count, energy (kWh) and summed duration of the filtered transactions (the list's
        filters, e.g. `date_from`/`date_to`); a running one counts until now."""
        figures = transaction_totals(self.filter_queryset(self.get_queryset()))
        return Response(TransactionTotalsSerializer(figures).data)

    @extend_schema(responses={(200, "text/csv"): str})
    @action(detail=False, methods=["get"])
    def export(self, request):
        """The filtered transactions as CSV."""
        return transactions_csv_response(self.filter_queryset(self.get_queryset()))


class TariffViewSet(viewsets.ModelViewSet):
    """Tariffs (per kWh, per charging minute, per session, idle fee, VAT) and their stations."""

    queryset = Tariff.objects.prefetch_related("assignments__station")
    serializer_class = TariffSerializer
    filterset_fields = ["currency", "is_default"]


class ReservationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                         mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Reservations: POST reserves (ReserveNow), `cancel/` cancels (CancelReservation)."""

    queryset = Reservation.objects.select_related("station", "id_token").prefetch_related(
        Prefetch("transactions", queryset=Transaction.objects.only("pk", "reservation_id")))
    serializer_class = ReservationSerializer
    filterset_class = ReservationFilter

    @extend_schema(request=ReservationCreateSerializer, responses=COMMAND_RESPONSES)
    def create(self, request):
        data = parse_body(ReservationCreateSerializer, request)
        return reserve_with(request, data["station"], data)

    @extend_schema(request=WaitSerializer, responses=COMMAND_RESPONSES)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        reservation = self.get_object()
        data = parse_body(WaitSerializer, request)
        command = operate(lambda: commands.cancel_reservation(reservation, source=source_of(request)))
        return settled_command_response(request, command, data["wait"])


class LocalListViewSet(viewsets.ReadOnlyModelViewSet):
    """The local authorization list each station holds, by station identity."""

    queryset = LocalList.objects.select_related("station")
    serializer_class = LocalListSerializer
    lookup_field = "station__identity"
    lookup_url_kwarg = "identity"
    lookup_value_regex = "[^/]+"

    def _station(self, identity):
        from stations.models import Station

        station = Station.objects.filter(identity=identity).first()
        if station is None:
            raise NotFound(f"No station {identity!r}.")
        return station

    @extend_schema(request=WaitSerializer, responses=COMMAND_RESPONSES)
    @action(detail=True, methods=["post"], url_path="get-version")
    def get_version(self, request, identity=None):
        """GetLocalListVersion: the version the station reports is stored here."""
        data = parse_body(WaitSerializer, request)
        station = self._station(identity)
        command = operate(lambda: commands.get_local_list_version(station, source=source_of(request)))
        return settled_command_response(request, command, data["wait"])

    @extend_schema(request=WaitSerializer, responses=COMMAND_RESPONSES)
    @action(detail=True, methods=["post"], url_path="clear-cache")
    def clear_cache(self, request, identity=None):
        """ClearCache: the station forgets its authorization cache (not its local list)."""
        data = parse_body(WaitSerializer, request)
        station = self._station(identity)
        command = operate(lambda: commands.clear_cache(station, source=source_of(request)))
        return command_response(request, command, data["wait"])
