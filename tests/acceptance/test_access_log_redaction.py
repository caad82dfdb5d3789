"""`dialer serve --access-log` logs every request but no credential: the Dialer API's `Code`
(a tenant's API key) and `Campaign` (a campaign's code) travel in the query string."""

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from dialer.bootstrap import build
from dialer.clocks import ManualClock
from dialer.settings import Settings
from dialer.testing.server import free_port
from tests.conftest import Account


def test_the_access_log_shows_requests_without_keys_or_codes(
    tmp_path: Path, clock: ManualClock
) -> None:
    url = f"sqlite:///{tmp_path / 'dialer.db'}"
    # Made on the suite's clock, before its dates; the server only reads it.
    container = build(Settings(database_url=url), clock=clock)
    try:
        account = Account(container, "Clinic")
        code = container.campaigns.create(account.tenant, account.campaign()).campaign.code
    finally:
        container.close()
    port = free_port()
    command = [sys.executable, "-m", "dialer", "serve", "--port", str(port), "--no-engine"]
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*command, "--access-log", "--database", url],
            env=os.environ.copy(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(f"{base}/openapi.json", timeout=2)
                    break
                except httpx.TransportError:
                    assert process.poll() is None, log_path.read_text()
                    assert time.monotonic() < deadline
                    time.sleep(0.2)
            dialer = f"{base}/ForwardDialer/Dialer"
            with httpx.Client(timeout=10) as client:
                answers = [
                    client.get(f"{dialer}/GetCampaignList", params={"Code": account.key}),
                    client.get(
                        f"{dialer}/AddCall",
                        params={"campaign": code, "Target": "07700900322", "CODE": account.key},
                    ),
                    client.get(f"{dialer}/GetCampaignDetails?Campaign={code}"),
                    client.get(f"{base}/api/campaign/voice", headers=account.headers),
                ]
            assert [a.status_code for a in answers] == [200, 200, 200, 200]
            assert [a.json()["ErrorCode"] for a in answers[:3]] == [0, 0, 0]
        finally:
            process.terminate()
            process.wait(timeout=30)
    written = log_path.read_text()
    assert "GET /ForwardDialer/Dialer/GetCampaignList?Code=[redacted] HTTP/1.1" in written
    assert "/AddCall?campaign=[redacted]&Target=07700900322&CODE=[redacted]" in written
    assert "GET /ForwardDialer/Dialer/GetCampaignDetails?Campaign=[redacted]" in written
    assert "GET /api/campaign/voice HTTP/1.1" in written
    assert account.key not in written
    assert code not in written
