"""Certificates on the dashboard: the station panel (its certificates and CSRs; install a root,
ask for the installed ids, delete one, ask for a new CSR), the network certificates page and
the CA's certificates as PEM downloads (for the TLS proxy's ssl_client_certificate)."""
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from csms.ocpp import outbound

from ..actions import certificates as actions
from ..commands import StationNotReady
from ..commands import certificates as commands
from ..models import CertificateSigningRequest, Station, StationCertificate
from ..models.certificates import CertificateType, ROOT_TYPES, SIGNED_TYPES
from ..security import ca
from ..security import x509 as certs

PANEL_ROWS = 20
PAGE_ROWS = 200
COMMAND_WAIT_SECONDS = 1.5
Status = StationCertificate.Status


class InstallForm(forms.Form):
    certificate_type = forms.ChoiceField(choices=[(kind, kind) for kind in ROOT_TYPES])
    certificate = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=5500)


class RenewForm(forms.Form):
    certificate_type = forms.ChoiceField(choices=[(kind, kind) for kind in SIGNED_TYPES],
                                         initial=CertificateType.CHARGING_STATION)


class NetworkFilter(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", "any status")] + Status.choices)
    certificate_type = forms.ChoiceField(required=False, choices=[("", "any type")] + [
        (kind, kind) for kind in CertificateType.values])
    expires_within_days = forms.IntegerField(required=False, min_value=0, max_value=36500)
    station = forms.CharField(required=False, max_length=48)


def _panel(station):
    return reverse("stations:detail", args=[station.identity]) + "#certificates-panel"


def _errors(form):
    return "; ".join(f"{field}: {' '.join(problems)}" for field, problems in form.errors.items())


def _report(request, command, what):
    command = outbound.wait_for_outcome(command, COMMAND_WAIT_SECONDS)
    if command.is_finished:
        actions.settle_row(command)  # the receiver may not have run yet
    answer = (command.response or {}).get("status") or command.error_code or command.status
    level = messages.SUCCESS if command.status in ("accepted", "queued", "sent") else messages.ERROR
    messages.add_message(request, level, f"{what}: {answer}")


@login_required
@require_GET
def station_certificates(request, identity):
    """The panel's rows, read after the page loads (the station page's query count stays fixed)."""
    station = get_object_or_404(Station, identity=identity)
    return render(request, "stations/certificates_rows.html", {
        "station": station, "now": timezone.now(),
        "certificates": station.certificates.exclude(status=Status.DELETED)[:PANEL_ROWS],
        "signing_requests": station.signing_requests.all()[:5]})


@login_required
@require_POST
def station_certificate_command(request, identity, operation):
    station = get_object_or_404(Station, identity=identity)
    source = f"dashboard:{request.user.username}"
    try:
        if operation == "install":
            form = InstallForm(request.POST)
            if not form.is_valid():
                messages.error(request, f"InstallCertificate not sent: {_errors(form)}")
                return redirect(_panel(station))
            _, command = commands.install_certificate(
                station, form.cleaned_data["certificate_type"], form.cleaned_data["certificate"],
                source=source)
            _report(request, command, "InstallCertificate")
        elif operation == "report":
            types = request.POST.getlist("certificate_type") or None
            _report(request, commands.get_installed_certificate_ids(station, types, source=source),
                    "GetInstalledCertificateIds")
        elif operation == "renew":
            form = RenewForm(request.POST)
            if not form.is_valid():
                messages.error(request, f"Renewal not requested: {_errors(form)}")
                return redirect(_panel(station))
            _report(request, commands.request_new_certificate(
                station, form.cleaned_data["certificate_type"], source=source), "Renewal request")
        elif operation == "delete":
            row = station.certificates.filter(pk=request.POST.get("certificate") or 0).first()
            if row is None or row.hash_data() is None:
                messages.error(request, "DeleteCertificate not sent: no such certificate with known hash data")
                return redirect(_panel(station))
            _, command = commands.delete_certificate(
                station, certs.HashData.from_ocpp(row.hash_data()), source=source)
            _report(request, command, "DeleteCertificate")
        else:
            raise Http404("Unknown certificate operation")
    except (StationNotReady, outbound.InvalidCommand) as error:
        messages.error(request, f"Not sent: {error}")
    return redirect(_panel(station))


@login_required
@require_GET
def network_certificates(request):
    """Every station's certificates (filter by status, type, expiry, station), the latest CSR
    verdicts and the CA."""
    form = NetworkFilter(request.GET or None)
    rows = StationCertificate.objects.select_related("station").exclude(status=Status.DELETED)
    if form.is_valid():
        data = form.cleaned_data
        if data["status"]:
            rows = rows.filter(status=data["status"])
        if data["certificate_type"]:
            rows = rows.filter(certificate_type=data["certificate_type"])
        if data["expires_within_days"] is not None:
            rows = rows.filter(not_after__lte=timezone.now() + timedelta(
                days=data["expires_within_days"]))
        if data["station"]:
            rows = rows.filter(station__identity__icontains=data["station"])
    try:
        authority, authority_error = ca.authority(), ""
    except ca.CaUnavailable as error:
        authority, authority_error = None, str(error)
    return render(request, "stations/certificates.html", {
        "form": form, "certificates": rows.order_by("not_after", "-id")[:PAGE_ROWS],
        "signing_requests": CertificateSigningRequest.objects.select_related("station")[:20],
        "authority": authority, "authority_error": authority_error, "now": timezone.now(),
        "renewal_days": settings.CERTIFICATE_RENEWAL_DAYS})


@login_required
@require_GET
def ca_certificate_download(request, which):
    """root.pem (the trust anchor) or chain.pem (issuing CA then its chain up to the root)."""
    try:
        authority = ca.authority()
    except ca.CaUnavailable as error:
        return HttpResponse(str(error), status=503, content_type="text/plain")
    if which == "root.pem":
        body = certs.pem_of(authority.root)
    elif which == "chain.pem":
        body = authority.chain_pem()
    else:
        raise Http404("root.pem or chain.pem")
    response = HttpResponse(body, content_type="application/x-pem-file")
    response["Content-Disposition"] = f'attachment; filename="csms-ca-{which}"'
    return response
