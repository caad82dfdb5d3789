"""The web console in a real headless Chromium against `dialer serve` (docs/console.md): log in,
the campaign form and its errors by field, escaping, CSRF, tenants apart, logging out, the agent
desk taking a simulated call, and axe-core on every page.

Each test starts the service as a subprocess on 127.0.0.1 with a SQLite file in tmp, and waits
for states with Playwright's auto-waiting expect (generous timeouts, no sleeps): CI has 2 cores.
"""

import json
import os
import re
from datetime import UTC, datetime, timedelta
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

pytestmark = pytest.mark.browser
# "wrap-up for 0:07", "... for 2:15": anything but 0:00.
SOME_TIME_IN_STATE = re.compile(r"for (0:(0[1-9]|[1-5]\d)|[1-9]\d*:\d\d|\d+h \d\dm)")
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
# Run as a function body, so the UMD wrapper finds no `module` and sets `window.axe`.
AXE_RUN = "() => {\n" + AXE.read_text() + "\n}"
WAIT = 30_000  # ms: what a loaded 2-core CI machine may need for one state to show
XSS = "<script>alert(1)</script>"
# Every call is answered by a person who stays on until the agent hangs up; agents' phones
# answer at once (as tests/acceptance/test_agent_campaign_end_to_end.py's profile).
PROFILE = """\
version: 1
name: console
outcomes: {answer: 1, busy: 0, no_answer: 0, unobtainable: 0, invalid: 0,
           network_failure: 0, congestion: 0}
answered_by: {human: 1, machine: 0, fax: 0}
ring_seconds: {median: 2, sigma: 0, min: 2, max: 2}
human:
  keypress: {"1": 0, "2": 0, "3": 0, "9": 0, none: 1, hangup: 0}
  keypress_delay_seconds: {median: 1, sigma: 0, min: 1, max: 1}
  patience_seconds: {median: 3600, sigma: 0, min: 3600, max: 3600}
agents:
  answer_seconds: {median: 1, sigma: 0, min: 1, max: 1}
  ring_timeout_seconds: 30
  short_call_share: 0
  short_talk_seconds: {median: 15, sigma: 0, min: 15, max: 15}
  talk_seconds: {median: 1800, sigma: 0, min: 1800, max: 1800}
  wrap_up_seconds: {median: 12, sigma: 0, min: 12, max: 12}
  pauses_per_hour: 0
  pause_seconds: {median: 240, sigma: 0, min: 240, max: 240}
  dispositions: {CorrectCallee: 1, CallerRequestedCallBack: 0, OptOut: 0, WrongCallee: 0}
  callback_seconds: {median: 7200, sigma: 0, min: 7200, max: 7200}
"""


class Tenant:
    def __init__(self, key: str, callflow_id: int, cli_id: int) -> None:
        self.key, self.callflow_id, self.cli_id = key, callflow_id, cli_id

    def campaign(self, name: str, **extra: Any) -> dict[str, Any]:
        today = datetime.now(UTC).astimezone(ZoneInfo("Europe/London")).date()
        body: dict[str, Any] = {
            "name": name,
            "startDate": today.isoformat(),
            "startTime": "00:00",
            "finishTime": "23:59",
            "runoverDays": [
                {
                    "date": (today + timedelta(days=1)).isoformat(),
                    "startTime": "00:00",
                    "finishTime": "23:59",
                }
            ],
            "callflow_Id": self.callflow_id,
            "cli_Id": self.cli_id,
            "attempts": [{"attemptNumber": 1, "interval": 60}],
            "answerMachineDetected": 0,
            "smsOnBusy": 0,
            "phoneNumbers": [{"number": "+447700900101", "name": XSS}],
        }
        body.update(extra)
        return body

    def post(self, base: str, path: str, body: Any = None) -> Any:
        answer = httpx.post(
            base + path, json=body, headers={"Authorization": f"Bearer {self.key}"}, timeout=30
        )
        assert answer.status_code in (200, 201), answer.text
        return answer.json()


def make_tenant(url: str, name: str) -> Tenant:
    container = build(Settings(database_url=url))
    try:
        tenant, key = container.tenants.create(
            name,
            "GB",
            "Europe/London",
            calling_hours="00:00-23:59",
            compliance={"message": {"text": "This is Acme. Please call us back on 0800 123 4567."}},
        )
        flow = container.catalog.add_callflow(
            tenant, "Reminder", "message: 'Hello {Name}.'\nsms: 'Hi {Name}.'\n"
        )
        cli = container.catalog.add_cli(tenant, "+44 1632 960000")
        return Tenant(key, flow.id, cli.id)
    finally:
        container.close()


def new_page(browser: Browser) -> Page:
    """A page in a fresh context under the console's own Content-Security-Policy, watched for
    violations (csp.py): the `browser` fixture fails the test on any the page reported."""
    page = watch_csp(browser, browser.new_context().new_page())
    page.set_default_timeout(WAIT)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.dialogs = dialogs  # type: ignore[attr-defined]
    return page


def check_accessibility(page: Page, what: str) -> None:
    # axe-core is evaluated through the DevTools protocol (Playwright's evaluate), which the
    # page's policy does not govern, instead of a <script> tag, which `script-src 'self'`
    # refuses: so the page under test keeps its policy enforced.
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_RUN)
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target)}))"
    )
    serious = [v for v in found if v["impact"] in ("serious", "critical")]
    assert not serious, f"{what}: {json.dumps(serious)}"


def log_in(page: Page, base: str, secret: str, *, agent: bool = False) -> None:
    page.goto(base + "/")
    if agent:
        page.get_by_label("an agent").check()
        page.get_by_label("Agent token").fill(secret)
    else:
        page.get_by_label("API key").fill(secret)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def page_fetch(page: Page, method: str, path: str, headers: dict[str, str] | None = None) -> int:
    status: int = page.evaluate(
        "([method, path, headers]) => fetch(path, {method, headers, credentials: 'same-origin',"
        " body: method === 'GET' ? undefined : '{}'}).then(r => r.status)",
        [method, path, {"Content-Type": "application/json", **(headers or {})}],
    )
    return status


def test_a_manager_works_the_console(tmp_path: Path, browser: Browser) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    acme, globex = make_tenant(url, "Acme"), make_tenant(url, "Globex")
    env = {**os.environ, "DIALER_DATABASE_URL": url}
    with serving(env, "--no-engine") as (_, base):
        # Tenant B's campaign, with a script for a name: A never sees it, B sees it as text.
        theirs = globex.post(base, "/api/campaign/voice", globex.campaign(XSS))["id"]
        page = new_page(browser)
        page.goto(base + "/")
        expect(page.get_by_label("API key")).to_be_visible()
        check_accessibility(page, "log-in")
        log_in(page, base, acme.key)
        expect(page.get_by_role("heading", name="No campaigns yet")).to_be_visible()
        check_accessibility(page, "campaigns, empty")

        page.get_by_role("link", name="New campaign").first.click()
        page.get_by_label("Name", exact=True).fill("October reminders")
        page.get_by_label("Phone numbers").fill("07700 900123, Ann\ncall me, Bob")
        page.get_by_role("button", name="Create campaign").click()
        # The API's errors, each under its field: no date yet, and a line that is no number.
        expect(page.locator("#c-date-error")).to_be_visible()
        expect(page.locator("#c-numbers-error")).to_contain_text("PhoneNumbers[1]")
        expect(page.get_by_label("First day")).to_have_attribute("aria-invalid", "true")
        check_accessibility(page, "campaign form with errors")
        body = acme.campaign("x")
        page.get_by_label("First day").fill(body["startDate"])
        page.get_by_label("From").fill("00:00")
        page.get_by_label("Until").fill("23:59")
        page.get_by_label("Phone numbers").fill(f"07700 900123, Ann\n07700 900124, {XSS}")
        page.get_by_role("button", name="Create campaign").click()
        expect(page.get_by_role("heading", name="October reminders")).to_be_visible()
        expect(page.get_by_role("cell", name=XSS)).to_be_visible()  # the name, as text
        check_accessibility(page, "campaign page")
        page.get_by_role("button", name="Pause").click()
        expect(page.get_by_role("status")).to_contain_text("paused")
        expect(page.locator(".page-head .badge")).to_have_text("Paused")
        page.get_by_role("button", name="Resume").click()
        expect(page.locator(".page-head .badge")).to_have_text("Running")
        ours = page.url.rsplit("/", 1)[1]
        for target, label in (
            ("#/wallboard", "wallboard"),
            ("#/dnc", "do not call"),
            ("#/webhooks", "webhooks"),
            ("#/settings", "settings"),
        ):
            page.goto(f"{base}/{target}")
            expect(page.get_by_role("heading", level=1)).not_to_have_text("Campaigns")
            expect(page.locator(".loading")).to_have_count(0)
            check_accessibility(page, label)
        # The settings page (the last one visited) edits the calling hours, errors by field.
        page.get_by_label("From").fill("21:00")
        page.get_by_label("Until").fill("07:00")
        page.get_by_role("button", name="Save the hours").click()
        expect(page.locator("#s-hours-end-error")).to_contain_text("later than start")
        expect(page.get_by_label("Until")).to_have_attribute("aria-invalid", "true")
        page.get_by_label("From").fill("09:00")
        page.get_by_label("Until").fill("20:30")
        page.get_by_role("button", name="Save the hours").click()
        expect(page.get_by_role("status")).to_contain_text("Calling hours saved")
        page.reload()
        expect(page.get_by_label("From")).to_have_value("09:00")
        expect(page.get_by_label("Until")).to_have_value("20:30")

        # A change with the cookie but without the CSRF token is refused (as a forged form is).
        assert page_fetch(page, "POST", "/api/campaign/voice") == 403
        assert page_fetch(page, "GET", f"/api/campaign/voice/{theirs}") == 404
        page.goto(f"{base}/#/campaigns")
        expect(page.get_by_role("link", name="October reminders")).to_be_visible()
        expect(page.get_by_role("link", name=XSS)).to_have_count(0)

        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_label("API key")).to_be_visible()
        page.go_back()
        page.go_back()
        expect(page.get_by_label("API key")).to_be_visible()  # the back button shows no data
        assert page_fetch(page, "GET", "/api/campaign/voice") == 401
        assert page_fetch(page, "GET", f"/api/campaign/voice/{ours}") == 401

        # Tenant B: its own campaign, the script in its name shown as text, never A's.
        log_in(page, base, globex.key)
        expect(page.get_by_role("link", name=XSS)).to_be_visible()
        expect(page.get_by_role("link", name="October reminders")).to_have_count(0)
        page.goto(f"{base}/#/campaigns/{ours}")
        expect(page.get_by_role("alert")).to_contain_text("No campaign")
        page.goto(f"{base}/#/campaigns/{theirs}")
        expect(page.get_by_role("heading", name=XSS)).to_be_visible()
        assert page.dialogs == []  # type: ignore[attr-defined]


def test_an_agent_takes_a_call_on_the_desk(tmp_path: Path, browser: Browser) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    acme = make_tenant(url, "Acme")
    (tmp_path / "profile.yaml").write_text(PROFILE)
    env = {**os.environ, "DIALER_DATABASE_URL": url}
    with serving(env, "--speed", "20", "--profile", str(tmp_path / "profile.yaml")) as (_, base):
        campaign = acme.campaign(
            "Renewals",
            type="agent",
            agentOptions={"wrapUpSeconds": None, "maxWaitSeconds": 300, "bridgeOnAnswer": False},
            phoneNumbers=[
                {
                    "number": "+447700900101",
                    "name": XSS,
                    "parameters": [{"parameter": 1, "value": "invoice 1234"}],
                }
            ],
        )
        code = acme.post(base, "/api/campaign/voice", campaign)["code"]
        container = build(Settings(database_url=url))
        try:
            tenant = container.tenants.authenticate(acme.key)
            agent = container.catalog.add_agent(tenant, "SIPSIP1", "Alice")
        finally:
            container.close()
        added = acme.post(
            base, "/ForwardDialer/Dialer/AddMember", {"Campaign": code, "Member": "SIPSIP1"}
        )
        assert added["ErrorCode"] == 0, added
        token = acme.post(base, f"/api/agents/{agent.id}/tokens")["token"]

        page = new_page(browser)
        log_in(page, base, token, agent=True)
        expect(page.get_by_role("heading", name="Agent desk")).to_be_visible()
        check_accessibility(page, "agent desk, offline")
        # The agent's session reaches the desk only.
        assert page_fetch(page, "GET", "/api/campaign/voice") == 403
        assert page_fetch(page, "GET", "/api/agents/sessions") == 403
        page.get_by_label("Phone to call me on").fill("sim:alice")
        page.get_by_role("button", name="Log in to take calls").click()
        # Ready once the simulated phone answers, then the customer is bridged at once.
        expect(page.get_by_test_id("customer-name")).to_have_text(XSS, timeout=90_000)
        expect(page.get_by_text("invoice 1234")).to_be_visible()
        check_accessibility(page, "agent desk, on a call")
        page.get_by_role("button", name="Hang up").click()
        expect(page.get_by_test_id("agent-state")).to_contain_text("wrap-up")
        # Time in state runs on the service's clock (20 times the browser's here): read against
        # the browser's own clock, a state begun at a service time ahead of it stayed at 0:00.
        expect(page.get_by_test_id("agent-state")).to_have_text(SOME_TIME_IN_STATE)
        page.get_by_role("button", name="Right person").click()
        expect(page.get_by_text("Disposition: CorrectCallee")).to_be_visible()
        assert page.dialogs == []  # type: ignore[attr-defined]
