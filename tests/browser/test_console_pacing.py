"""The campaign page's pacing chart in a real headless Chromium against `dialer serve` dialling
an agent campaign on the simulated network at --speed 20 (docs/console.md): the ratio the
engine saves (lines dialled per agent available, migration 0022's history) is named and drawn
once the campaign dials, without a reload, and the rates chart draws the abandoned-call rate
against its limit.

Waits are Playwright's auto-waiting expects and a poll of the API, with generous deadlines;
never an assertion on how long something took (CI has 2 cores)."""

import os
import re
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from dialer.bootstrap import build
from dialer.settings import Settings
from dialer.testing.server import serving
from tests.browser.test_console import (
    PROFILE,
    check_accessibility,
    log_in,
    make_tenant,
    new_page,
)

pytestmark = pytest.mark.browser
# Ratio pacing at 2.5: every decision the engine saves aims at 2.5 lines per agent available.
RATIO = 2.5
SHOWS_THE_RATIO = re.compile(
    r"lines dialled per agent available, .*: 2\.50 in the latest period with decisions .*"
    r"between 2\.50 and 2\.50 over the span"
)
# charts.js's COLOURS[0], the mean ratio's line and dots.
MEAN_RGB = (0x0B, 0x5C, 0xAD)
# Whether a canvas has a pixel of that colour (the dots are filled with it).
DRAWN_IN = """([testid, rgb]) => {
  const canvas = document.querySelector(`[data-testid="${testid}"] canvas`);
  if (!canvas) return false;
  const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  for (let i = 0; i < px.length; i += 4) {
    if (px[i + 3] > 200 && Math.abs(px[i] - rgb[0]) < 10 && Math.abs(px[i + 1] - rgb[1]) < 10
        && Math.abs(px[i + 2] - rgb[2]) < 10) return true;
  }
  return false;
}"""


def until_dialled(key: str, base: str, campaign: int) -> None:
    """Poll the summary until the engine has placed a call (a generous deadline, no sleep for
    something to happen)."""
    deadline = time.monotonic() + 120
    while True:
        answer = httpx.get(
            f"{base}/api/campaign/voice/{campaign}/summary",
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        shown = answer.json()
        if shown["inFlight"] or shown["done"]:
            return
        assert time.monotonic() < deadline, f"the campaign never dialled: {shown}"
        time.sleep(0.25)  # a poll interval


def test_the_pacing_ratio_is_charted_while_an_agent_campaign_dials(
    tmp_path: Path, browser: Browser
) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    acme = make_tenant(url, "Acme")
    (tmp_path / "profile.yaml").write_text(PROFILE)
    env = {**os.environ, "DIALER_DATABASE_URL": url}
    with serving(env, "--speed", "20", "--profile", str(tmp_path / "profile.yaml")) as (_, base):
        campaign = acme.campaign(
            "Renewals",
            type="agent",
            agentOptions={
                "wrapUpSeconds": None,
                "maxWaitSeconds": 300,
                "bridgeOnAnswer": False,
                "pacing": {"mode": "ratio", "ratio": RATIO},
            },
            phoneNumbers=[
                {"number": f"+4477009{i:05d}", "name": f"Customer {i}"} for i in range(30)
            ],
        )
        created = acme.post(base, "/api/campaign/voice", campaign)
        container = build(Settings(database_url=url))
        try:
            tenant = container.tenants.authenticate(acme.key)
            agent = container.catalog.add_agent(tenant, "SIPSIP1", "Alice")
        finally:
            container.close()
        added = acme.post(
            base,
            "/ForwardDialer/Dialer/AddMember",
            {"Campaign": created["code"], "Member": "SIPSIP1"},
        )
        assert added["ErrorCode"] == 0, added
        token = acme.post(base, f"/api/agents/{agent.id}/tokens")["token"]

        page = new_page(browser)
        log_in(page, base, acme.key)
        page.goto(f"{base}/#/campaigns/{created['id']}")
        chart = page.get_by_test_id("chart-pacing")
        label = chart.get_by_role("img")
        # The rates chart: the abandoned-call rate over its window and the UK limit, dashed.
        rates = page.get_by_test_id("chart-rates")
        expect(rates).to_contain_text("Abandoned % (24h)")
        expect(rates).to_contain_text("Abandoned limit %")
        expect(rates.get_by_role("img")).to_have_attribute(
            "aria-label", re.compile(r"of at most 3(\.0)?%")
        )

        # The agent logs in on a simulated phone: the engine dials, the pacer decides and saves.
        answer = httpx.post(
            f"{base}/api/agents/me/login",
            json={"phone": "sim:alice"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert answer.status_code in (200, 201), answer.text
        until_dialled(acme.key, base, created["id"])
        # The page reads the statistics again as the live summary moves: no reload.
        expect(label).to_have_attribute("aria-label", SHOWS_THE_RATIO, timeout=90_000)
        expect(chart.locator("canvas")).to_be_visible()
        # Drawn: the canvas has the mean's colour (its dots), not only axes and a legend.
        page.wait_for_function(DRAWN_IN, arg=["chart-pacing", list(MEAN_RGB)], timeout=30_000)
        check_accessibility(page, "campaign page, an agent campaign dialling")

        # Nothing left on the line, so that the server stops at once (calls in flight finish).
        acme.post(base, f"/api/campaign/voice/{created['id']}/cancel")
        agent_headers = {"Authorization": f"Bearer {token}"}
        for action in ("hangup", "logout"):
            httpx.post(f"{base}/api/agents/me/{action}", headers=agent_headers, timeout=30)
