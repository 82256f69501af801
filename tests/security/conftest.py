"""A world in which every URL parameter names a real object of the East team.

alice (rep, East) owns Acme, its stakeholder Dana, a call with Acme that victor (executive)
joins, and a submitted brief for it with a revision, a comment by victor, evidence from a
finished collection run (with the numbers behind the "cost pressure" talking point), a
citation, a notification, a pending CSV import and a pending calendar import, and a personal
calendar feed. bob (rep, East) is her teammate, mallory manages East; charlie (rep, West) and
walter (manager, West) are outsiders; ada is an admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Account, Contact, ImportFile
from callprep import feeds, workflow
from callprep.briefs.models import Brief, SectionRevision
from callprep.evidence.models import Citation, CollectionRun, Evidence
from callprep.models import CalendarImport, Call
from callprep.review.models import Notification, SectionComment
from tests.accounts.conftest import acme, dana, east, make_call  # noqa: F401
from tests.briefs.fixtures import brief, call  # noqa: F401
from tests.review.conftest import fill

ROLES = ("anon", "alice", "bob", "charlie", "mallory", "walter", "victor", "ada")


@dataclass
class World:
    account: Account
    contact: Contact
    call: Call
    brief: Brief
    revision: SectionRevision
    comment: SectionComment
    notification: Notification
    run: CollectionRun
    evidence: Evidence
    citation: Citation
    import_file: ImportFile
    calendar_import: CalendarImport
    feed_key: str
    feed_secret: str
    section_version: int
    users: dict


@pytest.fixture
def world(acme, dana, call, brief, alice, bob, charlie, mallory, walter, victor, ada):  # noqa: F811
    fill(brief, alice)
    workflow.submit_brief(brief, by=alice)
    brief.refresh_from_db()
    revision = SectionRevision.objects.filter(
        section__brief=brief, section__key="business_challenges"
    ).first()
    comment = workflow.add_comment(
        brief, by=victor, section_key="business_challenges", body="Which ERP do they run?"
    )
    notification = Notification.objects.create(
        recipient=alice,
        kind=Notification._meta.get_field("kind").choices[0][0],
        brief=brief,
        call=call,
        actor=victor,
        subject="Victor commented",
        url=brief.get_absolute_url(),
    )
    # Finished, so that a refresh starts a new run (one in progress would be answered instead).
    run = CollectionRun.objects.create(
        account=acme, trigger="manual", requested_by=alice, finished_at=timezone.now()
    )
    evidence = Evidence.objects.create(
        account=acme,
        collector="sec",
        kind="financial",
        source="sec-companyfacts",
        key="revenue-2024",
        label="Revenue",
        metric="revenue",
        value=Decimal("1200000"),
        unit="USD",
        url="https://www.sec.gov/acme",
        run=run,
    )
    # Revenue and operating margin both down: the "cost pressure" talking point, which the
    # matrix adds to the brief.
    for metric, label, day, value, unit in (
        ("revenue", "Revenue, FY2023", "2023-06-30", "1000000000", "USD"),
        ("revenue", "Revenue, FY2024", "2024-06-30", "900000000", "USD"),
        ("operating_margin", "Operating margin, FY2023", "2023-06-30", "12", "percent"),
        ("operating_margin", "Operating margin, FY2024", "2024-06-30", "10", "percent"),
    ):
        Evidence.objects.create(
            account=acme,
            collector="sec",
            kind="financial",
            source="sec-companyfacts",
            key=f"{metric}:{day}",
            label=label,
            metric=metric,
            value=Decimal(value),
            unit=unit,
            period_end=date.fromisoformat(day),
            retrieved_at=timezone.now(),
            run=run,
        )
    citation = Citation.objects.create(
        account=acme,
        evidence=evidence,
        brief_id=brief.pk,
        section_key="financial_condition",
        label="Revenue",
        value=Decimal("1200000"),
        unit="USD",
        source="sec-companyfacts",
        source_name="SEC",
        url="https://www.sec.gov/acme",
        retrieved_at=timezone.now(),
        cited_by=alice,
    )
    import_file = ImportFile.objects.create(
        user=alice,
        filename="accounts.csv",
        encoding="utf-8",
        content="name,website,owner\nGlobex,https://globex.example,alice\n",
    )
    calendar_import = CalendarImport.objects.create(  # imported, one event to assign
        user=alice,
        state="done",
        filename="cal.ics",
        content=(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\n"
            "UID:unmatched-1@example.com\r\nDTSTAMP:20300101T000000Z\r\n"
            "DTSTART:20300102T150000Z\r\nDTEND:20300102T160000Z\r\n"
            "SUMMARY:Intro with Nowhere\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        ),
    )
    feed, secret = feeds.issue_feed(alice)
    users = {
        "alice": alice,
        "bob": bob,
        "charlie": charlie,
        "mallory": mallory,
        "walter": walter,
        "victor": victor,
        "ada": ada,
    }
    return World(
        account=acme,
        contact=dana,
        call=call,
        brief=brief,
        revision=revision,
        comment=comment,
        notification=notification,
        run=run,
        evidence=evidence,
        citation=citation,
        import_file=import_file,
        calendar_import=calendar_import,
        feed_key=feed.key,
        feed_secret=secret,
        section_version=revision.section.version,
        users=users,
    )
