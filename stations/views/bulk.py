"""Dashboard pages of bulk operations: the confirmation of a selection made on the station list,
and an operation's progress page (pushed live by stations/actions/bulk.py)."""
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ..actions import bulk
from ..models import BulkOperation, BulkTarget

# The confirmation lists this many of the chosen stations by name.
SHOWN_ON_CONFIRMATION = 50


class BulkForm(forms.Form):
    """What the station list's bulk bar sends: the action, its options, and either the ticked
    stations or scope=filter with the list's filter (its query string)."""

    action = forms.ChoiceField()
    station = forms.MultipleChoiceField(required=False)
    scope = forms.ChoiceField(required=False, choices=[("", "the ticked stations"),
                                                      ("filter", "all matching the filter")])
    filter = forms.CharField(required=False, max_length=2000)

    def __init__(self, data, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.actions = bulk.registered()
        self.fields["action"].choices = [(name, action.label)
                                         for name, action in self.actions.items()]
        # Any identity may be posted; the action's selection checks they exist.
        self.fields["station"].choices = [(value, value) for value in data.getlist("station")]
        for action in self.actions.values():
            for name, allowed in action.options.items():
                self.fields[name] = forms.ChoiceField(required=False,
                                                      choices=[(v, v) for v in allowed])

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if data.get("scope") != "filter" and not data.get("station"):
            raise ValidationError("Tick at least one station, or choose all matching the filter.")
        action = self.actions[data["action"]]
        data["parameters"] = {name: data.get(name) or allowed[0]
                              for name, allowed in action.options.items()}
        data["filter_data"] = ({key: QueryDict(data["filter"]).get(key)
                                for key in QueryDict(data["filter"])}
                               if data.get("scope") == "filter" else None)
        data["identities"] = data.get("station") if data.get("scope") != "filter" else []
        return data


def _bulk_form(data):
    form = BulkForm(data)
    stations = []
    if form.is_valid():
        data = form.cleaned_data
        try:
            bulk.get_action(data["action"]).clean_options(data["parameters"])
            stations, _ = bulk.select_stations(data["identities"], data["filter_data"],
                                               strict=False)
            if not stations:
                raise ValidationError("The selection chooses no station.")
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
    return form, stations


@login_required
@require_http_methods(["GET", "POST"])
def bulk_confirm(request):
    """The confirmation: how many stations (by version and connection) and what will be sent.
    Confirming posts the same fields to bulk_create."""
    source = request.POST if request.method == "POST" else request.GET
    form, stations = _bulk_form(source)
    context = {"form": form, "stations": stations[:SHOWN_ON_CONFIRMATION],
               "count": len(stations), "hidden_more": max(len(stations) - SHOWN_ON_CONFIRMATION, 0)}
    if form.is_valid():
        data = form.cleaned_data
        context.update(
            description=bulk.get_action(data["action"]).describe(data["parameters"]),
            online=sum(station.online for station in stations),
            by_version={version: sum(s.ocpp_version == version for s in stations)
                        for version in sorted({s.ocpp_version or "never connected"
                                               for s in stations})},
            # The same fields again, for the confirming POST.
            fields=[(name, value) for name in source for value in source.getlist(name)
                    if name != "csrfmiddlewaretoken"])
        return render(request, "stations/bulk_confirm.html", context)
    return render(request, "stations/bulk_confirm.html", context, status=400)


@login_required
@require_POST
def bulk_create(request):
    form, stations = _bulk_form(request.POST)
    if not form.is_valid():
        return render(request, "stations/bulk_confirm.html",
                      {"form": form, "stations": [], "count": 0}, status=400)
    data = form.cleaned_data
    try:
        operation = bulk.create_operation(
            data["action"], data["parameters"], identities=data["identities"],
            filter_data=data["filter_data"], created_by=request.user,
            source=f"dashboard:{request.user.username}", strict=False)
    except ValidationError as error:
        for message in error.messages:
            form.add_error(None, message)
        return render(request, "stations/bulk_confirm.html",
                      {"form": form, "stations": [], "count": 0}, status=400)
    count = operation.targets.count()
    messages.success(request, f"{bulk.describe(operation)} started on {count} "
                              f"station{'' if count == 1 else 's'}.")
    return redirect("stations:bulk", pk=operation.pk)


@login_required
@require_GET
def bulk_list(request):
    operations = list(BulkOperation.objects.all()[:50])
    for operation in operations:
        operation.description = bulk.describe(operation)
        operation.tally = bulk.counts(operation)
    return render(request, "stations/bulk_list.html", {"operations": operations})


@login_required
@require_GET
def bulk_detail(request, pk):
    operation = get_object_or_404(BulkOperation, pk=pk)
    return render(request, "stations/bulk_detail.html", {
        "operation": operation, "description": bulk.describe(operation),
        "tally": bulk.counts(operation), "outcomes": BulkTarget.Outcome,
        "targets": operation.targets.order_by("position")})


@login_required
@require_GET
def bulk_progress(request, pk):
    """The operation's progress and every outcome: read when the page's push socket (re)opens."""
    operation = get_object_or_404(BulkOperation, pk=pk)
    return JsonResponse(bulk.progress(operation, operation.targets.order_by("position")))
