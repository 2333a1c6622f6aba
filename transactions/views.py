"""Dashboard pages for charging: the live transactions list, one transaction with its chart and
event timeline, token management, and the start/stop/unlock buttons of the station page."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from csms.ocpp import outbound
from stations import commands as station_commands
from stations.models import Station

from . import actions, charts, commands
from .filters import TransactionFilter
from .meter_table import meter_table
from .forms import IdTokenForm, IdTokenImportForm
from .models import IdToken, Transaction
from .reports import transactions_csv_response
from .totals import totals


def _filtered(request):
    return _filter(request).qs


def _filter(request):
    return TransactionFilter(request.GET, Transaction.objects.select_related("station"))


@login_required
def transaction_list(request):
    filterset = _filter(request)
    # The page links keep the filter, not the page number.
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("partial", None)
    context = {"query": query.urlencode(), "filters": request.GET}
    partial = request.GET.get("partial")
    if partial == "totals":
        # The live list re-reads its totals with this after a push...
        context["totals"] = totals(filterset.qs)
        return render(request, "transactions/_transaction_totals.html", context)
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    context.update(page=page, transactions=page.object_list)
    if partial:
        # ... and its rows with this.
        return render(request, "transactions/_transaction_rows.html", context)
    context["totals"] = totals(filterset.qs)
    context["filter_errors"] = filterset.errors if filterset.is_bound else {}
    return render(request, "transactions/transaction_list.html", context)


@login_required
def transaction_export(request):
    return transactions_csv_response(_filtered(request))


@login_required
def transaction_detail(request, pk):
    transaction = get_object_or_404(
        Transaction.objects.select_related("station", "tariff", "id_token", "reservation"), pk=pk)
    context = {
        "transaction": transaction,
        "events": transaction.events.order_by("seq_no", "timestamp", "id"),
        "chart": charts.energy_and_power(transaction),
        "remote_starts": transaction.remote_starts.all(),
    }
    context["meter_columns"], context["meter_rows"], context["meter_page"] = meter_table(
        transaction, request.GET.get("meter_page"))
    return render(request, "transactions/transaction_detail.html", context)


@login_required
@require_POST
def transaction_close(request, pk):
    """The transaction page's Close button: the CSMS closes a transaction the station never ended."""
    transaction = get_object_or_404(Transaction, pk=pk)
    reason = request.POST.get("reason", "").strip()
    if not reason:
        messages.error(request, "Say why the transaction is closed.")
    else:
        try:
            actions.close_transaction(transaction.pk, request.user.get_username(), reason)
        except actions.TransactionEnded as error:
            messages.error(request, str(error))
        else:
            messages.info(request, f"Transaction {transaction.transaction_id} closed")
    return redirect("transactions:detail", pk=pk)


@login_required
def token_list(request):
    form, import_form = IdTokenForm(), IdTokenImportForm()
    if request.method == "POST":
        if request.POST.get("form") == "import":
            import_form = IdTokenImportForm(request.POST, request.FILES)
            if import_form.is_valid():
                try:
                    text = import_form.cleaned_data["file"].read().decode("utf-8-sig")
                    counts = actions.import_tokens_csv(text)
                except (UnicodeDecodeError, actions.InvalidRequest) as error:
                    messages.error(request, f"Import failed: {error}")
                else:
                    messages.info(request, f"Imported: {counts['created']} created, "
                                           f"{counts['updated']} updated")
                    return redirect("transactions:tokens")
        elif request.POST.get("form") == "status":
            token = get_object_or_404(IdToken, pk=request.POST.get("token"))
            try:
                actions.set_token_status(token, request.POST.get("status", ""))
            except actions.InvalidRequest as error:
                messages.error(request, str(error))
            return redirect("transactions:tokens")
        else:
            form = IdTokenForm(request.POST)
            if form.is_valid():
                token = actions.save_token(form)
                messages.info(request, f"Token {token} saved")
                return redirect("transactions:tokens")
    tokens = IdToken.objects.select_related("group").prefetch_related("erasures").order_by("id_token")
    query = request.GET.get("q", "").strip()
    if query:
        tokens = tokens.filter(id_token__icontains=query)
    page = Paginator(tokens, 100).get_page(request.GET.get("page"))
    return render(request, "transactions/token_list.html", {
        "page": page, "tokens": page.object_list, "form": form, "import_form": import_form,
        "query": query, "statuses": IdToken.Status.values})


@login_required
@require_POST
def station_control(request, identity):
    """The station page's charging buttons: start, stop, unlock."""
    station = get_object_or_404(Station, identity=identity)
    source = f"dashboard:{request.user.username}"
    kind = request.POST.get("command")
    try:
        if kind == "start":
            # The field holds the card's value (never a pk): unknown values follow the policy.
            token = actions.token_for_remote_start(request.POST.get("id_token", "").strip())
            command = commands.start_transaction(station, token, _int(request.POST.get("evse_id")),
                                                 source=source)
        elif kind == "stop":
            command = commands.stop_transaction(station, request.POST.get("transaction_id", ""),
                                                source=source)
        elif kind == "unlock":
            command = station_commands.unlock_connector(
                station, _int(request.POST.get("connector_id")) or 1,
                _int(request.POST.get("evse_id")), source=source)
        else:
            messages.error(request, f"Unknown command {kind!r}")
            return redirect("stations:detail", identity=identity)
    except (outbound.InvalidCommand, actions.InvalidRequest,
            station_commands.StationNotReady) as error:
        messages.error(request, str(error))
    else:
        # The station page follows the command (dashboard.js): its outcome replaces this line.
        messages.info(request, f"{command.action} #{command.pk}: {command.status}",
                      extra_tags=f"command command-{command.pk}")
    return redirect("stations:detail", identity=identity)


def _int(value):
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        raise actions.InvalidRequest(f"{value!r} is not a number") from None
