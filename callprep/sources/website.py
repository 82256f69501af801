"""The customer's own website, fetched safely, and parsed into a few ``web`` rows.

``fetch_public_page`` only ever talks to public internet addresses:

* http and https only, on their default ports, no user names or passwords in the URL;
* a host written as a number in any spelling other than a plain dotted quad ("2130706433",
  "0x7f000001", "0177.0.0.1", "127.1") is refused outright, and so is a name ending in a
  numeric label, which browsers would read as an address;
* the host is resolved once per hop and every address it resolves to must be global
  (no loopback, private, link-local, CGNAT, metadata, multicast, reserved or unspecified
  addresses, including IPv4 addresses embedded in IPv6: mapped, NAT64, 6to4);
* the connection goes to the address that was checked (the URL is rewritten to the IP, the
  Host header and TLS server name keep the original name, certificates are verified against
  it), so a second, different DNS answer cannot redirect the connection;
* redirects are followed by hand, at most ``max_redirects``, each hop checked the same way;
* proxies from the environment are ignored (a proxy would resolve the name itself);
* only HTML is accepted, at most ``max_bytes`` are read (compressed and decompressed), and
  the whole fetch has a deadline of ``timeout`` seconds, checked between reads.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx

from .base import EvidenceRow, clip

SOURCE = "website"
DEFAULT_PORTS = {"http": 80, "https": 443}
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# What an RSS or Atom feed is served as (some servers say plain XML).
FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/xml",
        "text/xml",
    }
)
REDIRECTS = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "SalesPrep/1.0 (pre-call research; +https://salesprep.example/bot)"

Resolver = Callable[[str, int], list[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

NAT64 = ipaddress.ip_network("64:ff9b::/96")
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
CGNAT = ipaddress.ip_network("100.64.0.0/10")


class UnsafeURL(ValueError):
    """The address is not one we are willing to fetch; the message says why."""


class FetchError(Exception):
    """The page could not be fetched; the message says why."""


@dataclass(frozen=True)
class FetchedPage:
    url: str
    status: int
    content_type: str
    body: bytes
    address: str
    truncated: bool = False
    redirects: list[str] = field(default_factory=list)


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host``."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"The name {host} could not be found") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in NAT64 or ip in NAT64_LOCAL:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    compatible = int(ip)
    if compatible >> 32 == 0 and compatible > 1:  # deprecated IPv4-compatible ::a.b.c.d
        return ipaddress.IPv4Address(compatible)
    return None


def address_problem(ip: IPAddress) -> str | None:
    """Why this address may not be fetched, or None when it is a public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            problem = address_problem(embedded)
            return f"it embeds {embedded}, which {problem}" if problem else None
        if ip.is_site_local:
            return "is a site-local address"
    checks = (
        (ip.is_unspecified, "is the unspecified address"),
        (ip.is_loopback, "is this machine (loopback)"),
        (ip.is_link_local, "is a link-local address (this includes cloud metadata services)"),
        (ip.is_multicast, "is a multicast address"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in CGNAT, "is a carrier-grade NAT address"),
        (ip.is_private, "is a private network address"),
        (ip.is_reserved, "is a reserved address"),
        (not ip.is_global, "is not a public internet address"),
    )
    return next((reason for failed, reason in checks if failed), None)


def _numeric_host(host: str) -> bool:
    """True when a URL host would be read as an IPv4 address in some spelling."""
    last = host.rstrip(".").rsplit(".", 1)[-1]
    return bool(re.fullmatch(r"\d+|0x[0-9a-f]*", last))


def check_url(url: str) -> tuple[str, str, int]:
    """Validate the shape of ``url``; return (scheme, ASCII host, port). Raises UnsafeURL."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL(f"{url!r} is not a valid web address") from exc
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise UnsafeURL(f"Only http and https addresses can be fetched, not {scheme or 'this'}")
    if parts.username is not None or parts.password is not None:
        raise UnsafeURL("Addresses with a user name or password are not fetched")
    if port is not None and port != DEFAULT_PORTS[scheme]:
        raise UnsafeURL(f"Only the standard port for {scheme} is allowed, not {port}")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeURL(f"{url!r} has no host name")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None:
        if isinstance(ip, ipaddress.IPv4Address) and str(ip) != host:
            raise UnsafeURL(f"{host} is an unusual spelling of an IP address")
        problem = address_problem(ip)
        if problem:
            raise UnsafeURL(f"{host} {problem}")
        return scheme, str(ip), DEFAULT_PORTS[scheme]
    if _numeric_host(host.lower()):
        raise UnsafeURL(f"{host} looks like an IP address written in an unusual way")
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise UnsafeURL(f"{host} is not a valid host name") from exc
    if not re.fullmatch(
        r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*", ascii_host
    ):
        raise UnsafeURL(f"{host} is not a valid host name")
    return scheme, ascii_host, DEFAULT_PORTS[scheme]


def resolve_public(host: str, port: int, resolver: Resolver) -> str:
    """Resolve ``host`` and return an address to connect to, if every answer is public."""
    try:
        ipaddress.ip_address(host)
        answers = [host]
    except ValueError:
        answers = resolver(host, port)
    if not answers:
        raise FetchError(f"The name {host} could not be found")
    addresses = []
    for answer in answers:
        try:
            ip = ipaddress.ip_address(str(answer).split("%", 1)[0])
        except ValueError as exc:
            raise UnsafeURL(f"{host} resolved to something that is not an address") from exc
        problem = address_problem(ip)
        if problem:
            raise UnsafeURL(f"{host} resolves to {ip}, which {problem}")
        addresses.append(ip)
    return str(addresses[0])


def _content_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _read_capped(response: httpx.Response, max_bytes: int, deadline: float) -> tuple[bytes, bool]:
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding in {"gzip", "x-gzip"}:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        inflater = zlib.decompressobj()
    elif encoding in {"", "identity"}:
        inflater = None
    else:
        raise FetchError(f"The site sent the page in an encoding we do not read ({encoding})")
    body = bytearray()
    received = 0
    for chunk in response.iter_raw():
        if time.monotonic() > deadline:
            raise FetchError("The site took too long to answer")
        received += len(chunk)
        if inflater is None:
            body += chunk
        else:
            try:
                body += inflater.decompress(chunk, max_bytes + 1 - len(body))
            except zlib.error as exc:
                raise FetchError("The site sent a damaged compressed page") from exc
        if len(body) > max_bytes or received > max_bytes:
            return bytes(body[:max_bytes]), True
    return bytes(body), False


def fetch_public_page(
    url: str,
    *,
    max_bytes: int = 2_000_000,
    timeout: float = 10.0,
    max_redirects: int = 3,
    resolver: Resolver = system_resolver,
    transport: httpx.BaseTransport | None = None,
    content_types: frozenset[str] = HTML_TYPES,
) -> FetchedPage:
    """Fetch one HTML page from a public address (see the module docstring for the rules).

    ``resolver`` maps (host, port) to addresses; ``transport`` exists so tests can answer for
    public addresses without the network. Neither can switch the address checks off.
    """
    deadline = time.monotonic() + timeout
    redirects: list[str] = []
    current = url
    with httpx.Client(transport=transport, trust_env=False, follow_redirects=False) as client:
        for _hop in range(max_redirects + 1):
            scheme, host, port = check_url(current)
            address = resolve_public(host, port, resolver)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise FetchError("The site took too long to answer")
            # Connect to the checked address; the name travels in Host and the TLS server name.
            pinned = httpx.URL(current).copy_with(host=address, port=port)
            is_literal = host == address
            host_header = f"[{host}]" if ":" in host else host
            request = client.build_request(
                "GET",
                pinned,
                headers={
                    "Host": host_header,
                    "User-Agent": USER_AGENT,
                    "Accept": ",".join(sorted(content_types)),
                    "Accept-Encoding": "gzip, deflate",
                },
                timeout=httpx.Timeout(remaining),
                extensions={"sni_hostname": host} if scheme == "https" and not is_literal else {},
            )
            try:
                response = client.send(request, stream=True)
            except httpx.TimeoutException as exc:
                raise FetchError("The site took too long to answer") from exc
            except httpx.HTTPError as exc:
                raise FetchError(f"Could not connect to {host}: {exc.__class__.__name__}") from exc
            try:
                if response.status_code in REDIRECTS and response.headers.get("location"):
                    redirects.append(current)
                    current = urljoin(current, response.headers["location"])
                    continue
                if response.status_code >= 400:
                    raise FetchError(f"The site answered with an error ({response.status_code})")
                content_type = _content_type(response)
                if content_type not in content_types:
                    raise FetchError(
                        f"The address is not a web page (it is {content_type or 'untyped'})"
                    )
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes * 4:
                    raise FetchError("The page is far too large to read")
                try:
                    body, truncated = _read_capped(response, max_bytes, deadline)
                except httpx.TimeoutException as exc:
                    raise FetchError("The site took too long to answer") from exc
                except httpx.HTTPError as exc:
                    raise FetchError(f"The connection to {host} failed while reading") from exc
                return FetchedPage(
                    url=current,
                    status=response.status_code,
                    content_type=content_type,
                    body=body,
                    address=address,
                    truncated=truncated,
                    redirects=redirects,
                )
            finally:
                response.close()
    raise FetchError(f"The site redirected more than {max_redirects} times")


# --- Parsing -------------------------------------------------------------------------------

SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template", "svg", "nav", "footer"})
TEXT_TAGS = frozenset({"p", "h1", "h2", "h3", "li"})


class _PageReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.description = ""
        self.og_description = ""
        self.paragraphs: list[str] = []
        self._skip = 0
        self._in_title = False
        self._text_depth = 0
        self._buffer: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): (v or "") for k, v in attrs}
        if tag == "meta":
            name = (values.get("name") or values.get("property") or "").lower()
            if name == "description" and not self.description:
                self.description = values.get("content", "")
            elif name == "og:description" and not self.og_description:
                self.og_description = values.get("content", "")
        elif tag == "title":
            self._in_title = True
        elif tag in SKIPPED_TAGS:
            self._skip += 1
        elif tag in TEXT_TAGS and not self._skip:
            self._text_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in SKIPPED_TAGS and self._skip:
            self._skip -= 1
        elif tag in TEXT_TAGS and self._text_depth:
            self._text_depth -= 1
            if not self._text_depth:
                text = " ".join("".join(self._buffer).split())
                if text:
                    self.paragraphs.append(text)
                self._buffer = []

    def handle_data(self, data: str) -> None:
        if self._in_title and not self.title:
            self.title = " ".join(data.split())
        elif self._text_depth and not self._skip:
            self._buffer.append(data)


def _decode(html: bytes) -> str:
    match = re.search(rb"""<meta[^>]+charset=["']?([\w-]+)""", html[:4096], re.I)
    encoding = match.group(1).decode("ascii") if match else "utf-8"
    try:
        return html.decode(encoding, errors="replace")
    except LookupError:
        return html.decode("utf-8", errors="replace")


def _read(html: bytes) -> _PageReader:
    reader = _PageReader()
    reader.feed(_decode(html))
    reader.close()
    return reader


def parse_homepage(
    html: bytes, url: str, *, about_html: bytes | None = None, about_url: str = ""
) -> list[EvidenceRow]:
    """A ``web`` row for the homepage (title and meta description), and one for the about page
    (its title and the opening of its text) when given. Keys are the page URLs."""
    page = _read(html)
    host = urlsplit(url).hostname or url
    description = page.description or page.og_description
    rows = [
        EvidenceRow(
            kind="web",
            source=SOURCE,
            key=url,
            label=page.title or host,
            url=url,
            excerpt=clip(description),
            extra={"title": page.title, "description": clip(description), "page": "home"},
        )
    ]
    if about_html is not None:
        about = _read(about_html)
        text = " ".join(p for p in about.paragraphs if len(p) > 40) or " ".join(about.paragraphs)
        about_target = about_url or urljoin(url, "/about")
        rows.append(
            EvidenceRow(
                kind="web",
                source=SOURCE,
                key=about_target,
                label=about.title or f"About {host}",
                url=about_target,
                excerpt=clip(text or about.description or about.og_description),
                extra={"title": about.title, "page": "about"},
            )
        )
    return rows
