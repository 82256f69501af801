"""Fixtures for the brief tests; see fixtures.py for the story."""

from tests.accounts.conftest import acme, dana, east, make_call, westwind  # noqa: F401
from tests.briefs.fixtures import (  # noqa: F401
    brief,
    buying_process,
    call,
    challenges,
    champion,
)
