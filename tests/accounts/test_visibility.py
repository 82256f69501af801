"""Who may read and change which accounts (the querysets every view goes through)."""

import pytest

from accounts.models import Account, Contact


@pytest.fixture
def accounts(acme, westwind):
    return {"acme": acme, "westwind": westwind}


def visible(user):
    return set(Account.objects.visible_to(user).values_list("name", flat=True))


def test_a_rep_reads_their_own_and_their_teams_accounts(accounts, alice, bob):
    assert visible(alice) == {"Acme Fictional Corp"}
    assert visible(bob) == {"Acme Fictional Corp"}


def test_a_rep_edits_only_their_own_accounts(accounts, alice, bob):
    assert list(Account.objects.editable_by(alice)) == [accounts["acme"]]
    assert not Account.objects.editable_by(bob).exists()
    assert accounts["acme"].is_editable_by(alice)
    assert not accounts["acme"].is_editable_by(bob)


def test_a_manager_reads_the_teams_they_manage(accounts, mallory, walter):
    assert visible(mallory) == {"Acme Fictional Corp"}
    assert visible(walter) == {"Westwind Fictional GmbH"}
    assert not Account.objects.editable_by(mallory).exists()


def test_an_executive_reads_only_the_accounts_of_calls_they_join(accounts, victor, make_call):
    assert visible(victor) == set()
    make_call(accounts["westwind"], executive=victor)

    assert visible(victor) == {"Westwind Fictional GmbH"}
    assert not Account.objects.editable_by(victor).exists()


def test_an_admin_reads_and_edits_everything(accounts, ada):
    assert visible(ada) == {"Acme Fictional Corp", "Westwind Fictional GmbH"}
    assert Account.objects.editable_by(ada).count() == 2


def test_a_user_without_a_role_sees_nothing(accounts, nobody):
    assert visible(nobody) == set()


def test_an_inactive_user_sees_nothing(accounts, alice):
    alice.is_active = False
    assert visible(alice) == set()


def test_a_rep_owning_an_account_outside_their_team_still_sees_it(alice, charlie, westwind):
    westwind.owner = alice
    westwind.save()

    assert "Westwind Fictional GmbH" in visible(alice)


def test_contacts_follow_their_account(dana, westwind, bob, charlie):
    Contact.objects.create(account=westwind, name="Otto")

    assert list(Contact.objects.visible_to(bob)) == [dana]
    assert [c.name for c in Contact.objects.visible_to(charlie)] == ["Otto"]
    assert not Contact.objects.editable_by(bob).exists()


def test_visibility_has_no_duplicates_when_several_rules_match(acme, make_user, make_call):
    rep_and_vp = make_user("rita", "Rep", "Executive", team="East")
    acme.owner = rep_and_vp
    acme.save()
    make_call(acme, executive=rep_and_vp)
    make_call(acme, executive=rep_and_vp)

    assert Account.objects.visible_to(rep_and_vp).count() == 1
