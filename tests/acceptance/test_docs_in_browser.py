"""The interactive docs render in a real headless Chromium, from assets we serve (no CDN)."""

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from playwright.sync_api import Locator, Page, sync_playwright

from dialer.bootstrap import build
from dialer.clocks import ManualClock
from dialer.settings import Settings
from dialer.testing.server import serving
from tests.conftest import Account

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def test_swagger_ui_lists_every_api_in_a_browser(tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    assert Path(chromium).exists(), "Chromium is missing: ./scripts/test installs it (apt chromium)"
    env = {**os.environ, "DIALER_DATABASE_URL": f"sqlite:///{tmp_path / 'd.db'}"}
    with serving(env) as (_, base), tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run(
            [
                chromium,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                "--virtual-time-budget=10000",
                "--dump-dom",
                f"{base}/docs",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
    # Swagger UI built these elements from /openapi.json: the JavaScript ran and the spec loaded.
    paths = set(re.findall(r'class="opblock-summary-path" data-path="([^"]+)"', dom))
    assert {
        "/api/campaign/voice",
        "/api/campaign/voice/{campaign_id}",
        "/api/callflows",
        "/api/clis",
        "/api/dnc",
        "/ForwardDialer/Dialer/GetCampaignList",
        "/ForwardDialer/Dialer/AddCallsBulk",
        "/ForwardDialer/Dialer/UpdateCampaignStrategy",
    } <= paths
    assert "Failed to load API definition" not in dom


def test_swagger_ui_authorizes_with_the_api_key_and_tries_both_apis(
    tmp_path: Path, clock: ManualClock
) -> None:
    """/docs shows Authorize (the bearer scheme); with the key, Try it out gets a 200 from the
    REST API, and a Dialer API method takes its Campaign parameter from the form."""
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    url = f"sqlite:///{tmp_path / 'd.db'}"
    # Made on the suite's clock, before its dates; the server only reads it.
    container = build(Settings(database_url=url), clock=clock)
    try:
        account = Account(container, "Acme")
        code = container.campaigns.create(account.tenant, account.campaign()).campaign.code
    finally:
        container.close()
    env = {**os.environ, "DIALER_DATABASE_URL": url}
    with serving(env, "--no-engine") as (_, base), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            page.goto(f"{base}/docs")
            clis = _operation(page, "get", "/api/clis")
            clis.locator(".try-out__btn").click()
            assert _execute(clis)[0] == "401"  # no key yet: what every user saw before

            page.locator(".btn.authorize").first.click()
            # The modal has a form per scheme: the tenant's API key, and agents' tokens.
            key_form = page.locator(".modal-ux .auth-container").filter(has_text="bearerAuth")
            key_form.locator("input").fill(account.key)
            key_form.locator(".auth-btn-wrapper .authorize").click()
            page.locator(".modal-ux .btn-done").first.click()
            status, body = _execute(clis)
            assert status == "200"
            assert "+441632960000" in body

            details = _operation(page, "get", "/ForwardDialer/Dialer/GetCampaignDetails")
            details.locator(".try-out__btn").click()
            details.locator('input[placeholder="Campaign"]').fill(code)
            status, answer = _execute(details)
            assert status == "200"
            assert '"ErrorCode": 0' in answer
            assert code in answer
        finally:
            browser.close()


def _operation(page: Page, verb: str, path: str) -> Locator:
    block = page.locator(f".opblock-{verb}").filter(
        has=page.locator(f'.opblock-summary-path[data-path="{path}"]')
    )
    block.locator(".opblock-summary").click()
    return block


def _execute(block: Locator) -> tuple[str, str]:
    """Execute the operation's form: the response's status and body, then clear them."""
    block.locator(".execute").click()
    row = block.locator(".live-responses-table tbody tr")
    row.wait_for(timeout=30_000)
    status = row.locator(".response-col_status").inner_text().strip()
    body = row.locator(".response-col_description").inner_text()
    block.locator(".btn-clear").click()
    return status, body
