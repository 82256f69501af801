"""Notifications that respect attention: one per event per person, grouped by call, read once
the person acts on the brief; and an approved brief that asks before an edit reopens it."""

from __future__ import annotations

import re

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from callprep import workflow
from callprep.briefs import services
from callprep.briefs.models import Brief, BriefSection, BriefStatus, SectionRevision
from callprep.review import notify as N
from callprep.review import reminders
from callprep.review.models import Notification, NotificationKind, mark_read_on_act
from tests.accounts.conftest import htmx
from tests.review.conftest import YES, fill, section

pytestmark = pytest.mark.django_db

WARNING = "Editing this approved brief sends it back to review; Victor will be told what changed."


def unread(user, brief=None):
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    return qs.filter(brief=brief) if brief is not None else qs


# --- One notification per event per person ----------------------------------------------------


def test_the_same_event_notifies_each_person_once(
    submitted, alice, victor, mailoutbox, django_capture_on_commit_callbacks
):
    Notification.objects.all().delete()
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            N.notify(
                NotificationKind.COMMENT,
                [victor, victor],
                event="comment:999",
                subject="Comment on Call plan",
                body="Who opens?",
                url="/",
                actor=alice,
                brief=submitted,
            )
    assert Notification.objects.filter(recipient=victor).count() == 1
    assert len(mailoutbox) == 1


def test_the_database_holds_one_notification_per_recipient_kind_and_event(submitted, victor):
    first = Notification.objects.get(recipient=victor)
    assert first.event.startswith("transition:")
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(
            recipient=victor, kind=first.kind, event=first.event, subject="Again"
        )


def test_a_notification_needs_the_event_it_is_about(submitted, victor):
    with pytest.raises(ValueError, match="key of the event"):
        N.notify("comment", [victor], event="", subject="s", body="b", url="/")


def test_a_reminder_job_run_twice_notifies_once(acme, make_call, alice):
    make_call(acme, days=2)
    assert reminders.remind_no_brief() == 1
    assert reminders.remind_no_brief() == 0
    assert Notification.objects.filter(recipient=alice, kind="reminder_no_brief").count() == 1


def test_every_step_notifies_with_its_own_event(submitted, alice, victor):
    workflow.withdraw_brief(submitted, by=alice)
    workflow.submit_brief(submitted, by=alice)
    events = list(
        Notification.objects.filter(recipient=victor, kind="submitted").values_list(
            "event", flat=True
        )
    )
    assert len(events) == 2 and len(set(events)) == 2


# --- Grouped ----------------------------------------------------------------------------------


def test_the_notifications_page_groups_by_call_newest_first(
    client, submitted, alice, victor, acme, make_call
):
    workflow.withdraw_brief(submitted, by=alice)
    workflow.submit_brief(submitted, by=alice)  # a second "to review" about the same brief
    other_call = make_call(acme, executive=victor, title="Second visit at Acme", days=6)
    other = services.start_brief(other_call, by=alice, collect_evidence=False)
    fill(other, alice)
    workflow.submit_brief(other, by=alice)
    client.force_login(victor)
    page = client.get(reverse("briefs:notifications")).content.decode()
    groups = page.split('data-testid="notification-group"')[1:]
    assert len(groups) == 2
    assert (
        "Second visit at Acme" in groups[0] and groups[0].count('data-testid="notification"') == 1
    )
    assert "Executive visit at Acme" in groups[1]
    assert groups[1].count('data-testid="notification"') == 2
    assert '<span class="nav-count" aria-label="2 unread">2</span>' in groups[1]


# --- Read when the person acts on the brief -----------------------------------------------------


def test_approving_marks_the_executives_notifications_about_that_brief_read(
    submitted, alice, victor, acme, make_call
):
    other = make_call(acme, executive=victor, days=6)
    N.notify("comment", [victor], event="x:1", subject="Other", body="", url="/", call=other)
    assert unread(victor, submitted).count() == 1
    workflow.approve_brief(submitted, by=victor, answers=YES)
    assert unread(victor, submitted).count() == 0
    assert unread(victor).filter(call=other).count() == 1  # about another call: still unread


def test_requesting_changes_marks_the_executives_read_and_the_rep_acting_marks_theirs(
    client, submitted, alice, victor
):
    workflow.request_changes(submitted, by=victor, comment="More on their debt.")
    assert unread(victor, submitted).count() == 0
    assert unread(alice, submitted).filter(kind="changes_requested").count() == 1
    client.force_login(alice)
    assert client.get(reverse("briefs:edit", args=[submitted.pk])).status_code == 200
    assert unread(alice, submitted).count() == 0


def test_submitting_and_commenting_mark_the_actors_notifications_read(submitted, alice, victor):
    workflow.request_changes(submitted, by=victor, comment="More on their debt.")
    workflow.add_comment(submitted, by=victor, section_key="call_plan", body="Who opens?")
    assert unread(alice, submitted).count() == 2
    workflow.submit_brief(submitted, by=alice)
    assert unread(alice, submitted).count() == 0
    assert unread(victor, submitted).count() == 1  # the new submission
    workflow.add_comment(submitted, by=victor, section_key="call_plan", body="Thanks.")
    assert unread(victor, submitted).count() == 0


def test_marking_briefed_reads_the_reminder_to_read_the_brief(approved, victor):
    call = approved.call
    N.notify(
        NotificationKind.REMINDER_NOT_BRIEFED,
        [victor],
        event=f"reminder:call:{call.pk}",
        subject="Read the brief",
        body="",
        url="/",
        brief=approved,
    )
    workflow.mark_briefed(approved, by=victor)
    assert unread(victor, approved).count() == 0


def test_acting_marks_only_the_actors_own_notifications(submitted, alice, victor, make_user):
    assert mark_read_on_act(alice, brief=submitted) == 0
    assert unread(victor, submitted).count() == 1


def test_reading_is_not_an_action_on_the_brief(client, submitted, victor):
    client.force_login(victor)
    assert client.get(reverse("briefs:executive", args=[submitted.pk])).status_code == 200
    assert unread(victor, submitted).count() == 1


# --- Editing an approved brief asks first -------------------------------------------------------


def value_hypothesis(brief) -> BriefSection:
    return section(brief, "value_hypothesis")


def test_an_unconfirmed_edit_to_an_approved_brief_is_refused_and_changes_nothing(
    approved, alice, victor
):
    s = value_hypothesis(approved)
    before = (s.text, s.version, SectionRevision.objects.count(), Notification.objects.count())
    with pytest.raises(services.ReopenNotConfirmed) as refused:
        services.save_section(s, text=s.text + " More.", base_version=s.version, by=alice)
    assert WARNING in refused.value.message and "Nothing was saved" in refused.value.message
    stored = value_hypothesis(approved)
    after = (stored.text, stored.version, SectionRevision.objects.count())
    assert (*after, Notification.objects.count()) == before
    assert Brief.objects.get(pk=approved.pk).status == BriefStatus.APPROVED


def test_an_approval_after_the_editor_loaded_the_brief_still_asks(submitted, alice, victor):
    s = value_hypothesis(submitted)  # loaded while in review
    workflow.approve_brief(Brief.objects.get(pk=submitted.pk), by=victor, answers=YES)
    with pytest.raises(services.ReopenNotConfirmed):
        services.save_section(s, text=s.text + " More.", base_version=s.version, by=alice)
    assert Brief.objects.get(pk=submitted.pk).status == BriefStatus.APPROVED


def test_the_editor_of_an_approved_brief_warns_and_asks_for_confirmation(client, approved, alice):
    client.force_login(alice)
    page = client.get(reverse("briefs:edit", args=[approved.pk])).content.decode()
    assert 'data-testid="reopen-warning"' in page and WARNING in page
    assert f'data-reopen-warning="{WARNING}"' in page
    assert page.count('name="confirm_reopen" value="1"') == 8  # one per section form


def test_the_editor_of_a_brief_in_review_does_not_warn(client, submitted, alice):
    client.force_login(alice)
    page = client.get(reverse("briefs:edit", args=[submitted.pk])).content.decode()
    assert "reopen-warning" not in page and "confirm_reopen" not in page


def post_section(client, brief, extra=None, **headers):
    s = value_hypothesis(brief)
    data = {"text": s.text + "\n\nWe also cut their audit fees.", "base_version": s.version}
    url = reverse("briefs:section", args=[brief.pk, "value_hypothesis"])
    return client.post(url, {**data, **(extra or {})}, **headers)


def test_a_form_post_without_the_confirmation_is_refused_with_the_warning(client, approved, alice):
    client.force_login(alice)
    version = value_hypothesis(approved).version
    response = post_section(client, approved)
    assert response.status_code == 422
    page = response.content.decode()
    assert WARNING in page and "We also cut their audit fees." in page  # the text is kept
    assert value_hypothesis(approved).version == version
    assert Brief.objects.get(pk=approved.pk).status == BriefStatus.APPROVED


def test_an_autosave_without_the_confirmation_is_refused_with_the_warning(client, approved, alice):
    client.force_login(alice)
    response = post_section(client, approved, **htmx())
    assert response.status_code == 422
    assert "Not saved: " + WARNING in response.content.decode()
    assert Brief.objects.get(pk=approved.pk).status == BriefStatus.APPROVED


@pytest.mark.parametrize("with_htmx", [False, True])
def test_a_confirmed_edit_reopens_and_tells_the_executive_what_changed(
    client, approved, alice, victor, with_htmx
):
    client.force_login(alice)
    response = post_section(
        client, approved, {"confirm_reopen": "1"}, **(htmx() if with_htmx else {})
    )
    assert response.status_code == (200 if with_htmx else 302)
    assert Brief.objects.get(pk=approved.pk).status == BriefStatus.SUBMITTED
    told = Notification.objects.get(recipient=victor, kind=NotificationKind.REOPENED)
    assert "Changed: Value hypothesis." in told.body
    assert told.url == reverse("briefs:changes", args=[approved.pk])
    # Further edits go through without asking: the brief is in review now.
    s = value_hypothesis(approved)
    services.save_section(s, text=s.text + " Again.", base_version=s.version, by=alice)
    assert Notification.objects.filter(recipient=victor, kind="reopened").count() == 1


def test_the_reopen_names_every_section_changed_since_the_approval(approved, alice, victor):
    s = value_hypothesis(approved)
    other = section(approved, "industry_dynamics")
    # A change to another section saved as the approval raced it: already newer than approved.
    BriefSection.objects.filter(pk=other.pk).update(version=other.version + 1)
    services.save_section(
        s, text=s.text + " More.", base_version=s.version, by=alice, confirm_reopen=True
    )
    told = Notification.objects.get(recipient=victor, kind="reopened")
    assert re.search(r"Changed: Industry dynamics, Value hypothesis\.", told.body)


def test_restoring_a_revision_of_an_approved_brief_asks_first(
    client, complete_brief, alice, victor
):
    from tests.review.conftest import write

    first = services.save_section(
        value_hypothesis(complete_brief),
        text=value_hypothesis(complete_brief).text + " An older ending.",
        base_version=value_hypothesis(complete_brief).version,
        by=alice,
        kind="merge",  # a revision of its own
    )
    write(complete_brief, "value_hypothesis", value_hypothesis(complete_brief).text, by=alice)
    workflow.submit_brief(complete_brief, by=alice)
    workflow.approve_brief(complete_brief, by=victor, answers=YES)
    s = value_hypothesis(complete_brief)
    assert first.version != s.version
    client.force_login(alice)
    args = [complete_brief.pk, "value_hypothesis", first.pk]
    page = client.get(reverse("briefs:revision", args=args)).content.decode()
    assert WARNING in page and 'name="confirm_reopen"' in page
    url = reverse("briefs:restore", args=args)
    response = client.post(url, {"base_version": s.version}, follow=True)
    assert WARNING in response.content.decode()
    assert Brief.objects.get(pk=complete_brief.pk).status == BriefStatus.APPROVED
    client.post(url, {"base_version": s.version, "confirm_reopen": "1"})
    assert Brief.objects.get(pk=complete_brief.pk).status == BriefStatus.SUBMITTED
