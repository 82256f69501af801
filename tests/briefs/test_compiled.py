"""The autosave's compiled load (callprep/compiled.py) returns what the ORM returns."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from accounts.backends import USER_WITH_ROLES
from callprep.briefs import services
from callprep.briefs.access import SAVE_DEFERRED, SECTION_FOR_SAVE, _section_for_save
from callprep.briefs.models import BriefSection
from callprep.compiled import CompiledQuery


def _loaded(instance) -> dict:
    return {k: v for k, v in instance.__dict__.items() if not k.startswith("_")}


def test_the_compiled_load_equals_the_orm_load_with_its_related_objects(brief, alice):
    challenges = BriefSection.objects.get(brief=brief, key="business_challenges")
    services.save_section(challenges, text="They **grow** fast.", base_version=1, by=alice)
    expected = _section_for_save(brief.pk, "business_challenges")[0]

    with CaptureQueriesContext(connection) as captured:
        section = SECTION_FOR_SAVE.first(brief_pk=brief.pk, key="business_challenges")
        call, account = section.brief.call, section.brief.call.account
    assert len(captured.captured_queries) == 1
    assert _loaded(section) == _loaded(expected)
    assert _loaded(section.brief) == _loaded(expected.brief)
    assert _loaded(call) == _loaded(expected.brief.call)
    assert _loaded(account) == _loaded(expected.brief.call.account)
    assert section.get_deferred_fields() == set(SAVE_DEFERRED)
    assert not section._state.adding and section._state.db == "default"
    # A deferred field still loads on demand, as from the ORM.
    assert section.text == "They **grow** fast."


def test_another_key_or_brief_finds_its_own_section_or_none(brief):
    plan = SECTION_FOR_SAVE.first(brief_pk=brief.pk, key="call_plan")
    assert (plan.key, plan.brief_id) == ("call_plan", brief.pk)
    assert SECTION_FOR_SAVE.first(brief_pk=brief.pk + 1000, key="call_plan") is None
    assert SECTION_FOR_SAVE.first(brief_pk=brief.pk, key="no_such_key") is None


def test_a_placeholder_that_is_not_a_parameter_is_refused(db):
    query = CompiledQuery(lambda key: BriefSection.objects.filter(key="fixed")[:1], key="x-y")
    with pytest.raises(ValueError, match="placeholder for 'key'"):
        query.first(key="anything")


def test_the_user_and_their_roles_in_one_query(make_user):
    user = make_user("rita", "Rep", "Manager")
    with CaptureQueriesContext(connection) as captured:
        loaded = USER_WITH_ROLES.first(user_id=user.pk)
    assert len(captured.captured_queries) == 1
    assert sorted(loaded.loaded_roles) == ["Manager", "Rep"]
    assert loaded.username == "rita" and loaded.password == user.password
    assert USER_WITH_ROLES.first(user_id=user.pk + 1000) is None


@pytest.mark.django_db(transaction=True)
def test_other_threads_use_the_compiled_query_on_their_own_connection(brief):
    SECTION_FOR_SAVE.first(brief_pk=brief.pk, key="business_challenges")  # compiled here
    found, errors = [], []

    def load():
        try:
            section = SECTION_FOR_SAVE.first(brief_pk=brief.pk, key="value_hypothesis")
            found.append((section.key, section.brief.call_id))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert found == [("value_hypothesis", brief.call_id)] * 4
