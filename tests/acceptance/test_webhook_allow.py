"""`dialer serve --webhook-allow`: loopback webhooks are refused unless the operator allows them."""

import os
from pathlib import Path

import httpx

from dialer.bootstrap import build
from dialer.settings import Settings
from dialer.testing.server import serving
from tests.conftest import Account


def test_serve_refuses_loopback_webhooks_unless_allowed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'dialer.db'}"
    container = build(Settings(database_url=url))
    try:
        account = Account(container, "Clinic")
    finally:
        container.close()
    env = {k: v for k, v in os.environ.items() if k != "DIALER_WEBHOOK_ALLOW"}
    env["DIALER_DATABASE_URL"] = url
    hook = {"url": "http://127.0.0.1:9000/hook"}
    with serving(env, "--no-engine") as (_, base):
        refused = httpx.put(f"{base}/api/webhook", json=hook, headers=account.headers)
        assert refused.status_code == 400
        assert "loopback" in refused.json()["errors"]["url"][0]
    allow = ("--webhook-allow", "10.0.0.0/8", "--webhook-allow", "127.0.0.1")
    with serving(env, "--no-engine", *allow) as (_, base):
        put = httpx.put(f"{base}/api/webhook", json=hook, headers=account.headers)
        assert put.status_code == 200, put.text
