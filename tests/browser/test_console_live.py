"""The live campaign pages in a real headless Chromium against `dialer serve` dialling on the
simulated network (docs/console.md): a 10,000-line CSV uploaded through the column-mapping step
and its report, the progress bar and a chart moving while the engine dials, pause and resume by
the lifecycle buttons, the numbers paged and searched, escaping, and axe-core on the new views.

Waits are Playwright's auto-waiting expects and polls of the API with a deadline: never a sleep,
never an assertion on how long something took (CI has 2 cores).
"""

import csv
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from dialer.testing.server import serving
from tests.browser.test_console import (
    Tenant,
    check_accessibility,
    log_in,
    make_tenant,
    new_page,
)

pytestmark = pytest.mark.browser
IMG = "<img src=x onerror=alert(1)>"
# Calls end quickly with a mix of outcomes, so the charts have more than one line.
PROFILE = """\
version: 1
name: console-live
outcomes: {answer: 0.6, busy: 0.2, no_answer: 0.2, unobtainable: 0, invalid: 0,
           network_failure: 0, congestion: 0}
answered_by: {human: 1, machine: 0, fax: 0}
ring_seconds: {median: 2, sigma: 0, min: 2, max: 2}
human:
  keypress: {"1": 0, "2": 0, "3": 0, "9": 0, none: 1, hangup: 0}
  keypress_delay_seconds: {median: 1, sigma: 0, min: 1, max: 1}
  patience_seconds: {median: 60, sigma: 0, min: 60, max: 60}
"""


def summary(tenant: Tenant, base: str, campaign: int) -> dict[str, Any]:
    answer = httpx.get(
        f"{base}/api/campaign/voice/{campaign}/summary",
        headers={"Authorization": f"Bearer {tenant.key}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def until(
    what: str,
    check: Callable[[], bool],
    seconds: float = 120,
    what_then: Callable[[], object] = lambda: None,
) -> None:
    """Poll the API until `check` holds; fail with `what` after a generous deadline."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"{what}: {what_then()}"
        time.sleep(0.25)  # a poll interval, not a wait for something to happen


def csv_file(path: Path) -> Path:
    lines = ["Telephone;Customer;Invoice;Note"]
    for i in range(10_000):
        if i in (10, 500, 9000):
            lines.append(f"not a number {i};Bad {i};x;y")
        elif i == 42:
            lines.append(f'07000 {i:06d};"{IMG}";inv {i};note')
        else:
            lines.append(f"07000 {i:06d};Customer {i:05d};inv {i};note")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_campaign_dials_live_under_the_managers_eyes(tmp_path: Path, browser: Browser) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    acme = make_tenant(url, "Acme")
    (tmp_path / "profile.yaml").write_text(PROFILE)
    env = {**os.environ, "DIALER_DATABASE_URL": url}
    with serving(env, "--speed", "20", "--profile", str(tmp_path / "profile.yaml")) as (_, base):
        # Paused from the start, with one number: the numbers come from the upload below.
        ours = acme.post(
            base,
            "/api/campaign/voice",
            acme.campaign(
                "Winter reminders",
                status="Disabled",
                phoneNumbers=[{"number": "+447700900101", "name": "First"}],
            ),
        )["id"]
        # A second campaign dialling all along: the clock the paused one is compared against.
        control = acme.post(
            base,
            "/api/campaign/voice",
            acme.campaign(
                "Control",
                phoneNumbers=[{"number": f"+4477009{i:05d}"} for i in range(3000)],
            ),
        )["id"]

        page = new_page(browser)
        log_in(page, base, acme.key)
        row = page.locator(f'tr[data-campaign="{ours}"]')
        expect(row.get_by_role("cell", name="Paused")).to_be_visible()
        # The control campaign's row moves by the stream alone (no reload, no click).
        control_done = page.locator(f'tr[data-campaign="{control}"] td.done')
        expect(control_done).not_to_have_text(re.compile(r"^0 / "))
        first = control_done.inner_text()
        expect(control_done).not_to_have_text(first)
        # While it dials, the list says when it should finish (the pace of the last minutes).
        control_row = page.locator(f'tr[data-campaign="{control}"]')
        expect(control_row.locator("td").nth(7)).not_to_have_text("—")
        check_accessibility(page, "campaigns list, live")

        page.get_by_role("link", name="Winter reminders").click()
        expect(page.get_by_test_id("campaign-state")).to_have_text("Paused")
        # The upload: the header is read in the browser, the columns mapped by hand.
        upload = csv_file(tmp_path / "numbers.csv")
        page.get_by_label("CSV file", exact=True).set_input_files(str(upload))
        expect(page.get_by_label("Column 1: Telephone")).to_have_value("number")
        expect(page.get_by_label("Column 2: Customer")).to_have_value("-")
        page.get_by_label("Column 2: Customer").select_option("name")
        page.get_by_label("Column 3: Invoice").select_option("p1")
        page.get_by_role("button", name="Upload").click()
        report = page.get_by_test_id("upload-report")
        expect(report).to_contain_text("9,997 added", timeout=90_000)
        expect(report).to_contain_text("3 lines rejected")
        expect(report.get_by_role("cell", name="12", exact=True)).to_be_visible()  # line 12
        expect(report.get_by_role("cell", name="9002", exact=True)).to_be_visible()
        expect(page.get_by_test_id("total")).to_have_text("9,998")
        check_accessibility(page, "campaign page with an upload report")

        # The numbers: page 2, a name search, the name with markup shown as text.
        numbers = page.get_by_role("region", name="Numbers", exact=True)
        numbers.get_by_role("button", name="Next page").click()
        expect(numbers.locator("caption")).to_have_text("Numbers, page 2")
        expect(numbers.get_by_role("cell", name="Customer 00030")).to_be_visible()
        page.get_by_label("Number or name").fill("onerror")
        page.get_by_label("Number or name").press("Enter")
        expect(numbers.get_by_role("cell", name=IMG)).to_be_visible()
        expect(numbers.locator("tbody tr")).to_have_count(1)

        # Start it: the progress bar and the attempts chart move as the engine dials.
        page.get_by_role("button", name="Resume").click()
        expect(page.get_by_test_id("campaign-state")).to_have_text("Running")
        bar = page.get_by_role("progressbar", name="Numbers finished")
        expect(bar).not_to_have_attribute("aria-valuenow", "0", timeout=90_000)
        expect(page.get_by_test_id("chart-totals")).not_to_contain_text(
            " 0 attempts", timeout=90_000
        )
        seen = int(bar.get_attribute("aria-valuenow") or 0)
        expect(bar).not_to_have_attribute("aria-valuenow", str(seen), timeout=90_000)
        check_accessibility(page, "campaign page, dialling")

        # Pause: the state changes, then nothing more is claimed and the done count stays put
        # while the control campaign goes on dialling.
        page.get_by_role("button", name="Pause").click()
        expect(page.get_by_test_id("campaign-state")).to_have_text("Paused")
        expect(page.get_by_role("status").first).to_contain_text("paused")
        until(
            "calls on the line finish after the pause",
            lambda: (s := summary(acme, base, ours))["inFlight"] == 0 and s["claimed"] == 0,
        )
        paused = summary(acme, base, ours)["done"]
        # The control campaign may have finished by now: new numbers set it dialling again.
        acme.post(
            base,
            f"/api/campaign/voice/{control}/numbers",
            [{"number": f"+4477008{i:05d}"} for i in range(3000)],
        )
        moved = summary(acme, base, control)["done"]
        until(
            "the control campaign dials on",
            lambda: summary(acme, base, control)["done"] > moved + 5,
            what_then=lambda: summary(acme, base, control),
        )
        assert summary(acme, base, ours)["done"] == paused
        expect(page.get_by_test_id("done")).to_have_text(f"{paused:,}")

        page.get_by_role("button", name="Resume").click()
        expect(page.get_by_test_id("campaign-state")).to_have_text("Running")
        until("the resumed one dials again", lambda: summary(acme, base, ours)["done"] > paused)

        # Cancel asks first: dismissed (new_page dismisses every dialog), nothing changes.
        page.get_by_role("button", name="Cancel campaign").click()
        assert summary(acme, base, ours)["state"] == "Running"
        asked = page.dialogs  # type: ignore[attr-defined]
        assert len(asked) == 1
        assert asked[0].startswith("Cancel Winter reminders?")
        page.evaluate("window.confirm = () => true")  # the user says yes this time
        page.get_by_role("button", name="Cancel campaign").click()
        expect(page.get_by_test_id("campaign-state")).to_have_text("Cancelled")
        expect(page.get_by_role("button", name="Resume")).to_have_count(0)
        assert summary(acme, base, ours)["state"] == "Cancelled"
        assert len(page.dialogs) == 1  # type: ignore[attr-defined]  # no alert(1) ever ran

        # The results, as the page's link downloads them: a line per attempt made, once the
        # calls on the line at the cancel have ended (and been recorded).
        until(
            "the last calls end and are recorded",
            lambda: (s := summary(acme, base, ours))["inFlight"] == 0 and s["claimed"] == 0,
        )
        with page.expect_download() as downloading:
            page.get_by_role("link", name="Results (CSV)").click()
        rows = list(csv.DictReader(Path(downloading.value.path()).read_text().splitlines()))
        made = summary(acme, base, ours)
        assert len(rows) >= made["done"] > 0
        assert all(r["number"].startswith("+44") and r["outcomeName"] for r in rows), rows[0]
        assert "Answered" in {r["outcomeName"] for r in rows}


def test_a_refused_change_shows_and_a_page_catches_up_after_the_stream_was_down(
    tmp_path: Path, browser: Browser
) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    acme = make_tenant(url, "Acme")
    env = {**os.environ, "DIALER_DATABASE_URL": url}
    with serving(env, "--no-engine") as (_, base):
        ours = acme.post(base, "/api/campaign/voice", acme.campaign("Spring recall"))["id"]
        page = new_page(browser)
        # No event stream, so the page still offers Pause after the campaign was cancelled
        # elsewhere (as a page whose stream is between reconnects would).
        page.route("**/api/events", lambda route: route.abort())
        log_in(page, base, acme.key)
        page.goto(f"{base}/#/campaigns/{ours}")
        expect(page.get_by_test_id("campaign-state")).to_have_text("Running")
        acme.post(base, f"/api/campaign/voice/{ours}/cancel")
        page.get_by_role("button", name="Pause").click()
        expect(page.get_by_role("alert")).to_contain_text("Not possible now")
        expect(page.get_by_test_id("campaign-state")).to_have_text("Cancelled")
        assert summary(acme, base, ours)["state"] == "Cancelled"  # the refusal changed nothing

        # The list, loaded while the stream is down, catches up once the stream comes back.
        page.goto(f"{base}/#/campaigns")
        expect(page.get_by_role("cell", name="Cancelled")).to_be_visible()
        later = acme.post(base, "/api/campaign/voice", acme.campaign("Summer recall"))["id"]
        expect(page.locator(f'tr[data-campaign="{later}"]')).to_have_count(0)
        page.unroute("**/api/events")
        expect(page.locator(f'tr[data-campaign="{later}"]')).to_contain_text("Summer recall")
