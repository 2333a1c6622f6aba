from rest_framework import mixins, viewsets

from csms.models import Command

from .filters import CommandFilter
from .serializers import CommandSerializer


class CommandViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Commands sent to stations, with their outcome."""

    queryset = Command.objects.all()
    serializer_class = CommandSerializer
    filterset_class = CommandFilter
    ordering_fields = ["id", "created_at"]
