"""The forms of the settings screen: one per section, each turning what the admin posted into
the changes ``sitesettings.change`` saves (only the settings whose value really changes)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from accounts import sitesettings
from accounts.roles import Role
from callprep.sources.website import UnsafeURL, check_url

MAX_FEEDS = 20
_HEADER_TEXT = re.compile(r"[\x20-\x7e]*")
_FRED_KEY = re.compile(r"[a-z0-9]{32}")


class SettingsForm(forms.Form):
    """A section of the screen: a field per setting, plus a "reset" box for each saved one."""

    section = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, label_suffix="", **kwargs)
        self.current = sitesettings.current(self.section)
        for key, now in self.current.items():
            if not now.spec.secret:
                self.initial.setdefault(key, self.show(key, now.value))
            if not now.from_environment:
                self.fields[f"reset_{key}"] = forms.BooleanField(
                    required=False, label="Reset to the environment default"
                )

    def show(self, key: str, value: Any) -> Any:
        """The value as the field displays it."""
        return value

    def new_value(self, key: str) -> Any:
        """The value posted for ``key`` (as stored), or ``None`` for "leave as it is"."""
        return self.cleaned_data.get(key)

    def changes(self) -> dict[str, Any]:
        """Per key, the value to save or ``sitesettings.RESET``; unchanged settings left out."""
        result: dict[str, Any] = {}
        for key, now in self.current.items():
            if self.cleaned_data.get(f"reset_{key}"):
                result[key] = sitesettings.RESET
                continue
            value = self.new_value(key)
            if value is not None and value != now.value:
                result[key] = value
        return result

    def rows(self) -> list[dict]:
        """Per setting, what the template shows: the field, its reset box, where it comes from."""
        return [
            {
                "now": now,
                "field": self[key],
                "clear": self._bound(f"clear_{key}"),
                "reset": self._bound(f"reset_{key}"),
            }
            for key, now in self.current.items()
        ]

    def _bound(self, name: str):
        return self[name] if name in self.fields else None


class DataSourcesForm(SettingsForm):
    section = "sources"

    SEC_CONTACT_EMAIL = forms.EmailField(
        required=False,
        max_length=254,
        label="SEC contact e-mail",
        help_text="SEC EDGAR asks every client for a contact address; without one SEC filings "
        "and financials are not collected.",
    )
    SEC_USER_AGENT = forms.CharField(
        required=False,
        max_length=200,
        label="SEC User-Agent",
        help_text="Only if you need another; empty means “SalesPrep evidence collector” "
        "followed by the contact e-mail.",
    )
    FRED_API_KEY = forms.CharField(
        required=False,
        max_length=64,
        strip=True,
        label="FRED API key",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="For economic indicators from FRED (St. Louis Fed). The key is never shown: "
        "type a new one to replace it, or leave the field empty to keep it. Without a key, "
        "FRED's public CSV download is used.",
    )
    clear_FRED_API_KEY = forms.BooleanField(
        required=False,
        label="Remove the key (use the public CSV download)",
    )
    EVIDENCE_NEWS_FEEDS = forms.CharField(
        required=False,
        label="News feeds",
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text=f"RSS or Atom feed addresses, one per line (at most {MAX_FEEDS}); {{query}} in "
        "an address becomes the account's quoted name.",
    )

    def show(self, key: str, value: Any) -> Any:
        return "\n".join(value) if key == "EVIDENCE_NEWS_FEEDS" else value

    def clean_SEC_USER_AGENT(self) -> str:
        value = self.cleaned_data["SEC_USER_AGENT"]
        if not _HEADER_TEXT.fullmatch(value):
            raise ValidationError(
                "Use plain letters, digits, spaces and punctuation (no accents or line breaks)."
            )
        return value

    def clean_FRED_API_KEY(self) -> str:
        value = self.cleaned_data["FRED_API_KEY"]
        if value and not _FRED_KEY.fullmatch(value):
            raise ValidationError("A FRED API key is 32 lower-case letters and digits.")
        return value

    def clean_EVIDENCE_NEWS_FEEDS(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["EVIDENCE_NEWS_FEEDS"].splitlines()]
        feeds = [line for line in lines if line]
        if len(feeds) > MAX_FEEDS:
            raise ValidationError(f"At most {MAX_FEEDS} feeds, please ({len(feeds)} given).")
        problems = []
        for number, url in enumerate(feeds, 1):
            problem = feed_problem(url)
            if problem:
                problems.append(f"Feed {number} ({url[:80]}): {problem}.")
        if problems:
            raise ValidationError(problems)
        return list(dict.fromkeys(feeds))

    def clean(self) -> dict:
        data = super().clean()
        if data.get("clear_FRED_API_KEY") and data.get("FRED_API_KEY"):
            self.add_error("FRED_API_KEY", "Either type a new key or remove the key, not both.")
        return data

    def new_value(self, key: str) -> Any:
        if key == "FRED_API_KEY":
            if self.cleaned_data.get("clear_FRED_API_KEY"):
                return ""
            return self.cleaned_data.get(key) or None  # empty: keep the key in use
        return super().new_value(key)


def feed_problem(url: str) -> str:
    """Why ``url`` cannot be a news feed, or "": http(s) on the default port, a public host
    (the checks of the website fetcher, plus no single-label or ``localhost`` names)."""
    if len(url) > 500:
        return "the address is longer than 500 characters"
    try:
        _, host, _ = check_url(url.replace("{query}", "query"))
    except UnsafeURL as exc:
        return str(exc)
    if "." not in host.strip("[]") and ":" not in host:
        return f"{host} is not a public host name"
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return f"{host} is a name on a local network"
    return ""


class SecurityForm(SettingsForm):
    section = "security"

    MFA_REQUIRED_ROLES = forms.MultipleChoiceField(
        required=False,
        choices=Role.choices,
        widget=forms.CheckboxSelectMultiple,
        label="Roles that must use two-step sign-in",
        help_text="People with a ticked role set up an authenticator app before they can use "
        "SalesPrep. People who sign in by single sign-on follow the identity provider's policy.",
    )

    def new_value(self, key: str) -> Any:
        chosen = set(self.cleaned_data.get(key) or [])
        if chosen == set(self.current[key].value):
            return None  # the same roles, whatever their order
        return [role for role in Role.values if role in chosen]  # in the roles' own order
