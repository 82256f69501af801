from datetime import date
from pathlib import Path

import pytest

from callprep.sources.base import ParseError
from callprep.sources.news import normalise_title, normalise_url, parse_feed, parse_gdelt

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_it_keeps_headline_outlet_date_and_link_from_rss():
    rows = parse_feed(load("feed-rss.xml"))
    first = rows[0]
    assert first.kind == "news"
    assert first.source == "feed"
    assert first.label == "Northwind Robotics opens a second plant in Ohio"
    assert first.extra["outlet"] == "Harbor Business Journal"
    assert first.period_end == date(2024, 10, 8)
    assert first.extra["published"] == "2024-10-08T14:30:00+00:00"
    assert first.key == "https://news.example.com/2024/10/northwind-plant"


def test_it_never_keeps_the_article_text():
    rows = parse_feed(load("feed-rss.xml")) + parse_feed(load("feed-atom.xml"))
    text = " ".join(r.excerpt + r.label + str(r.extra) for r in rows)
    assert "employing 400 people" not in text
    assert "must not be stored" not in text


def test_it_drops_duplicates_by_url_and_by_near_identical_title():
    rows = parse_feed(load("feed-rss.xml"))
    assert [r.label for r in rows] == [
        "Northwind Robotics opens a second plant in Ohio",
        "Northwind names new chief financial officer",
    ]


def test_it_uses_the_source_element_as_outlet_when_present():
    feed = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Aggregator</title>
    <item><title>Ferry fares rise - Coastal Times</title><link>https://c.example.com/a</link>
    <source url="https://c.example.com/rss">Coastal Times</source></item></channel></rss>"""
    (row,) = parse_feed(feed)
    assert row.extra["outlet"] == "Coastal Times"
    assert row.period_end is None


def test_it_reads_atom_feeds_and_falls_back_to_the_updated_date():
    rows = parse_feed(load("feed-atom.xml"))
    assert [(r.label, r.period_end) for r in rows] == [
        ("Halvorsen Maritime orders four LNG-ready carriers", date(2024, 10, 5)),
        ("Port congestion eases in the North Sea", date(2024, 9, 30)),
    ]
    assert rows[0].extra["outlet"] == "Maritime Ledger"
    assert rows[0].url == "https://ledger.example.net/halvorsen-orders"


def test_it_rejects_something_that_is_not_a_feed():
    with pytest.raises(ParseError, match="RSS or Atom"):
        parse_feed(b"<html><body><p>Hello</p></body></html>")
    with pytest.raises(ParseError, match="empty"):
        parse_feed(b"   ")


def test_it_does_not_treat_the_bytes_as_a_file_name():
    with pytest.raises(ParseError):
        parse_feed(str(FIXTURES / "feed-rss.xml").encode())


def test_it_normalises_urls_and_titles_for_comparison():
    assert normalise_url("HTTPS://News.Example.com/a?id=3&utm_source=x#top") == (
        "https://news.example.com/a?id=3"
    )
    assert normalise_title("Ferry fares RISE!  - Coastal Times", "Coastal Times") == (
        "ferry fares rise"
    )
    assert normalise_title("Q3 results - Part 2") != normalise_title("Q3 results - Part 3")


def test_it_reads_gdelt_article_lists():
    rows = parse_gdelt(load("gdelt-artlist.json"))
    assert [r.key for r in rows] == [
        "https://www.example-news.no/business/halvorsen-q3",
        "https://shipping.example.com/halvorsen-fleet",
    ]
    first = rows[0]
    assert first.source == "gdelt"
    assert first.period_end == date(2024, 10, 5)
    assert first.extra["outlet"] == "example-news.no"
    assert first.extra["language"] == "Norwegian"
    assert first.extra["source_country"] == "Norway"


def test_it_returns_no_articles_for_an_empty_gdelt_answer():
    assert parse_gdelt(b"{}") == []
    assert parse_gdelt(b"") == []
    assert parse_gdelt(b'{"articles": []}') == []


def test_it_explains_a_gdelt_error_body():
    with pytest.raises(ParseError, match="GDELT did not return articles: Invalid query"):
        parse_gdelt(b"Invalid query: the phrase is too short.\n")
    with pytest.raises(ParseError, match="Service unavailable"):
        parse_gdelt(b"<html><head><title>503</title></head><body>Service unavailable</body></html>")
