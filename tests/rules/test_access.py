"""Who may see what, rooted in the customer account (accounts/visibility.py).

An executive who joins exactly one call reads that call's brief, executive view, comments,
account, stakeholders and evidence — and gets 404 on every other brief, executive view,
comment, evidence and call URL, including those of another call on the same account.
Managers read their teams', reps their own and their team's; a Sales leader sees every team's
dashboard.

The world: Acme (alice, East) has the call victor joins and a second call no executive joins;
Westwind (charlie, West) has a call that vera joins. Each call has a brief with a revision, a
comment, and its account evidence from a collection run, and a citation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, Contact, Team
from callprep import workflow
from callprep.briefs import services
from callprep.briefs.models import Brief, SectionRevision
from callprep.evidence.models import Citation, CollectionRun, Evidence
from callprep.models import Call
from callprep.review.models import SectionComment
from tests.rules.screens import drill_rows, page, period
from tests.test_anonymous_access import named_routes

pytestmark = pytest.mark.django_db

SECTION = "business_challenges"


@dataclass
class Prepared:
    """A call with everything a URL can name about it and its account."""

    account: Account
    contact: Contact
    call: Call
    brief: Brief
    revision: SectionRevision
    comment: SectionComment
    run: CollectionRun
    evidence: Evidence
    citation: Citation


def prepare(account, contact, call, *, commenter) -> Prepared:
    brief = services.start_brief(call, by=call.owner, collect_evidence=False)
    services.save_section(
        brief.sections.get(key=SECTION),
        text=f"{account.name} wants to cut order-to-cash time.",
        base_version=1,
        by=call.owner,
    )
    revision = SectionRevision.objects.filter(section__brief=brief, section__key=SECTION).first()
    comment = workflow.add_comment(brief, by=commenter, section_key=SECTION, body="Which ERP?")
    run, _ = CollectionRun.objects.get_or_create(
        account=account, defaults={"trigger": "manual", "requested_by": call.owner}
    )
    evidence, _ = Evidence.objects.get_or_create(
        account=account,
        source="sec-companyfacts",
        key="revenue-2025",
        defaults={
            "collector": "sec",
            "kind": "financial",
            "label": f"Revenue of {account.name}",
            "metric": "revenue",
            "value": Decimal("1200000"),
            "unit": "USD",
            "run": run,
        },
    )
    citation = Citation.objects.create(
        account=account,
        evidence=evidence,
        brief_id=brief.pk,
        section_key="financial_condition",
        label=evidence.label,
        source="sec-companyfacts",
        source_name="SEC",
        retrieved_at=timezone.now(),
        cited_by=call.owner,
    )
    return Prepared(account, contact, call, brief, revision, comment, run, evidence, citation)


@pytest.fixture
def joined(acme, dana, make_call, victor):
    """The one call victor joins."""
    call = make_call(acme, executive=victor, title="Executive visit at Acme")
    return prepare(acme, dana, call, commenter=victor)


@pytest.fixture
def same_account(joined, acme, dana, make_call, alice):
    """Another call on Acme, which no executive joins."""
    call = make_call(acme, title="Discovery follow-up at Acme", days=6)
    return prepare(acme, dana, call, commenter=alice)


@pytest.fixture
def elsewhere(westwind, make_call, vera, walter):
    wanda = Contact.objects.create(account=westwind, name="Wanda Westwind", title="COO")
    call = make_call(westwind, executive=vera, title="Executive visit at Westwind", days=4)
    return prepare(westwind, wanda, call, commenter=vera)


@pytest.fixture
def world(joined, same_account, elsewhere):
    return {"joined": joined, "same account": same_account, "elsewhere": elsewhere}


# Every route that names a brief, a call, an account, a stakeholder or evidence, with the
# methods it answers and its arguments from a Prepared ``p``.
BRIEF_ROUTES = {
    "briefs:detail": ("get", lambda p: {"pk": p.brief.pk}),
    "briefs:edit": ("get", lambda p: {"pk": p.brief.pk}),
    "briefs:section": ("get post", lambda p: {"pk": p.brief.pk, "key": SECTION}),
    "briefs:preview": ("post", lambda p: {"pk": p.brief.pk, "key": SECTION}),
    "briefs:history": ("get", lambda p: {"pk": p.brief.pk, "key": SECTION}),
    "briefs:revision": (
        "get",
        lambda p: {"pk": p.brief.pk, "key": SECTION, "rev_pk": p.revision.pk},
    ),
    "briefs:restore": (
        "post",
        lambda p: {"pk": p.brief.pk, "key": SECTION, "rev_pk": p.revision.pk},
    ),
    "briefs:submit": ("post", lambda p: {"pk": p.brief.pk}),
    "briefs:withdraw": ("post", lambda p: {"pk": p.brief.pk}),
    "briefs:review": ("get", lambda p: {"pk": p.brief.pk}),
    "briefs:approve": ("post", lambda p: {"pk": p.brief.pk}),
    "briefs:request_changes": ("post", lambda p: {"pk": p.brief.pk}),
    "briefs:briefed": ("post", lambda p: {"pk": p.brief.pk}),
    "briefs:executive": ("get", lambda p: {"pk": p.brief.pk}),
    "briefs:changes": ("get", lambda p: {"pk": p.brief.pk}),
    "briefs:audit": ("get", lambda p: {"pk": p.brief.pk}),
    "briefs:comments": ("get post", lambda p: {"pk": p.brief.pk}),
    "briefs:resolve_comment": ("post", lambda p: {"pk": p.brief.pk, "comment_pk": p.comment.pk}),
    "briefs:for_call": ("get", lambda p: {"call_pk": p.call.pk}),
    "briefs:start": ("get post", lambda p: {"call_pk": p.call.pk}),
    "callprep:call_detail": ("get", lambda p: {"pk": p.call.pk}),
    "callprep:call_edit": ("get post", lambda p: {"pk": p.call.pk}),
    "callprep:call_ics": ("get", lambda p: {"pk": p.call.pk}),
    "callprep:dashboard:nudge": ("post", lambda p: {"pk": p.call.pk}),
}
ACCOUNT_ROUTES = {
    "accounts:detail": ("get", lambda p: {"pk": p.account.pk}),
    "accounts:edit": ("get post", lambda p: {"pk": p.account.pk}),
    "accounts:buying_process": ("get post", lambda p: {"pk": p.account.pk}),
    "accounts:contact_create": ("get post", lambda p: {"pk": p.account.pk}),
    "accounts:contact_edit": ("get post", lambda p: {"pk": p.contact.pk}),
    "accounts:contact_delete": ("post", lambda p: {"pk": p.contact.pk}),
    "evidence:panel": ("get", lambda p: {"account_pk": p.account.pk}),
    "evidence:refresh": ("post", lambda p: {"account_pk": p.account.pk}),
    "evidence:run_status": ("get", lambda p: {"run_pk": p.run.pk}),
    "evidence:cite": ("post", lambda p: {"evidence_pk": p.evidence.pk}),
    "evidence:add_insight": ("post", lambda p: {"account_pk": p.account.pk, "key": "growth"}),
    "evidence:citation": ("get", lambda p: {"citation_pk": p.citation.pk}),
}
# Routes with a parameter that names none of these (the user's own things, or no object).
NOT_ABOUT_A_CALL = {
    "password_reset_confirm",
    "accounts:import_preview",
    "callprep:calendar_assign",
    "callprep:calendar_feed",
    "briefs:notification_open",
}


def test_the_tables_name_every_route_about_a_call_or_an_account():
    with_parameters = {name for name, route, _ in named_routes() if "<" in route}
    assert with_parameters - NOT_ABOUT_A_CALL == set(BRIEF_ROUTES) | set(ACCOUNT_ROUTES)


def statuses(client, user, routes: dict, p: Prepared) -> dict[tuple[str, str], int]:
    client.force_login(user)
    out = {}
    for name, (methods, args) in routes.items():
        url = reverse(name, kwargs=args(p))
        for method in methods.split():
            out[(name, method)] = getattr(client, method)(url).status_code
    return out


def assert_not_found(client, user, routes: dict, p: Prepared) -> None:
    got = statuses(client, user, routes, p)
    assert got == dict.fromkeys(got, 404), {k: v for k, v in got.items() if v != 404}


# --- The executive who joins one call ------------------------------------------------------------


def test_the_executive_reads_the_call_they_join_and_its_account(client, world, victor):
    j = world["joined"]
    brief_page = page(client, victor, reverse("briefs:detail", args=[j.brief.pk]))
    executive = page(client, victor, reverse("briefs:executive", args=[j.brief.pk]))
    comments = page(client, victor, reverse("briefs:comments", args=[j.brief.pk]))
    account = page(client, victor, reverse("accounts:detail", args=[j.account.pk]))
    evidence = page(client, victor, reverse("evidence:panel", args=[j.account.pk]))

    assert j.call.title in brief_page and j.call.title in executive
    assert "Which ERP?" in comments
    assert j.contact.name in account  # the stakeholders
    assert j.call.title in account and world["same account"].call.title not in account
    assert j.evidence.label in evidence
    page(client, victor, reverse("evidence:citation", args=[j.citation.pk]))
    page(client, victor, reverse("evidence:run_status", args=[j.run.pk]))
    page(client, victor, j.call.get_absolute_url())
    page(client, victor, reverse("briefs:audit", args=[j.brief.pk]))


def test_the_executive_reaches_exactly_that_call_through_every_queryset(world, victor):
    j = world["joined"]
    assert list(Brief.objects.visible_to(victor)) == [j.brief]
    assert list(Call.objects.visible_to(victor)) == [j.call]
    assert list(Account.objects.visible_to(victor)) == [j.account]
    assert set(Contact.objects.visible_to(victor)) == set(j.account.contacts.all())
    assert set(Evidence.objects.visible_to(victor)) == {j.evidence}
    assert set(Brief.objects.reviewable_by(victor)) == {j.brief}


@pytest.mark.parametrize("other", ["same account", "elsewhere"])
def test_the_executive_gets_404_on_every_other_brief_and_call(client, world, victor, other):
    assert_not_found(client, victor, BRIEF_ROUTES, world[other])


def test_the_executive_gets_404_on_every_other_account_stakeholder_and_evidence(
    client, world, victor
):
    assert_not_found(client, victor, ACCOUNT_ROUTES, world["elsewhere"])


def test_a_comment_of_another_brief_is_not_found_through_the_joined_brief(client, world, victor):
    j, other = world["joined"], world["same account"]
    client.force_login(victor)
    url = reverse("briefs:resolve_comment", args=[j.brief.pk, other.comment.pk])
    assert client.post(url).status_code == 404
    assert not SectionComment.objects.get(pk=other.comment.pk).is_resolved


# --- Managers, reps and the Sales leader ------------------------------------------------------


CALL_READS = (
    ("briefs:detail", "get", lambda p: {"pk": p.brief.pk}),
    ("briefs:executive", "get", lambda p: {"pk": p.brief.pk}),
    ("briefs:comments", "get", lambda p: {"pk": p.brief.pk}),
    ("callprep:call_detail", "get", lambda p: {"pk": p.call.pk}),
)
ACCOUNT_READS = (
    ("accounts:detail", "get", lambda p: {"pk": p.account.pk}),
    ("evidence:panel", "get", lambda p: {"account_pk": p.account.pk}),
    ("evidence:citation", "get", lambda p: {"citation_pk": p.citation.pk}),
)


def reads(client, user, p: Prepared, routes) -> bool:
    """Whether the user reads these pages: all 200, or all 404 (anything else fails)."""
    client.force_login(user)
    codes = {getattr(client, m)(reverse(n, kwargs=a(p))).status_code for n, m, a in routes}
    assert codes in ({200}, {404}), codes
    return codes == {200}


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("victor", {"joined"}),
        ("vera", {"elsewhere"}),
        ("mallory", {"joined", "same account"}),  # manages East
        ("walter", {"elsewhere"}),  # manages West
        ("alice", {"joined", "same account"}),  # her own
        ("bob", {"joined", "same account"}),  # her teammate in East
        ("charlie", {"elsewhere"}),  # his own, in West
        ("lena", {"joined", "same account", "elsewhere"}),  # the Sales leader
    ],
)
def test_who_reads_which_calls_and_accounts(client, world, who, sees, request, make_user):
    user = make_user("lena", "Sales leader") if who == "lena" else request.getfixturevalue(who)
    accounts = {world[name].account.pk for name in sees}

    for name, p in world.items():
        assert reads(client, user, p, CALL_READS) == (name in sees), name
        assert reads(client, user, p, ACCOUNT_READS) == (p.account.pk in accounts), name
    assert set(Brief.objects.visible_to(user)) == {world[name].brief for name in sees}
    assert set(Call.objects.visible_to(user)) == {world[name].call for name in sees}
    assert set(Account.objects.visible_to(user).values_list("pk", flat=True)) == accounts


def test_a_sales_leader_sees_every_team_s_dashboard(client, world, make_user):
    lena = make_user("lena", "Sales leader")
    east, west = Team.objects.get(name="East"), Team.objects.get(name="West")

    board = page(client, lena, reverse("callprep:dashboard"), **period())
    assert "Every team" in board
    assert {int(t) for t in re.findall(r'data-team="(\d+)"', board)} == {east.pk, west.pk}
    assert set(drill_rows(client, lena)) == {p.call.pk for p in world.values()}
    # Either team's page, on request.
    page(client, lena, reverse("callprep:dashboard"), team=west.pk, **period())


def test_a_manager_s_dashboard_is_their_teams_and_an_executive_s_their_calls(
    client, world, mallory, victor
):
    east_calls = {world["joined"].call.pk, world["same account"].call.pk}
    assert set(drill_rows(client, mallory)) == east_calls
    west = Team.objects.get(name="West")
    client.force_login(mallory)
    assert client.get(reverse("callprep:dashboard"), {"team": west.pk}).status_code == 404
    assert set(drill_rows(client, victor)) == {world["joined"].call.pk}
