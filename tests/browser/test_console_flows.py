"""The console's call flows (upload with errors by node path, the dry run with its audio), the
webhook's test delivery, and the live wallboard with each agent's day, in a real headless
Chromium against `dialer serve` (docs/console.md). Fixtures are test_console.py's."""

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from playwright.sync_api import Browser, expect

from dialer.bootstrap import build
from dialer.settings import Settings
from dialer.testing.server import serving
from tests.browser.test_console import (
    check_accessibility,
    log_in,
    make_tenant,
    new_page,
)

pytestmark = pytest.mark.browser

BAD_FLOW = """{
  "version": 2,
  "nodes": {
    "greet": {"say": "Hello {Nmae}.", "next": "menu"},
    "menu": {"gather": {"prompt": "Press 1.", "timeout": 99},
             "branches": {"1": "bye"}, "default": "bye"},
    "bye": {"hangup": true}
  }
}"""
GOOD_FLOW = """version: 2
sms: "Hi {Name}"
answerphone: "Hello {Name}, please call us back."
nodes:
  greet: {say: "Hello {Name}. Your appointment is on {Parameter1}.", next: menu}
  menu:
    gather: {prompt: "Press 1 to confirm.", timeout: 5}
    branches: {"1": thanks}
    default: bye
  thanks: {say: "Thank you {Name}.", next: bye}
  bye: {hangup: true}
"""


class Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        Receiver.received.append(self.rfile.read(length))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


def test_call_flows_upload_and_dry_run_with_audio(tmp_path: Path, browser: Browser) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    acme = make_tenant(url, "Acme")
    env = {**os.environ, "DIALER_DATABASE_URL": url}
    with serving(env, "--no-engine") as (_, base):
        page = new_page(browser)
        log_in(page, base, acme.key)
        page.get_by_role("link", name="Call flows").click()
        expect(page.get_by_role("heading", name="Call flows", level=1)).to_be_visible()
        expect(page.get_by_role("cell", name="Reminder", exact=True)).to_be_visible()
        check_accessibility(page, "call flows")

        page.get_by_label("Name", exact=True).fill("Appointments")
        page.get_by_label("The flow (JSON or YAML)").fill(BAD_FLOW)
        page.get_by_role("button", name="Add the call flow").click()
        problems = page.locator("#flow-problems")
        expect(problems).to_contain_text("nodes.greet.say")
        expect(problems).to_contain_text("{Nmae}")
        expect(problems).to_contain_text("nodes.menu.gather.timeout")
        flow_text = page.get_by_label("The flow (JSON or YAML)")
        expect(flow_text).to_have_attribute("aria-invalid", "true")
        check_accessibility(page, "call flow with problems")

        page.get_by_label("The flow (JSON or YAML)").fill(GOOD_FLOW)
        page.get_by_role("button", name="Add the call flow").click()
        expect(page.get_by_role("cell", name="Appointments", exact=True)).to_be_visible()
        expect(page.locator("#flow-problems")).to_have_count(0)

        # The new flow is chosen for the dry run: 1 at the menu, a sample name and parameter.
        expect(page.get_by_label("Call flow", exact=True)).to_contain_text("Appointments")
        page.get_by_label("Keys pressed").fill("1")
        page.get_by_label("Sample name (Name)").fill("Ann")
        page.get_by_label("Parameters, one a line (Parameter1, 2, …)").fill("Monday")
        page.get_by_role("button", name="Run", exact=True).click()
        steps = page.locator(".dry-step")
        expect(steps.first).to_contain_text("Hello Ann. Your appointment is on Monday.")
        expect(page.get_by_text("Thank you Ann.")).to_be_visible()
        expect(page.locator(".dry-end")).to_contain_text("hangup")
        check_accessibility(page, "dry run")

        # The audio element's URL answers WAV to this page's session cookie, and to no one else.
        src = page.locator(".dry-step audio").first.get_attribute("src")
        assert src is not None
        assert src.startswith("/api/callflows/dry-run/audio/")
        fetched = page.evaluate(
            "(src) => fetch(src, {credentials: 'same-origin'}).then(async r => "
            "[r.status, r.headers.get('content-type'), (await r.arrayBuffer()).byteLength])",
            src,
        )
        assert fetched[:2] == [200, "audio/wav"], fetched
        assert fetched[2] > 44, fetched  # more than a WAV header
        assert httpx.get(base + src, timeout=10).status_code == 401


def test_webhook_test_delivery_shows_its_result(
    tmp_path: Path,
    browser: Browser,
    receiver: str,
) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    acme = make_tenant(url, "Acme")
    env = {**os.environ, "DIALER_DATABASE_URL": url}
    with serving(env, "--no-engine", "--webhook-allow", "127.0.0.1") as (_, base):
        page = new_page(browser)
        log_in(page, base, acme.key)
        page.get_by_role("link", name="Webhooks").click()
        page.get_by_label("Register a URL").fill(receiver)
        page.get_by_role("button", name="Register").click()
        expect(page.get_by_role("button", name="Send a test delivery")).to_be_visible()
        Receiver.received.clear()
        page.get_by_role("button", name="Send a test delivery").click()
        expect(page.locator(".test-result")).to_contain_text("delivered: status 200")
        assert len(Receiver.received) == 1
        assert json.loads(Receiver.received[0])["test"] is True
        check_accessibility(page, "webhook with a test result")


def test_the_wallboard_shows_an_agent_change_live_and_the_day(
    tmp_path: Path,
    browser: Browser,
) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    acme = make_tenant(url, "Acme")
    env = {**os.environ, "DIALER_DATABASE_URL": url}
    with serving(env, "--no-engine") as (_, base):
        container = build(Settings(database_url=url))
        try:
            tenant = container.tenants.authenticate(acme.key)
            agent = container.catalog.add_agent(tenant, "SIPSIP1", "Alice")
        finally:
            container.close()
        token = acme.post(base, f"/api/agents/{agent.id}/tokens")["token"]
        page = new_page(browser)
        log_in(page, base, acme.key)
        page.get_by_role("link", name="Wallboard").click()
        row = page.locator("tr[data-agent='SIPSIP1']")
        expect(row).to_contain_text("offline")
        expect(page.locator(".agents-day")).to_contain_text("Alice")
        check_accessibility(page, "wallboard")
        page.evaluate("() => { window.notReloaded = true; }")
        # The change must come by the event stream: the list is not read again (no polling).
        reads: list[str] = []
        page.on(
            "request", lambda r: reads.append(r.url) if "/api/agents/sessions" in r.url else None
        )

        # The agent logs in through the desk API (another client): the row changes by itself.
        desk = {"Authorization": f"Bearer {token}"}
        answer = httpx.post(
            base + "/api/agents/me/login", json={"phone": "sim:alice"}, headers=desk, timeout=30
        )
        assert answer.status_code == 201, answer.text
        state = answer.json()["state"]
        assert state != "offline"
        expect(row.locator(".badge")).to_have_text(state)
        assert page.evaluate("() => window.notReloaded") is True
        assert reads == []

        page.get_by_label("Day", exact=True).fill("2020-01-01")
        expect(page.locator(".agents-day")).to_contain_text("2020-01-01")
