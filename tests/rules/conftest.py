"""Fixtures for the rule tests: the story of tests/briefs and tests/review.

alice (rep, East) owns Acme and a call with Acme in three days that victor (executive) joins;
mallory manages East and reads its dashboard; charlie (West) owns Westwind; vera is another
executive. ``brief`` is a draft, ``complete_brief`` a complete draft, ``submitted`` and
``approved`` the next steps of the workflow (approved now, so on time: the call is 72 hours
ahead and the brief due 48 hours before it).
"""

from tests.accounts.conftest import acme, dana, east, make_call, westwind  # noqa: F401
from tests.briefs.fixtures import brief, call  # noqa: F401
from tests.review.conftest import (  # noqa: F401
    approved,
    complete_brief,
    eager_tasks,
    submitted,
    vera,
)
