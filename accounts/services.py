"""Writes to customer accounts and their stakeholders, for the account pages.

Each function saves inside ``transaction.atomic()``; what depends on the saved account (evidence
collection when a field it reads changed) is queued for after the commit.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from accounts.forms import AccountForm, BuyingProcessForm, ContactForm
from accounts.models import Account, BuyingProcess, Contact, User
from callprep.changes import account_changed
from callprep.evidence import collect


def collect_on_commit(account: Account, changed: Iterable[str], *, by: User) -> None:
    """Once saved, collect evidence again if a field the evidence depends on changed (ticker,
    industry, country, website…); ``account_changed`` decides which fields matter."""
    changed = list(changed)
    transaction.on_commit(lambda: collect.account_changed(account, changed, by=by))


def save_account(form: AccountForm, *, by: User) -> Account:
    """Create or change an account from its (valid) form."""
    created = form.instance.pk is None
    with transaction.atomic():
        account = form.save()
        if not created:
            account_changed(account, form.changed_data)  # its team is a fact of its calls
        # A new account has no evidence yet: everything it depends on is new.
        collect_on_commit(account, collect.EVIDENCE_FIELDS if created else form.changed_data, by=by)
    return account


def save_buying_process(form: BuyingProcessForm, *, by: User) -> BuyingProcess:
    with transaction.atomic():
        process = form.save(commit=False)
        process.updated_by = by
        process.save()
    return process


def save_contact(form: ContactForm) -> Contact:
    with transaction.atomic():
        return form.save()


def remove_contact(contact: Contact) -> None:
    with transaction.atomic():
        contact.delete()


def save_time_zone(form) -> User:
    """The user's own time zone, from the profile's (valid) form."""
    with transaction.atomic():
        return form.save()
