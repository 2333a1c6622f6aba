"""The audit trail page: entries newest first, filtered by user, kind, station and date range."""
import datetime

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from .models import AuditEntry

ENTRIES_PER_PAGE = 50


class AuditFilterForm(forms.Form):
    username = forms.CharField(label="User", required=False, max_length=150)
    kind = forms.ChoiceField(choices=[("", "any kind")] + AuditEntry.Kind.choices, required=False)
    identity = forms.CharField(label="Station", required=False, max_length=48)
    date_from = forms.DateField(label="From", required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To", required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date_from") and cleaned.get("date_to") and \
                cleaned["date_from"] > cleaned["date_to"]:
            raise forms.ValidationError("The range starts after it ends.")
        return cleaned


def filtered(entries, data):
    if data.get("username"):
        entries = entries.filter(username=data["username"])
    if data.get("kind"):
        entries = entries.filter(kind=data["kind"])
    if data.get("identity"):
        entries = entries.filter(identity=data["identity"])
    # Whole UTC days, both ends included.
    if data.get("date_from"):
        entries = entries.filter(created_at__gte=_midnight(data["date_from"]))
    if data.get("date_to"):
        entries = entries.filter(
            created_at__lt=_midnight(data["date_to"] + datetime.timedelta(days=1)))
    return entries


def _midnight(day):
    return datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.timezone.utc)


@login_required
def audit_list(request):
    form = AuditFilterForm(request.GET or None)
    entries = AuditEntry.objects.order_by("-id")
    status = 200
    if form.is_bound:
        if form.is_valid():
            entries = filtered(entries, form.cleaned_data)
        else:
            entries, status = entries.none(), 400
    page = Paginator(entries, ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "audit/audit_list.html",
                  {"form": form, "page": page, "query": query.urlencode()}, status=status)
