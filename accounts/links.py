"""Absolute links, for what is read outside a request: e-mails, calendar feed addresses.

They are built from ``SITE_URL`` (checked at start-up by ``salesprep.env.parse_site_url``),
never from a request's Host header, so a link is the same from the web server, the worker and a
management command, and a forged Host cannot put another site's address in a mail.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse


def absolute_url(path: str) -> str:
    """The address of a path of this site: ``SITE_URL`` followed by the path."""
    if not path.startswith("/"):
        raise ValueError(f"absolute_url needs a path starting with '/', not {path!r}.")
    return settings.SITE_URL + path


def absolute_reverse(viewname: str, *args, **kwargs) -> str:
    """``absolute_url`` of a named URL."""
    return absolute_url(reverse(viewname, args=args or None, kwargs=kwargs or None))
