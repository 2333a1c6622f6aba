"""The API's answer to a posted command, shared by every app that sends commands (stations,
transactions, devicemodel): kept here so those apps' views need not import each other."""
from rest_framework import status
from rest_framework.response import Response

from csms.api.serializers import CommandSerializer
from csms.ocpp import outbound


def command_response(request, command, wait):
    """201 with the outcome when known; else 202 and the command's URL to follow."""
    if wait:
        command = outbound.wait_for_outcome(command, wait)
    data = CommandSerializer(command, context={"request": request}).data
    code = status.HTTP_201_CREATED if command.is_finished else status.HTTP_202_ACCEPTED
    return Response(data, status=code, headers={"Location": data["url"]})
