"""Limit/offset paging for every API list: bounded page size, and a 400 for a limit or offset that
is not a whole number in range (never a silent default, never an unbounded query)."""
import re

from django.conf import settings
from rest_framework import pagination
from rest_framework.exceptions import ValidationError

# Past any real row count, and small enough that offset + limit still fits a 64-bit integer.
MAX_OFFSET = 2**62
WHOLE_NUMBER = re.compile(r"[0-9]{1,19}")


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    """`limit` 1..API_MAX_PAGE_SIZE (default PAGE_SIZE), `offset` 0..2^62 (default 0)."""

    @property
    def max_limit(self):
        return settings.API_MAX_PAGE_SIZE

    def get_limit(self, request):
        return self._parameter(request, self.limit_query_param, self.default_limit, 1, self.max_limit)

    def get_offset(self, request):
        return self._parameter(request, self.offset_query_param, 0, 0, MAX_OFFSET)

    def _parameter(self, request, name, default, minimum, maximum):
        value = request.query_params.get(name)
        if value is None:
            return default
        number = int(value) if WHOLE_NUMBER.fullmatch(value) else None
        if number is None or not minimum <= number <= maximum:
            raise ValidationError({name: [f"A whole number from {minimum} to {maximum}."]})
        return number

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.limit_query_param: {"minimum": 1, "maximum": self.max_limit, "default": self.default_limit},
            self.offset_query_param: {"minimum": 0, "maximum": MAX_OFFSET, "default": 0},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
            if parameter["name"] == self.limit_query_param:
                parameter["description"] = (f"Number of results to return per page (1 to {self.max_limit}, "
                                            f"default {self.default_limit}).")
        return parameters
