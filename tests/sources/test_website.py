import gzip
import http.server
import threading
import time

import httpx
import pytest

from callprep.sources import website
from callprep.sources.website import (
    FetchError,
    UnsafeURL,
    check_url,
    fetch_public_page,
    parse_homepage,
)

PUBLIC_IP = "93.184.215.14"  # a global address; tests answer for it without the network
HOME = b"""<!doctype html><html><head><meta charset="utf-8">
<title>Northwind Robotics | Automation for mid-size plants</title>
<meta name="description" content="Northwind builds collaborative robots for packaging lines.">
</head><body><nav><p>Home About Careers</p></nav><p>Welcome.</p></body></html>"""


def resolver_for(answers: dict[str, list[str]]):
    calls = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        if host not in answers:
            raise FetchError(f"The name {host} could not be found")
        return answers[host]

    resolve.calls = calls
    return resolve


def html(body: bytes = HOME, **headers):
    """A page that answers each request with a fresh, unread response, as the network would."""

    def respond(request: httpx.Request) -> httpx.Response:
        headers.setdefault("content-type", "text/html; charset=utf-8")
        return httpx.Response(200, headers=headers, stream=httpx.ByteStream(body))

    return respond


class PublicInternet(httpx.BaseTransport):
    """Answers requests for PUBLIC_IP from ``pages``; anything else goes out on a real socket,
    so a hop the fetcher failed to stop would really reach the local server."""

    def __init__(self, pages: dict):
        self.pages = pages
        self.requests: list[httpx.Request] = []
        self.real = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.host == PUBLIC_IP:
            page = self.pages[request.url.path]
            return page(request) if callable(page) else page
        return self.real.handle_request(request)


@pytest.fixture
def local_server():
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            body = b"<title>internal admin</title>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield server.server_address[1], hits
    finally:
        server.shutdown()
        server.server_close()


# --- addresses refused before any connection --------------------------------------------

REFUSED = [
    "http://127.0.0.1/",
    "http://127.10.20.30/",
    "http://localhost/",
    "http://10.0.0.8/",
    "http://172.16.4.4/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://0.0.0.0/",
    "http://224.0.0.251/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
    "http://[::1]/",
    "http://[::]/",
    "http://[fe80::1]/",
    "http://[fc00::5]/",
    "http://[ff02::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[64:ff9b::7f00:1]/",
    "http://[64:ff9b::a00:1]/",
    "http://[2002:7f00:1::]/",
    "http://[2002:c0a8:101::1]/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://0x7f.1/",
    "http://017700000001/",
    "http://127.0.0.1./",
    "http://internal.0x10/",
    "file:///etc/passwd",
    "ftp://files.northwind.example/",
    "gopher://northwind.example/",
    "http://northwind.example:8080/",
    "https://northwind.example:80/",
    "http://admin:secret@northwind.example/",
    "http:///nohost",
]


@pytest.mark.parametrize("url", REFUSED)
def test_it_refuses_addresses_that_are_not_public(url):
    resolver = resolver_for({"localhost": ["127.0.0.1"]})
    transport = PublicInternet({})
    with pytest.raises(UnsafeURL):
        fetch_public_page(url, resolver=resolver, transport=transport)
    assert transport.requests == []


def test_it_explains_why_an_address_is_refused():
    with pytest.raises(UnsafeURL, match="link-local"):
        check_url("http://169.254.169.254/")
    with pytest.raises(UnsafeURL, match="carrier-grade NAT"):
        check_url("http://100.100.1.1/")
    with pytest.raises(UnsafeURL, match="unusual"):
        check_url("http://2130706433/")
    with pytest.raises(UnsafeURL, match=r"embeds 127\.0\.0\.1"):
        check_url("http://[::ffff:127.0.0.1]/")


def test_it_accepts_a_public_address_and_a_normal_name():
    assert check_url("https://www.Northwind.example/about") == (
        "https",
        "www.northwind.example",
        443,
    )
    assert check_url("http://93.184.215.14:80/") == ("http", "93.184.215.14", 80)
    assert check_url("https://bücher.example/") == ("https", "xn--bcher-kva.example", 443)


def test_it_refuses_a_name_that_resolves_to_loopback():
    resolver = resolver_for({"evil.example": ["127.0.0.1"]})
    transport = PublicInternet({})
    with pytest.raises(UnsafeURL, match=r"evil\.example resolves to 127\.0\.0\.1"):
        fetch_public_page("http://evil.example/", resolver=resolver, transport=transport)
    assert transport.requests == []


def test_it_refuses_a_name_when_any_of_its_answers_is_private():
    resolver = resolver_for({"mixed.example": [PUBLIC_IP, "10.1.2.3"]})
    with pytest.raises(UnsafeURL, match=r"10\.1\.2\.3"):
        fetch_public_page("http://mixed.example/", resolver=resolver, transport=PublicInternet({}))


def test_it_refuses_a_name_that_resolves_to_a_mapped_ipv6_loopback():
    resolver = resolver_for({"sneaky.example": ["::ffff:127.0.0.1"]})
    with pytest.raises(UnsafeURL):
        fetch_public_page("http://sneaky.example/", resolver=resolver, transport=PublicInternet({}))


# --- connecting to the checked address -------------------------------------------------


def test_it_connects_to_the_checked_address_and_keeps_the_name_for_host_and_tls():
    resolver = resolver_for({"www.northwind.example": [PUBLIC_IP]})
    transport = PublicInternet({"/": html()})
    page = fetch_public_page(
        "https://www.northwind.example/", resolver=resolver, transport=transport
    )
    (request,) = transport.requests
    assert request.url.host == PUBLIC_IP
    assert request.headers["host"] == "www.northwind.example"
    assert request.extensions["sni_hostname"] == "www.northwind.example"
    assert page.address == PUBLIC_IP
    assert page.url == "https://www.northwind.example/"
    assert page.body == HOME
    assert resolver.calls == ["www.northwind.example"]


def test_a_second_dns_answer_cannot_move_the_connection(local_server):
    _port, hits = local_server
    answers = iter([[PUBLIC_IP], ["127.0.0.1"]])
    transport = PublicInternet({"/": html()})
    page = fetch_public_page(
        "http://rebind.example/",
        resolver=lambda host, port: next(answers),
        transport=transport,
    )
    assert page.address == PUBLIC_IP
    assert hits == []


# --- redirects ---------------------------------------------------------------------------


def redirect_to(location: str) -> httpx.Response:
    return httpx.Response(302, headers={"location": location})


def test_the_local_server_counts_hits_when_nothing_stops_the_request(local_server):
    # Control: the same transport really reaches the local server, so a zero below means
    # the fetcher stopped the hop, not that the test could never have reached it.
    port, hits = local_server
    with httpx.Client(transport=PublicInternet({})) as client:
        assert client.get(f"http://127.0.0.1:{port}/control").status_code == 200
    assert hits == ["/control"]


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:{port}/admin",
        "http://localhost:{port}/admin",
        "http://evil.example:{port}/admin",
        "http://[::ffff:127.0.0.1]:{port}/admin",
        "http://2130706433:{port}/admin",
        "http://127.1:{port}/admin",
    ],
)
def test_it_refuses_a_redirect_from_a_public_page_to_a_local_server(
    local_server, monkeypatch, target
):
    port, hits = local_server
    # Let the local server's port count as standard, so only the address check stands
    # between the redirect and the server.
    monkeypatch.setitem(website.DEFAULT_PORTS, "http", port)
    resolver = resolver_for(
        {
            "www.northwind.example": [PUBLIC_IP],
            "evil.example": ["127.0.0.1"],
            "localhost": ["127.0.0.1"],
        }
    )
    transport = PublicInternet({"/": redirect_to(target.format(port=port))})
    with pytest.raises(UnsafeURL):
        fetch_public_page(
            f"http://www.northwind.example:{port}/", resolver=resolver, transport=transport
        )
    assert hits == []
    assert [r.url.host for r in transport.requests] == [PUBLIC_IP]


def test_it_follows_redirects_between_public_pages():
    resolver = resolver_for(
        {"northwind.example": [PUBLIC_IP], "www.northwind.example": [PUBLIC_IP]}
    )
    transport = PublicInternet(
        {"/": redirect_to("https://www.northwind.example/home"), "/home": html()}
    )
    page = fetch_public_page("http://northwind.example/", resolver=resolver, transport=transport)
    assert page.url == "https://www.northwind.example/home"
    assert page.redirects == ["http://northwind.example/"]
    assert transport.requests[1].headers["host"] == "www.northwind.example"


def test_it_stops_after_three_redirects():
    resolver = resolver_for({"loop.example": [PUBLIC_IP]})
    transport = PublicInternet({"/": redirect_to("/")})
    with pytest.raises(FetchError, match="more than 3 times"):
        fetch_public_page("http://loop.example/", resolver=resolver, transport=transport)
    assert len(transport.requests) == 4


# --- what is read ------------------------------------------------------------------------


def fetch(response, **kwargs):
    resolver = resolver_for({"www.northwind.example": [PUBLIC_IP]})
    transport = PublicInternet({"/": response})
    return fetch_public_page(
        "https://www.northwind.example/", resolver=resolver, transport=transport, **kwargs
    )


def test_it_only_accepts_html():
    with pytest.raises(FetchError, match="application/pdf"):
        fetch(html(b"%PDF-1.7", **{"content-type": "application/pdf"}))


def test_it_reports_an_error_status():
    with pytest.raises(FetchError, match="404"):
        fetch(httpx.Response(404, headers={"content-type": "text/html"}))


def test_it_stops_reading_at_the_size_cap():
    page = fetch(html(b"<p>" + b"x" * 3_000_000), max_bytes=2_000_000)
    assert page.truncated
    assert len(page.body) == 2_000_000


def test_it_caps_a_compressed_page_after_decompression():
    bomb = gzip.compress(b"\0" * 50_000_000)
    page = fetch(html(bomb, **{"content-encoding": "gzip"}), max_bytes=100_000)
    assert page.truncated
    assert len(page.body) == 100_000


def test_it_decompresses_a_gzipped_page():
    page = fetch(html(gzip.compress(HOME), **{"content-encoding": "gzip"}))
    assert page.body == HOME
    assert not page.truncated


class SlowStream(httpx.SyncByteStream):
    def __iter__(self):
        for _ in range(10):
            time.sleep(0.05)
            yield b"<p>slow</p>"


def test_it_gives_up_when_the_page_takes_longer_than_the_deadline():
    def slow(request):
        return httpx.Response(200, headers={"content-type": "text/html"}, stream=SlowStream())

    with pytest.raises(FetchError, match="too long"):
        fetch(slow, timeout=0.2)


# --- parsing -----------------------------------------------------------------------------


def test_it_reads_the_title_and_meta_description():
    (row,) = parse_homepage(HOME, "https://www.northwind.example/")
    assert row.kind == "web"
    assert row.source == "website"
    assert row.key == "https://www.northwind.example/"
    assert row.label == "Northwind Robotics | Automation for mid-size plants"
    assert row.excerpt == "Northwind builds collaborative robots for packaging lines."


def test_it_falls_back_to_the_open_graph_description_and_the_host_name():
    page = b'<html><head><meta property="og:description" content="Robots &amp; more"></head></html>'
    (row,) = parse_homepage(page, "https://www.northwind.example/")
    assert row.label == "www.northwind.example"
    assert row.excerpt == "Robots & more"


def test_it_takes_a_short_excerpt_from_the_about_page_without_scripts_or_navigation():
    about = (
        b"<html><head><title>About Northwind</title><script>var secret = 1;</script></head>"
        b"<body><nav><li>Home</li></nav><h1>About us</h1>"
        b"<p>Northwind Robotics was founded in 2009 in Worcester, Massachusetts, to bring "
        b"collaborative robots to mid-size packaging plants.</p>"
        + b"<p>"
        + b"We grow every year and hire engineers. " * 30
        + b"</p>"
        + b"<footer><p>Copyright Northwind, all rights reserved in every country.</p></footer>"
        b"</body></html>"
    )
    rows = parse_homepage(
        HOME,
        "https://www.northwind.example/",
        about_html=about,
        about_url="https://www.northwind.example/company",
    )
    about_row = rows[1]
    assert about_row.key == "https://www.northwind.example/company"
    assert about_row.label == "About Northwind"
    assert about_row.excerpt.startswith("Northwind Robotics was founded in 2009")
    assert len(about_row.excerpt) <= 500
    assert "secret" not in about_row.excerpt
    assert "Copyright" not in about_row.excerpt
