"""The interactive docs render in a real headless Chromium, from assets we serve (no CDN)."""

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from dialer.testing.server import serving

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
