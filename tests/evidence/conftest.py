"""Evidence fixtures: the replay transport, no waiting, and accounts with recordings.

alice (East) owns Northwind (a listed US manufacturer, recorded in every source we collect
for it) and Halvorsen (a Norwegian IFRS filer); charlie (West) is the outsider.
"""

from __future__ import annotations

import pytest

from accounts.models import Account, Team
from tests.accounts.conftest import east, make_call  # noqa: F401
from tests.helpers import replayed_evidence_settings


@pytest.fixture(autouse=True)
def replay(settings):
    """Every evidence test replays recordings: no test ever touches the network."""
    for name, value in replayed_evidence_settings().items():
        setattr(settings, name, value)
    return settings


@pytest.fixture
def northwind(alice, east):  # noqa: F811
    return Account.objects.create(
        name="Northwind Robotics Inc.",
        website="https://northwind-robotics.example",
        domain="northwind-robotics.example",
        ticker="NWRB",
        naics_code="333998",
        country="US",
        owner=alice,
        team=east,
    )


@pytest.fixture
def halvorsen(alice, east):  # noqa: F811
    return Account.objects.create(
        name="Halvorsen Maritime ASA",
        website="https://halvorsen.example",
        domain="halvorsen.example",
        ticker="HALV",
        naics_code="483111",
        country="NO",
        owner=alice,
        team=east,
    )


@pytest.fixture
def west(charlie):
    return Team.objects.get(name="West")


def fail(host: str, **route) -> dict:
    """A replay route that makes every request to ``host`` fail as described."""
    return {"host": host, "path": "*", **route}
