"""`manage.py generate_load_data`: a sales organisation at real size, for the dashboard benchmark.

    manage.py generate_load_data --reps 1000 --teams 50 --accounts 20000 --calls 200000

Users, teams, accounts, calls (a year back, two months ahead), briefs with their eight sections
and executive reads. Distributions follow how preparation really goes: most past calls have
an approved brief, approvals cluster around the due time (a long tail of early ones, a fat
tail of late ones, some after the call), a few calls never get a brief, executives read most
approved briefs — but not all — before the call; future calls are less far along the further
away they are. Times are spread over each rep's own time zone.

Bulk-loaded with PostgreSQL COPY (bulk_create on other databases) in one transaction, then
VACUUM (ANALYZE); the calls' facts are written by ``reconcile_call_facts`` at the end, the way
it repairs any bulk write.
Everything it makes is marked ("load-" usernames, "Load " team names): it refuses to run when
load data exists unless --reset, which deletes exactly that data first; and it refuses when
DEBUG is off unless --force. Random but repeatable (--seed).
"""

from __future__ import annotations

import json
import random
import time
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from django.utils import timezone

from accounts.models import Account, Team, User
from accounts.roles import Role
from callprep.briefs import sections as S
from callprep.briefs.models import Brief, BriefSection, BriefStatus, due_hours
from callprep.dashboard.facts import reconcile_call_facts
from callprep.dashboard.models import CallFact
from callprep.models import Call, CallKind, CallStatus
from callprep.review.models import ExecutiveRead

PREFIX = "load-"
TEAM_PREFIX = "Load "
PASSWORD = "load-data-password"  # noqa: S105 - a scratch database's demo users
ZONES = [
    ("America/New_York", 30), ("America/Chicago", 10), ("America/Los_Angeles", 15),
    ("Europe/London", 12), ("Europe/Berlin", 12), ("Europe/Paris", 6), ("Asia/Tokyo", 5),
    ("Asia/Singapore", 4), ("Australia/Sydney", 4), ("America/Sao_Paulo", 2),
]  # fmt: skip
KINDS = [
    (CallKind.DISCOVERY, 40), (CallKind.EXECUTIVE_VISIT, 20), (CallKind.BUSINESS_REVIEW, 20),
    (CallKind.NEGOTIATION, 10), (CallKind.OTHER, 10),
]  # fmt: skip
H = timedelta(hours=1)


def pick(rng: random.Random, weighted: list[tuple]) -> object:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


class Command(BaseCommand):
    help = "Generate a realistic, large data set for the prep dashboard (scratch databases only)."

    def add_arguments(self, parser):
        parser.add_argument("--reps", type=int, default=1000)
        parser.add_argument("--teams", type=int, default=50)
        parser.add_argument("--accounts", type=int, default=20_000)
        parser.add_argument("--calls", type=int, default=200_000)
        parser.add_argument("--executives", type=int, default=20)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--reset", action="store_true", help="Delete earlier load data first.")
        parser.add_argument("--force", action="store_true", help="Run although DEBUG is off.")

    def handle(self, *args, reps, teams, accounts, calls, executives, seed, **options):
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "DEBUG is off, so this may be a production database. Generate load data in a "
                "scratch database only, or pass --force."
            )
        if min(reps, teams, accounts, executives) < 1 or calls < 0 or reps < teams:
            raise CommandError("Use at least one of everything, and at least one rep per team.")
        has_data = User.objects.filter(username__startswith=PREFIX).exists()
        if has_data and not options["reset"]:
            raise CommandError(
                "This database already has load data. Pass --reset to delete it and generate again."
            )
        started = time.perf_counter()
        rng = random.Random(seed)
        with transaction.atomic():
            if has_data:
                self.reset()
                self.say(f"Deleted the earlier load data ({time.perf_counter() - started:.1f} s)")
            people = self.make_people(rng, reps, teams, executives)
            account_rows = self.make_accounts(rng, accounts, people)
            self.make_calls(rng, calls, account_rows, people)
            # The rows went in around the service functions: the facts' reconciliation
            # writes the dashboard's rows, as it repairs any bulk write.
            facts = reconcile_call_facts()
            self.say(f"{facts['written']:,} call facts written")
        if connection.vendor == "postgresql":
            # VACUUM too (outside a transaction): it sets the visibility map, so the dashboard's
            # covering indexes give index-only scans at once (autovacuum would get there later).
            command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
            with connection.cursor() as cursor:
                for model in (
                    User, Team, Account, Call, Brief, BriefSection, ExecutiveRead, CallFact
                ):  # fmt: skip
                    cursor.execute(f"{command} {connection.ops.quote_name(model._meta.db_table)}")
        self.say(
            f"Done in {time.perf_counter() - started:.1f} s. Sign in as {PREFIX}manager-000 "
            f"(manages {TEAM_PREFIX}team 000) or {PREFIX}exec-000; password {PASSWORD}."
        )

    def say(self, text: str) -> None:
        self.stdout.write(text)

    # --- people -------------------------------------------------------------------------------

    def make_people(self, rng, reps, teams, executives) -> dict:
        password = make_password(PASSWORD)
        team_objs = Team.objects.bulk_create(
            [Team(name=f"{TEAM_PREFIX}team {i:03d}") for i in range(teams)]
        )

        def user(name, first, last):
            return User(
                username=f"{PREFIX}{name}", first_name=first, last_name=last, password=password,
                email=f"{name}@load.invalid",
            )  # fmt: skip

        rep_objs = User.objects.bulk_create(
            [user(f"rep-{i:04d}", "Rep", f"{i:04d}") for i in range(reps)]
        )
        manager_objs = User.objects.bulk_create(
            [user(f"manager-{i:03d}", "Manager", f"{i:03d}") for i in range(teams)]
        )
        exec_objs = User.objects.bulk_create(
            [user(f"exec-{i:03d}", "Executive", f"{i:03d}") for i in range(executives)]
        )
        groups = {g.name: g for g in Group.objects.filter(name__in=[r.value for r in Role])}
        Through = User.groups.through
        Through.objects.bulk_create(
            [Through(user_id=u.pk, group_id=groups[Role.REP].pk) for u in rep_objs]
            + [Through(user_id=u.pk, group_id=groups[Role.MANAGER].pk) for u in manager_objs]
            + [Through(user_id=u.pk, group_id=groups[Role.EXECUTIVE].pk) for u in exec_objs]
            # The first executive is also the head of sales: the whole organisation's dashboard.
            + [Through(user_id=exec_objs[0].pk, group_id=groups[Role.SALES_LEADER].pk)]
        )
        team_of: dict[int, Team] = {}
        by_team: dict[int, list[User]] = {t.pk: [] for t in team_objs}
        for i, rep in enumerate(rep_objs):
            team = team_objs[i % teams]
            team_of[rep.pk] = team
            by_team[team.pk].append(rep)
        Members = Team.members.through
        Members.objects.bulk_create(
            [Members(team_id=team_of[r.pk].pk, user_id=r.pk) for r in rep_objs]
        )
        Managers = Team.managers.through
        Managers.objects.bulk_create(
            [
                Managers(team_id=t.pk, user_id=m.pk)
                for t, m in zip(team_objs, manager_objs, strict=True)
            ]
        )
        zone_of = {r.pk: pick(rng, ZONES) for r in rep_objs}
        self.say(f"{teams} teams, {reps} reps, {teams} managers, {executives} executives")
        return {
            "teams": team_objs, "by_team": by_team, "zone_of": zone_of,
            "executives": exec_objs,
        }  # fmt: skip

    def make_accounts(self, rng, count, people) -> list[tuple[int, int, int]]:
        """[(account id, team id, owner id)]"""
        teams = people["teams"]
        now = timezone.now()
        rows = []
        first = next_id(Account)
        for i in range(count):
            team = teams[rng.randrange(len(teams))]
            owner = rng.choice(people["by_team"][team.pk])
            rows.append(
                {
                    "id": first + i, "name": f"Load customer {i:05d}", "owner_id": owner.pk,
                    "team_id": team.pk, "country": rng.choice(["US", "GB", "DE", "FR", "JP"]),
                    "created_at": now, "updated_at": now,
                }
            )  # fmt: skip
        load(Account, rows)
        self.say(f"{count:,} accounts")
        return [(r["id"], r["team_id"], r["owner_id"]) for r in rows]

    # --- calls and briefs ---------------------------------------------------------------------

    def make_calls(self, rng, count, account_rows, people) -> None:
        now = timezone.now().replace(second=0, microsecond=0)
        due = timedelta(hours=due_hours())
        executives = [e.pk for e in people["executives"]]
        call_id, brief_id = next_id(Call), next_id(Brief)
        calls, briefs, sections, reads = [], [], [], []
        section_specs = list(enumerate(S.SECTIONS))
        required = sum(1 for s in S.SECTIONS if s.required)
        for n in range(count):
            account_id, team_id, owner_id = account_rows[rng.randrange(len(account_rows))]
            if rng.random() < 0.1:  # a teammate runs the call
                owner_id = rng.choice(people["by_team"][team_id]).pk
            zone = people["zone_of"][owner_id]
            # A year back, two months ahead; in office hours-ish of any zone.
            starts = now + timedelta(minutes=15 * rng.randrange(-365 * 96, 60 * 96))
            past = starts <= now
            status = CallStatus.SCHEDULED
            if past:
                status = CallStatus.CANCELLED if rng.random() < 0.03 else CallStatus.COMPLETED
            elif rng.random() < 0.02:
                status = CallStatus.CANCELLED
            executive = rng.choice(executives) if rng.random() < 0.6 else None
            cid = call_id + n
            calls.append(
                {
                    "id": cid, "account_id": account_id, "title": f"Load call {n}",
                    "kind": pick(rng, KINDS), "status": status, "starts_at": starts,
                    "ends_at": starts + H, "time_zone": zone, "owner_id": owner_id,
                    "executive_id": executive, "ical_uid": f"{PREFIX}{cid}@salesprep",
                    "created_at": starts - timedelta(days=14), "updated_at": now,
                }
            )  # fmt: skip
            state, submitted_at, approved_at = self.brief_story(rng, starts, now, due)
            if state is None:
                continue
            bid = brief_id + len(briefs)
            complete = {
                BriefStatus.DRAFT: rng.randint(0, required - 1),
                BriefStatus.SUBMITTED: required,
                BriefStatus.CHANGES_REQUESTED: rng.randint(required - 2, required),
                BriefStatus.APPROVED: required if rng.random() < 0.95 else required - 1,
            }[state]
            created = min(starts - timedelta(days=rng.randint(3, 12)), now)
            briefs.append(
                {
                    "id": bid, "call_id": cid, "status": state,
                    "created_by_id": owner_id, "created_at": created,
                    "status_changed_at": approved_at or submitted_at or created,
                    "submitted_at": submitted_at,
                    "approved_at": approved_at,
                    "approved_by_id": (executive or executives[0]) if approved_at else None,
                }
            )  # fmt: skip
            done = 0
            for position, spec in section_specs:
                state_of = S.SectionState.EMPTY
                if spec.required and done < complete:
                    state_of, done = S.SectionState.COMPLETE, done + 1
                elif spec.required and rng.random() < 0.5:
                    state_of = S.SectionState.IN_PROGRESS
                sections.append(
                    {
                        "brief_id": bid, "key": spec.key, "position": position,
                        "required": spec.required, "state": state_of,
                        "words": 120 if state_of == S.SectionState.COMPLETE else 20,
                    }
                )  # fmt: skip
            if approved_at and executive and rng.random() < 0.7:
                read_at = approved_at + timedelta(hours=rng.uniform(1, 60))
                if rng.random() < 0.9:
                    read_at = min(read_at, starts - timedelta(minutes=rng.randint(10, 600)))
                if read_at <= now:
                    reads.append({"brief_id": bid, "user_id": executive, "read_at": read_at})
            if len(calls) >= 20_000:
                self.flush(calls, briefs, sections, reads)
                brief_id += len(briefs)
                calls, briefs, sections, reads = [], [], [], []
        self.flush(calls, briefs, sections, reads)
        for model in (Call, Brief, BriefSection, ExecutiveRead):
            reset_sequence(model)
        self.say(f"{count:,} calls with their briefs, sections and executive reads")

    def flush(self, calls, briefs, sections, reads) -> None:
        load(Call, calls)
        load(Brief, briefs)
        load(BriefSection, sections)
        load(ExecutiveRead, reads)

    @staticmethod
    def brief_story(rng, starts, now, due):
        """(status or None, submitted_at, approved_at) of the brief of a call starting then."""
        due_at = starts - due
        # Where the brief would end up: hours relative to the due time for approval.
        roll = rng.random()
        if roll < 0.07:
            return None, None, None  # never prepared
        if roll < 0.12:
            final = BriefStatus.DRAFT
        elif roll < 0.16:
            final = BriefStatus.CHANGES_REQUESTED
        elif roll < 0.20:
            final = BriefStatus.SUBMITTED
        else:
            final = BriefStatus.APPROVED
        # Approvals cluster around the due time: early tail (days), late tail (hours).
        offset = rng.gauss(-20, 30) if rng.random() < 0.8 else rng.uniform(-24 * 10, 48)
        approved_at = min(due_at + timedelta(hours=offset), starts + timedelta(hours=2))
        submitted_at = approved_at - timedelta(hours=rng.uniform(2, 40))
        if final == BriefStatus.APPROVED:
            if approved_at <= now:
                return final, submitted_at, approved_at
            final = BriefStatus.SUBMITTED if submitted_at <= now else BriefStatus.DRAFT
        if final == BriefStatus.SUBMITTED:
            if submitted_at <= now:
                return final, submitted_at, None
            final = BriefStatus.DRAFT
        if final == BriefStatus.CHANGES_REQUESTED:
            if submitted_at <= now:
                return final, submitted_at, None
            return BriefStatus.DRAFT, None, None
        # Drafts exist only once someone started: far-away calls often have none yet.
        if starts - now > timedelta(days=10) and rng.random() < 0.6:
            return None, None, None
        return BriefStatus.DRAFT, None, None

    # --- reset --------------------------------------------------------------------------------

    def reset(self) -> None:
        """Delete the load data, children first (fast deletes in SQL, no collecting in memory)."""
        users = User.objects.filter(username__startswith=PREFIX)
        accounts = Account.objects.filter(owner__in=users.values("pk"))
        calls = Call.objects.filter(account__in=accounts.values("pk"))
        purge(Call, calls)
        purge(Account, accounts)
        purge(Team, Team.objects.filter(name__startswith=TEAM_PREFIX))
        purge(User, users)


# --- bulk helpers ---------------------------------------------------------------------------------


def next_id(model) -> int:
    return (model.objects.aggregate(m=models.Max("pk"))["m"] or 0) + 1


def reset_sequence(model) -> None:
    if connection.vendor != "postgresql":
        return
    table = model._meta.db_table
    quoted = connection.ops.quote_name(table)
    sql = f"SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT COALESCE(MAX(id), 1) FROM {quoted}))"  # noqa: E501, S608 - a model's own table name
    with connection.cursor() as cursor:
        cursor.execute(sql, [table])


def _value(field, row):
    value = row.get(field.attname, _MISSING)
    if value is _MISSING:
        value = field.get_default() if field.has_default() else None
        if value is None and not field.null:
            if isinstance(field, models.DateTimeField):
                value = timezone.now()
            elif isinstance(field, (models.CharField, models.TextField)):
                value = ""
    if isinstance(field, models.JSONField):
        return json.dumps(value if value is not None else {})
    return value


_MISSING = object()


def load(model, rows: list[dict]) -> None:
    """Insert rows (dicts by attname) with COPY on PostgreSQL, bulk_create elsewhere."""
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and "id" not in rows[0])]
    if connection.vendor != "postgresql":
        objs = []
        for row in rows:
            obj = model(**{f.attname: row[f.attname] for f in fields if f.attname in row})
            objs.append(obj)
        model.objects.bulk_create(objs, batch_size=2000)
        return
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row([_value(f, row) for f in fields])


def purge(model, queryset, depth: int = 0) -> None:
    """Delete rows and everything that points at them, in SQL (load data only)."""
    if depth > 6:
        raise CommandError(f"Too deep a chain of relations under {model.__name__}.")
    for rel in model._meta.get_fields(include_hidden=True):
        if not (rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)):
            continue
        related = rel.related_model
        field = rel.field
        children = related._base_manager.filter(**{f"{field.name}__in": queryset.values("pk")})
        if field.remote_field.on_delete is models.SET_NULL:
            children.update(**{field.name: None})
        elif related is not model:  # rows pointing at their own table go in the same delete
            purge(related, children, depth + 1)
    queryset.delete()
