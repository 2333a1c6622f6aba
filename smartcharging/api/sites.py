"""The sites API: a grid connection's limit over time, its member stations, the live allocation
per EVSE, and a reallocation round on request."""
from django.db import transaction as db_transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from smartcharging import actions
from smartcharging.models import Site, SiteMember

from .site_serializers import (
    RoundSummarySerializer, SiteLiveSerializer, SiteMemberSerializer, SiteMemberUpdateSerializer,
    SiteSerializer,
)


class SiteViewSet(viewsets.ModelViewSet):
    """Sites: stations (1.6 and 2.0.1 mixed) behind one grid connection whose limit the CSMS
    shares between running transactions, so that what the stations are allowed never sums above
    it. Any change of the limit or the members starts a reallocation round."""

    queryset = Site.objects.prefetch_related("members__station")
    serializer_class = SiteSerializer
    ordering_fields = ["id", "name", "created_at"]

    def perform_create(self, serializer):
        with db_transaction.atomic():
            site = serializer.save()
            actions.site_changed(site.pk)

    def perform_update(self, serializer):
        with db_transaction.atomic():
            site = serializer.save()
            actions.site_changed(site.pk)

    def perform_destroy(self, instance):
        for member in list(instance.members.all()):
            actions.remove_member(member, source=f"api:{self.request.user.username}")
        instance.delete()

    @extend_schema(request=SiteMemberSerializer, responses={200: SiteMemberSerializer(many=True),
                                                            201: SiteMemberSerializer})
    @action(detail=True, methods=["get", "post"])
    def members(self, request, pk=None):
        """GET: the member stations. POST: add a station (a station belongs to one site at
        most); it gets the fallback TxDefaultProfile and the site a round."""
        site = self.get_object()
        if request.method == "GET":
            return Response(SiteMemberSerializer(site.members.select_related("station"),
                                                 many=True).data)
        body = SiteMemberSerializer(data=request.data, context={"site": site})
        body.is_valid(raise_exception=True)
        with db_transaction.atomic():
            member = body.save(site=site)
            actions.site_changed(site.pk)
        return Response(SiteMemberSerializer(member).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=SiteMemberUpdateSerializer,
                   responses={200: SiteMemberSerializer, 204: None})
    @action(detail=True, methods=["patch", "delete"], url_path=r"members/(?P<identity>[^/]+)")
    def member(self, request, pk=None, identity=None):
        """PATCH: change a member's EVSE maximum or unit. DELETE: the station leaves the site
        (the site's profiles on it are cleared)."""
        site = self.get_object()
        member = SiteMember.objects.filter(site=site, station__identity=identity).select_related(
            "station").first()
        if member is None:
            raise NotFound(f"{identity} is not a member of site {site.pk}")
        if request.method == "DELETE":
            actions.remove_member(member, source=f"api:{request.user.username}")
            return Response(status=status.HTTP_204_NO_CONTENT)
        body = SiteMemberUpdateSerializer(member, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        with db_transaction.atomic():
            member = body.save()
            actions.member_changed(member)
        return Response(SiteMemberSerializer(member).data)

    @extend_schema(responses={200: SiteLiveSerializer})
    @action(detail=True, methods=["get"])
    def allocation(self, request, pk=None):
        """The site now: limit, fallback, budget, and each EVSE's target, held share, state and
        measured power."""
        site = self.get_object()
        return Response(SiteLiveSerializer(actions.site_live(site)).data)

    @extend_schema(request=None, responses={
        200: RoundSummarySerializer,
        409: OpenApiResponse(description="A round is running on this site; another follows it.")})
    @action(detail=True, methods=["post"])
    def reallocate(self, request, pk=None):
        """Run a reallocation round now and answer with what it did (decreases sent and answered
        first, then the increases; timings). Waits for the stations, at most about four call
        timeouts."""
        site = self.get_object()
        if not site.enabled:
            return Response({"detail": f"site {site.pk} is disabled"},
                            status=status.HTTP_409_CONFLICT)
        summary = actions.reallocate_site(site.pk)
        if summary is None:
            actions.request_reallocation(site.pk)
            return Response({"detail": "a round is running on this site; another follows it"},
                            status=status.HTTP_409_CONFLICT)
        return Response(RoundSummarySerializer(summary).data)
