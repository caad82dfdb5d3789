"""`--log-format json`: real output of `dialer worker` and `dialer serve`, line by line."""

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from prometheus_client.parser import text_string_to_metric_families

from dialer.bootstrap import Container, build
from dialer.domain.ids import TenantId
from dialer.settings import Settings
from dialer.testing.server import free_port, serving

LONDON = ZoneInfo("Europe/London")
FLOW = "message: 'Hello {Name}.'\nsms: 'Hi {Name}'\n"
DIALER = [sys.executable, "-m", "dialer"]
JSON = ["--log-format", "json"]
DEBUG = ["--log-level", "debug"]
ALL_DAY = {"startTime": "00:00", "finishTime": "23:59"}
NUMBERS = ["+447700900000", "+447700900001", "+447700900003"]  # answers, busy, wrong callee


def lines_of(path: Path) -> list[dict[str, Any]]:
    """Every line parsed; a line that is not one JSON object fails the test."""
    parsed = []
    for line in path.read_text().splitlines():
        value = json.loads(line)
        assert isinstance(value, dict), line
        parsed.append(value)
    return parsed


def attempts_of(text: str, campaign_id: int) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "dialer_attempts_total" and sample.labels["campaign"] == str(campaign_id)
    )


def all_day_campaign(container: Container) -> tuple[TenantId, str, int]:
    """A tenant that may call at any hour, and a campaign open today and tomorrow."""
    tenant, key = container.tenants.create("Acme", "GB", "Europe/London", "00:00-23:59")
    flow = container.catalog.add_callflow(tenant, "Reminder", FLOW)
    cli = container.catalog.add_cli(tenant, "+44 1632 960000")
    today = datetime.now(UTC).astimezone(LONDON).date()
    tomorrow = today + timedelta(days=1)
    body = {
        "name": "Logs",
        "startDate": today.isoformat(),
        "startTime": "00:00",
        "finishTime": "23:59",
        "runoverDays": [
            {"date": tomorrow.isoformat(), "startTime": "00:00", "finishTime": "23:59"}
        ],
        "callflow_Id": flow.id,
        "cli_Id": cli.id,
        "attempts": [{"interval": 15, "attemptNumber": 1}, {"interval": 15, "attemptNumber": 2}],
        "phoneNumbers": [{"number": n, "name": f"N{i}"} for i, n in enumerate(NUMBERS)],
    }
    campaign = container.campaigns.create(tenant, body).campaign.id
    return tenant, key, int(campaign)


def test_worker_json_lines_carry_the_attempt_ids_and_no_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'dialer.db'}"
    container = build(Settings(database_url=url))
    try:
        tenant, key, campaign_id = all_day_campaign(container)
    finally:
        container.close()

    errors = tmp_path / "worker.err"
    metrics_port = free_port()
    scrape_on = ["--metrics-port", str(metrics_port)]
    with errors.open("wb") as err:
        process = subprocess.Popen(
            [*DIALER, "worker", "--database", url, "--speed", "max", *JSON, *DEBUG, *scrape_on],
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        deadline = time.monotonic() + 60
        container = build(Settings(database_url=url))
        try:
            while True:
                rows = container.results.page(tenant, campaign_id, None, 100).results
                if len(rows) == 4:  # one each, and busy's retry (two attempts at most)
                    break
                assert process.poll() is None, errors.read_text()
                assert time.monotonic() < deadline, "the campaign did not finish in 60 s"
                time.sleep(0.2)
        finally:
            container.close()
        # The worker's own /metrics (it has no API server) counts what it recorded.
        scraped = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text
        assert attempts_of(scraped, campaign_id) == 4
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)

    text = errors.read_text()
    assert key not in text
    lines = lines_of(errors)
    logged = [line for line in lines if "level" in line]
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in logged)
    calls = [line for line in logged if line["logger"] == "dialer.engine.scheduler"]
    assert calls, "no engine line about a call"
    for line in calls:
        assert line["campaign"] == campaign_id
        assert isinstance(line["destination"], int)
        assert isinstance(line["attempt"], int)
    ended = sorted(
        (line["destination"], line["attempt"])
        for line in calls
        if line["message"].startswith("call ended")
    )
    assert ended == sorted((r.destination_id, r.attempt_number) for r in rows)
    # The summary at exit is an object too.
    assert lines[-1]["recorded"] == len(rows)


def test_serve_json_access_log_redacts_the_api_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'dialer.db'}"
    container = build(Settings(database_url=url))
    try:
        _, key, _ = all_day_campaign(container)
    finally:
        container.close()
    port = free_port()
    errors = tmp_path / "serve.err"
    env = {**os.environ, "DIALER_DATABASE_URL": url}
    with errors.open("wb") as err:
        process = subprocess.Popen(
            [*DIALER, "serve", "--port", str(port), "--no-engine", *JSON, "--access-log"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/health", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, errors.read_text()
                assert time.monotonic() < deadline
                time.sleep(0.2)
        answer = httpx.get(f"{base}/ForwardDialer/Dialer/GetCampaignList", params={"Code": key})
        assert answer.status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)

    text = errors.read_text()
    assert key not in text
    lines = lines_of(errors)
    access = [line for line in lines if line["logger"] == "uvicorn.access"]
    (campaigns,) = [line for line in access if "GetCampaignList" in line["message"]]
    assert "Code=[redacted]" in campaigns["message"]
    assert any(line["logger"].startswith("uvicorn.error") for line in lines)


def test_serve_with_workers_sums_every_process_metrics_in_any_scrape(tmp_path: Path) -> None:
    """Only the first process dials; a scrape answered by an API copy must count its calls."""
    url = f"sqlite:///{tmp_path / 'dialer.db'}"
    container = build(Settings(database_url=url))
    try:
        tenant, _, campaign_id = all_day_campaign(container)
    finally:
        container.close()
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env["DIALER_DATABASE_URL"] = url
    with serving(env, "--workers", "3", "--speed", "max") as (process, base):
        deadline = time.monotonic() + 60
        container = build(Settings(database_url=url))
        try:
            while len(container.results.page(tenant, campaign_id, None, 100).results) < 4:
                assert time.monotonic() < deadline, "the campaign did not finish in 60 s"
                time.sleep(0.2)
        finally:
            container.close()
        # New connections are spread over the three processes; each answer is the sum.
        for _ in range(12):
            with httpx.Client() as client:
                text = client.get(f"{base}/metrics").text
            assert attempts_of(text, campaign_id) == 4
        assert process.poll() is None
