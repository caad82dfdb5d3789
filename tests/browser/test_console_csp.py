"""The console under its own Content-Security-Policy in a real headless Chromium (docs/console.md):
the policy is sent with the page and enforced (nothing bypasses it), the watch of csp.py sees a
violation when there is one, and every page, used, reports none.

Every other browser test runs under the policy too: the `browser` fixture fails any test whose
pages reported a violation."""

import os
import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from dialer.bootstrap import build
from dialer.settings import Settings
from dialer.testing.server import serving
from tests.browser.csp import violations_of
from tests.browser.test_console import log_in, make_tenant, new_page

pytestmark = pytest.mark.browser


def test_the_policy_is_enforced_and_a_violation_is_seen(tmp_path: Path, browser: Browser) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    env = {**os.environ, "DIALER_DATABASE_URL": url}
    with serving(env, "--no-engine") as (_, base):
        page = new_page(browser)
        answer = page.goto(base + "/")
        assert answer is not None
        assert "script-src 'self'" in answer.headers["content-security-policy"]
        expect(page.get_by_label("API key")).to_be_visible()
        assert page.csp_violations == []  # type: ignore[attr-defined]
        # What an injection would try: an inline script, and an image from elsewhere.
        page.evaluate(
            "() => { const s = document.createElement('script');"
            " s.textContent = 'window.injected = true'; document.head.append(s);"
            " const i = document.createElement('img'); i.src = 'http://192.0.2.1/x.png';"
            " document.body.append(i); }"
        )
        seen = page.csp_violations  # type: ignore[attr-defined]
        deadline = time.monotonic() + 30
        while not (any("script-src" in v for v in seen) and any("img-src" in v for v in seen)):
            assert time.monotonic() < deadline, seen
            page.wait_for_timeout(100)  # a poll interval, which also lets the reports arrive
        assert page.evaluate("() => window.injected") is None
        # This test's violations were made on purpose: the fixture should not fail it for them.
        violations_of(browser).clear()


def test_every_page_used_keeps_the_policy(tmp_path: Path, browser: Browser) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    acme = make_tenant(url, "Acme")
    env = {**os.environ, "DIALER_DATABASE_URL": url}
    with serving(env, "--no-engine") as (_, base):
        acme.post(base, "/api/campaign/voice", acme.campaign("Autumn"))
        container = build(Settings(database_url=url))
        try:
            tenant = container.tenants.authenticate(acme.key)
            agent = container.catalog.add_agent(tenant, "SIPSIP1", "Alice")
        finally:
            container.close()
        token = acme.post(base, f"/api/agents/{agent.id}/tokens")["token"]

        page = new_page(browser)
        # No request leaves the machine: every script, style, font and call is the service's.
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        log_in(page, base, acme.key)
        expect(page.get_by_role("link", name="Autumn")).to_be_visible()
        page.get_by_role("link", name="Autumn").click()
        expect(page.get_by_test_id("campaign-state")).to_have_text("Running")
        expect(page.get_by_test_id("chart-totals")).to_be_visible()
        page.get_by_text("The figures as a table").first.click()
        page.get_by_role("link", name="Edit").click()
        expect(page.get_by_label("Name", exact=True)).to_have_value("Autumn")
        for target, heading in (
            ("#/campaigns/new", "New campaign"),
            ("#/wallboard", "Wallboard"),
            ("#/callflows", "Call flows"),
            ("#/dnc", "Do not call"),
            ("#/webhooks", "Webhook"),
            ("#/settings", "Settings"),
        ):
            page.goto(f"{base}/{target}")
            expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
            expect(page.locator(".loading")).to_have_count(0)
        # The dry run's audio plays from the service (media-src 'self').
        page.goto(f"{base}/#/callflows")
        page.get_by_role("button", name="Run", exact=True).click()
        audio = page.locator(".dry-step audio").first
        expect(audio).to_be_visible()
        audio.evaluate("(a) => a.play().catch(() => null)")
        page.wait_for_function("(a) => a.readyState >= 2", arg=audio.element_handle())
        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_label("API key")).to_be_visible()

        desk = new_page(browser)
        log_in(desk, base, token, agent=True)
        expect(desk.get_by_role("heading", name="Agent desk")).to_be_visible()
        expect(desk.get_by_text("Live", exact=True)).to_be_visible()
        assert page.csp_violations == []  # type: ignore[attr-defined]
        assert desk.csp_violations == []  # type: ignore[attr-defined]
        elsewhere = [u for u in requests if not u.startswith((base + "/", "data:", "blob:"))]
        assert elsewhere == []
        assert any("/console/vendor/uplot.js" in u for u in requests)
