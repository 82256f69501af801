from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.db.models import Max, Q

from accounts.models import (
    Account,
    BuyingProcess,
    BuyingRole,
    Contact,
    Team,
    User,
    country_choices,
    naics_within_q,
)
from accounts.params import IdField, valid_filters
from accounts.roles import Role
from accounts.timezones import ZoneSelect, time_zone_choices, zone_label

PAGE_SIZES = (5, 10, 25, 50)
SORTS = {
    "name": ("name", "pk"),
    "-name": ("-name", "-pk"),
    "country": ("country", "name", "pk"),
    "industry": ("naics_code", "name", "pk"),
    "employees": ("-employees", "name", "pk"),
    "updated": ("-updated_at", "-pk"),
}
SORT_LABELS = {
    "name": "Name A to Z",
    "-name": "Name Z to A",
    "country": "Country",
    "industry": "Industry",
    "employees": "Largest first",
    "updated": "Recently updated",
}
NAICS_SECTORS = [
    ("11", "Agriculture, forestry, fishing and hunting"),
    ("21", "Mining, quarrying, oil and gas"),
    ("22", "Utilities"),
    ("23", "Construction"),
    ("31-33", "Manufacturing"),
    ("42", "Wholesale trade"),
    ("44-45", "Retail trade"),
    ("48-49", "Transportation and warehousing"),
    ("51", "Information"),
    ("52", "Finance and insurance"),
    ("53", "Real estate"),
    ("54", "Professional, scientific and technical services"),
    ("55", "Management of companies"),
    ("56", "Administrative and support services"),
    ("61", "Educational services"),
    ("62", "Health care and social assistance"),
    ("71", "Arts, entertainment and recreation"),
    ("72", "Accommodation and food services"),
    ("81", "Other services"),
    ("92", "Public administration"),
]


def sector_filter(sector: str) -> Q:
    """NAICS codes in a sector; "31-33" spans the codes starting 31, 32 and 33."""
    return naics_within_q(sector)


FILTER_CHOICES_TTL = 300


def filter_choices(accounts, *, user: User) -> dict[str, list[tuple[str, str]]]:
    """The owners, teams and countries present among the user's accounts, for the filters.

    Finding them reads every visible account, so the result is cached per user and keyed by
    the latest change to any account (an indexed MAX): a new or edited account shows up at
    once; a change of team membership within FILTER_CHOICES_TTL seconds.
    """
    stamp = Account.objects.aggregate(latest=Max("updated_at"))["latest"]
    key = f"accounts:filter-choices:{user.pk}:{stamp.timestamp() if stamp else 0}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    combos = set(accounts.order_by().values_list("owner_id", "team_id", "country").distinct())
    owners = User.objects.filter(pk__in={o for o, _, _ in combos}).order_by(
        "first_name", "last_name", "username"
    )
    teams = Team.objects.filter(pk__in={t for _, t, _ in combos if t})
    names = dict(country_choices())
    countries = sorted(
        ((c, names.get(c, c)) for c in {c for _, _, c in combos if c}), key=lambda p: p[1]
    )
    any_ = [("", "Any")]
    choices = {
        "owner": any_ + [(str(u.pk), str(u)) for u in owners],
        "team": any_ + [(str(t.pk), t.name) for t in teams],
        "industry": any_ + NAICS_SECTORS,
        "country": any_ + countries,
        "sort": list(SORT_LABELS.items()),
        "per_page": [(str(n), str(n)) for n in PAGE_SIZES],
    }
    cache.set(key, choices, FILTER_CHOICES_TTL)
    return choices


class AccountFilterForm(forms.Form):
    """The account list's search, filters, sort and page size (all optional GET parameters).

    Owner and team are plain ids: filtering only ever narrows the accounts the user may see,
    so an id outside their scope simply finds nothing. The choices of the selects are loaded
    (with one scan of the visible accounts) only when the full page is rendered.
    """

    q = forms.CharField(label="Search", required=False, max_length=100)
    owner = IdField()
    team = IdField()
    industry = forms.ChoiceField(choices=[("", "Any"), *NAICS_SECTORS], required=False)
    country = forms.CharField(required=False, max_length=2)
    sort = forms.ChoiceField(choices=list(SORT_LABELS.items()), required=False)
    per_page = forms.TypedChoiceField(
        label="Per page",
        choices=[(n, n) for n in PAGE_SIZES],
        coerce=int,
        required=False,
        empty_value=25,
    )

    def selects(self, accounts, *, user: User) -> list[dict]:
        """The filter selects for the template: name, label, choices and the chosen value."""
        choices = filter_choices(accounts, user=user)
        current = valid_filters(self)
        return [
            {
                "name": name,
                "label": self.fields[name].label or name.replace("_", " ").capitalize(),
                "choices": options,
                "value": "" if current.get(name) is None else str(current.get(name)),
            }
            for name, options in choices.items()
        ]

    def filter(self, accounts):
        data = valid_filters(self)
        accounts = accounts.search(data.get("q") or "")
        if data.get("owner"):
            accounts = accounts.filter(owner_id=data["owner"])
        if data.get("team"):
            accounts = accounts.filter(team_id=data["team"])
        if data.get("industry"):
            accounts = accounts.filter(sector_filter(data["industry"]))
        if data.get("country"):
            accounts = accounts.filter(country=data["country"].upper())
        return accounts.order_by(*SORTS[data.get("sort") or "name"])


class AccountForm(forms.ModelForm):
    country = forms.ChoiceField(required=False)

    class Meta:
        model = Account
        fields = [
            "name",
            "website",
            "owner",
            "team",
            "naics_code",
            "sic_code",
            "country",
            "hq_city",
            "employees",
            "fiscal_year_end",
            "ticker",
            "exchange",
            "cik",
            "external_id",
            "description",
        ]
        widgets = {
            "website": forms.URLInput(attrs={"placeholder": "https://www.example.com"}),
            "naics_code": forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
            "description": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["country"].choices = [("", "—"), *country_choices()]
        self.fields["country"].label = "Country"
        self.fields["website"].assume_scheme = "https"
        if user.is_admin_role:
            self.fields["owner"].queryset = User.objects.filter(
                groups__name=Role.REP, is_active=True
            ).order_by("username")
            self.fields["team"].queryset = Team.objects.all()
        else:
            del self.fields["owner"]
            teams = Team.objects.filter(members=user)
            self.fields["team"].queryset = teams
            if teams.exists():
                self.fields["team"].required = True
                if not self.instance.pk and len(teams) == 1:
                    self.initial["team"] = teams[0].pk

    def clean_naics_code(self) -> str:
        return (self.cleaned_data.get("naics_code") or "").strip()

    def clean_ticker(self) -> str:
        return (self.cleaned_data.get("ticker") or "").strip().upper()

    def clean(self):
        cleaned = super().clean()
        owner, team = cleaned.get("owner"), cleaned.get("team")
        if owner and team and not team.members.filter(pk=owner.pk).exists():
            self.add_error("team", f"{owner} is not a member of {team}.")
        return cleaned


class BuyingProcessForm(forms.ModelForm):
    class Meta:
        model = BuyingProcess
        fields = list(BuyingProcess.TEXT_FIELDS)
        widgets = {name: forms.Textarea(attrs={"rows": 3}) for name in BuyingProcess.TEXT_FIELDS}


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = [
            "name",
            "title",
            "email",
            "phone",
            "buying_role",
            "influence",
            "stance",
            "reports_to",
            "cares_about",
            "last_contacted_on",
            "notes",
        ]
        widgets = {
            "last_contacted_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "cares_about": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 2}),
            "phone": forms.TextInput(attrs={"type": "tel"}),
        }

    def __init__(self, *args, account: Account, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.account = account
        others = account.contacts.all()
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        self.fields["reports_to"].queryset = others
        self.fields["reports_to"].empty_label = "Nobody here / not known"
        self.fields["buying_role"].choices = BuyingRole.choices
        prefix = f"contact-{self.instance.pk or 'new'}"
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("id", f"{prefix}-{name}")


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = (
            "A CSV export of accounts (and optionally one contact per row): at most "
            f"{settings.IMPORT_MAX_MEGABYTES} MB, {settings.CSV_IMPORT_MAX_COLUMNS:,} columns "
            f"and {settings.CSV_IMPORT_MAX_ROWS:,} rows."
        )


def _profile_zone_choices() -> list[tuple[str, str]]:
    return [("", f"Default ({zone_label(settings.TIME_ZONE)})"), *time_zone_choices()]


class TimeZoneForm(forms.ModelForm):
    """The viewer's own time zone, for every time that is not a call's own."""

    time_zone = forms.ChoiceField(
        label="Your time zone",
        choices=_profile_zone_choices,
        widget=ZoneSelect,
        required=False,
        help_text="Due times, approvals, comments and notifications are shown in this zone. "
        "A call's time is always shown in the call's own zone, named.",
        error_messages={
            "invalid_choice": "%(value)s is not a time zone name; choose one from the list "
            "(e.g. Europe/Berlin)."
        },
    )

    class Meta:
        model = User
        fields = ["time_zone"]
