"""Every e-mail SalesPrep builds goes through ``send`` (its links come from accounts/links.py).

A header built from user text (a call's title in a notification's subject) must be one line:
a line break in it made the message impossible to build (the worker's task failed and the mail
was lost) and could start a header of the sender's choosing. ``header_text`` makes any text one
bounded line; ``send`` applies it to the subject of every message.

The password-reset mail goes through it too (accounts/signin.py, sent by the worker).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

# How every task that sends mail runs: short limits, and retries with backoff while the mail
# server is down (smtplib's errors are OSErrors).
SEND_TASK_OPTIONS = {
    "soft_time_limit": 30,
    "time_limit": 60,
    "max_retries": 5,
    "autoretry_for": (OSError,),
    "retry_backoff": 30,
    "retry_backoff_max": 600,
    "retry_jitter": True,
}

SUBJECT_LIMIT = 150  # characters; mail clients show about 60, RFC 5322 advises lines of 78

_SPACES = re.compile(r"\s+")


def header_text(text: str, limit: int = SUBJECT_LIMIT) -> str:
    """``text`` as one line of at most ``limit`` characters for a mail header.

    Every run of white space, line breaks of any kind included, becomes one space; other
    control and format characters are dropped; a longer text is cut at a word and ends with
    "…".
    """
    one_line = _SPACES.sub(" ", str(text or ""))
    one_line = "".join(ch for ch in one_line if unicodedata.category(ch)[0] != "C").strip()
    if len(one_line) <= limit:
        return one_line
    cut = one_line[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip() + "…"


def send(*, subject: str, to: Sequence[str], text: str, html: str | None = None) -> None:
    """Send one e-mail from ``DEFAULT_FROM_EMAIL``, its subject made one bounded line."""
    message = EmailMultiAlternatives(
        subject=header_text(subject),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=list(to),
    )
    if html is not None:
        message.attach_alternative(html, "text/html")
    message.send()
