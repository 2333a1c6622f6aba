"""Firmware pages: the images list with its upload form, a station's updates, and the
token-protected download stations fetch their image from (no login: stations cannot log in)."""
import base64
import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from csms.ocpp import outbound
from csms.ocpp.framing import OCPP201

from ..actions import firmware as firmware_actions
from ..commands import StationNotReady
from .firmware_forms import FirmwareImageForm, FirmwareUpdateForm
from ..models import FirmwareImage, FirmwarePublication, FirmwareUpdate, Station

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 64 * 1024
ANSWER_WAIT_SECONDS = 1.5
PANEL_ROWS = 20
PUBLICATION_ROWS = 50


# --- the station's download ----------------------------------------------------------------

@require_http_methods(["GET", "HEAD"])
def firmware_download(request, token, filename):
    row = firmware_actions.find_download(token)
    if row is None or filename != (row.image.filename or "image"):
        raise Http404("Unknown or expired firmware link")
    image = row.image
    try:
        handle = image.file.open("rb")
    except OSError:
        raise Http404("The firmware file is gone from storage")
    size = image.size if image.size is not None else image.file.size
    byte_range = _parse_range(request.headers.get("Range", ""), size)
    if byte_range == "unsatisfiable":
        handle.close()
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    if byte_range is None:
        response = FileResponse(handle, content_type="application/octet-stream",
                                as_attachment=True, filename=image.filename)
        start = 0
    else:
        start, end = byte_range
        handle.seek(start)
        response = StreamingHttpResponse(_read(handle, end - start + 1), status=206,
                                         content_type="application/octet-stream")
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
    response["Accept-Ranges"] = "bytes"
    response["Digest"] = "sha-256=" + base64.b64encode(bytes.fromhex(image.sha256)).decode()
    response["X-Checksum-SHA256"] = image.sha256
    response["X-Firmware-Version"] = image.version
    if request.method == "GET" and start == 0:
        firmware_actions.count_download(row)  # a resumed download is the same download
    return response


def _parse_range(header, size):
    """(start, end) of one byte range, None for the whole file, "unsatisfiable" past its end."""
    match = RANGE.match(header.strip())
    if not match or not any(match.groups()):
        return None  # no Range, or several ranges: the whole file answers either
    first, last = match.groups()
    if not first:
        length = int(last)
        if length == 0:
            return "unsatisfiable"
        return max(size - length, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return "unsatisfiable"
    return start, end


def _read(handle, remaining):
    try:
        while remaining > 0:
            chunk = handle.read(min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        handle.close()


# --- dashboard -----------------------------------------------------------------------------

@login_required
def firmware_images(request):
    form = FirmwareImageForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            image = firmware_actions.create_image(
                name=data["name"], version=data["version"], vendor=data["vendor"],
                model=data["model"], upload=data.get("file"), external_url=data["external_url"],
                signature=data["signature"], signing_certificate=data["signing_certificate"],
                uploaded_by=request.user)
        except firmware_actions.InvalidFirmware as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Firmware {image} stored.")
            return redirect("stations:firmware")
    images = FirmwareImage.objects.select_related("uploaded_by")
    status = 400 if form.is_bound else 200
    return render(request, "stations/firmware.html", {
        "form": form, "images": images, "controllers": _local_controllers(),
        "publications": FirmwarePublication.objects.select_related("station", "image")[
            :PUBLICATION_ROWS]}, status=status)


def _local_controllers():
    """The stations an image can be published to: connected, OCPP 2.0.1 (PublishFirmware)."""
    return Station.objects.filter(online=True, ocpp_version=OCPP201).order_by("identity")


@login_required
@require_POST
def firmware_publish(request, pk):
    """PublishFirmware of an image held by the CSMS to a local controller."""
    image = get_object_or_404(FirmwareImage, pk=pk)
    station = Station.objects.filter(identity=request.POST.get("station", "")).first()
    if station is None:
        messages.error(request, "Publish: choose a connected OCPP 2.0.1 station.")
        return redirect("stations:firmware")
    try:
        publication = firmware_actions.start_publication(
            station, image, source=f"dashboard:{request.user.username}")
    except (StationNotReady, firmware_actions.InvalidFirmware) as error:
        messages.error(request, f"Not published: {error}")
    except outbound.InvalidCommand as error:
        messages.error(request, "Not published: " + "; ".join(error.errors))
    else:
        publication = _settled(publication)
        messages.success(request, f"Firmware {image} sent to {station.identity} to publish "
                                  f"(requestId {publication.request_id}): {publication.status}.")
    return redirect("stations:firmware")


@login_required
@require_POST
def firmware_unpublish(request, pk):
    """UnpublishFirmware of the publication's image (by its MD5) on its local controller."""
    publication = get_object_or_404(FirmwarePublication.objects.select_related("station", "image"),
                                    pk=pk)
    try:
        command = firmware_actions.unpublish(publication.station, publication.image,
                                             source=f"dashboard:{request.user.username}")
    except (StationNotReady, firmware_actions.InvalidFirmware) as error:
        messages.error(request, f"Not unpublished: {error}")
        return redirect("stations:firmware")
    command = outbound.wait_for_outcome(command, ANSWER_WAIT_SECONDS)
    if command.is_finished:
        firmware_actions.settle_command(command)
    answer = (command.response or {}).get("status") or command.error_code or command.status
    report = messages.success if answer == "Unpublished" else messages.error
    report(request, f"UnpublishFirmware of {publication.image} at {publication.station.identity}: "
                    f"{answer}.")
    return redirect("stations:firmware")


def _settled(row):
    if row.command is not None:
        command = outbound.wait_for_outcome(row.command, ANSWER_WAIT_SECONDS)
        if command.is_finished:
            firmware_actions.settle_command(command)
        row.refresh_from_db()
    return row


@login_required
@require_POST
def firmware_image_delete(request, pk):
    image = get_object_or_404(FirmwareImage, pk=pk)
    try:
        firmware_actions.delete_image(image)
        messages.success(request, f"Firmware {image} deleted.")
    except firmware_actions.ImageInUse as error:
        messages.error(request, str(error))
    return redirect("stations:firmware")


@login_required
@require_POST
def station_firmware_update(request, identity):
    station = get_object_or_404(Station, identity=identity)
    form = FirmwareUpdateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Firmware update: " + "; ".join(
            f"{field}: {' '.join(errors)}" for field, errors in form.errors.items()))
        return redirect("stations:detail", identity=identity)
    data = form.cleaned_data
    try:
        update = firmware_actions.start_update(
            station, data["image"], retrieve_at=data.get("retrieve_at"),
            install_at=data.get("install_at"), retries=data.get("retries"),
            retry_interval=data.get("retry_interval"), force=data.get("force", False),
            source=f"dashboard:{request.user.username}")
    except (StationNotReady, firmware_actions.InvalidFirmware) as error:
        messages.error(request, str(error))
    else:
        if update.command is not None:
            # The answer usually arrives within a moment; apply it here so the page shows it.
            command = outbound.wait_for_outcome(update.command, ANSWER_WAIT_SECONDS)
            if command.is_finished:
                firmware_actions.settle_command(command)
                update.refresh_from_db()
        messages.success(request, f"Firmware {update.image} sent to {station.identity} "
                                  f"(requestId {update.request_id}): {update.status}.")
    return redirect("stations:detail", identity=identity)


@login_required
@require_GET
def station_firmware_panel(request, identity):
    """The station page's firmware panel body: the push form and the station's updates."""
    station = get_object_or_404(Station, identity=identity)
    updates = FirmwareUpdate.objects.filter(station=station).select_related("image")[:PANEL_ROWS]
    return render(request, "stations/firmware_panel_body.html",
                  {"station": station, "updates": updates, "form": FirmwareUpdateForm()})
