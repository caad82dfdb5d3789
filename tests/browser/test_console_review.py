"""What the console does, bullet by bullet of issue 14 (docs/console.md, "What the console does,
and the test for each"), for the parts no other browser test covers: the do-not-call list, the
webhook delivery log's retry, the tenant settings and the API key's rotation, the campaigns
list's filters, editing a campaign, the results CSV, errors on every page, and the keyboard.
Fixtures are test_console.py's; every page runs under the console's Content-Security-Policy."""

import os
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect

from dialer.bootstrap import build
from dialer.clocks import ManualClock
from dialer.domain.webhook import MAX_TRIES
from dialer.settings import Settings
from dialer.testing.server import free_port, serving
from tests.browser.test_console import WAIT, log_in, make_tenant, new_page, page_fetch
from tests.integration.test_webhooks import PAYLOAD, deliver_once, enqueue

pytestmark = pytest.mark.browser


def test_the_do_not_call_list_checks_imports_and_removes(tmp_path: Path, browser: Browser) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    acme = make_tenant(url, "Acme")
    env = {**os.environ, "DIALER_DATABASE_URL": url}
    with serving(env, "--no-engine") as (_, base):
        page = new_page(browser)
        log_in(page, base, acme.key)
        # The empty states of a new tenant's pages say what to do next.
        page.get_by_role("link", name="Webhooks").click()
        expect(page.get_by_text("No webhook: results are only in the API.")).to_be_visible()
        expect(page.get_by_role("heading", name="No deliveries yet")).to_be_visible()
        page.get_by_role("link", name="Wallboard").click()
        expect(page.get_by_role("heading", name="No agents").first).to_be_visible()
        expect(page.get_by_text("No campaign is running, scheduled or paused.")).to_be_visible()
        page.get_by_role("link", name="Do not call").click()
        expect(page.get_by_role("heading", name="The list is empty")).to_be_visible()
        # An import is a pasted column; a line that is no number is refused under the field,
        # and nothing of the import is added.
        page.get_by_label("Numbers", exact=True).fill("07700 900001\n07700 900002\nnot a number")
        page.get_by_role("button", name="Add", exact=True).click()
        expect(page.locator("#dnc-change-error")).to_be_visible()
        expect(page.get_by_label("Numbers", exact=True)).to_have_attribute("aria-invalid", "true")
        expect(page.get_by_role("heading", name="The list is empty")).to_be_visible()
        column = "\n".join(f"07700 9000{i:02d}" for i in range(1, 31))
        page.get_by_label("Numbers", exact=True).fill(column)
        page.get_by_role("button", name="Add", exact=True).click()
        expect(page.get_by_role("status")).to_contain_text("30 added, 0 already listed")
        listed = page.get_by_role("region", name="Listed numbers")
        expect(listed.get_by_role("listitem")).to_have_count(30)
        expect(listed).to_contain_text("+447700900017")

        page.get_by_label("Number", exact=True).fill("07700 900017")
        page.get_by_label("Number", exact=True).press("Enter")  # submitted by keyboard
        expect(page.get_by_role("search", name="Check a number")).to_contain_text("on the list")
        page.get_by_label("Numbers", exact=True).fill("07700 900017, 07700 900099")
        page.get_by_role("button", name="Remove").click()
        expect(page.get_by_role("status").filter(has_text="removed")).to_have_text(
            "1 removed, 1 were not listed."
        )
        expect(listed.get_by_role("listitem")).to_have_count(29)
        page.get_by_label("Number", exact=True).press("Enter")
        expect(page.get_by_role("search", name="Check a number")).to_contain_text("not on the list")


def test_the_webhook_log_shows_the_last_error_and_retries(tmp_path: Path, browser: Browser) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    acme = make_tenant(url, "Acme")
    # A delivery that failed at every try (nothing listens on that port) and was given up.
    container = build(Settings(database_url=url, webhook_allow=("127.0.0.1",)))
    try:
        tenant = container.tenants.authenticate(acme.key)
        assert tenant is not None
        container.webhooks.register(tenant, f"http://127.0.0.1:{free_port()}/hook")
        clock = ManualClock(datetime.now(UTC) - timedelta(days=1))
        enqueue(container, SimpleNamespace(tenant=tenant), clock, PAYLOAD)  # type: ignore[arg-type]
        # In a thread of its own: the browser fixture's Playwright holds this thread's loop.
        with ThreadPoolExecutor(1) as thread:
            for _ in range(MAX_TRIES):
                assert thread.submit(deliver_once, container, clock).result() == 1
                clock.advance(timedelta(hours=2))
    finally:
        container.close()
    env = {**os.environ, "DIALER_DATABASE_URL": url}
    with serving(env, "--no-engine", "--webhook-allow", "127.0.0.1") as (_, base):
        page = new_page(browser)
        log_in(page, base, acme.key)
        page.get_by_role("link", name="Webhooks").click()
        deliveries = page.get_by_role("region", name="Deliveries")
        row = deliveries.locator("tbody tr")
        expect(row).to_have_count(1)
        expect(row.locator("td").nth(1)).to_have_text("failed")
        expect(row.locator("td").nth(2)).to_have_text(str(MAX_TRIES))
        expect(row.locator("td").nth(3)).not_to_have_text("—")  # the last error, as the API has it
        page.get_by_role("button", name="Retry the 1 given up").click()
        expect(page.get_by_role("status")).to_contain_text("1 deliveries will be tried again")
        expect(row.locator("td").nth(1)).to_have_text("pending")
        expect(row.locator("td").nth(2)).to_have_text("0")
        expect(page.get_by_role("button", name="Retry the 1 given up")).to_have_count(0)


def test_settings_save_the_regime_and_the_key_is_rotated(tmp_path: Path, browser: Browser) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    acme = make_tenant(url, "Acme")
    env = {**os.environ, "DIALER_DATABASE_URL": url}
    with serving(env, "--no-engine") as (_, base):
        page = new_page(browser)
        log_in(page, base, acme.key)
        page.get_by_role("link", name="Settings").click()
        page.get_by_label("Target (% of live calls)").fill("-4")
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.locator("#s-target-error")).to_be_visible()
        page.get_by_label("Regime").select_option("us")
        page.get_by_label("Target (% of live calls)").fill("2.5")
        page.get_by_label("Information message").fill("This is Acme; call 0800 123 4567.")
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.get_by_role("status")).to_contain_text("Saved.")
        page.reload()
        expect(page.get_by_label("Regime")).to_have_value("us")
        expect(page.get_by_label("Target (% of live calls)")).to_have_value("2.5")
        expect(page.get_by_label("Information message")).to_have_value(
            "This is Acme; call 0800 123 4567."
        )

        # Rotation asks first (dismissed: nothing changes), then shows the new key once; the
        # old key and this session open nothing any more, the new key does.
        page.get_by_role("button", name="Rotate the API key").click()
        assert page.dialogs[-1].startswith("Make a new API key?")  # type: ignore[attr-defined]
        assert page_fetch(page, "GET", "/api/settings/compliance") == 200
        page.evaluate("window.confirm = () => true")
        page.get_by_role("button", name="Rotate the API key").click()
        shown = page.get_by_role("status").filter(has_text="The new key, shown once")
        expect(shown).to_be_visible()
        new_key = shown.locator("code").inner_text()
        assert new_key.startswith("dk_")
        assert new_key != acme.key
        old = httpx.get(
            base + "/api/settings/compliance",
            headers={"Authorization": f"Bearer {acme.key}"},
            timeout=30,
        )
        assert old.status_code == 401
        assert page_fetch(page, "GET", "/api/settings/compliance") == 401
        page.reload()
        expect(page.get_by_label("API key")).to_be_visible()
        log_in(page, base, new_key)
        expect(page.get_by_role("heading", name="No campaigns yet")).to_be_visible()


def test_the_list_filters_a_campaign_is_edited_and_its_results_download(
    tmp_path: Path, browser: Browser
) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    acme = make_tenant(url, "Acme")
    env = {**os.environ, "DIALER_DATABASE_URL": url}
    with serving(env, "--no-engine") as (_, base):
        first = acme.post(base, "/api/campaign/voice", acme.campaign("Winter flu"))["id"]
        acme.post(base, "/api/campaign/voice", acme.campaign("Spring recall", status="Disabled"))
        page = new_page(browser)
        log_in(page, base, acme.key)
        rows = page.locator("table.campaigns tbody tr")
        expect(rows).to_have_count(2)
        page.get_by_label("State").select_option("Paused")
        expect(rows).to_have_count(1)
        expect(rows).to_contain_text("Spring recall")
        page.get_by_label("State").select_option("")
        page.get_by_label("Name or id").fill("flu")
        expect(rows).to_have_count(1)
        expect(rows).to_contain_text("Winter flu")
        page.get_by_label("Name or id").fill(str(first))
        expect(rows).to_contain_text("Winter flu")
        page.get_by_label("Name or id").fill("nothing like it")
        expect(page.get_by_role("heading", name="No campaign matches")).to_be_visible()
        page.get_by_label("Name or id").fill("")

        page.get_by_role("link", name="Winter flu").click()
        # The window and its runover day, as the campaign has them.
        runover = acme.campaign("x")["runoverDays"][0]["date"]
        schedule = page.get_by_role("region", name="Schedule")
        expect(schedule).to_contain_text("00:00–23:59")
        expect(schedule).to_contain_text(f"{runover}, 00:00–23:59")
        # The numbers' filters send what was chosen (nothing was dialled: no number matches).
        numbers = page.get_by_role("region", name="Numbers", exact=True)
        expect(numbers.get_by_role("cell", name="+447700900101")).to_be_visible()
        for label, choice, sent in (
            ("Last outcome", "Busy", "outcome=Busy"),
            ("Last stage", "CorrectCallee", "stage=CorrectCallee"),
        ):
            with page.expect_request(lambda r, sent=sent: sent in r.url):
                page.get_by_label(label).select_option(choice)
            expect(page.get_by_label(label)).to_have_value(choice)
            expect(numbers.get_by_text("No numbers match.")).to_be_visible()
            page.get_by_label(label).select_option("")
            expect(numbers.get_by_role("cell", name="+447700900101")).to_be_visible()
        page.get_by_role("link", name="Edit").click()
        expect(page.get_by_label("Name", exact=True)).to_have_value("Winter flu")
        page.get_by_label("Name", exact=True).fill("Winter flu, second round")
        page.get_by_label("Name", exact=True).press("Enter")  # the form submits by keyboard
        expect(page.get_by_role("heading", name="Winter flu, second round")).to_be_visible()

        with page.expect_download() as downloading:
            page.get_by_role("link", name="Results (CSV)").click()
        download = downloading.value
        # Nothing was dialled: the header alone (test_console_live downloads rows).
        header = Path(download.path()).read_text().splitlines()
        assert header[0].startswith("number,name,attemptNumber,outcome,"), header
        assert len(header) == 1, header


def fail_reads(route: Route) -> None:
    """Every read of the API but the session's fails as a broken server's would."""
    path = route.request.url.split("?")[0]
    if route.request.method == "GET" and not path.endswith(("/api/session", "/api/events")):
        route.fulfill(
            status=503,
            content_type="application/problem+json",
            body='{"title": "Service Unavailable", "status": 503,'
            ' "detail": "The store is not answering."}',
        )
    else:
        route.continue_()


def test_every_page_says_when_the_service_fails(tmp_path: Path, browser: Browser) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    acme = make_tenant(url, "Acme")
    env = {**os.environ, "DIALER_DATABASE_URL": url}
    with serving(env, "--no-engine") as (_, base):
        ours = acme.post(base, "/api/campaign/voice", acme.campaign("Autumn"))["id"]
        page = new_page(browser)
        log_in(page, base, acme.key)
        page.route("**/api/**", fail_reads)
        for target in (
            "#/campaigns",
            f"#/campaigns/{ours}",
            f"#/campaigns/{ours}/edit",
            "#/campaigns/new",
            "#/wallboard",
            "#/callflows",
            "#/dnc",
            "#/webhooks",
            "#/settings",
        ):
            page.goto(f"{base}/{target}")
            page.reload()  # read afresh, also the page the log-in had already loaded
            expect(page.get_by_role("alert").first).to_contain_text(
                "The store is not answering", timeout=WAIT
            )
            expect(page.locator(".loading")).to_have_count(0)


def focused(page: Page) -> str:
    text: str = page.evaluate(
        "() => { const e = document.activeElement;"
        " return (e.getAttribute('aria-label') || e.labels?.[0]?.textContent"
        " || e.textContent || '').trim(); }"
    )
    return text


def test_the_console_works_by_keyboard(tmp_path: Path, browser: Browser) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    acme = make_tenant(url, "Acme")
    env = {**os.environ, "DIALER_DATABASE_URL": url}
    with serving(env, "--no-engine") as (_, base):
        page = new_page(browser)
        page.goto(base + "/")
        expect(page.get_by_label("API key")).to_be_visible()
        # Log in with the keyboard alone: the manager's radio, then the key, then Enter.
        page.keyboard.press("Tab")
        assert focused(page) == "a campaign manager"
        page.keyboard.press("Tab")
        assert focused(page) == "API key"
        page.keyboard.type(acme.key)
        page.keyboard.press("Enter")
        expect(page.get_by_role("button", name="Log out")).to_be_visible()
        expect(page.get_by_role("heading", name="No campaigns yet")).to_be_visible()
        # The tab order from the top of a freshly loaded page: the skip link, the navigation
        # in its order, then log out.
        page.reload()
        expect(page.get_by_role("heading", name="No campaigns yet")).to_be_visible()
        order = []
        for _ in range(8):
            page.keyboard.press("Tab")
            order.append(focused(page))
        assert order == [
            "Skip to content",
            "Campaigns",
            "Wallboard",
            "Call flows",
            "Do not call",
            "Webhooks",
            "Settings",
            "Log out",
        ], order
        # The focus is visible: an outline of at least 2 px, on links, buttons and fields.
        outline = page.evaluate(
            "() => { const s = getComputedStyle(document.activeElement);"
            " return [s.outlineStyle, parseFloat(s.outlineWidth)]; }"
        )
        assert outline[0] != "none", outline
        assert outline[1] >= 2, outline
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Enter")  # Settings, followed by keyboard
        expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()
        # Focus goes to the content on navigation, so the next Tab is in the page, not the menu.
        page.keyboard.press("Tab")
        assert page.evaluate(
            "() => document.querySelector('main').contains(document.activeElement)"
        )
        outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
        assert outline != "none", outline

        # A campaign made from the form with the keyboard alone: fields filled, Enter sends it.
        page.goto(f"{base}/#/campaigns/new")
        name = page.get_by_label("Name", exact=True)
        name.focus()
        page.keyboard.type("Keyboard campaign")
        body = acme.campaign("x")
        page.get_by_label("First day").fill(body["startDate"])
        page.get_by_label("From").fill("00:00")
        page.get_by_label("Until").fill("23:59")
        page.get_by_label("Phone numbers").fill("07700 900123, Ann")
        name.focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Keyboard campaign")).to_be_visible()
        assert page.context.pages == [page]


def test_a_large_upload_shows_its_progress(tmp_path: Path, browser: Browser) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    acme = make_tenant(url, "Acme")
    env = {**os.environ, "DIALER_DATABASE_URL": url}
    lines = ["Telephone,Customer"] + [f"07000 {i:06d},Customer {i:05d}" for i in range(20_000)]
    upload = tmp_path / "numbers.csv"
    upload.write_text("\n".join(lines) + "\n")
    with serving(env, "--no-engine") as (_, base):
        ours = acme.post(base, "/api/campaign/voice", acme.campaign("Big list"))["id"]
        page = new_page(browser)
        log_in(page, base, acme.key)
        page.goto(f"{base}/#/campaigns/{ours}")
        page.get_by_label("CSV file", exact=True).set_input_files(str(upload))
        expect(page.get_by_label("Column 1: Telephone")).to_have_value("number")
        # A slow line (about 100 kB/s up), as from a branch office: the bar shows the way.
        cdp = page.context.new_cdp_session(page)
        cdp.send(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 100_000},
        )
        page.get_by_role("button", name="Upload").click()
        bar = page.get_by_role("progressbar", name="Upload")
        expect(bar).to_have_attribute("aria-valuenow", re.compile(r"^[1-9]\d?$"))
        expect(page.get_by_test_id("upload-report")).to_contain_text("20,000 added", timeout=90_000)
        expect(bar).to_have_attribute("aria-valuenow", "100")
