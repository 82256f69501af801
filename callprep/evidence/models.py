"""Evidence collection: runs per account with a state per source, the evidence rows they keep,
citations (snapshots of cited evidence) and a shared cache of downloaded series."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone


class Source(models.TextChoices):
    """The sources a collection run fetches; each becomes one task per account."""

    SEC = "sec", "SEC EDGAR filings and financials"
    FRED = "fred", "FRED economic indicators"
    WORLDBANK = "worldbank", "World Bank country indicators"
    NEWS = "news", "News"
    WEBSITE = "website", "Company website"


class EvidenceKind(models.TextChoices):
    FINANCIAL = "financial", "Financial metric"
    FILING = "filing", "Filing or event"
    INDICATOR = "indicator", "Economic indicator"
    NEWS = "news", "News"
    WEB = "web", "Company website"
    REFERENCE = "reference", "Reference"


class Trigger(models.TextChoices):
    BRIEF = "brief", "A new brief"
    ACCOUNT_CHANGE = "account_change", "The account changed"
    MANUAL = "manual", "Refresh button"
    SCHEDULE = "schedule", "Scheduled refresh before a call"
    IMPORT = "import", "File import"
    DEMO = "demo", "Demo data"


class RunState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


OPEN_STATES = (RunState.QUEUED, RunState.RUNNING)


class CollectionRunQuerySet(models.QuerySet):
    def visible_to(self, user) -> CollectionRunQuerySet:
        from accounts import visibility

        return self.filter(visibility.via_account_q(user))

    def unfinished(self) -> CollectionRunQuerySet:
        return self.filter(finished_at__isnull=True)


class CollectionRun(models.Model):
    """One round of evidence collection for an account; each source has its own SourceRun."""

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="collection_runs"
    )
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = CollectionRunQuerySet.as_manager()

    class Meta:
        app_label = "callprep"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["account", "-created_at"], name="evidence_run_account_idx")]

    def __str__(self) -> str:
        return f"Evidence run {self.pk} for {self.account}"

    @property
    def is_finished(self) -> bool:
        return self.finished_at is not None

    def ordered_sources(self) -> list[SourceRun]:
        order = {value: i for i, value in enumerate(Source.values)}
        return sorted(self.sources.all(), key=lambda s: order.get(s.source, 99))


class SourceRun(models.Model):
    """The state of one source within a run: queued, running, succeeded, failed or skipped."""

    run = models.ForeignKey(CollectionRun, on_delete=models.CASCADE, related_name="sources")
    source = models.CharField(max_length=20, choices=Source.choices)
    state = models.CharField(max_length=10, choices=RunState.choices, default=RunState.QUEUED)
    # Why it was skipped or failed, or a note on success, in words a rep can read.
    reason = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    enqueued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows = models.PositiveIntegerField(default=0, help_text="Evidence rows kept by this run.")

    class Meta:
        app_label = "callprep"
        ordering = ["run", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["run", "source"], name="one_source_run_per_source")
        ]
        indexes = [models.Index(fields=["state", "enqueued_at"], name="evidence_srcrun_state_idx")]

    def __str__(self) -> str:
        return f"{self.get_source_display()}: {self.get_state_display()}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class EvidenceQuerySet(models.QuerySet):
    def visible_to(self, user) -> EvidenceQuerySet:
        from accounts import visibility

        return self.filter(visibility.via_account_q(user))

    def reported(self) -> EvidenceQuerySet:
        """Rows with a figure (financials the company does not report have no value)."""
        return self.exclude(kind=EvidenceKind.FINANCIAL, value__isnull=True)


class Evidence(models.Model):
    """One piece of evidence about an account with its provenance.

    ``(account, source, key)`` is unique: storing a fetch again replaces the same rows.
    ``source`` is the parser's source (``sec-companyfacts``, ``fred``, ``gdelt`` …);
    ``collector`` is the SourceRun source that keeps it (``sec``, ``fred``, ``news`` …).
    """

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="evidence"
    )
    collector = models.CharField(max_length=20, choices=Source.choices)
    kind = models.CharField(max_length=12, choices=EvidenceKind.choices)
    source = models.CharField(max_length=40)
    key = models.CharField(max_length=500)
    label = models.CharField(max_length=500)
    metric = models.CharField(max_length=60, blank=True)
    series = models.CharField(max_length=60, blank=True)
    concept = models.CharField(max_length=200, blank=True)
    value = models.DecimalField(max_digits=28, decimal_places=6, null=True, blank=True)
    unit = models.CharField(max_length=60, blank=True)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    url = models.URLField(max_length=1000, blank=True)
    retrieved_at = models.DateTimeField(default=timezone.now)
    excerpt = models.TextField(blank=True)
    extra = models.JSONField(default=dict, blank=True)
    run = models.ForeignKey(
        CollectionRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="evidence"
    )

    objects = EvidenceQuerySet.as_manager()

    class Meta:
        app_label = "callprep"
        verbose_name_plural = "evidence"
        ordering = ["kind", "source", "-period_end", "key"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "source", "key"], name="evidence_unique_per_account_source"
            )
        ]
        indexes = [
            models.Index(fields=["account", "kind"], name="evidence_account_kind_idx"),
            models.Index(fields=["account", "series", "period_end"], name="evidence_series_idx"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def source_name(self) -> str:
        return SOURCE_NAMES.get(self.source, self.source)

    @property
    def period_text(self) -> str:
        if self.period_start and self.period_end and self.period_start != self.period_end:
            return f"{self.period_start:%Y-%m-%d} to {self.period_end:%Y-%m-%d}"
        if self.period_end:
            return f"{self.period_end:%Y-%m-%d}"
        return ""

    @property
    def value_text(self) -> str:
        return format_value(self.value, self.unit)

    @property
    def link(self) -> str:
        """The URL when it is an absolute http(s) address, else "" (never a script link)."""
        from callprep.briefs.rendering import safe_http_url

        return safe_http_url(self.url or "")


SOURCE_NAMES = {
    "sec-companyfacts": "SEC EDGAR company facts",
    "sec-submissions": "SEC EDGAR filings",
    "sec-tickers": "SEC EDGAR ticker list",
    "fred": "FRED, Federal Reserve Bank of St. Louis",
    "worldbank": "World Bank",
    "feed": "News feed",
    "gdelt": "GDELT news",
    "website": "Company website",
}


def format_value(value: Decimal | None, unit: str) -> str:
    """A figure as a rep reads it: "391,035 M USD", "5.33%", "not reported"."""
    if value is None:
        return "not reported"
    if unit == "percent":
        return f"{value:.1f}%" if value == value.quantize(Decimal("0.1")) else f"{value:.2f}%"
    if len(unit) == 3 and unit.isupper():  # a currency
        if abs(value) >= 1_000_000:
            return f"{value / 1_000_000:,.0f} M {unit}"
        return f"{value:,.0f} {unit}"
    shown = f"{value:,.2f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"
    return f"{shown} {unit}".strip()


class Citation(models.Model):
    """A cited evidence value, kept as a snapshot so a footnote stays valid after a refresh.

    The editor references a citation by its id (e.g. ``[^c12]`` in the section text, or a
    ``<sup data-citation="12">``). ``brief_id``/``section_key`` say where it was cited; they
    are plain columns so this model does not depend on the brief models' migrations (the lead
    can turn ``brief_id`` into a ForeignKey later with no data change).
    ``evidence`` may disappear (a later run no longer returns that row); the snapshot stays.
    """

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    evidence = models.ForeignKey(
        Evidence, on_delete=models.SET_NULL, null=True, blank=True, related_name="citations"
    )
    brief_id = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    section_key = models.CharField(max_length=40, blank=True)
    # The snapshot: what the rep cited, as it was when cited.
    label = models.CharField(max_length=500)
    value = models.DecimalField(max_digits=28, decimal_places=6, null=True, blank=True)
    unit = models.CharField(max_length=60, blank=True)
    value_text = models.CharField(max_length=100, blank=True)
    source = models.CharField(max_length=40)
    source_name = models.CharField(max_length=100)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    url = models.URLField(max_length=1000, blank=True)
    retrieved_at = models.DateTimeField()
    excerpt = models.TextField(blank=True)
    cited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    cited_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "callprep"
        ordering = ["cited_at", "pk"]
        indexes = [models.Index(fields=["brief_id", "section_key"], name="citation_brief_idx")]

    def __str__(self) -> str:
        return f"[{self.pk}] {self.label}"

    @property
    def period_text(self) -> str:
        if self.period_start and self.period_end and self.period_start != self.period_end:
            return f"{self.period_start:%Y-%m-%d} to {self.period_end:%Y-%m-%d}"
        return f"{self.period_end:%Y-%m-%d}" if self.period_end else ""

    def footnote_data(self) -> dict:
        """What the brief's footnote shows (see callprep.briefs.rendering)."""
        from callprep.briefs.rendering import footnote_data

        return footnote_data(
            label=self.label,
            value_text=self.value_text,
            source_name=self.source_name,
            period_text=self.period_text,
            retrieved=f"{self.retrieved_at:%Y-%m-%d}" if self.retrieved_at else "",
            url=self.url,
        )

    def footnote(self) -> str:
        """The footnote as plain text: source, period, link, retrieved date."""
        bits = [self.source_name]
        if self.period_text:
            bits.append(self.period_text)
        bits.append(f"retrieved {self.retrieved_at:%Y-%m-%d}")
        text = f"{self.label}: {self.value_text}. " if self.value_text else f"{self.label}. "
        text += ", ".join(bits)
        return f"{text}. {self.url}" if self.url else f"{text}."


class SeriesCache(models.Model):
    """One downloaded copy of a shared document per day (a FRED series, SEC's ticker list),
    used by every account that needs it that day."""

    name = models.CharField(max_length=100, help_text='e.g. "fred:DGS10" or "sec:tickers".')
    day = models.DateField()
    fmt = models.CharField(max_length=20, help_text="The parser that reads it, e.g. fred-csv.")
    url = models.URLField(max_length=1000, blank=True)
    body = models.BinaryField()
    fetched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "callprep"
        constraints = [
            models.UniqueConstraint(fields=["name", "day"], name="one_series_copy_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.day})"


__all__ = [
    "Citation",
    "CollectionRun",
    "Evidence",
    "EvidenceKind",
    "RunState",
    "SeriesCache",
    "Source",
    "SourceRun",
    "Trigger",
]
