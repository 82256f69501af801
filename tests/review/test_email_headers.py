"""A call title with line breaks, or a very long one, still e-mails its notifications.

The mails go the real way: the workflow writes the notification, its commit enqueues the Celery
task (run in-process here, tests/review/conftest.py), the task sends through Django's locmem
backend. Each message is also rendered to bytes, as an SMTP backend does, so a header that
could not be sent would fail here.
"""

from __future__ import annotations

import pytest

from accounts.mail import SUBJECT_LIMIT, header_text
from callprep import workflow
from callprep.models import Call
from callprep.review.models import Notification
from callprep.review.tasks import send_reminders

pytestmark = pytest.mark.django_db

INJECTED = "Executive visit\r\nBcc: mallory@example.com\r\n\r\nat Acme"


def sent_bytes(mail) -> bytes:
    return mail.message().as_bytes()


def assert_one_bounded_line(subject: str) -> None:
    assert "\r" not in subject and "\n" not in subject
    assert len(subject) <= SUBJECT_LIMIT


def test_a_title_with_cr_lf_sends_the_review_mail_on_one_subject_line(
    complete_brief, alice, victor, mailoutbox, django_capture_on_commit_callbacks
):
    Call.objects.filter(pk=complete_brief.call_id).update(title=INJECTED)
    complete_brief.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        workflow.submit_brief(complete_brief, by=alice)
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.subject == (
        "[SalesPrep] Brief to review: Executive visit Bcc: mallory@example.com at Acme"
    )
    assert mail.to == ["victor@example.com"] and mail.bcc == []
    headers = sent_bytes(mail).split(b"\n\n", 1)[0].lower()
    assert b"\nbcc:" not in headers
    assert Notification.objects.get(recipient=victor).emailed_at is not None


def test_a_title_of_the_longest_length_sends_a_bounded_subject(
    complete_brief, alice, mailoutbox, django_capture_on_commit_callbacks
):
    title = " ".join(["Quarterly"] * 20)[: Call._meta.get_field("title").max_length]
    Call.objects.filter(pk=complete_brief.call_id).update(title=title)
    complete_brief.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        workflow.submit_brief(complete_brief, by=alice)
    (mail,) = mailoutbox
    assert_one_bounded_line(mail.subject)
    assert mail.subject.startswith("[SalesPrep] Brief to review: Quarterly Quarterly")
    assert mail.subject.endswith("Quarterly…")
    sent_bytes(mail)


def test_a_reminder_for_a_call_with_a_line_break_in_its_title_is_sent(
    acme, make_call, alice, mailoutbox, django_capture_on_commit_callbacks
):
    make_call(acme, days=4, title="Budget\nreview\u2028now")
    with django_capture_on_commit_callbacks(execute=True):
        assert send_reminders.delay().get()["no_brief"] == 1
    (mail,) = mailoutbox
    assert mail.subject == "[SalesPrep] No brief yet: Budget review now"
    sent_bytes(mail)


def test_the_in_app_notification_keeps_the_same_one_line_subject(
    complete_brief, alice, victor, django_capture_on_commit_callbacks
):
    Call.objects.filter(pk=complete_brief.call_id).update(title=INJECTED)
    complete_brief.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        workflow.submit_brief(complete_brief, by=alice)
    subject = Notification.objects.get(recipient=victor).subject
    assert subject == "Brief to review: Executive visit Bcc: mallory@example.com at Acme"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\r\nb", "a b"),
        ("a\rb\nc", "a b c"),
        ("a\u2028b\u2029c\x85d\x0be\x0cf", "a b c d e f"),
        ("tab\there", "tab here"),
        ("bell\x07 and escape\x1b[31m", "bell and escape[31m"),
        ("zero\u200bwidth", "zerowidth"),
        ("  padded  ", "padded"),
        ("", ""),
    ],
)
def test_header_text_makes_any_text_one_line(text, expected):
    assert header_text(text) == expected


def test_header_text_cuts_a_long_text_at_a_word_within_the_limit():
    text = "word " * 100
    cut = header_text(text, 30)
    assert len(cut) <= 30 and cut.endswith("word…")
    assert len(header_text("x" * 500, 30)) == 30  # no space to cut at: cut anywhere
