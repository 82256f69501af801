"""The call tests reuse the account fixtures (alice owns Acme on team East)."""

from tests.accounts.conftest import acme, dana, east, make_call, westwind  # noqa: F401
