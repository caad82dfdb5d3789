"""As a new user would: `dialer simulate`, and `dialer serve` dialling a REST campaign."""

import csv
import io
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from dialer.testing.server import serving
from tests.cli_in_process import run_in_process

FLOW = "message: 'Hello {Name}, press 1 to confirm.'\nsms: 'Hi {Name}, we called.'\n"
FINAL_OR_EXHAUSTED = {"Answered", "AnswerphoneMessageLeft", "Unobtainable", "InvalidNumber"}


def dialer(*args: str, env: dict[str, str]) -> dict[str, object]:
    """A setup command's JSON answer, run in the test process (tests/cli_in_process.py): these
    tests are about `dialer serve`, which stays a process; the commands themselves are run as
    processes in test_cli_and_server.py."""
    done = run_in_process(*args, env=env)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def run_campaign_to_the_end(
    base: str, body: dict[str, object], headers: dict[str, str], seconds: float
) -> list[dict[str, str]]:
    """POST the campaign, wait until every number is done and nothing is in flight, and read
    its results back as CSV rows."""
    created = httpx.post(f"{base}/api/campaign/voice", json=body, headers=headers, timeout=30)
    assert created.status_code in (200, 201), created.text
    campaign = created.json()["id"]
    numbers = len(body["phoneNumbers"])  # type: ignore[arg-type]
    deadline = time.monotonic() + seconds
    while True:
        detail = httpx.get(f"{base}/api/campaign/voice/{campaign}", headers=headers).json()
        progress = detail["progress"]
        if progress["done"] == numbers and progress["inFlight"] == 0:
            break
        assert time.monotonic() < deadline, f"campaign not finished: {progress}"
        time.sleep(0.05)  # a poll interval: the campaign runs in the server meanwhile
    results = httpx.get(
        f"{base}/api/campaign/voice/{campaign}/results", params={"format": "csv"}, headers=headers
    )
    return list(csv.DictReader(io.StringIO(results.text)))


def test_simulate_runs_a_campaign_to_the_end_and_summarises_it() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dialer", "simulate", "--numbers", "500", "--seed", "3"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "120"},
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Destinations by final outcome" in out
    assert "500 of 500 destinations finished" in out
    for outcome in ("Answered", "Busy", "NoAnswer", "AnswerphoneMessageLeft"):
        assert outcome in out
    assert "calls/s" in out


def test_serve_dials_a_rest_campaign_and_reports_every_attempt(tmp_path: Path) -> None:
    env = {**os.environ, "DIALER_DATABASE_URL": f"sqlite:///{tmp_path / 'dialer.db'}"}
    tenant = dialer("tenant", "create", "Clinic", "--calling-hours", "00:00-23:59", env=env)
    (tmp_path / "flow.yaml").write_text(FLOW)
    tid = str(tenant["id"])
    flow = dialer(
        "callflow", "create", "--tenant", tid, "--name", "F", str(tmp_path / "flow.yaml"), env=env
    )
    cli = dialer("cli", "create", "--tenant", tid, "+441632960000", env=env)
    today = datetime.now(UTC).astimezone(ZoneInfo("Europe/London")).date()
    numbers = ["+447700900002", "+447700900001", "+447700900005", "07700 900004"]
    body = {
        "name": "Live",
        "startDate": today.isoformat(),
        "startTime": "00:00",
        "finishTime": "23:59",
        "runoverDays": [
            {
                "date": (today + timedelta(days=1)).isoformat(),
                "startTime": "00:00",
                "finishTime": "23:59",
            }
        ],
        "callflow_Id": flow["id"],
        "cli_Id": cli["id"],
        "attempts": [{"attemptNumber": 1, "interval": 1}, {"attemptNumber": 2, "interval": 1}],
        "answerMachineDetected": 2,
        "smsOnBusy": 0,
        "phoneNumbers": [{"number": n, "name": f"P{i}"} for i, n in enumerate(numbers)],
    }
    headers = {"Authorization": f"Bearer {tenant['api_key']}"}
    # At 120x a one-minute retry interval takes half a second.
    with serving(env, "--speed", "120") as (_, base):
        rows = run_campaign_to_the_end(base, body, headers, 60)
    by_number: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_number.setdefault(row["number"], []).append(row)
    assert [(r["outcomeName"], r["stageName"], r["keys"]) for r in by_number["+447700900002"]] == [
        ("Answered", "CorrectCallee", "1")
    ]
    assert [r["outcomeName"] for r in by_number["+447700900001"]] == ["Busy", "Busy"]
    assert [r["outcomeName"] for r in by_number["+447700900005"]] == ["Fax"]
    # The answerphone message is left on the last of the two attempts.
    assert [r["outcomeName"] for r in by_number["+447700900004"]] == [
        "AnswerphoneMessageNotLeft",
        "AnswerphoneMessageLeft",
    ]
    assert all(r["originatedAt"] and r["endedAt"] for r in rows)
