"""Logs on the dashboard (the station panel: request a log, follow it, download it) and the
upload target stations send their log files to (no login: the one-time token is the key)."""
import logging

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import FileResponse, Http404, JsonResponse
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from csms.ocpp import outbound

from ..actions import logs as log_actions
from ..commands import StationNotReady
from ..commands import logs as log_commands
from ..models import LogRequest, Station

logger = logging.getLogger(__name__)
PANEL_ROWS = 10
# The station's answer usually arrives within this; a later one shows up in the panel.
COMMAND_WAIT_SECONDS = 1.5
# Room for a one-file form's boundaries and part headers around the file itself.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
UPLOAD_METHODS = ("PUT", "POST")


# --- the upload target -------------------------------------------------------------------------

class FirstFileHandler(FileUploadHandler):
    """Multipart uploads: the first file part (whatever its field name) goes to the sink; any
    further file parts are skipped."""

    def __init__(self, sink):
        super().__init__()
        self.sink = sink
        self.file_name = None
        self.taken = False

    def new_file(self, field_name, file_name, *args, **kwargs):
        if self.taken:
            raise SkipFile()
        self.taken = True
        self.file_name = file_name

    def receive_data_chunk(self, raw_data, start):
        self.sink.write(raw_data)  # raises UploadTooLarge past the request's limit

    def file_complete(self, file_size):
        return None  # kept by the sink, not in request.FILES


def _refusal(status, detail, **headers):
    response = JsonResponse({"detail": detail}, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


@csrf_exempt
def log_upload(request, token, file_name=""):
    """PUT of the raw body, POST multipart/form-data (one file field, any name) or POST of a raw
    body. 201 once stored; 404 unknown token, 410 used or expired, 413 too large, 405 other
    methods. A station may add its file name to the URL (`.../<token>/<name>`)."""
    if request.method not in UPLOAD_METHODS:
        return _refusal(405, "Upload the log with PUT or POST.", Allow=", ".join(UPLOAD_METHODS))
    try:
        log_request = log_actions.find_upload_target(token)
    except log_actions.UploadRefused as refusal:
        return _refusal(refusal.status, str(refusal))
    content_type = request.META.get("CONTENT_TYPE", "")
    multipart = request.method == "POST" and content_type.startswith("multipart/form-data")
    declared = _declared_length(request)
    allowed = log_request.max_bytes + (MULTIPART_OVERHEAD_BYTES if multipart else 0)
    if declared is not None and declared > allowed:
        return _refusal(413, str(log_actions.UploadTooLarge(log_request.max_bytes)))
    sink = log_actions.UploadSink(log_request.max_bytes)
    try:
        if multipart:
            handler = FirstFileHandler(sink)
            MultiPartParser(request.META, request, [handler], request.encoding).parse()
            if not handler.taken:
                return _refusal(400, "The form holds no file part.")
            file_name = handler.file_name or file_name
        else:
            sink.read_from(request)
        log_request = log_actions.store_upload(log_request, sink, file_name)
    except log_actions.UploadRefused as refusal:
        logger.warning("Log upload for request %s refused: %s", log_request.pk, refusal)
        return _refusal(refusal.status, str(refusal))
    except RequestDataTooBig:
        return _refusal(413, "The form's non-file fields are too large.")
    except MultiPartParserError as error:
        return _refusal(400, f"Unreadable multipart body: {error}")
    finally:
        sink.close()
    return JsonResponse({"detail": "Stored.", "size": log_request.size,
                         "sha256": log_request.sha256}, status=201)


def _declared_length(request):
    try:
        return int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None


# --- the station panel -------------------------------------------------------------------------

class LogRequestForm(forms.Form):
    kind = forms.ChoiceField(choices=LogRequest.Kind.choices)
    oldest_timestamp = forms.DateTimeField(required=False, label="From")
    latest_timestamp = forms.DateTimeField(required=False, label="To")
    retries = forms.IntegerField(required=False, min_value=0, max_value=100)
    retry_interval = forms.IntegerField(required=False, min_value=0, max_value=86400)


@login_required
@require_GET
def station_logs(request, identity):
    """The panel's rows: the station's newest log requests (read after the page loads, so the
    station page's own query count stays fixed)."""
    station = get_object_or_404(Station, identity=identity)
    rows = list(station.log_requests.all()[:PANEL_ROWS])
    return render(request, "stations/logs_rows.html", {"log_requests": rows, "station": station,
                                                       "now": timezone.now()})


@login_required
@require_POST
def station_log_request(request, identity):
    station = get_object_or_404(Station, identity=identity)
    form = LogRequestForm(request.POST)
    target = reverse("stations:detail", args=[station.identity]) + "#logs-panel"
    if not form.is_valid():
        errors = "; ".join(f"{field}: {' '.join(problems)}" for field, problems in form.errors.items())
        messages.error(request, f"Log request not sent: {errors}")
        return redirect(target)
    data = form.cleaned_data
    try:
        log_request, command = log_commands.request_log(
            station, data["kind"], data.get("oldest_timestamp"), data.get("latest_timestamp"),
            data.get("retries"), data.get("retry_interval"),
            source=f"dashboard:{request.user.username}")
    except (StationNotReady, outbound.InvalidCommand) as error:
        messages.error(request, f"Log request not sent: {error}")
        return redirect(target)
    command = outbound.wait_for_outcome(command, COMMAND_WAIT_SECONDS)
    if command.is_finished:
        log_request = log_actions.settle_command(command) or log_request
        log_request.refresh_from_db()
    text = f"{command.action} #{log_request.request_id}: {log_request.status}"
    level = (messages.ERROR if log_request.status in LogRequest.FINAL_STATUSES
             else messages.SUCCESS)
    messages.add_message(request, level, text)
    return redirect(target)


@login_required
@require_GET
def log_download(request, pk):
    log_request = get_object_or_404(LogRequest, pk=pk)
    return file_response(log_request)


def file_response(log_request):
    """The stored file as an attachment under the station's name for it (404 before upload)."""
    if not log_request.file:
        raise Http404("No file has been uploaded for this request.")
    try:
        handle = log_request.file.open("rb")
    except FileNotFoundError:
        raise Http404("The stored file is missing.") from None
    return FileResponse(handle, as_attachment=True, filename=log_request.file_name or "log",
                        content_type="application/octet-stream")
