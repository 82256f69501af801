"""The demo data set: fictional people and customers for a first look at SalesPrep.

Every function here is idempotent: running the seed twice leaves the same data.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from accounts.models import (
    Account,
    BuyingProcess,
    BuyingRole,
    Contact,
    Influence,
    Stance,
    Team,
    User,
)
from accounts.roles import Role, ensure_roles
from callprep.briefs import sections as S
from callprep.briefs import services as briefs
from callprep.briefs.models import Brief, RevisionKind
from callprep.models import Call, CallKind, CallStatus

DEMO_PASSWORD = "salesprep-demo"  # noqa: S105 - printed on purpose; refused when DEBUG is off


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    roles: tuple[Role, ...]
    team: str | None = None
    manages: str | None = None


DEMO_USERS = [
    DemoUser("rep", "Riley", "Park", (Role.REP,), team="East"),
    DemoUser("manager", "Morgan", "Hale", (Role.MANAGER,), manages="East"),
    DemoUser("rep2", "Sam", "Okafor", (Role.REP,), team="West"),
    DemoUser("vp", "Victoria", "Pérez", (Role.EXECUTIVE,)),
    DemoUser("admin", "Alex", "Admin", (Role.ADMIN,)),
]


def seed_users() -> dict[str, User]:
    ensure_roles()
    users: dict[str, User] = {}
    # One hash for every demo user, with a fixed salt: the password is published anyway, the
    # seed stays idempotent (the stored hash does not change), and it pays PBKDF2 once, not
    # five times (each costs most of a second).
    password = make_password(DEMO_PASSWORD, salt="salesprepdemo")
    teams = {name: Team.objects.get_or_create(name=name)[0] for name in ("East", "West")}
    for spec in DEMO_USERS:
        user, _ = User.objects.get_or_create(username=spec.username)
        user.first_name = spec.first_name
        user.last_name = spec.last_name
        user.email = f"{spec.username}@salesprep.example"
        user.is_active = True
        user.is_staff = Role.ADMIN in spec.roles
        user.is_superuser = Role.ADMIN in spec.roles
        user.password = password
        user.save()
        user.groups.set(Group.objects.filter(name__in=[str(r) for r in spec.roles]))
        if spec.team:
            teams[spec.team].members.add(user)
        if spec.manages:
            teams[spec.manages].managers.add(user)
        users[spec.username] = user
    return users


# --- Customers (all fictional: the names, people, tickers and domains are invented) -------------

FICTIONAL = "Fictional company for the SalesPrep demo; any likeness to a real firm is accidental."


@dataclass(frozen=True)
class DemoAccount:
    slug: str
    name: str
    owner: str
    naics: str
    country: str
    city: str
    employees: int
    fiscal_year_end: int = 12
    ticker: str = ""
    exchange: str = ""
    about: str = ""

    @property
    def domain(self) -> str:
        return f"{self.slug}.example"

    @property
    def website(self) -> str:
        return f"https://www.{self.domain}"


DEMO_ACCOUNTS = [
    DemoAccount(
        "northwind",
        "Northwind Freight Inc.",
        "rep",
        "484121",
        "US",
        "Chicago",
        8200,
        ticker="ZXNW",
        exchange="NYSE",
        about="Truckload carrier moving to intermodal.",
    ),
    DemoAccount(
        "helio",
        "Helio Grid Power Corp.",
        "rep",
        "221114",
        "US",
        "Phoenix",
        3100,
        ticker="ZXHG",
        exchange="NASDAQ",
        about="Utility-scale solar developer.",
    ),
    DemoAccount(
        "brightpath",
        "Brightpath Health Systems",
        "rep",
        "622110",
        "US",
        "Boston",
        15400,
        about="Non-profit hospital network of nine hospitals.",
    ),
    DemoAccount(
        "kestrel",
        "Kestrel Semiconductor Ltd.",
        "rep",
        "334413",
        "GB",
        "Cambridge",
        950,
        fiscal_year_end=3,
        about="Fabless designer of power-management chips.",
    ),
    DemoAccount(
        "maple",
        "Maple & Finch Retail Group",
        "rep",
        "455110",
        "CA",
        "Toronto",
        22000,
        fiscal_year_end=1,
        about="Department stores and online retail.",
    ),
    DemoAccount(
        "alpenbank",
        "Alpenbank Privat AG",
        "rep",
        "522110",
        "CH",
        "Zürich",
        1800,
        about="Private bank for families and foundations.",
    ),
    DemoAccount(
        "quanta",
        "Quanta Foods Holding",
        "rep2",
        "311421",
        "NL",
        "Rotterdam",
        5400,
        about="Frozen and canned vegetables for European retailers.",
    ),
    DemoAccount(
        "sakura",
        "Sakura Precision Robotics K.K.",
        "rep2",
        "333248",
        "JP",
        "Nagoya",
        4100,
        fiscal_year_end=3,
        about="Industrial robots for automotive lines.",
    ),
    DemoAccount(
        "pampas",
        "Pampas Agro S.A.",
        "rep2",
        "111150",
        "AR",
        "Rosario",
        2600,
        fiscal_year_end=6,
        about="Corn and soybean producer and exporter.",
    ),
    DemoAccount(
        "tidewater",
        "Tidewater Insurance Co.",
        "rep2",
        "524126",
        "US",
        "Seattle",
        6700,
        ticker="ZXTW",
        exchange="NYSE",
        about="Property and casualty insurer.",
    ),
    DemoAccount(
        "aurora",
        "Aurora Learning Labs",
        "rep2",
        "611710",
        "US",
        "Denver",
        240,
        about="Private ed-tech start-up selling to school districts.",
    ),
    DemoAccount(
        "orbis",
        "Orbis Telecom Sp. z o.o.",
        "rep2",
        "517111",
        "PL",
        "Warsaw",
        3900,
        about="Regional fibre and mobile operator.",
    ),
]

# (name, title, buying role, influence, stance, reports to (index) or None)
DEMO_STAKEHOLDERS = [
    (
        "Jordan Avery",
        "Chief Financial Officer",
        BuyingRole.ECONOMIC_BUYER,
        Influence.HIGH,
        Stance.NEUTRAL,
        None,
    ),
    ("Casey Lin", "VP Operations", BuyingRole.CHAMPION, Influence.HIGH, Stance.SUPPORTER, 0),
    (
        "Morgan Diaz",
        "IT Architect",
        BuyingRole.TECHNICAL_EVALUATOR,
        Influence.MEDIUM,
        Stance.SKEPTIC,
        1,
    ),
    (
        "Taylor Brooks",
        "Category Manager, Procurement",
        BuyingRole.PROCUREMENT,
        Influence.MEDIUM,
        Stance.UNKNOWN,
        0,
    ),
]

DEMO_PROCESS = {
    "procurement_steps": "Business case → IT architecture review → RFP to three vendors → "
    "legal → purchase order.",
    "approval_thresholds": "Up to 100k: VP. Up to 500k: CFO. Above: board.",
    "budget_cycle": "Budgets are set in Q3 for the next fiscal year; unspent budget lapses.",
    "signatories": "The CFO signs; procurement issues the PO.",
    "legal_security_gates": "Security questionnaire and DPA before the contract.",
    "typical_timeline": "4 to 6 months from first meeting to signature.",
}

# (account slug, title, kind, days from today, hour, executive joins)
DEMO_CALLS = [
    ("northwind", "Intermodal strategy discovery", CallKind.DISCOVERY, 2, 15, False),
    ("helio", "Executive visit: grid-storage roadmap", CallKind.EXECUTIVE_VISIT, 5, 10, True),
    ("brightpath", "Annual business review", CallKind.BUSINESS_REVIEW, 9, 14, True),
    ("kestrel", "Pricing and terms", CallKind.NEGOTIATION, 21, 9, False),
    ("maple", "Store operations discovery", CallKind.DISCOVERY, -6, 16, False),
    ("quanta", "Executive visit: supply-chain visibility", CallKind.EXECUTIVE_VISIT, 3, 11, True),
    ("sakura", "Discovery with the plant managers", CallKind.DISCOVERY, 8, 9, False),
    ("tidewater", "Claims modernisation review", CallKind.BUSINESS_REVIEW, 12, 13, True),
    ("orbis", "Negotiation: renewal", CallKind.NEGOTIATION, -10, 10, False),
    # Complete briefs that the review seed walks into each review state (``DEMO_REVIEWS``).
    ("maple", "Executive visit: store-operations pilot", CallKind.EXECUTIVE_VISIT, 2, 17, True),
    ("alpenbank", "Business review: client reporting", CallKind.BUSINESS_REVIEW, 7, 10, False),
    ("maple", "Pilot scope and terms", CallKind.NEGOTIATION, 13, 14, False),
    ("alpenbank", "Executive visit: the next generation", CallKind.EXECUTIVE_VISIT, 16, 11, True),
    ("pampas", "Executive visit: harvest logistics", CallKind.EXECUTIVE_VISIT, 4, 10, True),
    ("orbis", "Business review: network operations", CallKind.BUSINESS_REVIEW, 6, 13, False),
    ("aurora", "Discovery with the district partnerships team", CallKind.DISCOVERY, 8, 15, False),
    ("orbis", "Executive visit: fibre roll-out", CallKind.EXECUTIVE_VISIT, 11, 10, True),
    ("pampas", "Framework agreement terms", CallKind.NEGOTIATION, 15, 11, False),
]


def demo_uid(slug: str, kind: str) -> str:
    return f"demo-{slug}-{kind}@salesprep"


# The review state each complete upcoming brief is walked into by
# ``callprep.review.demo.seed_reviews`` (by ical_uid): for each rep, one brief in review, one
# sent back with comments on sections, one approved, one approved with concerns; Helio's is
# approved and read by ``vp``. Maple's executive visit is due within a day (or overdue), so
# the review queue highlights it. Changes requested carry the reviewer's section comments.
DEMO_REVIEWS: dict[str, str | tuple[str, dict[str, str]]] = {
    demo_uid("helio", CallKind.EXECUTIVE_VISIT): "approved_briefed",
    demo_uid("maple", CallKind.EXECUTIVE_VISIT): "submitted",
    demo_uid("alpenbank", CallKind.BUSINESS_REVIEW): (
        "changes_requested",
        {
            "financial_condition": (
                "How much of their revenue is fees versus interest now? That is what the "
                "board watches."
            ),
            "call_plan": "Which question do you want me to ask their CEO, and which to avoid?",
        },
    ),
    demo_uid("maple", CallKind.NEGOTIATION): "approved",
    demo_uid("alpenbank", CallKind.EXECUTIVE_VISIT): "approved_with_concerns",
    demo_uid("pampas", CallKind.EXECUTIVE_VISIT): "submitted",
    demo_uid("orbis", CallKind.BUSINESS_REVIEW): (
        "changes_requested",
        {
            "deal_check": (
                "Who has actually confirmed the March deadline? I would like it from the "
                "customer, not from our inference."
            ),
            "value_hypothesis": "Put a number on the truck rolls they would save per month.",
        },
    ),
    demo_uid("aurora", CallKind.DISCOVERY): "approved",
    demo_uid("orbis", CallKind.EXECUTIVE_VISIT): "submitted",
    demo_uid("pampas", CallKind.NEGOTIATION): "approved_with_concerns",
}

ZONES = {
    "US": "America/Chicago",
    "GB": "Europe/London",
    "CA": "America/Toronto",
    "CH": "Europe/Zurich",
    "NL": "Europe/Amsterdam",
    "JP": "Asia/Tokyo",
    "AR": "America/Argentina/Cordoba",
    "PL": "Europe/Warsaw",
}


def seed_accounts(users: dict[str, User]) -> dict[str, Account]:
    accounts: dict[str, Account] = {}
    for spec in DEMO_ACCOUNTS:
        owner = users[spec.owner]
        domain = spec.domain
        account = Account.objects.filter(domain=domain).first() or Account(domain=domain)
        account.name = spec.name
        account.website = spec.website
        account.owner = owner
        account.team = owner.teams.first()
        account.naics_code = spec.naics
        account.country = spec.country
        account.hq_city = spec.city
        account.employees = spec.employees
        account.fiscal_year_end = spec.fiscal_year_end
        account.ticker = spec.ticker
        account.exchange = spec.exchange
        account.external_id = f"DEMO-{spec.slug.upper()}"
        account.description = f"{spec.about}\n\n{FICTIONAL}"
        account.full_clean()
        account.save()
        BuyingProcess.objects.update_or_create(account=account, defaults=DEMO_PROCESS)
        contacts: list[Contact] = []
        for name, title, role, influence, stance, boss in DEMO_STAKEHOLDERS:
            email = f"{name.split()[0].lower()}@{domain}"
            contact, _ = Contact.objects.update_or_create(
                account=account,
                email=email,
                defaults={
                    "name": name,
                    "title": title,
                    "buying_role": role,
                    "influence": influence,
                    "stance": stance,
                    "reports_to": contacts[boss] if boss is not None else None,
                    "notes": "Fictional person.",
                },
            )
            contacts.append(contact)
        accounts[spec.slug] = account
    return accounts


def upsert_call(
    users: dict[str, User],
    account: Account,
    *,
    uid: str,
    title: str,
    kind: str,
    starts: dt.datetime,
    with_vp: bool,
) -> Call:
    """Create or refresh one demo call, keyed by its stable ``ical_uid``."""
    zone = zoneinfo.ZoneInfo(ZONES.get(account.country, "UTC"))
    call, _ = Call.objects.update_or_create(
        ical_uid=uid,
        defaults={
            "account": account,
            "title": title,
            "kind": kind,
            "status": CallStatus.COMPLETED if starts < timezone.now() else CallStatus.SCHEDULED,
            "starts_at": starts,
            "ends_at": starts + dt.timedelta(hours=1),
            "time_zone": zone.key,
            "owner": account.owner,
            "executive": users["vp"] if with_vp else None,
            "location": f"{account.name}, {account.hq_city}",
            "purpose": f"Understand {account.name}'s priorities for the coming year.",
            "agenda": "1. Their priorities\n2. What they have tried\n3. Next steps",
            "agreed_outcome": "Agree whether a joint evaluation makes sense.",
            "created_by": account.owner,
        },
    )
    call.contacts.set(account.contacts.filter(buying_role__in=["economic_buyer", "champion"]))
    return call


def local_start(account: Account, day: dt.date, hour: int) -> dt.datetime:
    zone = zoneinfo.ZoneInfo(ZONES.get(account.country, "UTC"))
    return dt.datetime.combine(day, dt.time(hour), tzinfo=zone)


def seed_calls(users: dict[str, User], accounts: dict[str, Account]) -> list[Call]:
    """Calls relative to today, so a demo always has upcoming and past calls."""
    today = timezone.localdate()
    return [
        upsert_call(
            users,
            accounts[slug],
            uid=demo_uid(slug, kind),
            title=title,
            kind=kind,
            starts=local_start(accounts[slug], today + dt.timedelta(days=days), hour),
            with_vp=with_vp,
        )
        for slug, title, kind, days, hour, with_vp in DEMO_CALLS
    ]


# --- Briefs at different stages (issue 4) ----------------------------------------------------
# Per upcoming call: the sections the rep has written so far. Claims in the deal check are
# (text, confidence, how we know). Sections not listed stay as start_brief left them (empty,
# or pre-filled from the account's buying process and stakeholders). Kestrel has no brief yet.
# Review states (submitted, approved) are the review workflow's to seed, not this module's.

SAID, PUBLIC, INFERRED = "customer_said", "public_source", "our_inference"

DEMO_BRIEFS: dict[str, dict[str, Any]] = {
    # Nearly complete: the call is in two days.
    "northwind": {
        "business_challenges": (
            "Northwind Freight is in the third year of a freight recession. Casey Lin (VP "
            "Operations) told us on our October call that **cost per mile** is the number the "
            "board asks about every month: contract rates fell faster than their costs, and "
            "the 10-K names driver wages, insurance and equipment as the costs they cannot "
            "cut quickly. Their stated priorities for the year are to move long-haul lanes to "
            "intermodal rail, consolidate 14 cross-dock terminals into 9, and bring the "
            "operating margin back towards the 10% they earned in 2022. Jordan Avery (CFO) is "
            "measured on free cash flow while debt rises."
        ),
        "industry_dynamics": (
            "Truckload capacity is still leaving the market slowly, so spot and contract rates "
            "stay low; producer prices for truck transportation are down since 2022. Shippers "
            "are pushing freight onto intermodal where lanes allow, and the large carriers are "
            "responding with rail partnerships and terminal consolidation. Northwind signed a "
            "ten-year intermodal agreement in June and is following its peers rather than "
            "leading them; the question is whether they can run two networks during the shift."
        ),
        "financial_condition": (
            "Revenue fell for a third year, from 5.2 billion USD in 2022 to 4.1 billion in "
            "2025, while the operating margin narrowed from 10.0% to 4.0%: costs are not "
            "falling with sales. Long-term debt rose to 1.46 billion and cash fell to 240 "
            "million. The 8-K of September announced restructuring of the terminal network; "
            "the third quarter of 2026 showed revenue down again. They are cutting, not "
            "investing, unless a project pays back inside the year."
        ),
        "economic_drivers": (
            "Industrial production is flat and consumer sentiment is weak, so freight volumes "
            "will not rescue them in 2027. The 10-year Treasury yield is up about a quarter "
            "point on the year, which makes their equipment leases and refinancing dearer. "
            "Diesel and wage inflation keep their cost base rising while rates stay low."
        ),
        "value_hypothesis": (
            "Northwind's priority is cost per mile during the move to intermodal. Our planning "
            "service can show, lane by lane, which freight to move to rail first and which "
            "terminals to close without losing service, so the consolidation saves money in "
            "months, not years. The measure they already use is cost per mile; a 3% reduction "
            "on their 2025 cost base is worth more than 100 million USD a year to them."
        ),
        "deal_check": {
            "economic_buyer": (None, SAID, "Org chart from Casey Lin"),
            "champion": (None, SAID, ""),
            "pain": ("Cost per mile rose while contract rates fell", SAID, "Casey Lin, Oct call"),
            "metrics": ("Cost per mile; operating margin back to 8%", SAID, "Casey Lin"),
            "economic_buyer_met": False,
            "decision_criteria": ("Payback inside 12 months; no disruption", INFERRED, ""),
            "decision_process": (
                "Business case to the CFO in December, IT review, then RFP",
                SAID,
                "Casey Lin",
            ),
            "competition": ("Their own analytics team, and doing nothing", INFERRED, ""),
            "risks": ("CFO may freeze all new spend until the results in February", INFERRED, ""),
        },
        "call_plan": {
            "questions": [
                "Which lanes move to rail first, and who decides?",
                "How will you measure the consolidation's savings?",
                "What would make the CFO approve spend before February?",
            ],
        },
    },
    # Nearly complete, with the executive's part of the plan: an executive visit.
    "helio": {
        "business_challenges": (
            "Helio Grid Power has 1.2 GW under construction and a cost of capital that rose "
            "faster than their power prices. Casey Lin told us their priority is to bring the "
            "new plants online on time, because every month of delay is interest without "
            "revenue. The annual report names interconnection queues, panel supply and "
            "financing costs as the main risks. Jordan Avery's priority is keeping the "
            "investment-grade rating while long-term debt grows."
        ),
        "industry_dynamics": (
            "Data-centre demand is driving long power purchase agreements in the Southwest, "
            "and utilities now ask for solar with storage rather than solar alone. The Arizona "
            "regulator changed interconnection rules in October, which favours developers who "
            "can model grid impact early. Competitors with cheaper capital are bidding "
            "aggressively for the same contracts."
        ),
        "financial_condition": (
            "Revenue grew about 11% a year to 1.16 billion USD in 2025, but long-term debt "
            "reached 4.8 billion, about four times revenue, and net margin fell from 10.9% to "
            "5.0% as interest costs rose. The August 8-K announced 900 million USD of green "
            "notes. They invest heavily but every project must protect the rating."
        ),
        "economic_drivers": (
            "The 10-year Treasury yield rose about a quarter point in a year; with debt at "
            "four times revenue, each rise flows straight into their financing costs. "
            "Utility employment is steady and power demand is rising with data centres."
        ),
        "value_hypothesis": (
            "Helio's priority is bringing plants online on schedule while financing stays "
            "expensive. If our construction analytics cut two months from a 300 MW project, "
            "they earn two months of revenue earlier and pay two months less interest "
            "during construction; on the 1.2 GW pipeline that is worth tens of millions."
        ),
        "deal_check": {
            "economic_buyer": (None, SAID, ""),
            "champion": (None, SAID, ""),
            "pain": ("Construction delays cost interest without revenue", SAID, "Casey Lin"),
            "metrics": ("Months from notice to proceed to commercial operation", SAID, ""),
            "economic_buyer_met": True,
            "decision_criteria": (
                "Proven on a live project; rating agencies comfortable",
                SAID,
                "",
            ),
            "decision_process": ("Pilot on one project, then a framework agreement", SAID, ""),
            "competition": ("An incumbent engineering firm's in-house tool", PUBLIC, ""),
            "compelling_event": (
                "Three projects reach notice to proceed in Q1 2027",
                PUBLIC,
                "Q3 results, 4 November 2026",
            ),
            "paper_process": ("Security review and DPA take about six weeks", SAID, ""),
            "risks": ("Budget moved to debt service if rates rise again", INFERRED, ""),
        },
        "call_plan": {
            "questions": [
                "Which project would you choose for a pilot, and why?",
                "How do rating agencies view construction-schedule risk?",
                "Who else must agree before a framework agreement?",
            ],
            "exec_say": (
                "We have helped two developers reach commercial operation early; we will "
                "commit our best team to your first project."
            ),
            "exec_ask": "What would make this the year you finish every project on time?",
        },
    },
    # Nearly complete: an executive visit in three days.
    "quanta": {
        "business_challenges": (
            "Quanta Foods makes frozen and canned vegetables for retailers' own brands, so "
            "their customers set the price. Casey Lin said their priority is to pass on higher "
            "energy and packaging costs without losing shelf space. Retailers now demand full "
            "traceability from field to freezer, and a poor Dutch harvest raised raw-material "
            "costs. They closed a Belgian canning line in September to focus on frozen."
        ),
        "industry_dynamics": (
            "European private-label food is growing as shoppers trade down, but retailers "
            "squeeze suppliers on price and push sustainability and sourcing rules onto them. "
            "Competitors are consolidating; the larger processors invest in traceability to "
            "keep the retailers' contracts."
        ),
        "financial_condition": (
            "Quanta is private, so there are no filings; Jordan Avery described margins as "
            "thin and falling since the energy spike. They closed a canning line to protect "
            "cash and will fund new projects only with a clear payback."
        ),
        "economic_drivers": (
            "Dutch inflation is still around 3%, above the euro area, which keeps wage and "
            "packaging costs rising. Growth is slow, so shoppers keep trading down to "
            "private label, which helps Quanta's volumes but not its prices."
        ),
        "value_hypothesis": (
            "Quanta's retailers require traceability and Quanta needs to protect margins. "
            "Our supply-chain visibility gives them the field-to-freezer record retailers ask "
            "for and shows where waste happens in the plants, so the same project answers "
            "the retailer and lowers cost."
        ),
        "deal_check": {
            "economic_buyer": (None, SAID, ""),
            "champion": (None, INFERRED, ""),
            "pain": ("Retailers threaten to delist suppliers without traceability", SAID, ""),
            "metrics": ("Waste per tonne; retailer audit findings", SAID, "Casey Lin"),
            "economic_buyer_met": True,
            "decision_process": ("Board approves in January; pilot in one plant", SAID, ""),
            "compelling_event": (
                "Their largest retailer's traceability audit is in April 2027",
                SAID,
                "Casey Lin",
            ),
        },
        "call_plan": {
            "questions": [
                "Which retailer audit worries you most, and when is it?",
                "Which plant would show results fastest?",
            ],
            "exec_ask": "What would the board need to see in January to approve the pilot?",
        },
    },
    # Half done: the customer sections are started, the value and the plan are not.
    "brightpath": {
        "business_challenges": (
            "Brightpath's priorities are emergency department waiting times and 900 open "
            "nursing positions. Their operating margin is thin because labour costs rise "
            "faster than reimbursement. Casey Lin said the board wants a plan for staffing "
            "before the winter peak, and that agency nurses now cost them twice as much as "
            "their own staff. Jordan Avery told us every new project must show savings in "
            "the same fiscal year, because the network has no room to borrow more."
        ),
        "industry_dynamics": (
            "Massachusetts hospitals report thin margins as labour costs climb; health "
            "employment keeps rising, so competition for nurses is fierce and agency staff "
            "are expensive. Networks are consolidating supply chains to save money, and the "
            "state is reviewing how hospitals report waiting times. Brightpath's peers are "
            "investing in nurse residencies and virtual nursing to keep staff."
        ),
        "financial_condition": (
            "A non-profit: revenue and margins come from its public annual report (ask for "
            "the latest). Operating margin was 1.1% last year."
        ),
    },
    "sakura": {
        "business_challenges": (
            "Sakura Precision's robot orders from carmakers are slowing, and they cut their "
            "forecast in November. Their priority is to win electric-vehicle battery lines and "
            "grow service revenue to steady the business."
        ),
        "industry_dynamics": (
            "Machinery output is falling over the last year, and automotive capital spending "
            "is shifting from engine lines to battery plants. Competitors from Europe and "
            "China bid aggressively for the battery contracts."
        ),
        "financial_condition": "Private filings only; margins under pressure (ask).",
    },
    # Just started: a first paragraph only.
    "tidewater": {
        "business_challenges": (
            "Tidewater finished replacing its claims platform in July; the priority now is to "
            "settle claims faster and keep the combined ratio below 97% after wildfire season."
        ),
    },
}


# --- Complete briefs, for the review states and the history -------------------------------------
# Every required section complete. For accounts that also have a draft above, only what the
# draft lacks is written here (``full_brief`` merges the two). All fictional, like the accounts.

FULL_BRIEFS: dict[str, dict[str, Any]] = {
    "northwind": {
        "deal_check": {
            "compelling_event": (
                "Terminal consolidation must show savings in the February results",
                SAID,
                "Jordan Avery, November",
            ),
        },
        "call_plan": {
            "exec_say": "We have run lane-by-lane moves to rail for two carriers of their size.",
            "exec_ask": "Which savings must the board see in February, and from which lanes?",
        },
    },
    "quanta": {
        "industry_dynamics": (
            "European private-label food is growing as shoppers trade down, but retailers "
            "squeeze suppliers on price and push sustainability and sourcing rules onto them. "
            "Competitors are consolidating; the larger processors invest in traceability to "
            "keep the retailers' contracts, and two of Quanta's peers were bought by private "
            "equity this year, and expect suppliers to invest."
        ),
        "economic_drivers": (
            "Dutch inflation is still around 3%, above the euro area, which keeps wage and "
            "packaging costs rising. Growth is slow, so shoppers keep trading down to "
            "private label, which helps Quanta's volumes but not its prices. Gas prices "
            "are down from the peak but still drive their freezing costs."
        ),
        "financial_condition": (
            "Quanta is private, so there are no filings; Jordan Avery described margins as "
            "thin and falling since the energy spike. They closed a canning line to protect "
            "cash and will fund new projects only with a clear payback. Their bank facility "
            "is renewed in 2027, so they want to show improving margins before then."
        ),
        "value_hypothesis": (
            "Quanta's retailers require traceability and Quanta needs to protect margins. "
            "Our supply-chain visibility gives them the field-to-freezer record retailers ask "
            "for and shows where waste happens in the plants, so the same project answers "
            "the retailer and lowers cost. One percentage point less waste in the two frozen "
            "plants is worth more than the project costs in its first year."
        ),
        "deal_check": {
            "decision_process": (
                "Pilot in one plant, then the board approves the roll-out in January",
                SAID,
                "Casey Lin",
            ),
        },
        "call_plan": {
            "exec_say": "We run traceability for three European own-label suppliers.",
        },
    },
    "maple": {
        "business_challenges": (
            "Maple & Finch's department stores lost footfall for three years while online "
            "sales grew, and the online orders are less profitable because stores pick and "
            "ship them. Casey Lin (VP Operations) told us in September that their priority "
            "for fiscal 2027 is to **turn the stores into fulfilment hubs** without hurting "
            "the shopping experience, and to cut store labour hours by 8% through better "
            "scheduling. Jordan Avery (CFO) wants inventory down before the holiday season."
        ),
        "industry_dynamics": (
            "Canadian department stores face discount chains and the large online "
            "marketplaces; two rivals closed stores in 2025. The survivors are using stores "
            "for same-day delivery and click-and-collect, which shoppers now expect. Minimum "
            "wages rose in Ontario and British Columbia, so store labour is the largest cost "
            "they can still manage. Maple & Finch is following the leaders, not setting the pace."
        ),
        "financial_condition": (
            "Revenue has been flat at about 6.1 billion CAD for three years; the operating "
            "margin fell from 5.2% to 3.4% as wages and delivery costs rose. Inventory turns "
            "slowed from 4.1 to 3.6, tying up cash. They renewed a revolving credit facility "
            "in March and closed four stores. They will invest where it pays back within the "
            "fiscal year, and store labour is the board's first target."
        ),
        "economic_drivers": (
            "Canadian consumer spending is flat in real terms and household debt is high, so "
            "shoppers trade down. The Bank of Canada cut rates twice this year, which helps "
            "their financing costs but not yet their footfall. Wage growth is still above "
            "inflation, which keeps pushing store labour costs up."
        ),
        "value_hypothesis": (
            "Maple & Finch's priority is to fulfil online orders from stores profitably. Our "
            "workforce planning matches store staffing to both shoppers and online picking, "
            "hour by hour, so they need fewer overtime and agency hours. The measure they "
            "already track is labour hours per order; an 8% cut across 60 stores is worth "
            "about 30 million CAD a year to them."
        ),
        "deal_check": {
            "economic_buyer": (None, SAID, "Org chart from Casey Lin"),
            "champion": (None, SAID, ""),
            "pain": ("Online orders picked in stores lose money", SAID, "Casey Lin, September"),
            "metrics": ("Labour hours per order; store margin", SAID, "Casey Lin"),
            "economic_buyer_met": True,
            "decision_criteria": ("Payback inside the fiscal year; works with their POS", SAID, ""),
            "decision_process": (
                "Pilot in six Toronto stores, then the CFO decides on the roll-out",
                SAID,
                "Jordan Avery",
            ),
            "paper_process": ("Procurement RFP waived for a pilot under 250k CAD", SAID, ""),
            "competition": ("Their POS vendor's scheduling module", PUBLIC, ""),
            "compelling_event": (
                "The holiday season: the pilot must run before mid-November",
                SAID,
                "Casey Lin",
            ),
            "risks": ("Store managers resist central scheduling", INFERRED, ""),
        },
        "call_plan": {
            "questions": [
                "Which six stores would show the result most clearly?",
                "How do store managers schedule today, and who can overrule them?",
                "What result in the pilot would make the CFO approve the roll-out?",
            ],
            "exec_say": "We did this for a department-store group in the UK in one season.",
            "exec_ask": "What must be true by the holidays for you to call this a success?",
            "landmines": "Their last workforce project was cancelled after a union complaint.",
        },
    },
    "alpenbank": {
        "business_challenges": (
            "Alpenbank Privat serves wealthy families and foundations, and its clients are "
            "getting older: Jordan Avery (CFO) told us that 40% of assets belong to clients "
            "over 70. Their priority is to **keep the next generation** when wealth passes "
            "on, and to lower the cost of serving smaller mandates. Casey Lin said "
            "relationship managers spend a day a week assembling client reports by hand, "
            "and clients now ask for them on their phones, not on paper."
        ),
        "industry_dynamics": (
            "Swiss private banking is consolidating: small banks merge or sell because "
            "regulation and technology cost the same whatever their size. Large competitors "
            "and digital wealth managers court the heirs with apps and lower fees. The "
            "regulator raised expectations on client suitability documentation. Alpenbank "
            "competes on personal service and needs technology that frees its advisers."
        ),
        "financial_condition": (
            "Assets under management are about 19 billion CHF and stable; net new money "
            "turned slightly negative last year as older clients withdrew. Revenue fell as "
            "Swiss interest rates dropped back to zero, which cut the bank's interest income; "
            "the cost-income ratio rose to 78%. The bank is well capitalised and has no debt "
            "worries, but the board wants the ratio under 70% within three years."
        ),
        "economic_drivers": (
            "The Swiss National Bank cut its policy rate to zero, so interest income shrinks "
            "and fee income must carry the bank. A strong franc lowers the value of clients' "
            "foreign assets in francs, and so the fees. Swiss inflation is below 1%, which "
            "keeps wage costs stable."
        ),
        "value_hypothesis": (
            "Alpenbank's priorities are keeping the heirs and cutting the cost of service. "
            "Our client-reporting platform produces reports and a mobile view automatically, "
            "giving each adviser a day a week back for clients, and gives the next "
            "generation the digital access they expect. Advisers' time and net new money are "
            "the measures the board already follows."
        ),
        "deal_check": {
            "economic_buyer": (None, SAID, ""),
            "champion": (None, SAID, ""),
            "pain": ("Advisers lose a day a week to manual reports", SAID, "Casey Lin"),
            "metrics": ("Cost-income ratio; net new money from heirs", SAID, "Jordan Avery"),
            "economic_buyer_met": False,
            "decision_criteria": ("Swiss data residency; FINMA outsourcing rules", SAID, ""),
            "decision_process": (
                "IT and compliance review, then the executive board",
                SAID,
                "Casey Lin",
            ),
            "paper_process": ("Outsourcing notification to the regulator", PUBLIC, ""),
            "competition": ("Their core-banking vendor's reporting module", INFERRED, ""),
            "compelling_event": (
                "Core-banking contract renewal in June 2027",
                SAID,
                "Casey Lin",
            ),
            "risks": ("Board may wait for the merger talks to settle", INFERRED, ""),
        },
        "call_plan": {
            "questions": [
                "How do the heirs of your clients want to hear from you today?",
                "Which reports take your advisers the longest?",
                "What would the executive board need to see before June?",
            ],
            "exec_say": "We serve four Swiss private banks under the same outsourcing rules.",
            "exec_ask": "Which clients are you most afraid of losing in the next five years?",
            "exec_avoid": "Do not mention the merger rumours.",
        },
    },
    "pampas": {
        "business_challenges": (
            "Pampas Agro grows and exports corn and soybeans from Santa Fe, and its margins "
            "depend on getting the harvest to the Rosario ports fast. Casey Lin (VP "
            "Operations) told us that trucks wait up to three days at the ports in April, "
            "and that demurrage on ships cost them heavily last season. Their priority is to "
            "plan trucks, silos and ships together, and Jordan Avery wants to **cut the cost "
            "per tonne delivered** before the 2027 harvest."
        ),
        "industry_dynamics": (
            "Argentine grain exporters compete with Brazil and the United States on price, "
            "so logistics cost decides the margin. The government lowered export duties on "
            "soybeans this year, which makes volumes rise and the ports busier. Large traders "
            "invest in their own terminals; mid-sized producers such as Pampas rely on "
            "better planning to keep their slots."
        ),
        "financial_condition": (
            "Revenue was about 1.4 billion USD last fiscal year, down from a drought-hit "
            "peak, and the margin recovered with the harvest. Most revenue is in dollars and "
            "most costs in pesos, so the devaluation helped. They borrow in dollars to "
            "finance the harvest, and pay more when the crop waits. They fund projects that "
            "pay back in one harvest."
        ),
        "economic_drivers": (
            "Argentine inflation is falling but still high, and the peso has been devalued, "
            "which helps exporters. Lower export duties raise planted area. World soybean "
            "prices are weak because of large Brazilian crops, so cost per tonne matters more "
            "than price for them this season."
        ),
        "value_hypothesis": (
            "Pampas's priority is the cost per tonne delivered to the port. Our logistics "
            "planning schedules trucks against silo stocks and ship slots, so fewer trucks "
            "wait and fewer ships pay demurrage. Last season's demurrage alone was about 9 "
            "million USD; halving it pays for the project in one harvest, before the next."
        ),
        "deal_check": {
            "economic_buyer": (None, SAID, ""),
            "champion": (None, SAID, ""),
            "pain": ("Demurrage and trucks waiting three days at the port", SAID, "Casey Lin"),
            "metrics": ("Cost per tonne delivered; demurrage per season", SAID, "Jordan Avery"),
            "economic_buyer_met": True,
            "decision_criteria": ("Live before the April harvest", SAID, ""),
            "decision_process": (
                "Operations proposes, the CFO and the owners' family approve",
                SAID,
                "Casey Lin",
            ),
            "paper_process": ("Contract in dollars, signed by two directors", SAID, ""),
            "competition": ("Spreadsheets and a local software house", INFERRED, ""),
            "compelling_event": ("The harvest starts in April 2027", PUBLIC, ""),
            "risks": ("A currency shock could freeze dollar spending", INFERRED, ""),
        },
        "call_plan": {
            "questions": [
                "Where did the trucks wait longest last April, and why?",
                "Who books the ship slots, and how early?",
                "What would the owners need to see to approve before the harvest?",
            ],
            "exec_say": "We plan harvest logistics for two Brazilian exporters.",
            "exec_ask": "What would a smooth harvest be worth to the family this year?",
        },
    },
    "orbis": {
        "business_challenges": (
            "Orbis Telecom is building fibre to 1.2 million homes in eastern Poland with EU "
            "co-funding, and must finish by the deadline or lose part of the grant. Casey "
            "Lin (VP Operations) told us that field crews make too many repeat visits "
            "because installations fail the first time. Their priorities are to **connect "
            "homes faster and cheaper**, and to win back mobile customers who leave for "
            "cheaper bundles from the national operators."
        ),
        "industry_dynamics": (
            "Polish telecoms are racing to build fibre before the EU funding window closes, "
            "and the national operators bundle fibre, mobile and television at low prices. "
            "Regional operators compete on local service and speed of installation. Skilled "
            "field technicians are scarce and wages are rising quickly across the whole sector "
            "this year."
        ),
        "financial_condition": (
            "Revenue grew 7% to about 2.3 billion PLN as fibre customers were added, but "
            "capital spending is twice the operating cash flow, funded by bank loans and "
            "the grant. Net debt is three times EBITDA, near their covenant. They can spend "
            "on projects that lower the cost per connected home, but not add headcount."
        ),
        "economic_drivers": (
            "Poland's economy grows about 3% a year and wages rise faster than inflation, "
            "which lifts demand for fast broadband but raises the cost of field crews. "
            "Interest rates stay high, so every month of delay costs interest on the bank loans."
        ),
        "value_hypothesis": (
            "Orbis's priority is connecting homes before the grant deadline at a lower cost. "
            "Our field-service scheduling sends the right technician with the right parts "
            "the first time, so fewer truck rolls are wasted and more homes are connected "
            "each week. First-time-right rate and cost per connected home are the measures "
            "they report to the grant authority."
        ),
        "deal_check": {
            "economic_buyer": (None, SAID, ""),
            "champion": (None, SAID, ""),
            "pain": ("Repeat visits on fibre installations", SAID, "Casey Lin, October"),
            "metrics": ("First-time-right rate; homes connected per week", SAID, ""),
            "economic_buyer_met": False,
            "decision_criteria": ("Works with their inventory system; Polish support", SAID, ""),
            "decision_process": ("Tender under EU procurement rules", PUBLIC, ""),
            "paper_process": ("Public tender; 30 days for objections", PUBLIC, ""),
            "competition": ("Two local integrators", PUBLIC, ""),
            "compelling_event": (
                "Grant milestone: 600,000 homes by March 2027",
                INFERRED,
                "",
            ),
            "risks": ("Tender may be delayed by an appeal", INFERRED, ""),
        },
        "call_plan": {
            "questions": [
                "How many installations fail the first time today, and why?",
                "When does the tender open, and who writes the requirements?",
            ],
            "exec_say": "We help two Nordic operators connect fibre homes first time right.",
            "exec_ask": "What happens to the grant if you miss the March milestone?",
        },
    },
    "aurora": {
        "business_challenges": (
            "Aurora Learning Labs sells a maths tutoring platform to school districts. Casey "
            "Lin (VP Operations) told us their priority this year is to **renew the districts "
            "whose federal relief money has run out**, and to prove learning gains so that "
            "districts pay from their own budgets. Jordan Avery (CFO) needs the company to "
            "reach break-even before the next funding round, so the sales cycle must shorten."
        ),
        "industry_dynamics": (
            "Ed-tech sales to schools boomed on federal pandemic relief and are now "
            "shrinking as that money ends. Districts cut the number of tools and keep those "
            "with evidence of results. Larger curriculum publishers bundle tutoring into "
            "their contracts, and investors now fund only the ed-tech companies that are close "
            "to profit."
        ),
        "financial_condition": (
            "A private start-up: Jordan Avery shared that annual recurring revenue is about "
            "18 million USD, growing 20%, and that they burn about a million a month with two "
            "years of cash. Gross retention fell to 82% as relief-funded districts left. "
            "Every purchase must shorten their sales cycle or raise retention this year."
        ),
        "economic_drivers": (
            "School district budgets depend on state tax revenue, which is flat after two "
            "strong years, and enrolment is falling in many districts. Venture funding for "
            "ed-tech dropped sharply, so Aurora must grow from its own revenue and keep every "
            "district it has."
        ),
        "value_hypothesis": (
            "Aurora's priority is renewing districts without relief money. Our outcomes "
            "analytics turns their platform data into district-level reports on learning "
            "gains that superintendents can show their boards, which is the evidence "
            "districts now require before paying. Gross retention is the measure their "
            "investors watch; five points of retention is worth about a million a year."
        ),
        "deal_check": {
            "economic_buyer": (None, SAID, ""),
            "champion": (None, SAID, ""),
            "pain": ("Districts leave when relief funding ends", SAID, "Casey Lin"),
            "metrics": ("Gross retention; months to close a district", SAID, "Jordan Avery"),
            "economic_buyer_met": True,
            "decision_criteria": ("Live before the spring renewal season", SAID, ""),
            "decision_process": ("The CFO decides; the CEO is informed", SAID, "Jordan Avery"),
            "paper_process": ("Student-data privacy agreement per state", PUBLIC, ""),
            "competition": ("Building it in-house with their two data analysts", SAID, ""),
            "compelling_event": (
                "District renewals are decided in March and April",
                PUBLIC,
                "",
            ),
            "risks": ("Cash preservation may delay any new spend", INFERRED, ""),
        },
        "call_plan": {
            "questions": [
                "Which districts are at risk this spring, and what do they ask for?",
                "What evidence of learning gains do superintendents trust?",
                "Who else must agree before you sign?",
            ],
            "exec_say": "Two districts like theirs renewed with our reports in their board pack.",
            "exec_ask": "Which number would convince a superintendent to keep paying?",
        },
    },
}


def full_brief(slug: str) -> dict[str, Any]:
    """The complete content of an account's brief: its draft (if any) plus ``FULL_BRIEFS``."""
    content = dict(DEMO_BRIEFS.get(slug, {}))
    for key, value in FULL_BRIEFS.get(slug, {}).items():
        if isinstance(value, dict) and isinstance(content.get(key), dict):
            content[key] = {**content[key], **value}
        else:
            content[key] = value
    return content


def _claims(spec, plan: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for fspec in spec.fields:
        name = f"f-{fspec.key}"
        value = plan.get(fspec.key, current.get(fspec.key))
        if fspec.kind == "claim":
            if isinstance(value, tuple):
                text, confidence, evidence = value
                if text is None:  # keep the name start_brief filled in from the stakeholders
                    text = (current.get(fspec.key) or {}).get("text", "")
            else:
                value = value or {}
                text = value.get("text", "")
                confidence = value.get("confidence", "")
                evidence = value.get("evidence", "")
            data[name] = text
            data[f"{name}-confidence"] = confidence
            data[f"{name}-evidence"] = evidence
        elif fspec.kind == "flag":
            data[name] = "on" if value else ""
        elif fspec.kind == "lines":
            data[name] = "\n".join(value or [])
        else:
            data[name] = value or ""
    return S.clean_fields(spec, data)


def seed_briefs(calls: list[Call]) -> int:
    """Start the briefs of upcoming demo calls and write the sections in ``DEMO_BRIEFS`` (the
    complete content of ``full_brief`` for the calls in ``DEMO_REVIEWS``).

    Idempotent: an existing brief is kept, and a section someone already edited (the seed
    or a user) is left alone. Returns the number of sections written.
    """
    written = 0
    now = timezone.now()
    for call in calls:
        slug = call.ical_uid.removeprefix("demo-").split("-")[0]
        plan = full_brief(slug) if call.ical_uid in DEMO_REVIEWS else DEMO_BRIEFS.get(slug)
        if plan is None or call.starts_at < now:
            continue
        brief = Brief.objects.filter(call=call).first()
        if brief is None:
            brief = briefs.start_brief(call, by=call.owner)
        written += write_sections(brief, plan, by=call.owner)
    return written


def write_sections(brief: Brief, plan: dict[str, Any], *, by, only_incomplete: bool = False) -> int:
    """Write the sections of ``plan`` through ``services.save_section`` (so revisions, state
    and focus are computed as in the editor), skipping any section already edited (and, with
    ``only_incomplete``, any section already complete, e.g. carried forward)."""
    written = 0
    sections = {s.key: s for s in brief.sections.all()}
    for key, content in plan.items():
        section = sections[key]
        section.brief = brief
        if only_incomplete and section.state == S.SectionState.COMPLETE:
            continue
        if section.revisions.filter(kind=RevisionKind.EDIT).exists():
            continue  # already written
        spec = S.spec_for(key)
        if spec.kind == S.SectionKind.PROSE:
            text, fields = content, None
        else:
            text, fields = section.text, _claims(spec, content, dict(section.fields or {}))
        try:
            briefs.save_section(
                section, text=text, fields=fields, base_version=section.version, by=by
            )
        except briefs.StaleVersion:
            continue  # someone is editing it right now: their words win
        written += 1
    return written


# --- Evidence --------------------------------------------------------------------------------


def seed_evidence(accounts: dict[str, Account]) -> None:
    """On commit, start collecting evidence for every demo account that has none fresh.

    The worker that ``manage.py demo`` starts then collects it (from the recordings when
    ``EVIDENCE_TRANSPORT = "replay"``); with ``--seed-only`` the tasks wait in the broker.
    """
    ids = [account.pk for account in accounts.values()]

    def start() -> None:
        from callprep.evidence.demo import collect_demo_evidence

        collect_demo_evidence(Account.objects.filter(pk__in=ids), only_if_needed=True)

    transaction.on_commit(start)


@transaction.atomic
def seed(*, evidence: bool = True) -> dict[str, User]:
    """Create or refresh every part of the demo data set; with ``evidence``, collect evidence
    for the demo accounts once the data is committed."""
    users = seed_users()
    accounts = seed_accounts(users)
    calls = seed_calls(users, accounts)
    from callprep.review.demo import seed_history, seed_reviews

    seed_history(users, accounts)  # past calls first: their briefs carry forward in order
    seed_briefs(calls)
    seed_reviews(calls, plan=DEMO_REVIEWS)
    if evidence:
        seed_evidence(accounts)
    return users
