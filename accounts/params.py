"""Ids and filters read from a request's query string or form: one validation for every view.

Every row id of the project is a 64-bit integer (``BigAutoField``; SQLite's INTEGER has the
same range), so a parameter that names a row is a whole number from 1 to ``MAX_ID``. Anything
else (a word, a negative number, a number beyond 64 bits, a superscript digit) never reaches
the database, where it would fail with an overflow instead of finding nothing.

What a view does with a bad value is one of two things, the same everywhere:

- a **filter** of a list (the account list, the dashboard and its drill-downs, the review
  queue) is a form field (``IdField``): a bad value is a form error shown with the filters,
  that filter alone is ignored and the page answers as without it (``valid_filters`` and
  ``filter_errors``);
- a parameter that **names one object** (the account a new call is for, the brief of an
  evidence panel or of a citation, the comment a reply answers) goes through ``id_from``: a bad
  value names no object, so the view answers 404, as for a bad id in the path.

A section's posted version has the same range and goes through ``id_from`` too (a bad one is a
missing one).
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

MAX_ID = 2**63 - 1


class IdField(forms.IntegerField):
    """An optional row id: a whole number from 1 to ``MAX_ID``."""

    default_error_messages = {
        "invalid": "Choose one of the listed options.",
        "min_value": "Choose one of the listed options.",
        "max_value": "Choose one of the listed options.",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)

    def widget_attrs(self, widget):
        return {}  # the filters are selects drawn by the templates, not number inputs


def id_from(raw: object) -> int | None:
    """The row id a raw parameter names, or None when it can name no row (or is empty)."""
    try:
        return IdField().clean(raw)
    except ValidationError:
        return None


def valid_filters(form: forms.Form) -> dict:
    """The filters of a bound form that are valid; an invalid one is left out (ignored)."""
    form.is_valid()
    return form.cleaned_data


def filter_errors(form: forms.Form) -> list[str]:
    """One sentence per ignored filter (and per error of the filters together), for the page
    to show with its filters."""
    sentences = []
    for name, errors in form.errors.items():
        if name == NON_FIELD_ERRORS:
            sentences += errors
            continue
        label = form.fields[name].label or name.replace("_", " ").capitalize()
        sentences += [f"{label}: {error} This filter was ignored." for error in errors]
    return sentences
