"""Create the demo's rows from its data files (``callprep.demo.content``).

``seed()`` is what ``manage.py demo`` runs. Rows are written through the product's own
functions — ``briefs.services.start_brief``/``save_section`` for briefs and sections,
``callprep.workflow`` for every review step — so revisions, states, audit entries, approval
snapshots and notifications are the real ones. The only fields written by hand are the past
times of the history, all in :func:`backdate_history`.

Idempotent: running the seed again leaves the same data. Users, accounts, contacts and calls
are updated in place (keyed by username, domain, e-mail and calendar uid); an existing brief is
kept, a section already edited (by the seed or a user) is left alone, a brief with an audit
trail is not walked again, and backdating writes the same values on every run.

Imports run one way: this package imports the product; nothing in the product imports it
(only the ``demo`` command and the tests).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, BuyingProcess, Contact, Team, User
from accounts.roles import Role, ensure_roles
from callprep import workflow
from callprep.briefs import sections as S
from callprep.briefs import services as briefs
from callprep.briefs.models import (
    Brief,
    BriefSection,
    RevisionKind,
    SectionRevision,
    due_hours,
)
from callprep.dashboard.facts import reconcile_call_facts
from callprep.evidence.collect import start_collection
from callprep.evidence.models import CollectionRun, RunState, Trigger
from callprep.models import Call, CallStatus
from callprep.review.models import (
    SNIFF_TEST,
    Action,
    Approval,
    BriefTransition,
    ExecutiveRead,
    Notification,
    SectionComment,
)
from callprep.review.notify import reviewers_of

from .content import AccountSpec, CallSpec, Content, DemoDataError, PastCallSpec, read

DEMO_PASSWORD = "salesprep-demo"  # noqa: S105 - printed on purpose; refused when DEBUG is off

# A finished evidence run this recent, with no failed source, is good enough for a re-seed.
RECENT_EVIDENCE = dt.timedelta(hours=24)


@transaction.atomic
def seed(*, evidence: bool = True, content: Content | None = None) -> dict[str, User]:
    """Create or refresh every part of the demo; with ``evidence``, collect evidence for the
    demo accounts once the data is committed. Returns the demo users by username."""
    content = content or read()
    users = seed_users(content)
    accounts = seed_accounts(content, users)
    calls = seed_calls(content, users, accounts)
    seed_history(content, users, accounts)  # past calls first: their briefs carry forward
    seed_briefs(content, calls)
    seed_reviews(content, calls)
    reconcile_call_facts()  # the history's backdated times are facts of its calls
    if evidence:
        seed_evidence(accounts.values())
    return users


# --- People and accounts ----------------------------------------------------------------------


def seed_users(content: Content) -> dict[str, User]:
    ensure_roles()
    users: dict[str, User] = {}
    # One hash for every demo user, with a fixed salt: the password is published anyway, the
    # seed stays idempotent (the stored hash does not change), and it pays PBKDF2 once, not
    # five times (each costs most of a second).
    password = make_password(DEMO_PASSWORD, salt="salesprepdemo")
    teams = {name: Team.objects.get_or_create(name=name)[0] for name in content.teams}
    for spec in content.users:
        admin = Role.ADMIN in spec.roles
        user, _ = User.objects.get_or_create(username=spec.username)
        user.first_name = spec.first_name
        user.last_name = spec.last_name
        user.email = f"{spec.username}@salesprep.example"
        user.is_active = True
        user.is_staff = admin
        user.is_superuser = admin
        user.password = password
        user.save()
        user.groups.set(Group.objects.filter(name__in=spec.roles))
        if spec.team:
            teams[spec.team].members.add(user)
        if spec.manages:
            teams[spec.manages].managers.add(user)
        users[spec.username] = user
    return users


def seed_accounts(content: Content, users: dict[str, User]) -> dict[str, Account]:
    accounts: dict[str, Account] = {}
    for spec in content.accounts.values():
        owner = users[spec.owner]
        account = Account.objects.filter(domain=spec.domain).first() or Account(domain=spec.domain)
        account.name = spec.name
        account.website = spec.website
        account.owner = owner
        account.team = owner.teams.first()
        account.naics_code = spec.naics
        account.country = spec.country
        account.hq_city = spec.city
        account.employees = spec.employees
        account.fiscal_year_end = spec.fiscal_year_end
        account.ticker = spec.ticker
        account.exchange = spec.exchange
        account.external_id = f"DEMO-{spec.slug.upper()}"
        account.description = f"{spec.about}\n\n{content.fictional_note}"
        account.full_clean()
        account.save()
        BuyingProcess.objects.update_or_create(account=account, defaults=content.buying_process)
        contacts: dict[str, Contact] = {}
        for person in content.stakeholders:
            contact, _ = Contact.objects.update_or_create(
                account=account,
                email=f"{person.name.split()[0].lower()}@{spec.domain}",
                defaults={
                    "name": person.name,
                    "title": person.title,
                    "buying_role": person.buying_role,
                    "influence": person.influence,
                    "stance": person.stance,
                    "reports_to": contacts[person.reports_to] if person.reports_to else None,
                    "notes": person.notes,
                },
            )
            contacts[person.name] = contact
        accounts[spec.slug] = account
    return accounts


def companies(content: Content | None = None) -> list[dict[str, str]]:
    """The demo accounts as ``Account`` field values (for the evidence recordings' tests)."""
    content = content or read()
    return [
        {
            "name": spec.name,
            "website": spec.website,
            "domain": spec.domain,
            "ticker": spec.ticker,
            "exchange": spec.exchange,
            "naics_code": spec.naics,
            "country": spec.country,
            "hq_city": spec.city,
        }
        for spec in content.accounts.values()
    ]


# --- Calls --------------------------------------------------------------------------------------


def local_start(spec: AccountSpec, day: dt.date, at: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, at, tzinfo=zoneinfo.ZoneInfo(spec.time_zone))


def upsert_call(
    content: Content,
    users: dict[str, User],
    account: Account,
    *,
    uid: str,
    title: str,
    kind: str,
    starts: dt.datetime,
    executive: str | None,
) -> Call:
    """Create or refresh one demo call, keyed by its stable ``ical_uid``."""
    details = content.call_details
    names = {"account": account.name, "city": account.hq_city}
    call, _ = Call.objects.update_or_create(
        ical_uid=uid,
        defaults={
            "account": account,
            "title": title,
            "kind": kind,
            "status": CallStatus.COMPLETED if starts < timezone.now() else CallStatus.SCHEDULED,
            "starts_at": starts,
            "ends_at": starts + dt.timedelta(minutes=details["duration_minutes"]),
            "time_zone": str(starts.tzinfo),
            "owner": account.owner,
            "executive": users[executive] if executive else None,
            "location": details["location"].format(**names),
            "purpose": details["purpose"].format(**names),
            "agenda": details["agenda"].format(**names),
            "agreed_outcome": details["agreed_outcome"].format(**names),
            "created_by": account.owner,
        },
    )
    call.contacts.set(account.contacts.filter(buying_role__in=details["contacts"]))
    return call


def seed_calls(
    content: Content, users: dict[str, User], accounts: dict[str, Account]
) -> list[tuple[CallSpec, Call]]:
    """The calls of calls.yaml, relative to today, so a demo always has upcoming and past calls."""
    today = timezone.localdate()
    return [
        (
            spec,
            upsert_call(
                content,
                users,
                accounts[spec.account],
                uid=spec.uid,
                title=spec.title,
                kind=spec.kind,
                starts=local_start(
                    content.accounts[spec.account], today + dt.timedelta(days=spec.day), spec.at
                ),
                executive=spec.executive,
            ),
        )
        for spec in content.calls
    ]


# --- Briefs -------------------------------------------------------------------------------------


def seed_briefs(content: Content, calls: list[tuple[CallSpec, Call]]) -> int:
    """Start the briefs of the upcoming calls and write their sections: the account's complete
    brief for a call with a review, else its draft (an account without one: no brief).
    Returns the number of sections written."""
    written = 0
    now = timezone.now()
    for spec, call in calls:
        plan = content.full_brief(spec.account) if spec.review else content.draft(spec.account)
        if not plan or call.starts_at < now:
            continue
        brief = Brief.objects.filter(call=call).first()
        if brief is None:
            brief = briefs.start_brief(call, by=call.owner)
        written += write_sections(brief, plan, by=call.owner)
    return written


def _fields(spec: S.SectionSpec, plan: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """A structured section's fields as its form posts them, for ``S.clean_fields``: the
    plan's values over the current ones (a claim without text keeps the current text)."""
    data: dict[str, Any] = {}
    for fspec in spec.fields:
        name = f"f-{fspec.key}"
        value = plan.get(fspec.key, current.get(fspec.key))
        if fspec.kind == "claim":
            value = value or {}
            text = value.get("text", (current.get(fspec.key) or {}).get("text", ""))
            data[name] = text
            data[f"{name}-confidence"] = value.get("confidence", "")
            data[f"{name}-evidence"] = value.get("evidence", "")
        elif fspec.kind == "flag":
            data[name] = "on" if value else ""
        elif fspec.kind == "lines":
            data[name] = "\n".join(value or [])
        else:
            data[name] = value or ""
    return S.clean_fields(spec, data)


def write_sections(brief: Brief, plan: dict[str, Any], *, by, only_incomplete: bool = False) -> int:
    """Write the sections of ``plan`` through ``services.save_section`` (so revisions, state
    and focus are computed as in the editor), skipping any section already edited (and, with
    ``only_incomplete``, any section already complete, e.g. carried forward)."""
    written = 0
    sections = {s.key: s for s in brief.sections.all()}
    for key, content in plan.items():
        section = sections[key]
        section.brief = brief
        if only_incomplete and section.state == S.SectionState.COMPLETE:
            continue
        if section.revisions.filter(kind=RevisionKind.EDIT).exists():
            continue  # already written
        spec = S.spec_for(key)
        if spec.kind == S.SectionKind.PROSE:
            text, fields = content, None
        else:
            text, fields = section.text, _fields(spec, content, dict(section.fields or {}))
        try:
            briefs.save_section(
                section, text=text, fields=fields, base_version=section.version, by=by
            )
        except briefs.StaleVersion:
            continue  # someone is editing it right now: their words win
        written += 1
    return written


# --- Review states ------------------------------------------------------------------------------


def _yes() -> dict[str, dict[str, str]]:
    return {q.key: {"answer": "yes", "note": ""} for q in SNIFF_TEST}


def _reviewer(brief: Brief) -> User:
    """Who reviews the brief: the first of those the product sends it to for review
    (``notify.reviewers_of``: the call's executive, else the team's managers, else an admin),
    each one whom ``Brief.may_review`` lets review it."""
    reviewer = next(iter(reviewers_of(brief)), None)
    if reviewer is None:
        raise DemoDataError(
            f"people.yaml: nobody may review the brief for {brief.call.title!r} "
            f"({brief.call.account.name}): name an executive, a team manager or an admin"
        )
    return reviewer


def walk(content: Content, brief: Brief, spec: CallSpec, *, reviewer: User) -> None:
    """Take a complete draft along its call's review path, through the workflow functions."""
    texts = content.reviewing
    workflow.submit_brief(brief, by=brief.call.owner, comment=texts["submit_comment"])
    if spec.review in ("approved", "approved_briefed"):
        workflow.approve_brief(brief, by=reviewer, answers=_yes(), comment=texts["approve_comment"])
        if spec.review == "approved_briefed":  # content.py: such a call names its executive
            workflow.mark_briefed(brief, by=brief.call.executive)
    elif spec.review == "approved_with_concerns":
        workflow.approve_brief(brief, by=reviewer, answers={**_yes(), **texts["concerns"]})
    elif spec.review == "changes_requested":
        workflow.request_changes(
            brief,
            by=reviewer,
            comment=texts["request_changes_comment"],
            section_comments=spec.comments,
        )


def seed_reviews(content: Content, calls: list[tuple[CallSpec, Call]]) -> dict[str, int]:
    """Walk the upcoming briefs without an audit trail into their calls' review states,
    earliest call first. Returns how many briefs took each path (nothing on a second run)."""
    specs = {call.pk: spec for spec, call in calls if spec.review}
    pending = (
        Brief.objects.filter(call__in=list(specs), call__starts_at__gt=timezone.now())
        .exclude(pk__in=BriefTransition.objects.values("brief"))
        .select_related("call__owner", "call__executive", "call__account")
        .order_by("call__starts_at")
    )
    done: dict[str, int] = {}
    for brief in pending:
        spec = specs[brief.call_id]
        missing = workflow.missing_sections(brief)
        if missing:
            raise DemoDataError(
                f"calls.yaml: call {spec.title!r}: review {spec.review!r} needs a complete brief; "
                f"missing: {', '.join(missing)}"
            )
        walk(content, brief, spec, reviewer=_reviewer(brief))
        done[spec.review] = done.get(spec.review, 0) + 1
    return done


# --- History for the prep dashboard ---------------------------------------------------------------


def seed_history(
    content: Content, users: dict[str, User], accounts: dict[str, Account]
) -> dict[str, int]:
    """Create the history calls and their briefs (once), then backdate them (every run, to
    the same values). Returns the count of history calls by outcome."""
    today = timezone.localdate()
    counts: dict[str, int] = {}
    for past in content.history:
        account = accounts[past.account]
        call = upsert_call(
            content,
            users,
            account,
            uid=past.uid,
            title=past.title,
            kind=past.kind,
            starts=local_start(
                content.accounts[past.account], today - dt.timedelta(days=past.days_ago), past.at
            ),
            executive=past.executive,
        )
        counts[past.outcome] = counts.get(past.outcome, 0) + 1
        if past.outcome == "none":
            continue
        brief = Brief.objects.filter(call=call).select_related("call__owner").first()
        if brief is None:
            plan = content.full_brief(past.account)
            # As a rep would: start from the account's previous brief (the history is seeded
            # oldest first) and write only what is not complete yet. A draft starts afresh.
            source = Brief.objects.latest_for_account(account, exclude_call=call)
            carry = (
                past.outcome != "draft"
                and source is not None
                and source.call.starts_at < call.starts_at
            )
            brief = briefs.start_brief(call, by=call.owner, carry_forward=carry)
            if past.outcome == "draft":
                # Started, never finished: the account's draft, or the first two sections.
                plan = content.draft(past.account) or dict(list(plan.items())[:2])
            write_sections(brief, plan, by=call.owner, only_incomplete=carry)
            _walk_history(content, brief, past)
        backdate_history(brief, call, past)
    return counts


def _walk_history(content: Content, brief: Brief, past: PastCallSpec) -> None:
    rep = brief.call.owner
    texts = content.history_texts
    if past.outcome == "draft":
        return
    reviewer = _reviewer(brief)
    workflow.submit_brief(brief, by=rep)
    if past.outcome in ("changes", "revised"):
        workflow.request_changes(
            brief,
            by=reviewer,
            comment=texts["request_changes_comment"],
            section_comments=texts["section_comments"],
        )
        if past.outcome == "changes":
            return
        workflow.submit_brief(brief, by=rep, comment=texts["resubmit_comment"])
    if past.approve is not None:
        workflow.approve_brief(brief, by=reviewer, answers=_yes())
        if past.read is not None:  # content.py: such a call names its executive
            workflow.mark_briefed(brief, by=brief.call.executive)


STATUS_CHANGES = {
    Action.SUBMIT,
    Action.WITHDRAW,
    Action.REQUEST_CHANGES,
    Action.APPROVE,
    Action.APPROVE_WITH_CONCERNS,
    Action.REOPEN,
}


def backdate_history(brief: Brief, call: Call, past: PastCallSpec) -> None:
    """Demo only, and the ONE place the demo writes workflow fields by hand: move a history
    brief's timestamps from "now" (when the seed ran the workflow) to the times ``past``
    describes, relative to the call's start. Nothing about lateness is stored: the rules
    (``is_on_time`` and friends in ``callprep/briefs/models.py``) read these times and the
    call's start. Queryset ``update()`` on purpose: these are past values no workflow step
    would write; the call's dashboard facts are brought in step by the seed's reconciliation
    at the end. Writes the same values on every run."""
    # In UTC: aware arithmetic in the call's own zone is wall-clock time, an hour off across a
    # daylight-saving change, while the workflow and the dashboard compute on UTC values.
    start = call.starts_at.astimezone(dt.UTC)

    def before(hours: float) -> dt.datetime:
        return start - dt.timedelta(hours=hours)

    approve_h = float(due_hours()) if past.approve == "due" else past.approve
    # The audit entries in the order the workflow wrote them, and the time each one gets.
    times = {
        Action.REQUEST_CHANGES: [before(past.review)],
        Action.APPROVE: [before(approve_h)] if approve_h is not None else [],
        Action.MARK_BRIEFED: [before(past.read)] if past.read is not None else [],
    }
    times[Action.SUBMIT] = [before(past.submit)] + (
        [before(past.resubmit)] if past.outcome == "revised" else []
    )
    started = before(max(past.submit, 72.0) + 48)  # the rep started two days earlier
    used = dict.fromkeys(times, 0)
    last_status_change = None
    submitted = approved = None
    for entry in BriefTransition.objects.filter(brief=brief).order_by("at", "pk"):
        stamps = times.get(entry.action, [])
        at = stamps[min(used[entry.action], len(stamps) - 1)] if stamps else started
        used[entry.action] = used.get(entry.action, 0) + 1
        if entry.at != at:
            BriefTransition.objects.filter(pk=entry.pk).update(at=at)
        if entry.action in STATUS_CHANGES:
            last_status_change = at
        if entry.action == Action.SUBMIT:
            submitted = at
        if entry.action == Action.APPROVE:
            approved = at
    edited = started + dt.timedelta(hours=2)
    Brief.objects.filter(pk=brief.pk).update(
        created_at=started,
        status_changed_at=last_status_change,
        submitted_at=submitted,
        approved_at=approved,
    )
    BriefSection.objects.filter(brief=brief, updated_at__isnull=False).update(updated_at=edited)
    SectionRevision.objects.filter(section__brief=brief).update(created_at=edited, saved_at=edited)
    if approved is not None:
        Approval.objects.filter(brief=brief).update(at=approved)
    if times[Action.REQUEST_CHANGES] and past.review:
        review = times[Action.REQUEST_CHANGES][0]
        resolved = times[Action.SUBMIT][-1] if past.outcome == "revised" else None
        SectionComment.objects.filter(brief=brief).update(
            created_at=review,
            resolved_at=resolved,
            resolved_by=call.owner if resolved else None,
        )
    if times[Action.MARK_BRIEFED]:
        ExecutiveRead.objects.filter(brief=brief).update(read_at=times[Action.MARK_BRIEFED][0])
    # The notifications of past activity would only bury the live ones (their e-mail tasks,
    # if queued, find nothing to send).
    Notification.objects.filter(brief=brief).delete()


# --- Evidence -----------------------------------------------------------------------------------
# ``callprep/evidence/recordings/`` holds a response, in each source's real format, for every
# demo account (tickers ZXNW, ZXHG and ZXTW at SEC; FRED series for each of their industries;
# World Bank indicators for each non-US country; GDELT articles and the home and about pages of
# each ``www.<slug>.example``). ``manage.py demo`` sets ``EVIDENCE_TRANSPORT = "replay"`` so the
# worker collects them with no network. (The recordings also keep a few companies that only the
# evidence tests create: Northwind Robotics NWRB, Halvorsen Maritime HALV, Bluebird Clinics,
# Acme.)


def seed_evidence(accounts: Iterable[Account]) -> None:
    """On commit, start collecting evidence for every demo account that has none fresh.

    The worker that ``manage.py demo`` starts then collects it (from the recordings when
    ``EVIDENCE_TRANSPORT = "replay"``); with ``--seed-only`` the tasks wait in the broker.
    """
    ids = [account.pk for account in accounts]
    transaction.on_commit(
        lambda: collect_demo_evidence(Account.objects.filter(pk__in=ids), only_if_needed=True)
    )


def needs_collection(account: Account) -> bool:
    """False when a run is still open (the worker will finish it, or the sweep re-enqueues it)
    or a recent run ended without a failed source."""
    runs = CollectionRun.objects.filter(account=account)
    if runs.unfinished().exists():
        return False
    recent_ok = runs.filter(created_at__gte=timezone.now() - RECENT_EVIDENCE).exclude(
        sources__state=RunState.FAILED
    )
    return not recent_ok.exists()


def collect_demo_evidence(
    accounts: Iterable[Account], *, only_if_needed: bool = False
) -> list[CollectionRun]:
    """Start a collection run per account (or reuse the one in progress); the worker replays
    the recordings. With ``only_if_needed``, skip accounts whose evidence is fresh."""
    return [
        start_collection(account, trigger=Trigger.DEMO)
        for account in accounts
        if not only_if_needed or needs_collection(account)
    ]
