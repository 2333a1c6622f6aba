"""The device-model API: a station's component tree, variables get/set with per-item results,
reports and their progress, monitors, events and alerts, and provisioning policies."""
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, mixins, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from csms.api.serializers import CommandSerializer
from devicemodel import commands, tree
from devicemodel.filters import EventFilter, MonitorFilter, ValueChangeFilter, VariableFilter
from devicemodel.models import (
    Event, ProvisioningPolicy, ProvisioningRun, Report, Variable, VariableMonitor, VariableRequest,
    VariableValueChange,
)
from stations.api.views import Conflict, command_response
from stations.models import Station

from .serializers import (
    ComponentTreeSerializer, EventSerializer, MonitoringBaseRequestSerializer,
    MonitoringLevelRequestSerializer, MonitorsClearRequestSerializer, MonitorSerializer,
    MonitorsSetRequestSerializer, ProvisioningPolicySerializer, ProvisioningRunSerializer,
    ReportRequestSerializer, ReportSerializer, ValueChangeSerializer, VariableRequestSerializer,
    VariablesGetRequestSerializer, VariablesSetRequestSerializer,
)


def _source(request):
    return f"api:{request.user.username}"


class StationScoped(generics.GenericAPIView):
    """A view under /stations/<identity>/: 404 for an unknown station, 409 when it cannot be
    addressed yet (never connected)."""

    def get_station(self):
        if not hasattr(self, "_station"):
            self._station = get_object_or_404(Station, identity=self.kwargs["identity"])
        return self._station

    def body(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def send(self, build):
        try:
            return build()
        except commands.StationNotReady as error:
            raise Conflict(str(error))

    def filtered(self, filterset_class, queryset):
        filterset = filterset_class(self.request.query_params, queryset)
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        return filterset.qs

    def listing(self, queryset, serializer_class):
        page = self.paginate_queryset(queryset)
        data = serializer_class(page, many=True, context={"request": self.request}).data
        return self.get_paginated_response(data)


def request_response(view, variable_request, wait):
    """201 with every item's result when complete; else 202 and the request's URL to follow."""
    variable_request = commands.wait_for_request(variable_request, wait) if wait \
        else variable_request
    data = VariableRequestSerializer(variable_request, context={"request": view.request}).data
    code = status.HTTP_201_CREATED if variable_request.is_complete else status.HTTP_202_ACCEPTED
    return Response(data, status=code, headers={"Location": data["url"]})


class ComponentTreeView(StationScoped):
    """The station's device model as a tree: components (station, EVSE or connector tier) with
    their variables, attributes, characteristics and monitors. OCPP 1.6 configuration keys are
    the variables of the ChargePointConfiguration component."""

    filterset_class = VariableFilter
    pagination_class = None

    @extend_schema(responses=ComponentTreeSerializer, filters=True)
    def get(self, request, identity):
        station = self.get_station()
        variables = self.filtered(VariableFilter, tree.station_variables(station))
        return Response(tree.tree_json(station, tree.load_variables(variables)))

    def get_queryset(self):  # for the schema's filter parameters
        return Variable.objects.none()


class VariablesGetView(StationScoped):
    """Read variables (GetVariables; 1.6 GetConfiguration with keys). Large requests are split to
    the station's ItemsPerMessage/BytesPerMessage; per-item results are stored."""

    serializer_class = VariablesGetRequestSerializer  # OPTIONS describes the request body

    @extend_schema(request=VariablesGetRequestSerializer,
                   responses={201: VariableRequestSerializer, 202: VariableRequestSerializer})
    def post(self, request, identity):
        station = self.get_station()
        data = self.body(VariablesGetRequestSerializer)
        variable_request = self.send(lambda: commands.get_variables(
            station, data["items"], source=_source(request)))
        return request_response(self, variable_request, data["wait"])


class VariablesSetView(StationScoped):
    """Set variables (SetVariables; 1.6 ChangeConfiguration per key). Values are checked against
    the stored characteristics, mutability and MinSet/MaxSet before anything is sent (400 with
    every reason); RebootRequired results are flagged on the request and the attribute."""

    serializer_class = VariablesSetRequestSerializer  # OPTIONS describes the request body

    @extend_schema(request=VariablesSetRequestSerializer,
                   responses={201: VariableRequestSerializer, 202: VariableRequestSerializer})
    def post(self, request, identity):
        station = self.get_station()
        data = self.body(VariablesSetRequestSerializer)
        variable_request = self.send(lambda: commands.set_variables(
            station, data["items"], source=_source(request)))
        return request_response(self, variable_request, data["wait"])


class VariableRequestListView(StationScoped):
    """Variable and monitoring requests sent to the station, newest first, with item results."""

    queryset = VariableRequest.objects.none()  # for the schema; views filter by station
    serializer_class = VariableRequestSerializer

    @extend_schema(operation_id="stations_variables_requests_list",
                   responses=VariableRequestSerializer(many=True))
    def get(self, request, identity):
        station = self.get_station()
        queryset = (VariableRequest.objects.filter(station=station)
                    .select_related("station").prefetch_related("items"))
        return self.listing(queryset, VariableRequestSerializer)


class VariableRequestDetailView(StationScoped):
    serializer_class = VariableRequestSerializer

    def get(self, request, identity, pk):
        station = self.get_station()
        variable_request = get_object_or_404(VariableRequest, station=station, pk=pk)
        commands.settle_variable_request(variable_request)
        return Response(VariableRequestSerializer(variable_request, context={"request": request}).data)


class ValueChangeListView(StationScoped):
    """The history of the station's attribute values: old, new, when, and what changed it."""

    queryset = VariableValueChange.objects.none()  # for the schema; views filter by station
    serializer_class = ValueChangeSerializer
    filterset_class = ValueChangeFilter

    @extend_schema(operation_id="stations_variables_changes_list",
                   responses=ValueChangeSerializer(many=True))
    def get(self, request, identity):
        station = self.get_station()
        queryset = self.filtered(ValueChangeFilter, VariableValueChange.objects.filter(
            attribute__variable__station=station).select_related("attribute__variable__component"))
        return self.listing(queryset, ValueChangeSerializer)


class ReportListView(StationScoped):
    """GET: report requests and their progress. POST: request a report (GetBaseReport,
    GetReport, GetMonitoringReport; 1.6 GetConfiguration); `wait` for the station's answer."""

    queryset = Report.objects.none()  # for the schema; views filter by station
    serializer_class = ReportSerializer

    @extend_schema(operation_id="stations_reports_list", responses=ReportSerializer(many=True))
    def get(self, request, identity):
        station = self.get_station()
        return self.listing(Report.objects.filter(station=station).select_related("station"),
                            ReportSerializer)

    @extend_schema(request=ReportRequestSerializer,
                   responses={201: ReportSerializer, 202: ReportSerializer})
    def post(self, request, identity):
        station = self.get_station()
        data = self.body(ReportRequestSerializer)
        report = self.send(lambda: commands.request_report(
            station, data["kind"], data.get("component_variables"),
            data.get("component_criteria"), data.get("monitoring_criteria"),
            source=_source(request)))
        if data["wait"]:
            report = commands.wait_for_report(report, data["wait"])
        body = ReportSerializer(report, context={"request": request}).data
        code = status.HTTP_202_ACCEPTED if report.status == Report.Status.REQUESTED \
            else status.HTTP_201_CREATED
        return Response(body, status=code, headers={"Location": body["url"]})


class ReportDetailView(StationScoped):
    serializer_class = ReportSerializer

    def get(self, request, identity, request_id):
        station = self.get_station()
        report = get_object_or_404(Report.objects.select_related("command"), station=station,
                                   request_id=request_id)
        commands.settle_report(report)
        return Response(ReportSerializer(report, context={"request": request}).data)


class MonitorListView(StationScoped):
    """GET: the monitors installed on the station. POST: SetVariableMonitoring (checked against
    the variables' characteristics first); the ids the station assigns are stored."""

    queryset = VariableMonitor.objects.none()  # for the schema; views filter by station
    serializer_class = MonitorSerializer
    filterset_class = MonitorFilter

    @extend_schema(operation_id="stations_monitors_list", responses=MonitorSerializer(many=True))
    def get(self, request, identity):
        station = self.get_station()
        queryset = self.filtered(MonitorFilter, VariableMonitor.objects.filter(
            station=station).select_related("variable__component"))
        return self.listing(queryset, MonitorSerializer)

    @extend_schema(request=MonitorsSetRequestSerializer,
                   responses={201: VariableRequestSerializer, 202: VariableRequestSerializer})
    def post(self, request, identity):
        station = self.get_station()
        data = self.body(MonitorsSetRequestSerializer)
        variable_request = self.send(lambda: commands.set_variable_monitoring(
            station, data["monitors"], source=_source(request)))
        return request_response(self, variable_request, data["wait"])


class MonitorClearView(StationScoped):
    """ClearVariableMonitoring by monitor id."""

    serializer_class = MonitorsClearRequestSerializer  # OPTIONS describes the request body

    @extend_schema(request=MonitorsClearRequestSerializer,
                   responses={201: VariableRequestSerializer, 202: VariableRequestSerializer})
    def post(self, request, identity):
        station = self.get_station()
        data = self.body(MonitorsClearRequestSerializer)
        variable_request = self.send(lambda: commands.clear_variable_monitoring(
            station, data["ids"], source=_source(request)))
        return request_response(self, variable_request, data["wait"])


class MonitoringBaseView(StationScoped):
    """SetMonitoringBase (All, FactoryDefault, HardWiredOnly)."""

    serializer_class = MonitoringBaseRequestSerializer  # OPTIONS describes the request body

    @extend_schema(request=MonitoringBaseRequestSerializer,
                   responses={201: CommandSerializer, 202: CommandSerializer})
    def post(self, request, identity):
        station = self.get_station()
        data = self.body(MonitoringBaseRequestSerializer)
        command = self.send(lambda: commands.set_monitoring_base(
            station, data["monitoring_base"], source=_source(request)))
        return command_response(request, command, data["wait"])


class MonitoringLevelView(StationScoped):
    """SetMonitoringLevel: the station reports only events of this severity or more severe."""

    serializer_class = MonitoringLevelRequestSerializer  # OPTIONS describes the request body

    @extend_schema(request=MonitoringLevelRequestSerializer,
                   responses={201: CommandSerializer, 202: CommandSerializer})
    def post(self, request, identity):
        station = self.get_station()
        data = self.body(MonitoringLevelRequestSerializer)
        command = self.send(lambda: commands.set_monitoring_level(
            station, data["severity"], source=_source(request)))
        return command_response(request, command, data["wait"])


def events_queryset():
    return Event.objects.select_related("station", "variable__component")


class StationEventListView(StationScoped):
    """The station's events (NotifyEvent), newest first; filter by severity, cleared, active,
    component, variable, trigger, time."""

    queryset = Event.objects.none()  # for the schema; views filter by station
    serializer_class = EventSerializer
    filterset_class = EventFilter

    @extend_schema(operation_id="stations_events_list", responses=EventSerializer(many=True))
    def get(self, request, identity):
        station = self.get_station()
        queryset = self.filtered(EventFilter, events_queryset().filter(station=station))
        return self.listing(queryset, EventSerializer)


class EventViewSet(viewsets.ReadOnlyModelViewSet):
    """Events of every station; `?active=true` lists the alerts still active across the network."""

    serializer_class = EventSerializer
    filterset_class = EventFilter
    ordering_fields = ["timestamp", "severity", "received_at"]

    def get_queryset(self):
        return events_queryset()


class ProvisioningPolicyViewSet(viewsets.ModelViewSet):
    """What to read and set on stations at boot, and whether to accept a Pending station after."""

    queryset = ProvisioningPolicy.objects.all()
    serializer_class = ProvisioningPolicySerializer
    filterset_fields = ["enabled", "ocpp_version", "vendor_name", "model"]


class ProvisioningRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                             viewsets.GenericViewSet):
    """Provisioning runs, one per boot that matched a policy, with what each step got."""

    queryset = ProvisioningRun.objects.select_related("station").prefetch_related("policies")
    serializer_class = ProvisioningRunSerializer
    filterset_fields = ["status", "station__identity"]
