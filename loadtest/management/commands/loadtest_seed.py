"""`manage.py loadtest_seed`: the people and data the load test (loadtest/) signs in as.

    manage.py loadtest_seed [--force]

Three teams, 20 reps (lt-rep-01 … lt-rep-20), a manager per team (lt-manager-1 … 3) and two
executives (lt-exec-1, lt-exec-2), all with the password ``PASSWORD``. Each rep owns three
accounts and has:

- one upcoming call whose draft brief is theirs alone — the brief the load test autosaves
  (``ical_uid`` ``loadtest-<rep>-target``), started through ``services.start_brief``;
- a few more upcoming calls, one of them with a brief submitted to an executive (so the review
  queues are not empty);
- eight weeks of history: past calls whose briefs were approved on time, late or never, with
  executive reads — so the dashboard has numbers, lead times and a trend.

Idempotent: people, teams, accounts and calls are found by their names and ``ical_uid``; the
history is made once; the upcoming calls are moved to the same offsets from now on every run
(a brief's due time follows its call's start). Refuses to run when DEBUG is off unless --force:
use a scratch database.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, Team, User
from accounts.roles import Role, ensure_roles
from callprep.briefs import sections as S
from callprep.briefs import services
from callprep.briefs.models import Brief, BriefSection, BriefStatus, due_hours
from callprep.dashboard.facts import reconcile_call_facts
from callprep.models import Call, CallStatus
from callprep.review.models import ExecutiveRead
from loadtest.management.commands.generate_load_data import KINDS, pick
from loadtest.management.commands.generate_load_data import Command as LoadData

PASSWORD = "loadtest-password"  # noqa: S105 - scratch-database users, printed on purpose
TEAMS = ("Loadtest Alpha", "Loadtest Bravo", "Loadtest Charlie")
REPS = 20
EXECUTIVES = 2
UID = "loadtest-"
HISTORY_WEEKS = 8
HISTORY_CALLS = 10  # past calls per rep
UPCOMING_DAYS = (2, 5, 9, 16)  # further upcoming calls per rep (days from now)
TARGET_DAYS = 7  # the call whose brief the rep autosaves


def rep_name(i: int) -> str:
    return f"lt-rep-{i + 1:02d}"


def manager_name(i: int) -> str:
    return f"lt-manager-{i + 1}"


def exec_name(i: int) -> str:
    return f"lt-exec-{i + 1}"


class Command(BaseCommand):
    help = "Create the load test's users, accounts, calls and briefs (scratch databases only)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run although DEBUG is off.")
        parser.add_argument("--seed", type=int, default=11)

    def handle(self, *args, force: bool, seed: int, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG is off, so this may be a production database. Seed load-test data in a "
                "scratch database only, or pass --force."
            )
        rng = random.Random(seed)
        with transaction.atomic():
            reps, managers, execs, teams = self.people()
            accounts = self.accounts(reps, teams)
            made = self.history(rng, reps, accounts, execs)
            targets = self.upcoming(reps, accounts, execs)
            # The history went in around the service functions: reconcile the calls' facts.
            reconcile_call_facts()
        self.stdout.write(
            f"{len(reps)} reps in {len(teams)} teams, {len(managers)} managers, {len(execs)} "
            f"executives; {len(targets)} briefs to autosave; {made} past calls added. "
            f"Password: {PASSWORD}"
        )

    # --- people ---------------------------------------------------------------------------------

    def people(self):
        ensure_roles()
        groups = {g.name: g for g in Group.objects.filter(name__in=[str(r) for r in Role])}
        # One hash for all (fixed salt): the seed stays idempotent and pays PBKDF2 once.
        password = make_password(PASSWORD, salt="salesprepload")
        teams = [Team.objects.get_or_create(name=name)[0] for name in TEAMS]

        def person(username: str, first: str, last: str, role: Role) -> User:
            user, _ = User.objects.update_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@loadtest.invalid",
                    "password": password,
                    "is_active": True,
                },
            )
            user.groups.set([groups[str(role)]])
            return user

        reps = [person(rep_name(i), "Rep", f"{i + 1:02d}", Role.REP) for i in range(REPS)]
        for i, rep in enumerate(reps):
            teams[i % len(teams)].members.add(rep)
        managers = []
        for i, team in enumerate(teams):
            manager = person(manager_name(i), "Manager", str(i + 1), Role.MANAGER)
            team.managers.add(manager)
            managers.append(manager)
        execs = [
            person(exec_name(i), "Executive", str(i + 1), Role.EXECUTIVE) for i in range(EXECUTIVES)
        ]
        return reps, managers, execs, teams

    def accounts(self, reps, teams) -> dict[int, list[Account]]:
        by_rep: dict[int, list[Account]] = {}
        for i, rep in enumerate(reps):
            team = teams[i % len(teams)]
            by_rep[rep.pk] = [
                Account.objects.update_or_create(
                    name=f"Loadtest customer {i + 1:02d}-{n}",
                    defaults={"owner": rep, "team": team, "country": ("US", "GB", "DE")[n]},
                )[0]
                for n in range(3)
            ]
        return by_rep

    # --- calls and briefs -----------------------------------------------------------------------

    def call(self, uid: str, account: Account, rep: User, *, starts, executive, title, kind):
        past = starts <= timezone.now()
        call, _ = Call.objects.update_or_create(
            ical_uid=uid,
            defaults={
                "account": account,
                "title": title,
                "kind": kind,
                "status": CallStatus.COMPLETED if past else CallStatus.SCHEDULED,
                "starts_at": starts,
                "ends_at": starts + timedelta(hours=1),
                "time_zone": "UTC",
                "owner": rep,
                "executive": executive,
                "purpose": f"Understand {account.name}'s priorities for the coming year.",
                "agenda": "1. Their priorities\n2. What they have tried\n3. Next steps",
                "agreed_outcome": "Agree whether a joint evaluation makes sense.",
                "created_by": rep,
            },
        )
        return call

    def upcoming(self, reps, accounts, execs) -> list[Brief]:
        """Each rep's autosave target (a draft of their own) and a few more upcoming calls."""
        now = timezone.now().replace(second=0, microsecond=0)
        targets = []
        for i, rep in enumerate(reps):
            mine = accounts[rep.pk]
            executive = execs[i % len(execs)]
            target = self.call(
                f"{UID}{rep.username}-target",
                mine[0],
                rep,
                starts=now + timedelta(days=TARGET_DAYS, hours=i % 8),
                executive=executive,
                title=f"Load test visit {rep.username}",
                kind=KINDS[1][0],
            )
            brief = Brief.objects.filter(call=target).first()
            if brief is None:
                brief = services.start_brief(target, by=rep, collect_evidence=False)
            elif brief.status != BriefStatus.DRAFT:
                Brief.objects.filter(pk=brief.pk).update(status=BriefStatus.DRAFT)
            targets.append(brief)
            for n, days in enumerate(UPCOMING_DAYS):
                call = self.call(
                    f"{UID}{rep.username}-next-{n}",
                    mine[(n + 1) % len(mine)],
                    rep,
                    starts=now + timedelta(days=days, hours=n),
                    executive=execs[(i + n) % len(execs)] if n % 2 == 0 else None,
                    title=f"Upcoming call {n + 1} of {rep.username}",
                    kind=KINDS[n % len(KINDS)][0],
                )
                if n == 0 and not Brief.objects.filter(call=call).exists():
                    # Submitted (for an executive's queue): the queue does not look inside.
                    brief = services.start_brief(call, by=rep, collect_evidence=False)
                    Brief.objects.filter(pk=brief.pk).update(
                        status=BriefStatus.SUBMITTED, status_changed_at=now, submitted_at=now
                    )
                elif n == 1 and not Brief.objects.filter(call=call).exists():
                    services.start_brief(call, by=rep, collect_evidence=False)
        return targets

    def history(self, rng: random.Random, reps, accounts, execs) -> int:
        """Past calls with briefs in every state (the distribution generate_load_data uses)."""
        now = timezone.now().replace(second=0, microsecond=0)
        due = timedelta(hours=due_hours())
        required = sum(1 for s in S.SECTIONS if s.required)
        made = 0
        for i, rep in enumerate(reps):
            for n in range(HISTORY_CALLS):
                uid = f"{UID}{rep.username}-past-{n}"
                if Call.objects.filter(ical_uid=uid).exists():
                    continue
                starts = now - timedelta(hours=rng.randrange(2, HISTORY_WEEKS * 7 * 24))
                executive = execs[(i + n) % len(execs)] if rng.random() < 0.6 else None
                call = self.call(
                    uid,
                    accounts[rep.pk][n % 3],
                    rep,
                    starts=starts,
                    executive=executive,
                    title=f"Past call {n + 1} of {rep.username}",
                    kind=pick(rng, KINDS),
                )
                made += 1
                state, submitted_at, approved_at = LoadData.brief_story(rng, starts, now, due)
                if state is None:
                    continue
                complete = {
                    BriefStatus.DRAFT: rng.randint(0, required - 1),
                    BriefStatus.SUBMITTED: required,
                    BriefStatus.CHANGES_REQUESTED: rng.randint(required - 2, required),
                    BriefStatus.APPROVED: required,
                }[state]
                created = starts - timedelta(days=rng.randint(3, 12))
                brief = Brief.objects.create(
                    call=call,
                    status=state,
                    created_by=rep,
                    status_changed_at=approved_at or submitted_at or created,
                    submitted_at=submitted_at,
                    approved_at=approved_at,
                    approved_by=(executive or execs[0]) if approved_at else None,
                )
                Brief.objects.filter(pk=brief.pk).update(created_at=created)
                done, rows = 0, []
                for position, spec in enumerate(S.SECTIONS):
                    state_of = S.SectionState.EMPTY
                    if spec.required and done < complete:
                        state_of, done = S.SectionState.COMPLETE, done + 1
                    rows.append(
                        BriefSection(
                            brief=brief,
                            key=spec.key,
                            position=position,
                            required=spec.required,
                            state=state_of,
                            words=120 if state_of == S.SectionState.COMPLETE else 0,
                        )
                    )
                BriefSection.objects.bulk_create(rows)
                if approved_at and executive and rng.random() < 0.7:
                    read_at = min(approved_at + timedelta(hours=rng.uniform(1, 48)), starts)
                    ExecutiveRead.objects.create(brief=brief, user=executive, read_at=read_at)
        return made
