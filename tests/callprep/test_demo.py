import pytest
from django.utils import timezone

from accounts.models import Account, Contact
from callprep.demo import load
from callprep.models import Call

pytestmark = pytest.mark.django_db


def counts():
    return Account.objects.count(), Contact.objects.count(), Call.objects.count()


def test_the_demo_seed_is_idempotent():
    load.seed()
    first = counts()

    load.seed()

    assert counts() == first
    assert first[0] == 12


def test_the_demo_accounts_are_labelled_fictional_and_valid():
    load.seed()

    for account in Account.objects.all():
        assert "Fictional company" in account.description
        assert account.domain.endswith(".example")
        account.full_clean()
    assert Account.objects.exclude(ticker="").exists()
    assert Account.objects.exclude(country="US").count() >= 6
    assert Account.objects.values("naics_code").distinct().count() == 12


def test_both_demo_reps_have_upcoming_and_past_calls_and_the_vp_joins_some():
    users = load.seed()
    now = timezone.now()

    for rep in ("rep", "rep2"):
        calls = Call.objects.filter(owner=users[rep])
        assert calls.filter(starts_at__gte=now).exists()
        assert calls.filter(starts_at__lt=now).exists()
        assert Account.objects.visible_to(users[rep]).count() == 6
    assert Call.objects.filter(executive=users["vp"]).count() >= 3
    assert Account.objects.visible_to(users["vp"]).exists()


def brief_states() -> dict[str, tuple[str, tuple]]:
    from callprep.briefs.models import Brief

    return {
        brief.call.ical_uid: (
            brief.completeness_percent,
            tuple(sorted((s.key, s.version, s.state) for s in brief.sections.all())),
        )
        for brief in Brief.objects.select_related("call").prefetch_related("sections")
    }


def test_the_demo_seeds_briefs_at_different_stages_and_is_idempotent():
    from callprep.briefs.models import Brief

    users = load.seed()
    first = brief_states()
    load.seed()

    assert brief_states() == first  # nothing rewritten, no new versions
    now = timezone.now()
    drafts = Brief.objects.filter(call__starts_at__gte=now, status="draft")
    percents = sorted(b.completeness_percent for b in drafts.prefetch_related("sections"))
    assert len(percents) == 5
    assert percents[-1] >= 75  # nearly complete
    assert any(25 <= p < 75 for p in percents)  # half done
    assert percents[0] < 25  # just started
    upcoming = Call.objects.filter(starts_at__gte=now)
    assert upcoming.filter(brief__isnull=True).count() == 1  # one not started
    for rep in ("rep", "rep2"):
        assert drafts.filter(call__owner=users[rep]).exists()
    # The other upcoming briefs are complete and in review states (tests/review/test_demo*).
    assert upcoming.exclude(brief__status="draft").filter(brief__isnull=False).count() == 10


def test_the_demo_keeps_a_section_the_rep_already_edited():
    from callprep.briefs import services
    from callprep.briefs.models import BriefSection

    users = load.seed()
    section = BriefSection.objects.get(
        brief__call__ical_uid__startswith="demo-northwind-", key="business_challenges"
    )
    services.save_section(
        section, text="My own words.", base_version=section.version, by=users["rep"]
    )

    load.seed()

    section.refresh_from_db()
    assert section.text == "My own words."


def test_the_demo_collects_evidence_for_every_account_once(
    django_capture_on_commit_callbacks, monkeypatch
):
    from callprep.evidence import collect
    from callprep.evidence.models import CollectionRun
    from callprep.review import notify

    monkeypatch.setattr(collect, "_enqueue", lambda ids: None)
    monkeypatch.setattr(notify, "_enqueue_emails", lambda ids: None)
    with django_capture_on_commit_callbacks(execute=True):
        load.seed()
    # One run per account: started by the demo, or by the first brief the seed starts.
    assert CollectionRun.objects.count() == 12
    assert CollectionRun.objects.values("account").distinct().count() == 12

    with django_capture_on_commit_callbacks(execute=True):
        load.seed()  # the runs are still open: nothing new

    assert CollectionRun.objects.count() == 12


def test_vp_sees_the_organisation_dashboard_and_the_manager_his_team_s(client):
    from django.urls import reverse

    from accounts.models import Team
    from callprep.dashboard.access import viewer_for

    users = load.seed(evidence=False)

    vp = viewer_for(users["vp"])  # Executive + Sales leader: the view_all_teams permission
    assert vp.sees_everyone
    assert {t.name for t in vp.teams} == set(Team.objects.values_list("name", flat=True))
    manager = viewer_for(users["manager"])
    assert not manager.sees_everyone
    assert [t.name for t in manager.teams] == ["East"]
    client.force_login(users["vp"])
    page = client.get(reverse("callprep:dashboard"))
    assert page.status_code == 200
    assert page.context["viewer"].sees_everyone
    assert "West" in page.content.decode() and "East" in page.content.decode()


def test_nothing_in_the_product_imports_the_demo():
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    allowed = {root / "callprep/management/commands/demo.py"}
    importers = []
    for app in ("accounts", "callprep", "salesprep"):
        for path in (root / app).rglob("*.py"):
            if path in allowed or (root / "callprep/demo") in path.parents:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
                if any(n == "callprep.demo" or n.startswith("callprep.demo.") for n in names):
                    importers.append(str(path.relative_to(root)))
    assert importers == []


@pytest.fixture
def data_copy(tmp_path):
    import shutil

    from callprep.demo import content

    shutil.copytree(content.DATA, tmp_path / "data")
    return tmp_path / "data"


def test_a_brief_read_by_an_executive_needs_the_call_to_name_one(data_copy):
    from callprep.demo import content

    calls = data_copy / "calls.yaml"
    text = calls.read_text()
    helio = "    executive: vp\n    review: approved_briefed\n"
    assert helio in text
    calls.write_text(text.replace(helio, "    review: approved_briefed\n"))

    with pytest.raises(content.DemoDataError, match=r"calls\.yaml: call .*approved_briefed"):
        content.read(data_copy)


def test_a_history_read_needs_the_call_s_executive(data_copy):
    from callprep.demo import content

    history = data_copy / "history.yaml"
    text = history.read_text()
    line = "executive: vp, outcome: approved, submit: 50, approve: 24, read: 14}"
    assert line in text
    history.write_text(text.replace(line, line.replace("executive: vp, ", ""), 1))

    with pytest.raises(content.DemoDataError, match=r"history\.yaml: call .*read"):
        content.read(data_copy)
