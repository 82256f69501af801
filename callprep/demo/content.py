"""Read and check the demo's data files (``callprep/demo/data/``) into plain, typed content.

The files, all content and no logic:

- ``people.yaml`` — teams and users;
- ``accounts.yaml`` — the fictional customers, their stakeholders and buying process;
- ``calls.yaml`` — the calls around today, the review state of each complete brief and what
  the reviewer writes;
- ``history.yaml`` — twelve weeks of past calls and what happened to their briefs;
- ``briefs/drafts/<account>.md`` — what the rep has written so far for the account's upcoming
  call; ``briefs/complete/<account>.md`` — what completes it (a section or field there replaces
  the draft's). A brief file is Markdown: each prose section under a ``## <section key>``
  heading (a paragraph's line breaks are spaces, as Markdown reads them), the structured
  sections (``deal_check``, ``call_plan``) as YAML front matter between ``---`` lines. A claim
  is ``{text, confidence, evidence}``; a claim without ``text`` keeps the name the new brief
  was pre-filled with from the stakeholders.

A missing key, a wrong type or a reference to an unknown account, user or section fails with
:class:`DemoDataError`, naming the file and the item.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from accounts.models import BuyingRole, Influence, Stance
from accounts.roles import Role
from callprep.briefs import sections as S
from callprep.models import CallKind

DATA = Path(__file__).resolve().parent / "data"

# The review states a call's brief can be walked into (calls.yaml ``review``).
REVIEW_PATHS = (
    "submitted",
    "approved",
    "approved_briefed",
    "approved_with_concerns",
    "changes_requested",
)
# What happened to a history call's brief (history.yaml ``outcome``), and the hours each needs.
OUTCOMES: dict[str, tuple[str, ...]] = {
    "none": (),
    "draft": (),
    "submitted": ("submit",),
    "changes": ("submit", "review"),
    "approved": ("submit", "approve"),
    "revised": ("submit", "review", "resubmit", "approve"),
}
SECTION_ORDER = [spec.key for spec in S.SECTIONS]


class DemoDataError(ValueError):
    """A demo data file is malformed or refers to something that does not exist."""


@dataclass(frozen=True)
class UserSpec:
    username: str
    first_name: str
    last_name: str
    roles: tuple[str, ...]
    team: str | None
    manages: str | None


@dataclass(frozen=True)
class AccountSpec:
    slug: str
    name: str
    owner: str
    naics: str
    country: str
    city: str
    time_zone: str
    employees: int
    fiscal_year_end: int
    ticker: str
    exchange: str
    about: str

    @property
    def domain(self) -> str:
        return f"{self.slug}.example"

    @property
    def website(self) -> str:
        return f"https://www.{self.domain}"


@dataclass(frozen=True)
class StakeholderSpec:
    name: str
    title: str
    buying_role: str
    influence: str
    stance: str
    reports_to: str | None
    notes: str


@dataclass(frozen=True)
class CallSpec:
    account: str
    title: str
    kind: str
    day: int  # days from today (negative: past)
    at: dt.time  # local time in the account's time zone
    executive: str | None
    review: str | None
    comments: dict[str, str]

    @property
    def uid(self) -> str:
        return f"demo-{self.account}-{self.kind}@salesprep"


@dataclass(frozen=True)
class PastCallSpec:
    """One history call; the hours are before the call's start (negative: after it)."""

    id: str
    account: str
    kind: str
    title: str
    days_ago: int
    at: dt.time
    executive: str | None
    outcome: str
    submit: float = 0
    review: float = 0
    resubmit: float = 0
    approve: float | str | None = None  # "due": exactly at the brief's due time
    read: float | None = None

    @property
    def uid(self) -> str:
        return f"demo-history-{self.id}@salesprep"


@dataclass(frozen=True)
class Content:
    teams: tuple[str, ...]
    users: tuple[UserSpec, ...]
    fictional_note: str
    accounts: dict[str, AccountSpec]
    stakeholders: tuple[StakeholderSpec, ...]
    buying_process: dict[str, str]
    call_details: dict[str, Any]
    reviewing: dict[str, Any]
    calls: tuple[CallSpec, ...]
    history_texts: dict[str, Any]
    history: tuple[PastCallSpec, ...]
    drafts: dict[str, dict[str, Any]]
    complete: dict[str, dict[str, Any]]
    files: tuple[Path, ...] = field(default=())

    def draft(self, slug: str) -> dict[str, Any] | None:
        return self.drafts.get(slug)

    def full_brief(self, slug: str) -> dict[str, Any]:
        """The complete brief of an account: its draft (if any) completed by its complete file."""
        content = dict(self.drafts.get(slug, {}))
        for key, value in self.complete.get(slug, {}).items():
            if isinstance(value, dict) and isinstance(content.get(key), dict):
                content[key] = {**content[key], **value}
            else:
                content[key] = value
        return {key: content[key] for key in SECTION_ORDER if key in content}


# --- Checking values ------------------------------------------------------------------------


class _File:
    """One data file being read: every error names it (relative to the data folder)."""

    def __init__(self, path: Path, root: Path):
        self.path = path
        self.name = str(path.relative_to(root))

    def fail(self, item: str, message: str) -> DemoDataError:
        return DemoDataError(f"{self.name}: {item}: {message}")

    def yaml(self, text: str | None = None) -> Any:
        try:
            return yaml.safe_load(self.path.read_text() if text is None else text)
        except yaml.YAMLError as exc:
            raise DemoDataError(f"{self.name}: not valid YAML: {exc}") from exc

    def mapping(self, value: Any, item: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(item, f"expected a mapping, found {type(value).__name__}")
        return value

    def items(self, data: dict[str, Any], key: str, item: str) -> list[Any]:
        value = self.get(data, key, item, list)
        if not value:
            raise self.fail(item, f"{key!r} is empty")
        return value

    def get(self, data: dict[str, Any], key: str, item: str, kind: type | tuple, default=...):
        if key not in data or data[key] is None:
            if default is ...:
                raise self.fail(item, f"missing key {key!r}")
            return default
        value = data[key]
        if isinstance(value, bool) and kind in (int, float, (int, float)):
            raise self.fail(item, f"{key!r} must be a number, not {value!r}")
        if not isinstance(value, kind):
            expected = getattr(kind, "__name__", None) or " or ".join(k.__name__ for k in kind)
            raise self.fail(item, f"{key!r} must be a {expected}, not {value!r}")
        return value

    def choice(self, data, key: str, item: str, choices, default=...) -> str:
        value = self.get(data, key, item, str, default)
        if value is not default and value not in choices:
            raise self.fail(item, f"{key!r} is {value!r}, not one of {', '.join(choices)}")
        return value

    def time(self, data, key: str, item: str) -> dt.time:
        value = self.get(data, key, item, str)
        match = re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)", value)
        if match is None:
            raise self.fail(item, f'{key!r} must be a local time like "09:30", not {value!r}')
        return dt.time(int(match[1]), int(match[2]))

    def known(self, value: str | None, known, what: str, item: str) -> None:
        if value is not None and value not in known:
            raise self.fail(item, f"unknown {what} {value!r}")

    def unexpected(self, data: dict[str, Any], allowed, item: str) -> None:
        extra = sorted(set(data) - set(allowed))
        if extra:
            raise self.fail(item, f"unknown key {extra[0]!r}")


# --- The files ------------------------------------------------------------------------------


def _people(f: _File):
    data = f.mapping(f.yaml(), "the file")
    teams = tuple(str(t) for t in f.items(data, "teams", "the file"))
    users = []
    for n, raw in enumerate(f.items(data, "users", "the file")):
        item = f"users[{n}]"
        raw = f.mapping(raw, item)
        username = f.get(raw, "username", item, str)
        item = f"user {username!r}"
        f.unexpected(raw, ("username", "first_name", "last_name", "roles", "team", "manages"), item)
        roles = tuple(f.get(raw, "roles", item, list))
        for role in roles:
            f.known(role, Role.values, "role", item)
        team, manages = f.get(raw, "team", item, str, None), f.get(raw, "manages", item, str, None)
        f.known(team, teams, "team", item)
        f.known(manages, teams, "team", item)
        users.append(
            UserSpec(
                username,
                f.get(raw, "first_name", item, str),
                f.get(raw, "last_name", item, str),
                roles,
                team,
                manages,
            )
        )
    return teams, tuple(users)


ACCOUNT_KEYS = (
    "slug",
    "name",
    "owner",
    "naics",
    "country",
    "city",
    "time_zone",
    "employees",
    "fiscal_year_end",
    "ticker",
    "exchange",
    "about",
)
STAKEHOLDER_KEYS = ("name", "title", "buying_role", "influence", "stance", "reports_to", "notes")


def _accounts(f: _File, usernames: set[str]):
    data = f.mapping(f.yaml(), "the file")
    accounts: dict[str, AccountSpec] = {}
    for n, raw in enumerate(f.items(data, "accounts", "the file")):
        raw = f.mapping(raw, f"accounts[{n}]")
        slug = f.get(raw, "slug", f"accounts[{n}]", str)
        item = f"account {slug!r}"
        f.unexpected(raw, ACCOUNT_KEYS, item)
        if slug in accounts:
            raise f.fail(item, "listed twice")
        owner = f.get(raw, "owner", item, str)
        f.known(owner, usernames, "user", item)
        time_zone = f.get(raw, "time_zone", item, str)
        try:
            zoneinfo.ZoneInfo(time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise f.fail(item, f"unknown time zone {time_zone!r}") from exc
        accounts[slug] = AccountSpec(
            slug=slug,
            name=f.get(raw, "name", item, str),
            owner=owner,
            naics=f.get(raw, "naics", item, str),
            country=f.get(raw, "country", item, str),
            city=f.get(raw, "city", item, str),
            time_zone=time_zone,
            employees=f.get(raw, "employees", item, int),
            fiscal_year_end=f.get(raw, "fiscal_year_end", item, int),
            ticker=f.get(raw, "ticker", item, str, ""),
            exchange=f.get(raw, "exchange", item, str, ""),
            about=f.get(raw, "about", item, str),
        )
    stakeholders: list[StakeholderSpec] = []
    for n, raw in enumerate(f.items(data, "stakeholders", "the file")):
        raw = f.mapping(raw, f"stakeholders[{n}]")
        name = f.get(raw, "name", f"stakeholders[{n}]", str)
        item = f"stakeholder {name!r}"
        f.unexpected(raw, STAKEHOLDER_KEYS, item)
        boss = f.get(raw, "reports_to", item, str, None)
        f.known(boss, [s.name for s in stakeholders], "stakeholder (listed above)", item)
        stakeholders.append(
            StakeholderSpec(
                name=name,
                title=f.get(raw, "title", item, str),
                buying_role=f.choice(raw, "buying_role", item, BuyingRole.values),
                influence=f.choice(raw, "influence", item, Influence.values),
                stance=f.choice(raw, "stance", item, Stance.values),
                reports_to=boss,
                notes=f.get(raw, "notes", item, str, ""),
            )
        )
    process = f.mapping(f.get(data, "buying_process", "the file", dict), "buying_process")
    for key, value in process.items():
        if not isinstance(value, str):
            raise f.fail(f"buying_process {key!r}", "must be text")
    return (
        f.get(data, "fictional_note", "the file", str),
        accounts,
        tuple(stakeholders),
        dict(process),
    )


CALL_DETAIL_KEYS = ("duration_minutes", "location", "purpose", "agenda", "agreed_outcome")
CALL_KEYS = ("account", "title", "kind", "day", "at", "executive", "review", "comments")


def _section_comments(f: _File, raw: Any, item: str) -> dict[str, str]:
    comments = f.mapping(raw, item)
    for key, text in comments.items():
        f.known(key, SECTION_ORDER, "section", item)
        if not isinstance(text, str) or not text.strip():
            raise f.fail(item, f"the comment on {key!r} must be text")
    return dict(comments)


def _calls(f: _File, accounts: dict[str, AccountSpec], usernames: set[str]):
    data = f.mapping(f.yaml(), "the file")
    details = f.mapping(f.get(data, "call_details", "the file", dict), "call_details")
    for key in CALL_DETAIL_KEYS:
        f.get(details, key, "call_details", int if key == "duration_minutes" else str)
    for role in f.get(details, "contacts", "call_details", list):
        f.known(role, BuyingRole.values, "buying role", "call_details contacts")
    reviewing = f.mapping(f.get(data, "reviewing", "the file", dict), "reviewing")
    for key in ("submit_comment", "approve_comment", "request_changes_comment"):
        f.get(reviewing, key, "reviewing", str)
    for key, answer in f.get(reviewing, "concerns", "reviewing", dict).items():
        item = f"reviewing concerns {key!r}"
        f.choice(f.mapping(answer, item), "answer", item, ("yes", "no", "unsure"))
        f.get(answer, "note", item, str)
    calls: list[CallSpec] = []
    for n, raw in enumerate(f.items(data, "calls", "the file")):
        raw = f.mapping(raw, f"calls[{n}]")
        title = f.get(raw, "title", f"calls[{n}]", str)
        item = f"call {title!r}"
        f.unexpected(raw, CALL_KEYS, item)
        account = f.get(raw, "account", item, str)
        f.known(account, accounts, "account", item)
        executive = f.get(raw, "executive", item, str, None)
        f.known(executive, usernames, "user", item)
        review = f.choice(raw, "review", item, REVIEW_PATHS, None)
        comments = _section_comments(f, raw.get("comments") or {}, item)
        if (review == "changes_requested") != bool(comments):
            raise f.fail(item, "comments go with review: changes_requested, and only there")
        if review == "approved_briefed" and executive is None:
            raise f.fail(item, "approved_briefed: only the executive joining the call is briefed")
        spec = CallSpec(
            account=account,
            title=title,
            kind=f.choice(raw, "kind", item, CallKind.values),
            day=f.get(raw, "day", item, int),
            at=f.time(raw, "at", item),
            executive=executive,
            review=review,
            comments=comments,
        )
        if spec.uid in {c.uid for c in calls}:
            raise f.fail(item, f"a second {spec.kind} call with {account!r}: the uid would clash")
        calls.append(spec)
    return dict(details), dict(reviewing), tuple(calls)


PAST_KEYS = (
    "id",
    "account",
    "kind",
    "title",
    "days_ago",
    "at",
    "executive",
    "outcome",
    "submit",
    "review",
    "resubmit",
    "approve",
    "read",
)


def _history(f: _File, accounts: dict[str, AccountSpec], usernames: set[str]):
    data = f.mapping(f.yaml(), "the file")
    texts = {
        "request_changes_comment": f.get(data, "request_changes_comment", "the file", str),
        "section_comments": _section_comments(
            f, f.get(data, "section_comments", "the file", dict), "section_comments"
        ),
        "resubmit_comment": f.get(data, "resubmit_comment", "the file", str),
    }
    calls: list[PastCallSpec] = []
    seen: set[str] = set()
    for n, raw in enumerate(f.items(data, "calls", "the file")):
        raw = f.mapping(raw, f"calls[{n}]")
        ident = f.get(raw, "id", f"calls[{n}]", str)
        item = f"call {ident!r}"
        f.unexpected(raw, PAST_KEYS, item)
        if ident in seen:
            raise f.fail(item, "listed twice")
        seen.add(ident)
        account = f.get(raw, "account", item, str)
        f.known(account, accounts, "account", item)
        executive = f.get(raw, "executive", item, str, None)
        f.known(executive, usernames, "user", item)
        outcome = f.choice(raw, "outcome", item, OUTCOMES)
        hours: dict[str, Any] = {}
        for key in ("submit", "review", "resubmit", "approve", "read"):
            if key == "read":
                hours[key] = f.get(raw, key, item, (int, float), None)
                if hours[key] is not None and "approve" not in OUTCOMES[outcome]:
                    raise f.fail(item, "read: only an approved brief is read")
                if hours[key] is not None and executive is None:
                    raise f.fail(item, "read: only the executive joining the call reads it")
            elif key not in OUTCOMES[outcome]:
                if key in raw:
                    raise f.fail(item, f"{key!r} does not go with outcome {outcome!r}")
            elif key == "approve" and raw.get(key) == "due":
                hours[key] = "due"
            else:
                hours[key] = f.get(raw, key, item, (int, float))
        calls.append(
            PastCallSpec(
                id=ident,
                account=account,
                kind=f.choice(raw, "kind", item, CallKind.values),
                title=f.get(raw, "title", item, str),
                days_ago=f.get(raw, "days_ago", item, int),
                at=f.time(raw, "at", item),
                executive=executive,
                outcome=outcome,
                **hours,
            )
        )
    return texts, tuple(calls)


def _claim(f: _File, value: Any, item: str) -> dict[str, str]:
    value = f.mapping(value, item)
    f.unexpected(value, ("text", "confidence", "evidence"), item)
    claim = {"confidence": f.choice(value, "confidence", item, S.Confidence.values)}
    if "text" in value:
        claim["text"] = f.get(value, "text", item, str)
    claim["evidence"] = f.get(value, "evidence", item, str, "")
    return claim


def _structured(f: _File, key: str, value: Any) -> dict[str, Any]:
    spec = S.spec_for(key)
    fields = {fspec.key: fspec for fspec in spec.fields}
    out: dict[str, Any] = {}
    for name, raw in f.mapping(value, key).items():
        item = f"{key} {name!r}"
        f.known(name, fields, "field", item)
        kind = fields[name].kind
        if kind == "claim":
            out[name] = _claim(f, raw, item)
        elif kind == "flag":
            out[name] = f.get({name: raw}, name, item, bool)
        elif kind == "lines":
            out[name] = [str(line) for line in f.get({name: raw}, name, item, list)]
        else:
            out[name] = f.get({name: raw}, name, item, str)
    return out


def _brief(f: _File) -> dict[str, Any]:
    text = f.path.read_text()
    content: dict[str, Any] = {}
    if text.startswith("---\n"):
        front, sep, text = text[4:].partition("\n---\n")
        if not sep:
            raise f.fail("front matter", "no closing '---' line")
        for key, value in f.mapping(f.yaml(front) or {}, "front matter").items():
            f.known(key, SECTION_ORDER, "section", "front matter")
            if S.spec_for(key).kind == S.SectionKind.PROSE:
                raise f.fail(key, "a prose section goes under a '## ' heading, not in front matter")
            content[key] = _structured(f, key, value)
    parts = re.split(r"^## +(.+?) *$", text, flags=re.MULTILINE)
    if parts[0].strip():
        raise f.fail("text before the first heading", "every paragraph goes under a section")
    for key, body in zip(parts[1::2], parts[2::2], strict=True):
        f.known(key, SECTION_ORDER, "section", f"heading '## {key}'")
        if key in content:
            raise f.fail(key, "written twice")
        if S.spec_for(key).kind != S.SectionKind.PROSE:
            raise f.fail(key, "a structured section goes in the front matter")
        paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", body.strip())]
        if not paragraphs[0]:
            raise f.fail(key, "the section is empty")
        content[key] = "\n\n".join(paragraphs)
    if not content:
        raise f.fail("the file", "no section")
    return {key: content[key] for key in SECTION_ORDER if key in content}


def _briefs(root: Path, folder: str, accounts, files: list[Path]) -> dict[str, dict[str, Any]]:
    briefs: dict[str, dict[str, Any]] = {}
    for path in sorted((root / "briefs" / folder).glob("*.md")):
        f = _File(path, root)
        f.known(path.stem, accounts, "account", "the file name")
        briefs[path.stem] = _brief(f)
        files.append(path)
    return briefs


@functools.cache
def read(root: Path = DATA) -> Content:
    """Every data file under ``root``, checked; ``Content.files`` lists the files read."""
    files = [root / name for name in ("people.yaml", "accounts.yaml", "calls.yaml", "history.yaml")]
    for path in files:
        if not path.is_file():
            raise DemoDataError(f"{path.relative_to(root)}: missing")
    people, accounts_file, calls_file, history_file = (_File(p, root) for p in files)
    teams, users = _people(people)
    usernames = {u.username for u in users}
    fictional, accounts, stakeholders, process = _accounts(accounts_file, usernames)
    details, reviewing, calls = _calls(calls_file, accounts, usernames)
    history_texts, history = _history(history_file, accounts, usernames)
    drafts = _briefs(root, "drafts", accounts, files)
    complete = _briefs(root, "complete", accounts, files)
    content = Content(
        teams=teams,
        users=users,
        fictional_note=fictional,
        accounts=accounts,
        stakeholders=stakeholders,
        buying_process=process,
        call_details=details,
        reviewing=reviewing,
        calls=calls,
        history_texts=history_texts,
        history=history,
        drafts=drafts,
        complete=complete,
        files=tuple(files),
    )
    for call in calls:
        if call.review and not content.full_brief(call.account):
            raise calls_file.fail(f"call {call.title!r}", "review needs the account's brief files")
    return content
