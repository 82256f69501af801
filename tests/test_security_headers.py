import re

import pytest
from django.conf import settings


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.fixture
def login_page(client, db):
    return client.get("/auth/login/")


def test_the_content_security_policy_is_strict(login_page):
    csp = csp_directives(login_page["Content-Security-Policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in csp["script-src"]
    assert "'unsafe-eval'" not in csp["script-src"]
    assert csp["script-src"][0] == "'self'"
    assert re.fullmatch(r"'nonce-[\w-]+'", csp["script-src"][1])


def test_every_script_tag_carries_the_nonce_of_its_response(login_page):
    nonce = re.search(r"'nonce-([\w-]+)'", login_page["Content-Security-Policy"]).group(1)
    html = login_page.content.decode()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts, "htmx should be loaded"
    for tag in scripts:
        assert f'nonce="{nonce}"' in tag
        assert "src=" in tag  # no inline script bodies


def test_each_response_gets_a_fresh_nonce(client, db):
    first = client.get("/auth/login/")["Content-Security-Policy"]
    second = client.get("/auth/login/")["Content-Security-Policy"]
    assert first != second


def test_no_inline_event_handlers_or_styles_in_templates():
    from pathlib import Path

    root = Path(settings.BASE_DIR) / "templates"
    offenders = []
    for path in root.rglob("*.html"):
        text = path.read_text()
        if re.search(r"\son[a-z]+\s*=", text) or re.search(r"\sstyle\s*=", text):
            offenders.append(str(path))
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text):
            offenders.append(f"{path} (inline script)")
    assert offenders == []


def test_htmx_is_served_locally_and_sends_the_csrf_header(login_page):
    html = login_page.content.decode()
    assert 'src="/static/django_htmx/htmx-2.min.js"' in html
    assert "https://" not in re.sub(r'href="https://[^"]*"', "", html.split("<body")[0])
    assert re.search(r"<body hx-headers='\{\"X-CSRFToken\": \"[\w-]+\"\}'>", html)


def test_the_usual_security_headers_are_set(login_page):
    assert login_page["X-Frame-Options"] == "DENY"
    assert login_page["X-Content-Type-Options"] == "nosniff"
    assert login_page["Referrer-Policy"] == "same-origin"
    assert login_page["Cross-Origin-Opener-Policy"] == "same-origin"


def test_static_files_are_served_by_whitenoise(client, db):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert b"--brand" in b"".join(response.streaming_content)
