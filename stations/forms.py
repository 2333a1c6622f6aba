"""Dashboard forms: registering stations and the commands an operator sends to one."""
import json

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, F, OuterRef, Q

from csms.models import MessageLogEntry
from csms.ocpp import outbound, schemas
from csms.ocpp.framing import OCPP16, OCPP201
from csms.ocpp.identity import identity_problem

from . import actions
from .models import Connector, Station

RESET_TYPES = {OCPP201: ["Immediate", "OnIdle"], OCPP16: ["Hard", "Soft"]}


def trigger_choices(ocpp_version):
    """The messages a station of this version can be asked to send, from its TriggerMessage schema."""
    schema = json.loads(
        schemas.schema_path(ocpp_version, "TriggerMessage", schemas.REQUEST).read_text()
    )
    if ocpp_version == OCPP201:
        return schema["definitions"]["MessageTriggerEnumType"]["enum"]
    return schema["properties"]["requestedMessage"]["enum"]


def _choices(values):
    return [(value, value) for value in values]


# 2.0.1 ConnectorStatusEnumType, then the 1.6 ChargePointStatus values it lacks.
CONNECTOR_STATUSES = ["Available", "Occupied", "Charging", "Preparing", "SuspendedEV",
                      "SuspendedEVSE", "Finishing", "Reserved", "Unavailable", "Faulted"]
STATION_SORT_CHOICES = [
    ("-identity", "identity (Z-A)"), ("last_seen", "last message (newest)"),
    ("-last_seen", "last message (oldest)"), ("status", "status (needs attention first)"),
    ("-status", "status (healthy first)"),
]


class StationFilter(django_filters.FilterSet):
    """The station list's search and filters; an invalid value is reported and not applied."""

    q = django_filters.CharFilter(method="search", label="Search",
                                  widget=forms.TextInput(attrs={"placeholder": "identity or description",
                                                                "type": "search"}))
    state = django_filters.ChoiceFilter(
        label="Connection", method="filter_state", empty_label="online or offline",
        choices=[("online", "online"), ("offline", "offline")],
    )
    ocpp_version = django_filters.ChoiceFilter(
        label="OCPP", empty_label="any version", choices=[(OCPP201, OCPP201), (OCPP16, OCPP16)],
    )
    registration_status = django_filters.ChoiceFilter(
        label="Boot", empty_label="any boot status", choices=Station.RegistrationStatus.choices,
    )

    connector_status = django_filters.ChoiceFilter(
        label="Connector", method="filter_connector_status", empty_label="any connector status",
        choices=_choices(CONNECTOR_STATUSES),
    )
    sort = django_filters.ChoiceFilter(
        label="Sort", method="sort_by", empty_label="identity", choices=STATION_SORT_CHOICES,
    )

    class Meta:
        model = Station
        fields = ["q", "state", "ocpp_version", "registration_status", "connector_status", "sort"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(identity__icontains=value) | Q(description__icontains=value))

    def filter_state(self, queryset, name, value):
        return queryset.filter(online=value == "online")

    def filter_connector_status(self, queryset, name, value):
        # Stations with at least one connector in this status.
        return queryset.filter(Exists(Connector.objects.filter(station=OuterRef("pk"), status=value)))

    def sort_by(self, queryset, name, value):
        return sort_stations(queryset, value)

    @property
    def qs(self):
        queryset = super().qs
        # Without a valid sort the list is by identity (a sort filter runs only when chosen).
        if not self.is_bound or not self.form.is_valid() or not self.form.cleaned_data.get("sort"):
            queryset = queryset.order_by("identity")
        return queryset


def sort_stations(queryset, sort):
    """Order the station list: by identity, by last message (newest first), or by status (the
    ones needing attention first: offline, then a Faulted, an Unavailable connector, charging)."""
    if sort in ("last_seen", "-last_seen"):
        newest_first = sort == "last_seen"
        last = F("last_message_at").desc(nulls_last=True) if newest_first \
            else F("last_message_at").asc(nulls_first=True)
        return queryset.order_by(last, "identity")
    if sort in ("status", "-status"):
        def has(*statuses):
            return Exists(Connector.objects.filter(station=OuterRef("pk"), status__in=statuses))
        queryset = queryset.annotate(
            has_faulted=has("Faulted"), has_unavailable=has("Unavailable"),
            is_charging=has("Charging", "Occupied", "SuspendedEV", "SuspendedEVSE"))
        keys = ["online", "-has_faulted", "-has_unavailable", "-is_charging"]
        if sort == "-status":
            keys = [key[1:] if key.startswith("-") else "-" + key for key in keys]
        return queryset.order_by(*keys, "identity")
    return queryset.order_by("-identity" if sort == "-identity" else "identity")


class MessageLogFilter(django_filters.FilterSet):
    direction = django_filters.ChoiceFilter(choices=MessageLogEntry.Direction.choices,
                                            empty_label="both directions")
    action = django_filters.CharFilter(lookup_expr="iexact",
                                       widget=forms.TextInput(attrs={"placeholder": "action",
                                                                     "type": "search"}))
    after = django_filters.NumberFilter(field_name="id", lookup_expr="gt", widget=forms.HiddenInput)

    class Meta:
        model = MessageLogEntry
        fields = ["direction", "action", "after"]


class StationRegistrationForm(forms.Form):
    identity = forms.CharField(max_length=48, strip=False,
                               help_text="The name the station connects with: ws://…/ocpp/<identity>.")
    description = forms.CharField(max_length=200, required=False)
    password = forms.CharField(
        required=False, min_length=16, max_length=40, strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="HTTP Basic password the station must present (16-40 characters).",
    )
    registration_policy = forms.ChoiceField(
        choices=Station.RegistrationStatus.choices, initial=Station.RegistrationStatus.ACCEPTED,
        help_text="The answer to its next BootNotification.",
    )

    def clean_identity(self):
        identity = self.cleaned_data["identity"]
        problem = identity_problem(identity)  # the rule the WebSocket upgrade applies too
        if problem:
            raise ValidationError(problem)
        if Station.objects.filter(identity=identity).exists():
            raise ValidationError("A station with this identity is already registered.")
        return identity

    def save(self):
        data = self.cleaned_data
        return actions.register_station(
            data["identity"], password=data["password"],
            registration_policy=data["registration_policy"], description=data["description"],
        )


class RegistrationPolicyForm(forms.Form):
    registration_policy = forms.ChoiceField(choices=Station.RegistrationStatus.choices)


class ResetForm(forms.Form):
    type = forms.ChoiceField()
    evse_id = forms.IntegerField(required=False, min_value=1, label="EVSE",
                                 help_text="Reset one EVSE only (OCPP 2.0.1); empty: the station.")

    def __init__(self, *args, ocpp_version=OCPP201, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = _choices(RESET_TYPES.get(ocpp_version, RESET_TYPES[OCPP201]))
        if ocpp_version == OCPP16:
            del self.fields["evse_id"]


class TriggerMessageForm(forms.Form):
    requested_message = forms.ChoiceField(label="Message")
    evse_id = forms.IntegerField(required=False, min_value=0, label="EVSE")
    connector_id = forms.IntegerField(required=False, min_value=0, label="Connector")

    def __init__(self, *args, ocpp_version=OCPP201, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["requested_message"].choices = _choices(trigger_choices(ocpp_version or OCPP201))
        if ocpp_version == OCPP16:
            del self.fields["evse_id"]


class SendCallForm(forms.Form):
    """Any CSMS -> station action of the station's version, with its payload checked by schema."""

    action = forms.ChoiceField()
    payload = forms.CharField(widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
                              initial="{}", strip=True)

    def __init__(self, *args, ocpp_version=OCPP201, **kwargs):
        super().__init__(*args, **kwargs)
        self.ocpp_version = ocpp_version or OCPP201
        self.fields["action"].choices = _choices(outbound.outgoing_actions(self.ocpp_version))

    def clean_payload(self):
        try:
            payload = json.loads(self.cleaned_data["payload"])
        except json.JSONDecodeError as error:
            raise ValidationError(f"Not valid JSON: {error}") from None
        if not isinstance(payload, dict):
            raise ValidationError("The payload must be a JSON object.")
        return payload

    def clean(self):
        cleaned = super().clean()
        if "action" in cleaned and "payload" in cleaned:
            try:
                outbound.check_request(self.ocpp_version, cleaned["action"], cleaned["payload"])
            except outbound.InvalidCommand as error:
                self.add_error("payload", list(error.errors))
        return cleaned
