"""Who may change an account's evidence. Reading follows the account (outsiders get 404 from
``accounts.access.account_for``); each write follows the edit rule of what it changes:

- a refresh replaces the account's evidence rows: the account's rule (``Account.is_editable_by``);
- a citation or a talking point goes into a brief: the brief's rule (``Brief.is_editable_by``);
  a citation outside any brief is kept with the account: the account's rule.

The views refuse with 403 through ``check_refresh`` and ``check_cite``; the panel shows its
"Refresh evidence", "Cite" and "Add to brief" buttons from ``may_refresh`` and ``may_cite``.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied


def may_refresh(account, user) -> bool:
    return account.is_editable_by(user)


def may_cite(account, user, brief=None) -> bool:
    """Into ``brief`` (one of this account's), or with no brief, into the account's keeping."""
    if brief is not None:
        return brief.is_editable_by(user)
    return account.is_editable_by(user)


def check_refresh(account, user) -> None:
    if not may_refresh(account, user):
        raise PermissionDenied(
            f"You can read the evidence for {account.name} but not refresh it: "
            "only those who may change the account do."
        )


def check_cite(account, user, brief=None) -> None:
    if may_cite(account, user, brief):
        return
    if brief is not None:
        raise PermissionDenied(
            "You can read this brief but not change it, so you cannot add evidence to it."
        )
    raise PermissionDenied(
        f"You can read the evidence for {account.name} but not cite it outside a brief: "
        "only those who may change the account do. Cite it from a brief you prepare."
    )
