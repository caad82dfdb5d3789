"""The agent desk's parts the first desk test (test_console.py) leaves out, in a real headless
Chromium against `dialer serve --speed 20` on the simulated network (docs/console.md): a pause
with its reason, the wrap-up countdown, the callback time picker read in the agent's own time
zone, the CRM's CustomData shown as text, and the supervisor's view of the agent's day (time per
state) on the wallboard."""

import os
import re
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from dialer.bootstrap import build
from dialer.settings import Settings
from dialer.testing.server import serving
from tests.browser.csp import watch_csp
from tests.browser.test_console import PROFILE, WAIT, log_in, make_tenant, new_page

pytestmark = pytest.mark.browser
PARIS = ZoneInfo("Europe/Paris")


def me(page: Page) -> dict[str, Any]:
    answer: dict[str, Any] = page.evaluate(
        "() => fetch('/api/agents/me', {credentials: 'same-origin'}).then(r => r.json())"
    )
    return answer


def test_the_desk_pauses_with_a_reason_and_books_a_callback(
    tmp_path: Path, browser: Browser
) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    acme = make_tenant(url, "Acme")
    (tmp_path / "profile.yaml").write_text(PROFILE)
    env = {**os.environ, "DIALER_DATABASE_URL": url}
    with serving(env, "--speed", "20", "--profile", str(tmp_path / "profile.yaml")) as (_, base):
        # Paused until the agent is ready; a wrap-up of 10 minutes (30 s of real time).
        made = acme.post(
            base,
            "/api/campaign/voice",
            acme.campaign(
                "Callbacks",
                type="agent",
                status="Disabled",
                agentOptions={"wrapUpSeconds": 600, "maxWaitSeconds": 300},
                phoneNumbers=[{"number": "+447700900101", "name": "Ann Lewis"}],
            ),
        )
        # The CRM gives the customer its own data through the Dialer API: the desk
        # shows it as text (the markup in it never runs: the page's CSP watch would see it).
        lead = {"leadId": "L-77", "note": "<img src=x onerror=alert(1)>"}
        call = {
            "Campaign": made["code"],
            "Target": "+447700900101",
            "CustomData": lead,
        }
        assert acme.post(base, "/ForwardDialer/Dialer/UpdateCall", call)["ErrorCode"] == 0
        container = build(Settings(database_url=url))
        try:
            tenant = container.tenants.authenticate(acme.key)
            agent = container.catalog.add_agent(tenant, "SIPSIP1", "Alice")
        finally:
            container.close()
        added = acme.post(
            base, "/ForwardDialer/Dialer/AddMember", {"Campaign": made["code"], "Member": "SIPSIP1"}
        )
        assert added["ErrorCode"] == 0, added
        token = acme.post(base, f"/api/agents/{agent.id}/tokens")["token"]

        # The agent works in Paris: the callback picker is in the agent's own time.
        context = browser.new_context(timezone_id="Europe/Paris")
        page = watch_csp(browser, context.new_page())
        page.set_default_timeout(WAIT)
        log_in(page, base, token, agent=True)
        page.get_by_label("Phone to call me on").fill("sim:alice")
        page.get_by_label("Phone to call me on").press("Enter")
        state = page.get_by_test_id("agent-state")
        expect(state).to_contain_text("ready", timeout=90_000)
        page.get_by_label("Pause reason").fill("briefing")
        page.get_by_label("Pause reason").press("Enter")
        expect(state).to_contain_text("paused (briefing)")
        assert me(page)["reason"] == "briefing"
        page.get_by_role("button", name="Ready").click()
        expect(state).to_contain_text("ready")

        acme.post(base, f"/api/campaign/voice/{made['id']}/resume")
        expect(page.get_by_test_id("customer-name")).to_have_text("Ann Lewis", timeout=90_000)
        custom = page.locator("dt:text-is('Custom data') + dd")
        expect(custom).to_contain_text('"leadId":"L-77"')
        expect(custom).to_contain_text("<img src=x onerror=alert(1)>")
        assert page.locator(".customer img").count() == 0
        page.get_by_role("button", name="Hang up").click()
        expect(state).to_contain_text("wrap-up")
        expect(page.get_by_role("timer")).to_have_text(re.compile(r"^Wrap-up ends in \d+:\d\d$"))
        # Too far ahead: the API's reason shows under the picker, and nothing is set.
        picker = page.get_by_label("Call back at (your time)")
        picker.fill(f"{datetime.now(UTC).year + 2}-01-15T10:30")
        page.get_by_role("button", name="Call back…").click()
        expect(page.locator("#d-callback-error")).to_contain_text("within a year")
        expect(picker).to_have_attribute("aria-invalid", "true")
        assert me(page)["disposition"] is None
        # 10:30 in Paris in a month: the API gets the same instant in UTC.
        day = (datetime.now(PARIS) + timedelta(days=30)).date()
        picker.fill(f"{day.isoformat()}T10:30")
        page.get_by_label("offer the callback to me first").check()
        page.get_by_role("button", name="Call back…").click()
        expect(page.get_by_text("Disposition: CallerRequestedCallBack")).to_be_visible()
        expect(page.locator("#d-callback-error")).to_have_count(0)
        disposition = me(page)["disposition"]
        wanted = datetime.combine(day, time(10, 30), PARIS).astimezone(UTC)
        assert datetime.fromisoformat(disposition["callbackAt"]) == wanted, disposition
        assert disposition["sameAgent"] is True

        # The supervisor: the agent's day has time logged in and in each state it went through.
        board = new_page(browser)
        log_in(board, base, acme.key)
        board.get_by_role("link", name="Wallboard").click()
        day = board.locator(".agents-day tbody tr", has_text="Alice")
        expect(day).to_be_visible()
        cells = day.locator("td")
        # Agent, ready, reserved, talking, wrap-up, paused, logged in: ready and paused ran.
        expect(cells.nth(1)).not_to_have_text("0:00")
        expect(cells.nth(5)).not_to_have_text("0:00")
        expect(cells.nth(6)).not_to_have_text("0:00")


def test_the_wallboard_counts_answered_calls_waiting_for_an_agent(
    tmp_path: Path, browser: Browser
) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    acme = make_tenant(url, "Acme")
    # Short calls and little patience, so the service stops soon after the test (a stopping
    # `serve` lets the calls on the line end).
    (tmp_path / "profile.yaml").write_text(
        PROFILE.replace("3600", "60").replace("1800", "60"), encoding="utf-8"
    )
    env = {**os.environ, "DIALER_DATABASE_URL": url}
    with serving(env, "--speed", "20", "--profile", str(tmp_path / "profile.yaml")) as (_, base):
        made = acme.post(
            base,
            "/api/campaign/voice",
            acme.campaign(
                "Renewals",
                type="agent",
                status="Disabled",
                agentOptions={"wrapUpSeconds": None, "maxWaitSeconds": 300},
                phoneNumbers=[{"number": f"+4477009{i:05d}"} for i in range(200)],
            ),
        )
        container = build(Settings(database_url=url))
        try:
            tenant = container.tenants.authenticate(acme.key)
            agent = container.catalog.add_agent(tenant, "SIPSIP1", "Alice")
        finally:
            container.close()
        added = acme.post(
            base, "/ForwardDialer/Dialer/AddMember", {"Campaign": made["code"], "Member": "SIPSIP1"}
        )
        assert added["ErrorCode"] == 0, added
        token = acme.post(base, f"/api/agents/{agent.id}/tokens")["token"]
        page = new_page(browser)
        log_in(page, base, acme.key)
        page.get_by_role("link", name="Wallboard").click()
        row = page.locator(".wallboard-campaigns tbody tr", has_text="Renewals")
        waiting = row.locator("td").nth(3)
        expect(waiting).to_have_text("—")  # paused: no count that is no longer true
        # The agent logs in through the desk API, as another client.
        answer = httpx.post(
            base + "/api/agents/me/login",
            json={"phone": "sim:alice"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert answer.status_code == 201, answer.text
        acme.post(base, f"/api/campaign/voice/{made['id']}/resume")
        # Once the pacer has saved what it saw: a count, with the agents ready in its title.
        expect(waiting).to_have_text(re.compile(r"^\d+$"), timeout=90_000)
        expect(waiting.locator("span")).to_have_attribute("title", re.compile(r"agents ready"))
        expect(page.locator("tr[data-agent='SIPSIP1'] .badge")).not_to_have_text("offline")
