from __future__ import annotations

import datetime as dt
import zoneinfo

from django import forms
from django.conf import settings
from django.utils import timezone

from accounts.models import Account, Contact, User
from accounts.params import id_from
from accounts.roles import Role
from accounts.timezones import ZoneSelect, time_zone_choices
from callprep.models import Call, CallStatus, call_year_problem

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class AttendeeChoiceField(forms.ModelMultipleChoiceField):
    def clean(self, value):
        # An id that can name no row is refused before the query (SQLite would overflow).
        for raw in value or ():
            if id_from(raw) is None:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": raw},
                )
        return super().clean(value)

    def label_from_instance(self, obj: Contact) -> str:
        role = obj.get_buying_role_display()
        return f"{obj.name}{', ' + obj.title if obj.title else ''} ({role})"


class WallClockField(forms.DateTimeField):
    """A date and time as typed, without a time zone: the form applies the call's own zone."""

    def to_python(self, value):
        result = super().to_python(value)
        if result is not None and timezone.is_aware(result):
            result = timezone.make_naive(result)
        return result


class CallForm(forms.ModelForm):
    """A call's details. Start and end are wall-clock times in the chosen time zone."""

    starts = WallClockField(
        label="Starts",
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )
    ends = WallClockField(
        label="Ends",
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )
    time_zone = forms.ChoiceField(label="Time zone", choices=time_zone_choices, widget=ZoneSelect)
    contacts = AttendeeChoiceField(
        label="Customer attendees",
        queryset=Contact.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Call
        fields = [
            "account",
            "title",
            "kind",
            "status",
            "starts",
            "ends",
            "time_zone",
            "all_day",
            "location",
            "meeting_url",
            "executive",
            "contacts",
            "purpose",
            "agenda",
            "agreed_outcome",
        ]
        widgets = {
            "purpose": forms.Textarea(attrs={"rows": 2}),
            "agenda": forms.Textarea(attrs={"rows": 4}),
            "agreed_outcome": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, user: User, account: Account | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        accounts = Account.objects.editable_by(user)
        if self.instance.pk:
            # An executive-visit call may be edited by its rep although the account moved on.
            accounts = accounts | Account.objects.filter(pk=self.instance.account_id)
        self.fields["account"].queryset = accounts.order_by("name")
        self.fields["executive"].queryset = User.objects.filter(
            groups__name=Role.EXECUTIVE, is_active=True
        ).order_by("first_name", "last_name", "username")
        self.fields["executive"].empty_label = "No executive"
        self.fields["meeting_url"].assume_scheme = "https"
        account = account or (self.instance.account if self.instance.account_id else None)
        if account is not None and not self.is_bound:
            self.initial["account"] = account.pk
        chosen = id_from(self.data.get(self.add_prefix("account"))) if self.is_bound else None
        if chosen is not None:
            account = accounts.filter(pk=chosen).first() or account
        contacts = Contact.objects.filter(account__in=accounts.values("pk")).select_related(
            "account"
        )
        if account is not None:
            contacts = contacts.filter(account=account)
        self.fields["contacts"].queryset = contacts.order_by("name")
        if not self.instance.pk:
            del self.fields["status"]
            self.fields["time_zone"].initial = self.default_time_zone()
        else:
            zone = self.instance.zone
            self.initial["starts"] = self.instance.starts_at.astimezone(zone).replace(tzinfo=None)
            self.initial["ends"] = self.instance.ends_at.astimezone(zone).replace(tzinfo=None)

    def clean_starts(self):
        return self._within_call_years(self.cleaned_data.get("starts"))

    def clean_ends(self):
        return self._within_call_years(self.cleaned_data.get("ends"))

    @staticmethod
    def _within_call_years(value):
        if value is not None and (problem := call_year_problem(value)):
            raise forms.ValidationError(problem)
        return value

    def default_time_zone(self) -> str:
        last = (
            Call.objects.filter(owner=self.user)
            .order_by("-created_at")
            .values_list("time_zone", flat=True)
            .first()
        )
        return last or settings.TIME_ZONE

    def clean(self):
        cleaned = super().clean()
        name = cleaned.get("time_zone")
        starts, ends = cleaned.get("starts"), cleaned.get("ends")
        if name and starts and ends:
            zone = zoneinfo.ZoneInfo(name)
            if cleaned.get("all_day"):
                starts = dt.datetime.combine(starts.date(), dt.time())
                ends = dt.datetime.combine(max(ends.date(), starts.date()), dt.time())
                ends += dt.timedelta(days=1)
            starts, ends = starts.replace(tzinfo=zone), ends.replace(tzinfo=zone)
            if ends <= starts:
                self.add_error("ends", "The call must end after it starts.")
            else:
                self.instance.starts_at, self.instance.ends_at = starts, ends
        account = cleaned.get("account")
        attendees = cleaned.get("contacts")
        if account and attendees:
            strangers = [c.name for c in attendees if c.account_id != account.pk]
            if strangers:
                self.add_error("contacts", f"Not at {account.name}: {', '.join(strangers)}.")
        return cleaned


class CallStatusForm(forms.Form):
    status = forms.ChoiceField(choices=CallStatus.choices)


class CalendarUploadForm(forms.Form):
    file = forms.FileField(
        label="Calendar file (.ics)",
        widget=forms.ClearableFileInput(attrs={"accept": ".ics,text/calendar"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = (
            f"Exported from Outlook or Google Calendar: at most {settings.IMPORT_MAX_MEGABYTES} "
            f"MB and {settings.ICS_IMPORT_MAX_EVENTS:,} events."
        )


class AssignEventsForm(forms.Form):
    """One account choice per calendar event that matched none; blank leaves it out.

    The accounts are read once for all the choices (a ModelChoiceField would read them again
    for every event it renders), and the page writes the options itself: Django's widget
    templates would render each of 100 events' options (one per account) one at a time.
    """

    def __init__(self, *args, events, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.events = list(events)
        accounts = Account.objects.editable_by(user).order_by("name").only("pk", "name")
        self.accounts = {account.pk: account for account in accounts}
        self.account_choices = [(pk, a.name) for pk, a in self.accounts.items()]
        choices = [("", "Leave out"), *self.account_choices]
        for event in self.events:
            field = forms.TypedChoiceField(
                choices=choices, coerce=int, required=False, empty_value=None
            )
            field.label = event.summary
            self.fields[f"event_{event.n}"] = field

    def rows(self):
        """(bound field, event, the chosen account's pk or None) per event."""
        rows = []
        for event in self.events:
            field = self[f"event_{event.n}"]
            value = str(field.value() or "")
            rows.append((field, event, int(value) if value.isdigit() else None))
        return rows

    def choices(self) -> dict[str, Account]:
        return {
            event.uid: self.accounts[self.cleaned_data[f"event_{event.n}"]]
            for event in self.events
            if self.cleaned_data.get(f"event_{event.n}")
        }
