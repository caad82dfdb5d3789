"""The console's cost, in Chromium against a real `dialer serve --no-engine` on SQLite: the time
to load the campaigns list (100 campaigns), a campaign page, and the numbers page 500 of a
1,000,000-number campaign (filled by SQL, as bench/numbers_page.py does); then the server's CPU
and RSS with N = 1, 10, 50 open live consoles (GET /api/events clients, bench/live_events.py's
reader) while a `dialer worker` dials 20 campaigns on the simulated network.

    nice -n 10 .venv/bin/python bench/console.py [--numbers 1000000] [--seconds 8]

A page's load time runs from navigation to its data on screen (no "Loading…" left), in a
fresh page of a logged-in context, best of 3. The browser, the server and the worker share
the machine's cores, so every figure is indicative.
"""

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from playwright.sync_api import BrowserContext, Page, sync_playwright

sys.path.insert(0, str(Path(__file__).parent))
from live_events import measure
from numbers_page import fill
from server import Server, running_server

LIST_CAMPAIGNS = 100
DIALLED = 20
DIALLED_NUMBERS = 500
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]


def campaign(server: Server, name: str, day: str, numbers: list[dict[str, Any]]) -> dict[str, Any]:
    window = {"startTime": "00:00", "finishTime": "23:59"}
    following = (datetime.fromisoformat(day) + timedelta(days=1)).date().isoformat()
    return {
        "name": name,
        "startDate": day,
        **window,
        "runoverDays": [{"date": following, **window}],
        "callflow_Id": server.callflow_id,
        "cli_Id": server.cli_id,
        "attempts": [{"attemptNumber": 1, "interval": 1}],
        "answerMachineDetected": 0,
        "smsOnBusy": 0,
        "phoneNumbers": numbers,
    }


def best_of(context: BrowserContext, url: str, ready: Callable[[Page], None]) -> str:
    times = []
    for _ in range(3):
        page = context.new_page()
        page.set_default_timeout(60_000)
        started = time.perf_counter()
        page.goto(url)
        ready(page)
        times.append(time.perf_counter() - started)
        page.close()
    return f"{min(times) * 1000:8.0f} ms"


def page_loads(server: Server, big_id: int, one_id: int, count: int) -> None:
    key = server.tenant["api_key"]
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context()
            logged = context.request.post(f"{server.base}/api/session", data={"apiKey": key})
            assert logged.status == 201, logged.text()

            def settled(page: Page) -> None:
                # A campaign page has several parts loading at once (activity, numbers).
                page.wait_for_function("() => !document.querySelector('.loading')")

            def listed(page: Page) -> None:
                page.locator("table.list tbody tr").nth(LIST_CAMPAIGNS - 1).wait_for()
                settled(page)

            def shown(page: Page) -> None:
                page.get_by_role("heading", level=1).wait_for()
                settled(page)

            numbers = f"/api/campaign/voice/{big_id}/numbers?page=500"
            rows = [
                ("campaigns list (100 campaigns)", "/#/campaigns", listed),
                ("campaign page (1 number)", f"/#/campaigns/{one_id}", shown),
                (f"campaign page ({count:,} numbers)", f"/#/campaigns/{big_id}", shown),
            ]
            print(f"{'page':46s} {'load':>11}")
            for label, path, ready in rows:
                print(f"{label:46s} {best_of(context, server.base + path, ready)}", flush=True)
            # The numbers page's own request, timed from a logged-in page (the session cookie,
            # as the page sends it), without drawing the rows.
            page = context.new_page()
            page.goto(f"{server.base}/#/campaigns")
            settled(page)
            took = min(
                page.evaluate(
                    "async (u) => { const t = performance.now(); const r = await fetch(u);"
                    " await r.json(); return performance.now() - t; }",
                    numbers,
                )
                for _ in range(3)
            )
            label = f"numbers page 500 ({count:,}; its GET, in page)"
            print(f"{label:46s} {took:8.0f} ms")
        finally:
            browser.close()


def live_consoles(server: Server, url: str, counts: list[int], seconds: float) -> None:
    key = server.tenant["api_key"]
    headers = {"Authorization": f"Bearer {key}"}
    today = datetime.now(ZoneInfo("Europe/London")).date().isoformat()
    for c in range(DIALLED):
        numbers = [{"number": f"+4477009{c:02d}{n:03d}"} for n in range(DIALLED_NUMBERS)]
        body = campaign(server, f"Dialled {c}", today, numbers)
        httpx.post(
            f"{server.base}/api/campaign/voice", json=body, headers=headers, timeout=60
        ).raise_for_status()
    worker = subprocess.Popen(
        [sys.executable, "-m", "dialer", "worker", "--database", url, "--speed", "4"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        # Measured once the worker dials (it takes a few seconds to start on a loaded machine).
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            summaries = httpx.get(
                f"{server.base}/api/campaign/voice/summaries", headers=headers, timeout=30
            ).json()
            dialled = [s for s in summaries if s["name"].startswith("Dialled")]
            if any(s["done"] or s["inFlight"] for s in dialled):
                break
            time.sleep(0.5)
        print(f"\nlive consoles: {DIALLED} campaigns being dialled; {seconds:g} s per row")
        print(
            f"{'N':>4} {'server CPU':>11} {'RSS MB':>9} {'min events':>10}"
            f" {'max events':>10} {'events/s':>10}"
        )
        for n in counts:
            print(asyncio.run(measure(server.base, server.pid, key, n, seconds)), flush=True)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--numbers", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--counts", default="1,10,50")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dialer-bench-") as folder:
        workdir = Path(folder)
        url = f"sqlite:///{workdir / 'dialer.db'}"
        with running_server(url, workdir) as server:
            headers = {"Authorization": f"Bearer {server.tenant['api_key']}"}
            # Listed, not dialled: they begin in 30 days, so the worker leaves them alone.
            later = (
                datetime.now(ZoneInfo("Europe/London")).date() + timedelta(days=365)
            ).isoformat()
            ids = []
            with httpx.Client(timeout=120) as client:
                for c in range(LIST_CAMPAIGNS - 1):
                    body = campaign(server, f"Listed {c}", later, [{"number": "07700900001"}])
                    made = client.post(
                        f"{server.base}/api/campaign/voice", json=body, headers=headers
                    )
                    made.raise_for_status()
                    ids.append(made.json()["id"])
                body = campaign(server, "Big", later, [{"number": "07700900000"}])
                made = client.post(f"{server.base}/api/campaign/voice", json=body, headers=headers)
                made.raise_for_status()
                big_id = made.json()["id"]
            started = time.perf_counter()
            fill("sqlite", url, big_id, args.numbers - 1)
            print(
                f"SQLite; {LIST_CAMPAIGNS} campaigns, one of {args.numbers:,} numbers"
                f" (filled by SQL in {time.perf_counter() - started:.0f} s)\n"
            )
            page_loads(server, big_id, ids[0], args.numbers)
            counts = [int(x) for x in args.counts.split(",")]
            live_consoles(server, url, counts, args.seconds)


if __name__ == "__main__":
    main()
