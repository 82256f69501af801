"""News feeds are fetched only from public addresses, whatever address the admin typed."""

import httpx
import pytest

from callprep.evidence import clients

pytestmark = pytest.mark.django_db

RSS = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item>'
    b"<title>Northwind opens a plant</title><link>https://news.example/a</link>"
    b"<pubDate>Tue, 01 Dec 2026 10:00:00 GMT</pubDate></item></channel></rss>"
)


def fetch_options(monkeypatch, resolved: str, seen: list):
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200, stream=httpx.ByteStream(RSS), headers={"content-type": "application/rss+xml"}
        )

    options = {"transport": httpx.MockTransport(answer), "resolver": lambda host, port: [resolved]}
    monkeypatch.setattr(clients, "public_fetch_options", lambda: options)


def collect(settings, monkeypatch):
    """News for Acme with only the feed to read (GDELT answers nothing at once)."""
    settings.EVIDENCE_NEWS_FEEDS = ["https://feeds.example/rss?q={query}"]
    settings.EVIDENCE_TRANSPORT = "live"
    settings.EVIDENCE_FETCH_RETRIES = 0
    monkeypatch.setattr(clients, "GDELT_URL", "http://127.0.0.1:9/never")


@pytest.mark.parametrize("private", ["10.0.0.5", "127.0.0.1", "169.254.169.254", "::1"])
def test_a_feed_whose_name_resolves_to_a_private_address_is_not_fetched(
    settings, monkeypatch, northwind, private
):
    seen: list = []
    fetch_options(monkeypatch, private, seen)
    collect(settings, monkeypatch)

    with pytest.raises(clients.SourceFailure) as refused:
        clients.collect_news(northwind)

    assert not seen  # no request left for the feed
    assert f"resolves to {private}" in str(refused.value)


def test_a_feed_on_a_public_address_is_read(settings, monkeypatch, northwind):
    seen: list = []
    fetch_options(monkeypatch, "93.184.215.14", seen)
    collect(settings, monkeypatch)

    result = clients.collect_news(northwind)

    assert [r.headers["host"] for r in seen] == ["feeds.example"]
    assert any("Northwind opens a plant" in str(row) for row in result.rows)
