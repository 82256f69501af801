"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live_server.

A failing browser test leaves a screenshot under test-artifacts/: of ``page``, and of every
open page of every browser context the test created (``browser_context`` and the contexts from
``new_context``). Snapshots a test takes with ``checkpoint`` at the end of each step are kept
in memory and written out next to them only when the test fails.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

# Playwright's sync API runs an event loop in this thread; the ORM calls that tests make around
# it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _artifact_name(item) -> str:
    return re.sub(r"[^\w.-]+", "_", item.nodeid)[-150:]


def _register_context(node, context, label: str) -> None:
    """Remember a context on the test item, so a failure can screenshot all of its pages."""
    contexts = node.__dict__.setdefault("_e2e_contexts", [])
    contexts.append((label, context))


# Chromium reports a blocked inline style or script in the console; the page's own
# ``securitypolicyviolation`` event says which directive and where, so the report names both.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.effectiveDirective} blocked ` +
    `${event.blockedURI || "inline"} at ${event.sourceFile || document.URL}:${event.lineNumber}`);
});
"""


def _watch(page) -> None:
    """Collect what the page's scripts and browser complain about.

    ``page.console_errors``: console errors (CSP violations among them);
    ``page.console_problems``: those, console warnings and uncaught exceptions, each prefixed
    with its kind and the page's address.
    """
    if hasattr(page, "console_errors"):
        return
    errors: list[str] = []
    problems: list[str] = []

    def on_console(msg) -> None:
        if msg.type == "error":
            errors.append(msg.text)
        if msg.type in ("error", "warning"):
            problems.append(f"{msg.type} on {page.url}: {msg.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(f"exception on {page.url}: {exc}"))
    page.console_errors = errors
    page.console_problems = problems


def _save_failure_artifacts(item, report) -> None:
    name = _artifact_name(item)
    problems: list[str] = []
    shot: set[int] = set()

    def save(page, filename: str) -> None:
        if id(page) in shot or page.is_closed():
            return
        shot.add(id(page))
        try:
            page.screenshot(path=str(ARTIFACTS / filename), full_page=True)
        except Exception as exc:  # the browser may be gone; keep the real failure
            problems.append(f"{filename}: {exc}")

    ARTIFACTS.mkdir(exist_ok=True)
    page = item.funcargs.get("page")
    if page is not None:
        save(page, f"{name}.png")  # the name the single-page tests always had
    for label, context in item.__dict__.get("_e2e_contexts", []):
        try:
            pages = list(context.pages)
        except Exception as exc:
            problems.append(f"{label}: {exc}")
            continue
        for index, other in enumerate(pages, start=1):
            save(other, f"{name}-{label}-{index}.png")
    for number, step, label, data in item.__dict__.get("_e2e_checkpoints", []):
        step_name = re.sub(r"[^\w.-]+", "_", step)
        (ARTIFACTS / f"{name}-step{number:02d}-{step_name}-{label}.png").write_bytes(data)
    if problems:
        report.sections.append(
            ("screenshot", "could not take a screenshot: " + "; ".join(problems))
        )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        _save_failure_artifacts(item, report)
    if report.when == "call":
        item.__dict__.pop("_e2e_checkpoints", None)  # kept only until the verdict


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
            ],
        )
        yield browser
        browser.close()


def _open_context(browser, timeout: float = 15_000, *, javascript: bool = True):
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-US", java_script_enabled=javascript
    )
    context.add_init_script(CSP_LISTENER)
    context.set_default_timeout(timeout)
    context.on("page", _watch)  # pages opened later (new tabs) collect console errors too
    return context


@pytest.fixture
def browser_context(request, browser):
    context = _open_context(browser)
    _register_context(request.node, context, "main")
    yield context
    context.close()


@pytest.fixture
def page(browser_context):
    page = browser_context.new_page()
    _watch(page)
    return page


@pytest.fixture
def new_context(request, browser):
    """Open another browser context (another person at another computer), e.g. ``new_context(
    "rep")``; ``javascript=False`` for a browser without scripts. Every page of it is
    screenshotted when the test fails; all close at teardown."""
    opened = []

    def open_context(label: str, *, timeout: float = 15_000, javascript: bool = True):
        context = _open_context(browser, timeout, javascript=javascript)
        _register_context(request.node, context, label)
        opened.append(context)
        return context

    yield open_context
    for context in opened:
        with contextlib.suppress(Exception):  # the browser may be gone; keep the real failure
            context.close()


@pytest.fixture
def checkpoint(request):
    """``checkpoint("rep-submitted")`` screenshots every open page of every context the test
    created. The pictures stay in memory; they are written to test-artifacts/ only if the test
    fails (named ``<test>-stepNN-<step>-<context>-<n>.png``), never on success."""
    shots = request.node.__dict__.setdefault("_e2e_checkpoints", [])

    steps: list[str] = []

    def take(step: str) -> None:
        steps.append(step)
        for label, context in request.node.__dict__.get("_e2e_contexts", []):
            for index, page in enumerate(context.pages, start=1):
                if not page.is_closed():
                    data = page.screenshot(full_page=True)
                    shots.append((len(steps), step, f"{label}-{index}", data))

    return take


def sign_in(page, base_url: str, user, password: str | None = None):
    """Sign ``user`` in through the real login form on ``page``."""
    page.goto(f"{base_url}/auth/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(password or f"pw-{user.username}")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("domcontentloaded")
    return page


@pytest.fixture
def login_as(page, live_server):
    """Sign in through the real login form; returns the page on the user's start page."""

    def login(user, password: str | None = None):
        return sign_in(page, live_server.url, user, password)

    return login
