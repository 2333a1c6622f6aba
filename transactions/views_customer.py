"""Dashboard, staff only (a customer's personal data): erasing an id token's personal data (a
data-protection request), and CustomerInformation requests to stations — the list with a form to
send one, a request's page with the assembled document and its download."""
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from csms.ocpp import outbound
from csms.ocpp.framing import OCPP201
from stations.commands import StationNotReady
from stations.models import Station

from .actions import InvalidRequest, customer_data
from .models import CustomerInformationRequest, IdToken, IdTokenType

# The station's answer usually arrives within a moment; the page shows it when it does.
ANSWER_WAIT_SECONDS = 1.5
PAGE_SIZE = 50
HASH_ALGORITHMS = [("SHA256", "SHA256"), ("SHA384", "SHA384"), ("SHA512", "SHA512")]
# The narrow form card stretches its inputs; a checkbox keeps its own size beside its label.
CHECKBOX = forms.CheckboxInput(attrs={"style": "width: auto"})
CERTIFICATE_FIELDS = {"certificate_hash_algorithm": "hashAlgorithm",
                      "certificate_issuer_name_hash": "issuerNameHash",
                      "certificate_issuer_key_hash": "issuerKeyHash",
                      "certificate_serial_number": "serialNumber"}


def _require_operator(request):
    if not request.user.is_staff:
        raise PermissionDenied("Only operators (staff users) may handle a customer's data.")


@login_required
@require_POST
def token_erase(request, pk):
    if not request.user.is_staff:
        raise PermissionDenied("Only operators (staff users) may erase a customer's data.")
    token = get_object_or_404(IdToken, pk=pk)
    try:
        erasure = customer_data.erase_id_token(
            token, request.user.get_username(), request.POST.get("reason", "")[:500],
            clear_at_stations=request.POST.get("clear_at_stations") == "on",
            source=f"dashboard:{request.user.username}")
    except InvalidRequest as error:
        messages.error(request, f"Not erased: {error}")
    else:
        sent = len(erasure.erased.get("station_requests", []))
        messages.success(request, f"Token #{token.pk} erased: now {erasure.pseudonym}; "
                                  f"{erasure.erased['transactions']} transaction(s) keep their "
                                  f"billing data" + (f"; {sent} station(s) asked to clear" if sent
                                                     else ""))
    return redirect("transactions:tokens")


# --- CustomerInformation requests ---------------------------------------------------------------

class CustomerInformationForm(forms.Form):
    """The API's rules: exactly one identifier (id token, customer identifier or certificate
    hash data, all four fields), a report and/or a clear; OCPP 2.0.1 stations only."""

    station = forms.ModelChoiceField(
        queryset=Station.objects.filter(ocpp_version=OCPP201).order_by("identity"),
        to_field_name="identity", help_text="OCPP 2.0.1 stations",
        error_messages={"invalid_choice": "Choose an OCPP 2.0.1 station: CustomerInformation "
                                          "is OCPP 2.0.1 only."})
    report = forms.BooleanField(required=False, initial=True, widget=CHECKBOX,
                                help_text="Ask for what it holds about the customer")
    clear = forms.BooleanField(required=False, widget=CHECKBOX,
                               help_text="Ask it to clear that data")
    id_token = forms.CharField(max_length=36, required=False, label="Id token")
    id_token_type = forms.ChoiceField(choices=IdTokenType.choices, initial="ISO14443",
                                      label="Id token type")
    customer_identifier = forms.CharField(max_length=64, required=False,
                                          label="or customer identifier")
    certificate_hash_algorithm = forms.ChoiceField(
        choices=[("", "—")] + HASH_ALGORITHMS, required=False,
        label="or customer certificate: hash algorithm")
    certificate_issuer_name_hash = forms.CharField(max_length=128, required=False,
                                                   label="issuer name hash")
    certificate_issuer_key_hash = forms.CharField(max_length=128, required=False,
                                                  label="issuer key hash")
    certificate_serial_number = forms.CharField(max_length=40, required=False,
                                                label="serial number")

    def clean(self):
        data = super().clean()
        certificate = {key: data.get(field, "").strip()
                       for field, key in CERTIFICATE_FIELDS.items()}
        if any(certificate.values()) and not all(certificate.values()):
            raise forms.ValidationError("A customer certificate needs all four of hash "
                                        "algorithm, issuer name hash, issuer key hash and "
                                        "serial number.")
        data["customer_certificate"] = certificate if all(certificate.values()) else None
        data["id_token"] = data.get("id_token", "").strip()
        data["customer_identifier"] = data.get("customer_identifier", "").strip()
        reasons = customer_data.check_request(
            data.get("report"), data.get("clear"), data["id_token"] or None,
            data["customer_identifier"], data["customer_certificate"])
        if reasons:
            raise forms.ValidationError([reason[0].upper() + reason[1:] + "." for reason in
                                         reasons])
        return data


def identifier_of(info):
    """(kind, value) of the identifier a request names."""
    if info.id_token:
        return "id token", f"{info.id_token} ({info.id_token_type})"
    if info.customer_identifier:
        return "customer identifier", info.customer_identifier
    certificate = info.customer_certificate or {}
    return "certificate", f"serial {certificate.get('serialNumber', '?')}"


@login_required
def customer_information_list(request):
    _require_operator(request)
    form = CustomerInformationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            info, command = customer_data.customer_information(
                data["station"], report=data["report"], clear=data["clear"],
                id_token=data["id_token"] or None, id_token_type=data["id_token_type"],
                customer_identifier=data["customer_identifier"],
                customer_certificate=data["customer_certificate"],
                requested_by=request.user.get_username(),
                source=f"dashboard:{request.user.username}")
        except (InvalidRequest, StationNotReady) as error:
            form.add_error(None, str(error))
        else:
            command = outbound.wait_for_outcome(command, ANSWER_WAIT_SECONDS)
            if command.is_finished:
                customer_data.settle_request(command)
            info.refresh_from_db()
            messages.success(request, f"CustomerInformation sent to {info.station.identity} "
                                      f"(requestId {info.pk}): {info.status}.")
            return redirect("transactions:customer-information-detail", pk=info.pk)
    requests = CustomerInformationRequest.objects.select_related("station").defer("document")
    station = request.GET.get("station", "").strip()
    if station:
        requests = requests.filter(station__identity=station)
    page = Paginator(requests, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(info, *identifier_of(info)) for info in page]
    return render(request, "transactions/customer_information_list.html",
                  {"form": form, "rows": rows, "page": page, "station": station},
                  status=400 if form.is_bound else 200)


@login_required
@require_GET
def customer_information_detail(request, pk):
    _require_operator(request)
    info = get_object_or_404(CustomerInformationRequest.objects.select_related(
        "station", "command", "erasure"), pk=pk)
    kind, value = identifier_of(info)
    parts = [{"seq_no": int(seq_no), **part} for seq_no, part in info.parts.items()]
    parts.sort(key=lambda part: part["seq_no"])
    return render(request, "transactions/customer_information_detail.html",
                  {"info": info, "identifier_kind": kind, "identifier": value, "parts": parts})


@login_required
@require_GET
def customer_information_download(request, pk):
    _require_operator(request)
    info = get_object_or_404(CustomerInformationRequest.objects.select_related("station"), pk=pk)
    if info.status != CustomerInformationRequest.Status.COMPLETE:
        messages.error(request, f"Request {info.pk} is {info.status}: its document is not "
                                "complete yet.")
        return redirect("transactions:customer-information-detail", pk=info.pk)
    response = HttpResponse(info.document, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="customer-information-{info.station.identity}-{info.pk}.txt"')
    return response
