"""Notifications by e-mail (text and HTML) and in the app, mutes, and idempotent reminders."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from callprep import workflow
from callprep.briefs import services
from callprep.review import notify, reminders
from callprep.review.models import EmailMute, Notification, SentReminder
from callprep.review.tasks import send_reminders
from tests.review.conftest import YES, fill

pytestmark = pytest.mark.django_db


def test_submitting_e_mails_the_executive_in_text_and_html(
    complete_brief, alice, victor, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        workflow.submit_brief(complete_brief, by=alice, comment="Ready when you are.")
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["victor@example.com"]
    assert mail.subject == "[SalesPrep] Brief to review: Executive visit at Acme"
    assert "Alice submitted the brief for “Executive visit at Acme” with Acme Fictional Corp" in (
        mail.body
    )
    assert "Ready when you are." in mail.body
    assert f"/briefs/{complete_brief.pk}/executive/" in mail.body
    html, mimetype = mail.alternatives[0]
    assert mimetype == "text/html"
    assert f'href="http://localhost:8000/briefs/{complete_brief.pk}/executive/"' in html
    assert Notification.objects.get(recipient=victor).is_unread


def test_changes_requested_approval_and_comments_notify_the_rep(
    submitted, alice, victor, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        workflow.request_changes(submitted, by=victor, comment="Say more about their debt.")
    with django_capture_on_commit_callbacks(execute=True):
        workflow.add_comment(submitted, by=victor, section_key="call_plan", body="Who opens?")
    workflow.submit_brief(submitted, by=alice)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.approve_brief(submitted, by=victor, answers=YES)
    subjects = [m.subject for m in mailoutbox if m.to == ["alice@example.com"]]
    assert subjects == [
        "[SalesPrep] Changes requested: Executive visit at Acme",
        "[SalesPrep] Comment on Call plan: Executive visit at Acme",
        "[SalesPrep] Brief approved: Executive visit at Acme",
    ]
    assert "Say more about their debt." in mailoutbox[0].body
    kinds = list(Notification.objects.filter(recipient=alice).values_list("kind", flat=True))
    assert sorted(kinds) == ["approved", "changes_requested", "comment"]


def test_a_muted_kind_is_not_e_mailed_but_still_shows_in_the_app(
    complete_brief, alice, victor, mailoutbox, django_capture_on_commit_callbacks
):
    EmailMute.objects.create(user=victor, kind="submitted")
    with django_capture_on_commit_callbacks(execute=True):
        workflow.submit_brief(complete_brief, by=alice)
    assert mailoutbox == []
    assert Notification.objects.filter(recipient=victor, kind="submitted").count() == 1


def test_an_e_mail_task_delivered_twice_sends_once(submitted, victor, mailoutbox):
    item = Notification.objects.get(recipient=victor)
    assert notify.send_email(item.pk) is True
    assert notify.send_email(item.pk) is False
    assert len(mailoutbox) == 1


def test_nobody_is_notified_of_their_own_action(submitted, alice):
    assert not Notification.objects.filter(recipient=alice).exists()


def test_the_reminder_for_a_call_without_a_brief_goes_out_exactly_once(
    acme, make_call, alice, mailoutbox, django_capture_on_commit_callbacks
):
    make_call(acme, days=4, title="Budget review")
    make_call(acme, days=9, title="Far away")
    with django_capture_on_commit_callbacks(execute=True):
        first = send_reminders.delay().get()
    with django_capture_on_commit_callbacks(execute=True):
        second = send_reminders.delay().get()
    assert first == {"no_brief": 1, "not_submitted": 0, "not_briefed": 0}
    assert second == {"no_brief": 0, "not_submitted": 0, "not_briefed": 0}
    assert [m.subject for m in mailoutbox] == ["[SalesPrep] No brief yet: Budget review"]
    assert "has no brief yet" in mailoutbox[0].body
    assert SentReminder.objects.count() == 1


def test_the_due_reminder_goes_to_the_rep_once_when_the_brief_is_not_submitted(
    acme, make_call, alice, victor
):
    call = make_call(acme, executive=victor, days=1, title="Tomorrow")
    services.start_brief(call, by=alice)
    assert reminders.remind_not_submitted() == 1
    assert reminders.remind_not_submitted() == 0
    note = Notification.objects.get(kind="reminder_not_submitted")
    assert note.recipient == alice and "was due 48 hours before the call" in note.body


def test_the_due_reminder_waits_for_the_due_time(brief):
    assert reminders.remind_not_submitted() == 0  # the call is in 3 days: due in 1
    later = timezone.now() + timedelta(days=1, hours=1)
    assert reminders.remind_not_submitted(now=later) == 1


def test_the_executive_is_reminded_once_to_read_the_brief_a_day_before(
    acme, make_call, alice, victor
):
    call = make_call(acme, executive=victor, days=3, title="Soon")
    brief = services.start_brief(call, by=alice)
    fill(brief, alice)
    workflow.submit_brief(brief, by=alice)
    workflow.approve_brief(brief, by=victor, answers=YES)
    assert reminders.remind_not_briefed() == 0  # three days ahead: too early
    in_two_days = timezone.now() + timedelta(days=2, hours=1)
    assert reminders.remind_not_briefed(now=in_two_days) == 1
    assert reminders.remind_not_briefed(now=in_two_days) == 0
    assert Notification.objects.get(kind="reminder_not_briefed").recipient == victor


def test_an_executive_who_is_briefed_gets_no_reminder(approved, victor):
    workflow.mark_briefed(approved, by=victor)
    in_two_days = timezone.now() + timedelta(days=2, hours=1)
    assert reminders.remind_not_briefed(now=in_two_days) == 0


def test_an_e_mail_links_to_site_url(
    complete_brief, alice, mailoutbox, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://sales.example.com"
    with django_capture_on_commit_callbacks(execute=True):
        workflow.submit_brief(complete_brief, by=alice)
    (mail,) = mailoutbox
    link = f"https://sales.example.com/briefs/{complete_brief.pk}/executive/"
    assert link in mail.body
    assert f'href="{link}"' in mail.alternatives[0][0]
    assert "https://sales.example.com/" in mail.body.split("turn these e-mails off:")[1]
    assert "localhost" not in mail.body and "localhost" not in mail.alternatives[0][0]
