"""iCalendar in and out: export calls as .ics, import Outlook/Google calendar files.

Import creates or updates calls (matched by UID, then to accounts by the attendees' e-mail
domains); events that match no account, or more than one, are returned for the user to assign.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import re
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field

import icalendar
from dateutil import rrule as dateutil_rrule
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from accounts.models import Account, Contact, User
from accounts.roles import Role
from accounts.timezones import available_time_zones
from callprep import timefmt
from callprep.briefs.rendering import safe_http_url
from callprep.changes import call_changed
from callprep.models import CALL_YEARS, Call, CallKind, CallStatus, call_year_problem

PRODID = "-//SalesPrep//Calls//EN"


class CalendarError(ValueError):
    """The file is not a calendar we can read; the message says why."""


# --- Export ---------------------------------------------------------------------------------


def call_description(call: Call) -> str:
    parts = [
        f"Account: {call.account.name}",
        f"Kind: {call.get_kind_display()}",
        f"When: {timefmt.call_time(call)}",
    ]
    for label, text in (
        ("Purpose", call.purpose),
        ("Agenda", call.agenda),
        ("Agreed outcome", call.agreed_outcome),
    ):
        if text.strip():
            parts.append(f"{label}:\n{text.strip()}")
    return "\n\n".join(parts)


def call_event(call: Call) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", call.ical_uid)
    event.add("dtstamp", timezone.now())
    event.add("sequence", call.sequence)
    event.add("summary", call.title)
    if call.all_day:
        event.add("dtstart", call.local_start.date())
        event.add("dtend", call.local_end.date())
    else:
        event.add("dtstart", call.local_start)
        event.add("dtend", call.local_end)
    if call.location:
        event.add("location", call.location)
    # Only an http(s) link goes out (a stored "javascript:" link or a CR/LF would be passed
    # on to calendar apps, or make icalendar refuse the whole file).
    if meeting_link := safe_http_url(call.meeting_url):
        event.add("url", meeting_link)
    event.add("description", call_description(call))
    event.add("last-modified", call.updated_at)
    event.add("status", "CANCELLED" if call.status == CallStatus.CANCELLED else "CONFIRMED")
    event.add("categories", [call.get_kind_display()])
    if call.owner.email:
        organizer = icalendar.vCalAddress(f"mailto:{call.owner.email}")
        organizer.params["cn"] = str(call.owner)
        event.add("organizer", organizer)
    attendees: list[tuple[str, str]] = []
    if call.executive and call.executive.email:
        attendees.append((call.executive.email, str(call.executive)))
    attendees += [(c.email, c.name) for c in call.contacts.all() if c.email]
    for email, name in attendees:
        attendee = icalendar.vCalAddress(f"mailto:{email}")
        attendee.params["cn"] = name
        attendee.params["role"] = "REQ-PARTICIPANT"
        event.add("attendee", attendee)
    return event


def calls_to_ics(calls: Iterable[Call], *, name: str = "SalesPrep calls") -> bytes:
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    # One line: icalendar does not escape an X- property, and a title may hold a line break.
    cal.add("x-wr-calname", " ".join(name.split()))
    for call in calls:
        cal.add_component(call_event(call))
    cal.add_missing_timezones()
    return cal.to_ical()


# --- Import ---------------------------------------------------------------------------------


@dataclass
class ParsedEvent:
    uid: str
    summary: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    time_zone: str
    all_day: bool
    location: str = ""
    url: str = ""
    description: str = ""
    attendee_emails: list[str] = field(default_factory=list)
    attendee_names: dict[str, str] = field(default_factory=dict)  # e-mail → CN
    cancelled: bool = False
    recurring: bool = False
    n: int = 0  # its place among the events kept for assignment (CalendarImport.events)

    @property
    def local_start(self) -> dt.datetime:
        return self.starts_at.astimezone(zoneinfo.ZoneInfo(self.time_zone))

    @property
    def local_end(self) -> dt.datetime:
        return self.ends_at.astimezone(zoneinfo.ZoneInfo(self.time_zone))

    @property
    def domains(self) -> set[str]:
        return {email.rsplit("@", 1)[1] for email in self.attendee_emails if "@" in email}


def max_bytes() -> int:
    return settings.IMPORT_MAX_MEGABYTES * 1024 * 1024


def check_size(size: int) -> None:
    """Refuse a file over IMPORT_MAX_MEGABYTES, before it is read."""
    if size > max_bytes():
        mb = settings.IMPORT_MAX_MEGABYTES
        raise CalendarError(f"The file is larger than {mb} MB; the import reads at most {mb} MB.")


def decode_calendar(raw: bytes) -> str:
    check_size(len(raw))
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CalendarError("The file is not text.")  # pragma: no cover - latin-1 decodes anything


EVENT_START = re.compile(r"^BEGIN:VEVENT[ \t]*\r?$", re.MULTILINE | re.IGNORECASE)


def check_event_count(text: str) -> None:
    """Refuse a file of more than ICS_IMPORT_MAX_EVENTS events, before it is parsed."""
    count, limit = len(EVENT_START.findall(text)), settings.ICS_IMPORT_MAX_EVENTS
    if count > limit:
        raise CalendarError(
            f"This file has {count:,} events; the import reads at most {limit:,}. "
            "Export a shorter date range and try again."
        )


def zone_name_of(value: dt.datetime, params, default: str) -> str:
    tzid = str(params.get("TZID", "")).strip('"')
    if tzid in available_time_zones():
        return tzid
    if tzid in WINDOWS_TO_OLSON:
        return WINDOWS_TO_OLSON[tzid]
    key = getattr(value.tzinfo, "key", None)
    if key in available_time_zones():
        return key if key != "UTC" or default == "UTC" else default
    return default


def parse_calendar(text: str) -> list[ParsedEvent]:
    """The events of an iCalendar file; raises CalendarError when it is not one, has too
    many events, or has an event whose dates are out of range (the message names it)."""
    check_event_count(text)
    try:
        cal = icalendar.Calendar.from_ical(text)
    except (ValueError, IndexError, KeyError, OverflowError) as exc:
        raise CalendarError(f"This is not an iCalendar (.ics) file: {exc}") from exc
    if getattr(cal, "name", "") != "VCALENDAR":
        raise CalendarError("This is not an iCalendar (.ics) file.")
    default = str(cal.get("X-WR-TIMEZONE", "")) or settings.TIME_ZONE
    if default not in available_time_zones():
        default = WINDOWS_TO_OLSON.get(default, settings.TIME_ZONE)
    events: list[ParsedEvent] = []
    budget = Budget(settings.ICS_IMPORT_MAX_OCCURRENCES)
    for component in cal.walk("VEVENT"):
        if component.get("RECURRENCE-ID") is not None:
            continue  # a changed occurrence of a series: the series is imported once
        if component.get("DTSTART") is None:
            continue
        events.append(parse_event(component, default, budget=budget))
    return events


@dataclass
class Budget:
    """How many occurrences of repeating events a file may still make the import go through
    to find their next ones (ICS_IMPORT_MAX_OCCURRENCES for the whole file)."""

    left: int


def occurrences(component, starts_at: dt.datetime):
    """The starts of a repeating event's occurrences (RRULE less EXDATE), in order; None when
    its rule cannot be read."""
    rule = component.get("RRULE")
    rule = rule[0] if isinstance(rule, list) else rule
    excluded = component.get("EXDATE") or []
    excluded = excluded if isinstance(excluded, list) else [excluded]
    for first in (starts_at, starts_at.replace(tzinfo=None)):  # UNTIL decides which one fits
        try:
            series = dateutil_rrule.rruleset()
            series.rrule(dateutil_rrule.rrulestr(rule.to_ical().decode(), dtstart=first))
            for dates in excluded:
                for value in getattr(dates, "dts", []):
                    day = value.dt
                    if not isinstance(day, dt.datetime):
                        day = dt.datetime.combine(day, first.timetz())
                    if (day.tzinfo is None) != (first.tzinfo is None):
                        day = day.replace(tzinfo=first.tzinfo)
                    series.exdate(day)
            iterator = iter(series)
            head = next(iterator, None)  # dateutil checks UNTIL against DTSTART here
        except (ValueError, TypeError, AttributeError, OverflowError):
            continue
        zone = starts_at.tzinfo
        if head is None:
            return iter(())
        return (
            start if start.tzinfo else start.replace(tzinfo=zone)
            for start in itertools.chain([head], iterator)
        )
    return None


def next_occurrence(
    component, starts_at: dt.datetime, ends_at: dt.datetime, budget: Budget
) -> tuple[dt.datetime, dt.datetime]:
    """A repeating event's next occurrence from now (its last one when the series is over), as
    a start and end of the same length. CalendarError when finding it would take more than the
    file's budget of occurrences."""
    starts = occurrences(component, starts_at)
    if starts is None:
        return starts_at, ends_at
    now, chosen = timezone.now(), None
    for start in starts:
        budget.left -= 1
        if budget.left < 0:
            raise CalendarError(
                f"{event_label(component)} repeats too often, or since too long ago, for the "
                "import to find its next occurrence. Export a shorter date range and try again."
            )
        chosen = start
        if start >= now:
            break
    if chosen is None:  # every occurrence was excluded
        return starts_at, ends_at
    return chosen, chosen + (ends_at - starts_at)


def date_value(component, name: str) -> dt.date | None:
    """The date or date-time of a DTSTART or DTEND; CalendarError when it is not one."""
    prop = component.get(name)
    if prop is None:
        return None
    try:
        value = prop.dt
    except icalendar.BrokenCalendarProperty:  # the text is not a date
        value = None
    if not isinstance(value, dt.date):
        raise CalendarError(f"{event_label(component)} has a {name} that is not a date.")
    if call_year_problem(value):
        first, last = CALL_YEARS
        raise CalendarError(
            f"{event_label(component)} has a {name} in the year {value.year}; the import "
            f"reads events from {first} to {last}."
        )
    return value


def event_label(component) -> str:
    summary = " ".join(str(component.get("SUMMARY", "")).split())[:80]
    uid = str(component.get("UID", "")).strip()[:80]
    return f"The event “{summary or uid or 'without a title'}”"


def check_length(component, length: dt.timedelta) -> None:
    if length < dt.timedelta(0):
        raise CalendarError(f"{event_label(component)} ends before it starts.")
    days = settings.ICS_IMPORT_MAX_EVENT_DAYS
    if length > dt.timedelta(days=days):
        raise CalendarError(
            f"{event_label(component)} lasts {length.days:,} days; the import reads events of "
            f"at most {days} days."
        )


def parse_event(component, default: str, *, budget: Budget | None = None) -> ParsedEvent:
    """One VEVENT with a DTSTART; CalendarError when its dates are out of range. A repeating
    event is read as its next occurrence."""
    default_zone = zoneinfo.ZoneInfo(default)
    start_prop = component.get("DTSTART")
    start = date_value(component, "DTSTART")
    end = date_value(component, "DTEND")
    if end is None and component.get("DURATION") is not None:
        try:
            duration = component.get("DURATION").dt
        except icalendar.BrokenCalendarProperty:  # e.g. "P9999999999D"
            duration = None
        if not isinstance(duration, dt.timedelta):
            raise CalendarError(
                f"{event_label(component)} has a DURATION that is not a length of time."
            )
        check_length(component, duration)
        end = start + duration
    all_day = not isinstance(start, dt.datetime)
    if all_day:
        zone_name = default
        starts_at = dt.datetime.combine(start, dt.time(), tzinfo=default_zone)
        end_day = end.date() if isinstance(end, dt.datetime) else end
        if end_day is not None and end_day < start:
            raise CalendarError(f"{event_label(component)} ends before it starts.")
        if end_day is None or end_day == start:
            end_day = start + dt.timedelta(days=1)
        ends_at = dt.datetime.combine(end_day, dt.time(), tzinfo=default_zone)
    else:
        zone_name = zone_name_of(start, start_prop.params, default)
        zone = zoneinfo.ZoneInfo(zone_name)
        starts_at = start if timezone.is_aware(start) else start.replace(tzinfo=zone)
        if isinstance(end, dt.datetime):
            ends_at = end if timezone.is_aware(end) else end.replace(tzinfo=zone)
        else:
            ends_at = starts_at + dt.timedelta(hours=1)
        starts_at, ends_at = starts_at.astimezone(zone), ends_at.astimezone(zone)
    check_length(component, ends_at - starts_at)
    recurring = component.get("RRULE") is not None
    if recurring:
        zone = starts_at.tzinfo
        starts_at, ends_at = next_occurrence(
            component, starts_at, ends_at, budget or Budget(settings.ICS_IMPORT_MAX_OCCURRENCES)
        )
        if call_year_problem(starts_at):
            raise CalendarError(f"{event_label(component)} repeats beyond {CALL_YEARS[1]}.")
        starts_at, ends_at = starts_at.astimezone(zone), ends_at.astimezone(zone)
    attendees = component.get("ATTENDEE") or []
    if not isinstance(attendees, list):
        attendees = [attendees]
    emails, names = [], {}
    for address in attendees:
        email = str(address).strip()
        if email.lower().startswith("mailto:"):
            email = email[7:]
        if "@" in email:
            emails.append(email.lower()[:254])
            params = getattr(address, "params", {})
            if name := " ".join(str(params.get("CN", "")).split())[:200]:
                names[email.lower()[:254]] = name
    uid = str(component.get("UID", "")).strip()
    if not uid:
        uid = f"{starts_at.isoformat()}-{component.get('SUMMARY', '')}"[:255]
    return ParsedEvent(
        uid=uid[:255],
        summary=str(component.get("SUMMARY", "")).strip()[:200] or "Customer call",
        starts_at=starts_at,
        ends_at=ends_at,
        time_zone=zone_name,
        all_day=all_day,
        location=str(component.get("LOCATION", "")).strip()[:300],
        url=str(component.get("URL", "")).strip()[:500],
        description=str(component.get("DESCRIPTION", "")).strip(),
        attendee_emails=emails,
        attendee_names=names,
        cancelled=str(component.get("STATUS", "")).upper() == "CANCELLED",
        recurring=recurring,
    )


def event_to_json(event: ParsedEvent) -> dict:
    data = dataclasses.asdict(event)
    data["starts_at"], data["ends_at"] = event.starts_at.isoformat(), event.ends_at.isoformat()
    return data


def event_from_json(data: dict) -> ParsedEvent:
    starts_at = dt.datetime.fromisoformat(data["starts_at"])
    ends_at = dt.datetime.fromisoformat(data["ends_at"])
    return ParsedEvent(**(data | {"starts_at": starts_at, "ends_at": ends_at}))


@dataclass
class CalendarReport:
    created: list[Call] = field(default_factory=list)
    updated: list[Call] = field(default_factory=list)
    unmatched: list[ParsedEvent] = field(default_factory=list)
    skipped: list[tuple[ParsedEvent, str]] = field(default_factory=list)


def parent_domains(domain: str) -> set[str]:
    """A domain and its parents short of the top level: a.b.example → a.b.example, b.example."""
    parts = domain.split(".")
    return {".".join(parts[i:]) for i in range(len(parts) - 1)}


class Known:
    """What a batch of events needs to know of SalesPrep, read in a few queries for the whole
    batch instead of several per event: the calls already made from them, the accounts their
    attendees' domains name, the executives and the account contacts among the attendees."""

    def __init__(self, events: list[ParsedEvent], *, user: User):
        emails = {email for event in events for email in event.attendee_emails}
        domains = {
            d for event in events for domain in event.domains for d in parent_domains(domain)
        }
        self.calls = {
            call.ical_uid: call
            for call in Call.objects.filter(ical_uid__in=[e.uid for e in events]).select_related(
                "account"
            )
        }
        self.accounts: dict[str, list[Account]] = {}
        for account in Account.objects.editable_by(user).filter(domain__in=domains):
            self.accounts.setdefault(account.domain, []).append(account)
        executives = (
            User.objects.filter(email__in=emails, groups__name=Role.EXECUTIVE, is_active=True)
            .exclude(email="")
            .order_by("pk")
        )
        self.executives: dict[str, User] = {}
        for executive in executives:
            self.executives.setdefault(executive.email.lower(), executive)
        self.contacts: dict[int, list[Contact]] = {}
        for contact in Contact.objects.filter(email__in=emails).order_by("pk"):
            self.contacts.setdefault(contact.account_id, []).append(contact)

    def decide(self, event: ParsedEvent, user: User) -> Decision:
        """What importing the event does: update the call made from it, create one for the
        account its attendees match, leave it to assign, or skip it."""
        call = self.calls.get(event.uid)
        if call is not None:
            if not call.is_editable_by(user):
                return Decision(SKIP, call=call, reason="already in SalesPrep for someone else")
            return Decision(UPDATE, call=call, account=call.account)
        account = self.account_for(event)
        if account is None:
            return Decision(ASSIGN)
        return Decision(CREATE, account=account)

    def new_people(self, event: ParsedEvent, account: Account) -> list[tuple[str, str]]:
        """The event's attendees at the account's domain who are not its stakeholders yet, as
        (e-mail, name from the invitation)."""
        known = {c.email for c in self.contacts.get(account.pk, [])}
        return [
            (email, event.attendee_names.get(email, ""))
            for email in event.attendee_emails
            if email not in known and account.domain in parent_domains(email.rsplit("@", 1)[1])
        ]

    def account_for(self, event: ParsedEvent) -> Account | None:
        """The one account whose domain is an attendee's e-mail domain (or a parent of it)."""
        candidates = set().union(*(parent_domains(domain) for domain in event.domains))
        found = {a.pk: a for d in candidates for a in self.accounts.get(d, [])}
        return next(iter(found.values())) if len(found) == 1 else None

    def executive_for(self, event: ParsedEvent) -> User | None:
        return next(
            (self.executives[e] for e in event.attendee_emails if e in self.executives), None
        )

    def contacts_for(self, event: ParsedEvent, account: Account) -> list[Contact]:
        emails = set(event.attendee_emails)
        return [c for c in self.contacts.get(account.pk, []) if c.email in emails]


def apply_event(event: ParsedEvent, call: Call, *, user: User, known: Known) -> Call:
    """Copy an event onto a call (new or existing), with attendees, and save it. ValidationError
    when a call cannot hold it, before anything is saved."""
    is_new = call.pk is None
    call.title = event.summary
    call.starts_at, call.ends_at = event.starts_at, event.ends_at
    call.time_zone, call.all_day = event.time_zone, event.all_day
    call.location = event.location or call.location
    if event.url.startswith(("https://", "http://")):
        call.meeting_url = event.url
    if event.cancelled:
        call.status = CallStatus.CANCELLED
    elif call.status == CallStatus.CANCELLED:
        call.status = CallStatus.SCHEDULED
    if is_new:
        call.ical_uid = event.uid
        call.kind = CallKind.OTHER if event.recurring else CallKind.DISCOVERY
        call.created_by = user
        if event.description and not call.purpose:
            call.purpose = event.description[:5000]
    else:
        call.sequence += 1
    if not call.executive_id:
        call.executive = known.executive_for(event)
    # The values are checked; the related rows were just read (Known) and the database holds
    # the uniqueness of ical_uid and the call's constraints.
    call.clean_fields(exclude=["account", "owner", "created_by", "executive", "ical_uid"])
    call.clean()
    call.save()
    if contacts := known.contacts_for(event, call.account):
        call.contacts.add(*contacts)
    call_changed(call)
    return call


# What importing an event does (Known.decide).
CREATE, UPDATE, ASSIGN, SKIP = "create", "update", "assign", "skip"


@dataclass
class Decision:
    action: str
    call: Call | None = None
    account: Account | None = None
    reason: str = ""


# Events whose decisions one Known reads at a time in the dry run.
PLAN_CHUNK = 500


def plan_calendar(events: list[ParsedEvent], *, user: User) -> list[dict]:
    """The dry run of an upload: for each event, what importing it would do (the decision
    the import makes, Known.decide), with its account and the attendees who are not yet the
    account's stakeholders. It only reads, a few queries per PLAN_CHUNK events."""
    plans = []
    for start in range(0, len(events), PLAN_CHUNK):
        chunk = events[start : start + PLAN_CHUNK]
        known = Known(chunk, user=user)
        for event in chunk:
            decision = known.decide(event, user)
            account = decision.account
            people = known.new_people(event, account) if account else []
            plans.append(
                {
                    "action": decision.action,
                    "account_id": account.pk if account else None,
                    "account": account.name if account else "",
                    "reason": decision.reason,
                    "people": [list(person) for person in people],
                }
            )
    return plans


def import_calendar(events: list[ParsedEvent], *, user: User) -> CalendarReport:
    """Create or update the user's calls from calendar events, all or nothing (the worker
    calls it for each batch of an upload). An event that is already another user's call, or
    that a call cannot hold, is skipped with the reason."""
    report = CalendarReport()
    known = Known(events, user=user)
    with transaction.atomic():
        for event in events:
            decision = known.decide(event, user)
            if decision.action == SKIP:
                report.skipped.append((event, decision.reason))
                continue
            if decision.action == ASSIGN:
                report.unmatched.append(event)
                continue
            call = decision.call or Call(
                account=decision.account, owner=call_owner(user, decision.account)
            )
            is_new = call.pk is None
            try:
                apply_event(event, call, user=user, known=known)
            except ValidationError as exc:  # checked before anything was saved
                report.skipped.append((event, "; ".join(exc.messages)))
                continue
            (report.created if is_new else report.updated).append(call)
            known.calls[event.uid] = call  # a file may hold the same event twice
    return report


def add_stakeholders(people: list[list], *, user: User) -> list[Contact]:
    """Make the attendees the uploader chose (``[account id, e-mail, name]``) stakeholders of
    accounts they may edit; those that are stakeholders by now are left as they are."""
    accounts = Account.objects.editable_by(user).in_bulk({pk for pk, _, _ in people})
    taken = set(
        Contact.objects.filter(
            account__in=list(accounts.values()), email__in=[e for _, e, _ in people]
        ).values_list("account_id", "email")
    )
    created = []
    with transaction.atomic():
        for pk, email, name in people:
            if pk not in accounts or (pk, email) in taken:
                continue
            contact = Contact(account=accounts[pk], email=email, name=name or email)
            contact.tidy()
            contact.full_clean()
            contact.save()
            taken.add((pk, email))
            created.append(contact)
    return created


def call_owner(user: User, account: Account) -> User:
    return user if user.is_rep else account.owner


def assign_events(
    events: list[ParsedEvent], choices: dict[str, Account], *, user: User
) -> list[Call]:
    """Create calls for unmatched events the user assigned to one of their accounts."""
    created: list[Call] = []
    known = Known(events, user=user)
    with transaction.atomic():
        for event in events:
            account = choices.get(event.uid)
            if account is None or event.uid in known.calls:
                continue
            call = Call(account=account, owner=call_owner(user, account))
            created.append(apply_event(event, call, user=user, known=known))
            known.calls[event.uid] = call
    return created
