"""An XSS corpus through every user text field, and every page that shows those fields.

For each payload, every field of FIELDS gets ``<marker> <payload>`` (URL fields get the payload
with ``#<marker>``), written the way users write it: through the forms (CSV and calendar
uploads, the brief editor's services, the review workflow) or, for fields only the model
holds, straight into the row, so the pages are checked whatever validation would have let in.
Then every page of PAGES is rendered through the test client and audited by ``audit_html``:
no ``<script>`` that is neither the page's (nonce) nor a static file, no ``on*`` attribute,
no ``javascript:``/``vbscript:``/``data:`` in a URL attribute, no ``<iframe>``/``<object>``/
``<embed>``/``<frame>``/``<base>``, no script in a ``style``. Each field's marker must reach at
least one page, so no field goes unchecked.

CSV exports are checked for formula injection (cells starting with = + - @ get a leading
apostrophe), .ics exports for property injection (one event, the title as written).
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from html.parser import HTMLParser

import icalendar
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, BuyingProcess, Contact, ImportFile, ImportState
from accounts.tasks import import_upload
from callprep import feeds, workflow
from callprep.briefs import sections as S
from callprep.briefs import services
from callprep.briefs.models import BriefSection, SectionRevision
from callprep.dashboard.facts import sync_call_facts
from callprep.evidence.models import Citation, CollectionRun, Evidence
from callprep.models import CalendarImport, Call
from tests.helpers import import_calendar
from tests.security.test_authz_matrix import form_data

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "[x](javascript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](&#106;avascript:alert(1))",
    '"><script>alert(1)</script>',
    "javascript:alert(1)",
    " JaVaScRiPt:alert(1)",
    '<a href="javascript:alert(1)">x</a>',
    "<div style=\"background:url('javascript:alert(1)')\">x</div>",
    '<p style="x:expression(alert(1))">x</p>',
    "<style>body{background:url(javascript:alert(1))}</style>",
    "<iframe src=javascript:alert(1)></iframe>",
    "<object data=javascript:alert(1)></object><embed src=javascript:alert(1)>",
    "' onmouseover='alert(1)' x='",
    '" onfocus="alert(1)" autofocus x="',
    "![x](x onerror=alert(1))",
    '![x](javascript:alert(1) "t")',
    '<a href="jav&#x09;ascript:alert(1)">tab</a>',
    "\u202egnp.exe <b>rtl</b> \u200b\ufeff",
    "{{ request.user }} {% now 'Y' %} ${alert(1)}",
    "x\r\nBEGIN:VEVENT\r\nSUMMARY:injected\r\nEND:VEVENT",
    '=HYPERLINK("http://evil.example","x")',
    'https://ok.example/"onmouseover="alert(1)',
    "https://ok.example/'><script>alert(1)</script>",
]

LONG = " ".join(["Their market consolidates while input costs rise across the sector."] * 8)
CONFIDENT = {"customer_said", "public_source", "our_inference"}

ALLOWED_SCRIPT_SRC = "/static/"
BANNED_TAGS = {"iframe", "object", "embed", "frame", "frameset", "applet", "base"}
URL_ATTRIBUTES = {
    "href", "src", "action", "formaction", "xlink:href", "data", "poster", "background",
    "srcset", "ping", "cite", "lowsrc", "dynsrc",
}  # fmt: skip
BAD_SCHEMES = ("javascript:", "vbscript:", "data:")


class Audit(HTMLParser):
    def __init__(self, nonce: str):
        super().__init__(convert_charrefs=True)
        self.nonce = nonce
        self.problems: list[str] = []
        self.in_style = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            src = a.get("src") or ""
            if not ((self.nonce and a.get("nonce") == self.nonce) or src.startswith("/static/")):
                self.problems.append(f"<script {attrs}>")
        if tag in BANNED_TAGS:
            self.problems.append(f"<{tag}>")
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "refresh":
            self.problems.append("<meta refresh>")
        if tag == "style":
            self.in_style = True
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}={value!r}>")
            squeezed = re.sub(r"[\x00-\x20]+", "", value).lower()
            if name in URL_ATTRIBUTES and squeezed.startswith(BAD_SCHEMES):
                self.problems.append(f"<{tag} {name}={value!r}>")
            if name == "style" and re.search(r"expression|javascript|url\(", squeezed):
                self.problems.append(f"<{tag} style={value!r}>")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "style":
            self.in_style = False

    def handle_data(self, data):
        if self.in_style and re.search(r"javascript|expression|alert", data):
            self.problems.append(f"<style>{data[:80]}")


def page_nonce(response) -> str:
    policy = response.get("Content-Security-Policy", "")
    found = re.search(r"'nonce-([^']+)'", policy)
    return found.group(1) if found else ""


def audit_html(response) -> list[str]:
    audit = Audit(page_nonce(response))
    audit.feed(response.content.decode())
    audit.close()
    return audit.problems


# --- Writing the payloads -------------------------------------------------------------------


def text(marker: str, payload: str) -> str:
    return f"{marker} {payload}"


def url(marker: str, payload: str) -> str:
    return f"{payload.strip()}#{marker}"


# Every user text field: name → kind ("text" or "url"). The writers below fill them.
FIELDS = {
    "account.name": "text",
    "account.description": "text",
    "account.hq_city": "text",
    "account.website": "url",
    "contact.name": "text",
    "contact.title": "text",
    "contact.cares_about": "text",
    "contact.notes": "text",
    "buying.procurement_steps": "text",
    "buying.approval_thresholds": "text",
    "buying.budget_cycle": "text",
    "buying.signatories": "text",
    "buying.legal_security_gates": "text",
    "buying.typical_timeline": "text",
    "call.title": "text",
    "call.location": "text",
    "call.purpose": "text",
    "call.agenda": "text",
    "call.agreed_outcome": "text",
    "call.meeting_url": "url",
    "section.business_challenges": "text",
    "section.industry_dynamics": "text",
    "section.financial_condition": "text",
    "section.buying_process": "text",
    "section.value_hypothesis": "text",
    "section.claim_source": "url",
    "section.claim_said": "text",
    "deal_check.fields": "text",
    "deal_check.evidence_url": "url",
    "call_plan.fields": "text",
    "comment.body": "text",
    "submit.comment": "text",
    "request_changes.comment": "text",
    "request_changes.section_note": "text",
    "evidence.label": "text",
    "evidence.excerpt": "text",
    "evidence.url": "url",
    "citation.label": "text",
    "citation.url": "url",
    "csv.name": "text",
    "csv.description": "text",
    "csv.contact_title": "text",
    "ics.summary": "text",
    "ics.location": "text",
    "ics.description": "text",
    "ics_pending.summary": "text",
}
MARKERS = {name: f"xssq{index:02d}z" for index, name in enumerate(FIELDS)}


def value(field: str, payload: str) -> str:
    marker = MARKERS[field]
    return url(marker, payload) if FIELDS[field] == "url" else text(marker, payload)


def deal_fields(payload: str) -> dict:
    data = {}
    for fspec in S.spec_for("deal_check").fields:
        name = f"f-{fspec.key}"
        data[name] = value("deal_check.fields", payload)
        data[f"{name}-confidence"] = "public_source"
        data[f"{name}-evidence"] = value("deal_check.evidence_url", payload)
    return S.clean_fields(S.spec_for("deal_check"), data)


def plan_fields(payload: str) -> dict:
    spec = S.spec_for("call_plan")
    return S.clean_fields(
        spec, {f"f-{f.key}": value("call_plan.fields", payload) for f in spec.fields}
    )


def save(brief, key: str, body: str = "", *, by, fields=None) -> None:
    section = BriefSection.objects.get(brief=brief, key=key)
    services.save_section(section, text=body, fields=fields, base_version=section.version, by=by)


def ics_calendar(payload: str, *, matched: bool) -> bytes:
    cal = icalendar.Calendar()
    cal.add("prodid", "-//test//xss//EN")
    cal.add("version", "2.0")
    event = icalendar.Event()
    prefix = "ics" if matched else "ics_pending"
    event.add("uid", f"xss-{prefix}@example.com")
    event.add("dtstamp", timezone.now())
    start = timezone.now().replace(microsecond=0) + timezone.timedelta(days=2)
    event.add("dtstart", start)
    event.add("dtend", start + timezone.timedelta(hours=1))
    event.add("summary", value(f"{prefix}.summary", payload))
    if matched:
        event.add("location", value("ics.location", payload))
        event.add("description", value("ics.description", payload))
    domain = "acme.example" if matched else "nowhere.example"
    event.add("attendee", f"mailto:someone@{domain}")
    cal.add_component(event)
    return cal.to_ical()


def write_everything(payload: str, *, acme, dana, call, brief, alice, victor, client) -> dict:
    """Put the payload into every field of FIELDS; returns the objects the pages need."""
    Account.objects.filter(pk=acme.pk).update(
        name=value("account.name", payload)[:200],
        description=value("account.description", payload),
        hq_city=value("account.hq_city", payload)[:100],
        website=value("account.website", payload)[:300],
    )
    Contact.objects.filter(pk=dana.pk).update(
        **{f: value(f"contact.{f}", payload)[:200] for f in ("name", "title")},
        cares_about=value("contact.cares_about", payload),
        notes=value("contact.notes", payload),
    )
    BuyingProcess.objects.update_or_create(
        account=acme,
        defaults={
            f: value(f"buying.{f}", payload)
            for f in (
                "procurement_steps",
                "approval_thresholds",
                "budget_cycle",
                "signatories",
                "legal_security_gates",
                "typical_timeline",
            )
        },
    )
    Call.objects.filter(pk=call.pk).update(
        title=value("call.title", payload)[:200],
        location=value("call.location", payload)[:300],
        purpose=value("call.purpose", payload),
        agenda=value("call.agenda", payload),
        agreed_outcome=value("call.agreed_outcome", payload),
        meeting_url=value("call.meeting_url", payload)[:500],
    )
    run = CollectionRun.objects.create(account=acme, trigger="manual", requested_by=alice)
    evidence = Evidence.objects.create(
        account=acme,
        collector="sec",
        kind="financial",
        source="sec-companyfacts",
        key="revenue",
        label=value("evidence.label", payload),
        metric="revenue",
        value=Decimal("1200000"),
        unit="USD",
        url=value("evidence.url", payload),
        excerpt=value("evidence.excerpt", payload),
        run=run,
    )
    Evidence.objects.create(
        account=acme,
        collector="news",
        kind="news",
        source="gdelt",
        key="news-1",
        label=value("evidence.label", payload),
        url=value("evidence.url", payload),
        excerpt=value("evidence.excerpt", payload),
        run=run,
    )
    citation = Citation.objects.create(
        account=acme,
        evidence=evidence,
        brief_id=brief.pk,
        section_key="financial_condition",
        label=value("citation.label", payload),
        value=Decimal("1200000"),
        unit="USD",
        source="sec-companyfacts",
        source_name="SEC",
        url=value("citation.url", payload),
        retrieved_at=timezone.now(),
        cited_by=alice,
    )
    services.remember_citation(brief.pk, "financial_condition", citation)
    claims = (
        f" {{source: {value('section.claim_source', payload)}}}"
        f" {{said: {value('section.claim_said', payload)}}}"
    )
    for key in ("business_challenges", "industry_dynamics", "buying_process", "value_hypothesis"):
        save(brief, key, f"{LONG} {value(f'section.{key}', payload)}{claims}", by=alice)
    body = f"{LONG} {value('section.financial_condition', payload)} [^c{citation.pk}]{claims}"
    save(brief, "financial_condition", body, by=alice)
    save(brief, "deal_check", by=alice, fields=deal_fields(payload))
    save(brief, "call_plan", by=alice, fields=plan_fields(payload))
    workflow.submit_brief(brief, by=alice, comment=value("submit.comment", payload))
    workflow.add_comment(
        brief, by=victor, section_key="business_challenges", body=value("comment.body", payload)
    )
    workflow.request_changes(
        brief,
        by=victor,
        comment=value("request_changes.comment", payload),
        section_comments={"value_hypothesis": value("request_changes.section_note", payload)},
    )
    workflow.submit_brief(brief, by=alice)  # back in the review queue

    # The CSV import, through the upload and preview pages.
    rows = io.StringIO()
    writer = csv.writer(rows)
    writer.writerow(["Account Name", "Description", "Contact Title", "Contact Name"])
    writer.writerow(
        [
            value("csv.name", payload)[:200],
            value("csv.description", payload),
            value("csv.contact_title", payload)[:200],
            "Pat Procurement",
        ]
    )
    upload = SimpleUploadedFile("crm.csv", rows.getvalue().encode(), content_type="text/csv")
    response = client.post(reverse("accounts:import"), {"file": upload})
    assert response.status_code == 302, response.content.decode()[:2000]
    preview_url = response["Location"]
    pages = {"import preview": client.get(preview_url)}
    data = form_data(client, preview_url) | {"action": "import", "valid_only": "on"}
    imported = client.post(preview_url, data)
    assert imported.status_code == 302, audit_html(imported) or imported.content.decode()[:3000]
    pages["import progress"] = client.get(preview_url)
    for pk in ImportFile.objects.filter(state=ImportState.QUEUED).values_list("pk", flat=True):
        import_upload.run(pk)  # what the worker does with it
    pages["import result"] = client.get(preview_url)

    # The calendar import: one event matches Acme, the other waits to be assigned.
    for matched in (True, False):
        response = import_calendar(client, ics_calendar(payload, matched=matched), "cal.ics")
        assert response.status_code == 200
        pages[f"calendar import result {matched}"] = response
    # And the preview of an upload, which lists each event before anything is imported.
    upload = SimpleUploadedFile("cal.ics", ics_calendar(payload, matched=True))
    previewed = client.post(reverse("callprep:calendar_import"), {"file": upload})
    pages["calendar import preview"] = client.get(previewed.url)
    client.post(previewed.url, {"action": "cancel"})
    pending = CalendarImport.objects.get(user=alice)
    ics_call = Call.objects.get(ical_uid="xss-ics@example.com")
    return {
        "pages": pages,
        "csv_account": Account.objects.get(name__startswith=MARKERS["csv.name"]),
        "citation": citation,
        "pending": pending,
        "ics_call": ics_call,
        "revision": SectionRevision.objects.filter(
            section__brief=brief, section__key="business_challenges"
        ).first(),
    }


def pages_to_render(brief, call, acme, dana, made, payload) -> list[tuple[str, str, str, dict]]:
    """(name, role, path, POST data or None) of every page that shows a user text field."""
    b, k = brief.pk, "business_challenges"
    measure = {"team": acme.team_id, "measure": "calls"}
    return [
        ("account list", "alice", reverse("accounts:list"), None),
        ("account detail", "alice", reverse("accounts:detail", args=[acme.pk]), None),
        ("account edit", "alice", reverse("accounts:edit", args=[acme.pk]), None),
        ("buying process", "alice", reverse("accounts:buying_process", args=[acme.pk]), None),
        ("contact edit", "alice", reverse("accounts:contact_edit", args=[dana.pk]), None),
        ("my calls", "alice", reverse("callprep:my_calls"), None),
        ("call detail", "alice", reverse("callprep:call_detail", args=[call.pk]), None),
        ("call edit", "alice", reverse("callprep:call_edit", args=[call.pk]), None),
        (
            "imported call",
            "alice",
            reverse("callprep:call_detail", args=[made["ics_call"].pk]),
            None,
        ),
        (
            "calendar assign",
            "alice",
            reverse("callprep:calendar_assign", args=[made["pending"].pk]),
            None,
        ),
        ("brief editor", "alice", reverse("briefs:edit", args=[b]), None),
        ("brief section", "alice", reverse("briefs:section", args=[b, k]), None),
        (
            "preview",
            "alice",
            reverse("briefs:preview", args=[b, k]),
            {"text": value("section.business_challenges", payload)},
        ),
        ("brief read view", "mallory", reverse("briefs:detail", args=[b]), None),
        ("executive view", "victor", reverse("briefs:executive", args=[b]), None),
        ("history", "alice", reverse("briefs:history", args=[b, k]), None),
        (
            "revision diff",
            "alice",
            reverse("briefs:revision", args=[b, k, made["revision"].pk]),
            None,
        ),
        ("changes", "alice", reverse("briefs:changes", args=[b]), None),
        ("audit", "alice", reverse("briefs:audit", args=[b]), None),
        ("comments", "alice", reverse("briefs:comments", args=[b]), None),
        ("review", "victor", reverse("briefs:review", args=[b]), None),
        ("review queue", "victor", reverse("callprep:review_queue"), None),
        ("notifications (rep)", "alice", reverse("briefs:notifications"), None),
        ("notifications (exec)", "victor", reverse("briefs:notifications"), None),
        ("evidence panel", "alice", reverse("evidence:panel", args=[acme.pk]), None),
        ("citation", "alice", reverse("evidence:citation", args=[made["citation"].pk]), None),
        # Part of every marker ("xssq" of "xssq07z"): every kind of result, names and titles.
        ("search", "alice", reverse("search"), {"q": "xssq"}),
        ("search for the payload", "mallory", reverse("search"), {"q": payload}),
        ("dashboard", "mallory", reverse("callprep:dashboard") + f"?team={acme.team_id}", None),
        ("dashboard calls", "mallory", reverse("callprep:dashboard:calls"), measure),
        (
            "imported account",
            "alice",
            reverse("accounts:detail", args=[made["csv_account"].pk]),
            None,
        ),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
def test_no_payload_runs_script_on_any_page(
    payload, acme, dana, call, brief, alice, mallory, victor
):
    clients = {}
    for user in (alice, mallory, victor):
        clients[user.username] = Client()
        clients[user.username].force_login(user)
    made = write_everything(
        payload,
        acme=acme,
        dana=dana,
        call=call,
        brief=brief,
        alice=alice,
        victor=victor,
        client=clients["alice"],
    )
    rendered = dict(made["pages"])
    for name, role, path, data in pages_to_render(brief, call, acme, dana, made, payload):
        client = clients[role]
        if data is None:
            response = client.get(path)
        elif name == "preview":
            response = client.post(path, data)
        else:
            response = client.get(path, data)
        rendered[name] = response

    problems, reached = [], {}
    for name, response in rendered.items():
        assert response.status_code == 200, (name, response.status_code)
        problems += [f"{name}: {p}" for p in audit_html(response)]
        html = response.content.decode()
        for field, marker in MARKERS.items():
            if marker in html:
                reached.setdefault(field, []).append(name)
    assert problems == []
    assert 'data-testid="search-result"' in rendered["search"].content.decode()
    # A URL that is not http(s) may be dropped (that is the safe answer); every other field
    # must reach a page, so that no field goes unchecked.
    must_reach = {
        f for f, kind in FIELDS.items() if kind == "text" or payload.startswith("https://")
    }
    assert must_reach - set(reached) == set(), "fields shown on no page"


# --- Exports --------------------------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1+1"]


def csv_cells(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


@pytest.mark.django_db
@pytest.mark.parametrize("formula", FORMULAS)
def test_csv_exports_neutralise_formulas(formula, acme, call, alice, mallory):
    Account.objects.filter(pk=acme.pk).update(name=formula)
    Call.objects.filter(pk=call.pk).update(title=formula)
    alice.first_name, alice.last_name = formula, formula
    alice.save()
    sync_call_facts([call.pk])  # the call was made with the ORM: the dashboard reads its facts
    client = Client()
    client.force_login(mallory)
    query = {"team": acme.team_id, "measure": "calls"}
    checked = 0
    for name in ("callprep:dashboard:calls_csv", "callprep:dashboard:reps_csv"):
        response = client.get(reverse(name), query)
        assert response.status_code == 200
        rows = csv_cells(response)
        cells = [cell for row in rows for cell in row]
        assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], name
        shown = [c for c in cells if formula in c]
        assert shown and all(c.startswith("'") for c in shown), (name, shown)
        checked += len(shown)
    assert checked >= 2


@pytest.mark.django_db
@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
def test_ics_exports_keep_each_text_inside_its_property(payload, call, alice):
    Call.objects.filter(pk=call.pk).update(
        title=payload[:200], location=payload, agenda=payload, meeting_url=payload
    )
    client = Client()
    client.force_login(alice)
    feed, secret = feeds.issue_feed(alice)
    for response in (
        client.get(reverse("callprep:call_ics", args=[call.pk])),
        Client().get(reverse("callprep:calendar_feed", args=[feed.key, secret])),
    ):
        assert response.status_code == 200
        cal = icalendar.Calendar.from_ical(response.content)
        events = cal.walk("VEVENT")
        assert len(events) == 1
        # The text comes back as written (a CR LF line break comes back as LF).
        same = payload.replace("\r\n", "\n")
        assert str(events[0]["SUMMARY"]) == same[:200]
        assert str(events[0]["LOCATION"]) == same
        assert same.strip() in str(events[0]["DESCRIPTION"])
        # Only an http(s) meeting link goes out as the event's URL.
        if payload.startswith("https://"):
            assert str(events[0]["URL"]) == payload
        else:
            assert "URL" not in events[0]
