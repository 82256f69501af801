"""Starting a brief, saving sections without losing a word, revisions and restore."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from callprep.briefs import services
from callprep.briefs.models import Brief, BriefSection, SectionRevision

from .fixtures import LONG_CHALLENGES, section_of


def test_starting_a_brief_creates_the_eight_sections_in_order(brief):
    keys = list(brief.sections.order_by("position").values_list("key", flat=True))

    assert keys == [
        "business_challenges",
        "industry_dynamics",
        "financial_condition",
        "economic_drivers",
        "buying_process",
        "value_hypothesis",
        "deal_check",
        "call_plan",
    ]
    assert brief.account == brief.call.account
    assert brief.status == "draft"


def test_the_buying_process_is_prefilled_from_the_account(call, alice, buying_process, champion):
    brief = services.start_brief(call, by=alice)
    text = section_of(brief, "buying_process").text

    assert "**Procurement steps:** RFP, shortlist, pilot, contract." in text
    assert "**Dana Buyer**, CFO, economic buyer" in text
    assert "**Chris Champion**, Head of Finance Ops, champion, influence high, supporter" in text
    assert "reports to Dana Buyer — cares about: Fewer manual reconciliations." in text


def test_the_call_plan_and_deal_check_are_prefilled_from_the_call_and_stakeholders(
    call, alice, champion
):
    brief = services.start_brief(call, by=alice)
    plan = section_of(brief, "call_plan").fields
    deal = section_of(brief, "deal_check").fields

    assert plan["objectives"] == "Agree the scope of a finance pilot."
    assert plan["agenda"] == ["Introductions", "Their priorities", "Next steps"]
    assert plan["agreed_outcome"] == "A date for the pilot workshop."
    assert deal["economic_buyer"]["text"] == "Dana Buyer (CFO)"
    assert deal["economic_buyer"]["confidence"] == ""  # the rep says how they know
    assert deal["champion"]["text"] == "Chris Champion (Head of Finance Ops)"


def test_a_call_has_only_one_brief(brief, call, alice):
    with pytest.raises(services.BriefError, match="already has a brief"):
        services.start_brief(call, by=alice)


def test_carry_forward_copies_customer_sections_and_resets_the_call_plan(
    brief, acme, alice, make_call
):
    challenges = section_of(brief, "business_challenges")
    services.save_section(challenges, text=LONG_CHALLENGES, base_version=1, by=alice)
    plan = section_of(brief, "call_plan")
    services.save_section(
        plan,
        text="Old notes",
        fields={**plan.fields, "questions": ["Old question?"]},
        base_version=plan.version,
        by=alice,
    )
    later = make_call(acme, days=20, title="Follow-up", purpose="Review the pilot.")

    carried = services.start_brief(later, by=alice, carry_forward=True)

    assert carried.carried_from == brief
    copied = section_of(carried, "business_challenges")
    assert copied.text == LONG_CHALLENGES
    assert copied.state == "complete"
    assert copied.origin_note.startswith("Carried forward from the brief for “Executive visit")
    assert copied.revisions.get().kind == "carried_forward"
    new_plan = section_of(carried, "call_plan")
    assert new_plan.text == ""
    assert new_plan.fields["questions"] == []
    assert new_plan.fields["objectives"] == "Review the pilot."
    assert new_plan.origin_note == ""
    # The account keeps both briefs.
    assert set(Brief.objects.filter(call__account=acme)) == {brief, carried}


def test_carry_forward_needs_an_earlier_brief(call, alice):
    with pytest.raises(services.BriefError, match="has no earlier brief"):
        services.start_brief(call, by=alice, carry_forward=True)
    assert not Brief.objects.exists()


def test_a_save_moves_the_version_renders_the_text_and_records_a_revision(challenges, alice):
    revision = services.save_section(
        challenges, text="They **grow** {inference}", base_version=1, by=alice
    )

    stored = BriefSection.objects.get(pk=challenges.pk)
    assert stored.version == 2
    assert stored.html == (
        '<p>They <strong>grow</strong> <span class="claim claim-inference">Our inference</span>'
        "</p>\n"
    )
    assert stored.claims == [{"kind": "inference"}]
    assert stored.state == "in_progress"
    assert stored.updated_by == alice
    assert stored.revision_id == revision.pk
    assert SectionRevision.objects.get(pk=revision.pk).text == revision.text
    assert (revision.version, revision.author, revision.kind) == (2, alice, "edit")


def test_autosaves_by_one_author_extend_one_revision(challenges, alice):
    first = services.save_section(challenges, text="One", base_version=1, by=alice)
    second = services.save_section(challenges, text="One two", base_version=2, by=alice)

    assert second.pk == first.pk
    assert list(challenges.revisions.values_list("version", "text")) == [(3, "One two")]


def test_a_new_revision_starts_after_the_window_or_with_another_author(challenges, alice, ada):
    services.save_section(challenges, text="One", base_version=1, by=alice)
    BriefSection.objects.filter(pk=challenges.pk).update(
        revision_started_at=timezone.now() - services.REVISION_WINDOW - timedelta(seconds=1)
    )
    challenges = section_of(challenges.brief, challenges.key)
    services.save_section(challenges, text="One two", base_version=2, by=alice)
    services.save_section(challenges, text="One two three", base_version=3, by=ada)

    history = list(challenges.revisions.values_list("version", "author__username", "text"))
    assert history == [(4, "ada", "One two three"), (3, "alice", "One two"), (2, "alice", "One")]


def test_a_stale_save_is_refused_and_the_first_text_is_kept(challenges, alice, ada):
    services.save_section(challenges, text="First writer", base_version=1, by=ada)
    late = section_of(challenges.brief, challenges.key)
    late.version = 1  # what the second tab still believes

    with pytest.raises(services.StaleVersion) as conflict:
        services.save_section(late, text="Second writer", base_version=1, by=alice)

    assert conflict.value.stored_text == "First writer"
    assert conflict.value.stored_version == 2
    assert conflict.value.text == "Second writer"
    assert "saved this section at" in conflict.value.message
    stored = BriefSection.objects.get(pk=challenges.pk)
    assert (stored.text, stored.version) == ("First writer", 2)
    assert not SectionRevision.objects.filter(text="Second writer").exists()


def test_a_stale_save_of_the_same_words_is_not_a_conflict(challenges, alice, ada):
    services.save_section(challenges, text="Same words", base_version=1, by=ada)
    late = section_of(challenges.brief, challenges.key)

    services.save_section(late, text="Same words", base_version=1, by=alice)

    assert late.version == 2
    assert BriefSection.objects.get(pk=challenges.pk).version == 2


def test_a_section_over_100000_characters_is_refused_with_a_clear_message(challenges, alice):
    with pytest.raises(services.SectionTooLong) as error:
        services.save_section(challenges, text="x" * 100_001, base_version=1, by=alice)

    assert error.value.message.startswith(
        "This section is 100,001 characters long; the limit is 100,000. Shorten it by 1 "
    )
    assert BriefSection.objects.get(pk=challenges.pk).version == 1
    services.save_section(challenges, text="x" * 100_000, base_version=1, by=alice)


def test_windows_line_endings_count_as_one_character(challenges, alice):
    services.save_section(challenges, text="a\r\nb", base_version=1, by=alice)

    assert BriefSection.objects.get(pk=challenges.pk).text == "a\nb"


def test_restoring_a_revision_makes_a_new_revision_and_keeps_the_rest(challenges, alice, ada):
    old = services.save_section(challenges, text="Version A", base_version=1, by=alice)
    services.save_section(challenges, text="Version B", base_version=2, by=ada)

    restored = services.restore_revision(old, by=alice)

    stored = BriefSection.objects.get(pk=challenges.pk)
    assert (stored.text, stored.version) == ("Version A", 4)
    assert restored.kind == "restore"
    assert restored.restored_from == old
    assert restored.note.startswith("Restored version 2 by Alice")
    texts = list(challenges.revisions.values_list("version", "text"))
    assert texts == [(4, "Version A"), (3, "Version B"), (2, "Version A")]


def test_restoring_the_current_revision_is_refused(challenges, alice):
    current = services.save_section(challenges, text="Now", base_version=1, by=alice)

    with pytest.raises(services.BriefError, match="already the current text"):
        services.restore_revision(current, by=alice)


@pytest.mark.django_db(transaction=True)
def test_a_save_runs_two_queries(challenges, alice, django_assert_num_queries):
    """In autocommit, as in production: save_section's own transaction (BEGIN … COMMIT) around
    the update and the revision, no savepoints."""
    services.save_section(challenges, text="Warm", base_version=1, by=alice)
    challenges = section_of(challenges.brief, challenges.key)

    with django_assert_num_queries(4):  # extend the author's revision
        services.save_section(challenges, text="Warm up", base_version=2, by=alice)
    with django_assert_num_queries(4):
        services.save_section(challenges, text="Restart", base_version=3, by=alice, kind="merge")
