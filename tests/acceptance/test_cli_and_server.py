"""As a new user would: the CLI creates what a campaign needs, `dialer serve` serves it."""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from dialer.testing.postgres import PostgresServer
from dialer.testing.server import serving
from tests.cli_in_process import run_in_process

# These servers run on the wall clock, and a campaign whose last window has closed is refused.
FUTURE_DAY = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()

FLOW = """\
# A version-1 call flow: a spoken message and an SMS text.
version: 1
message: "Hello {Name}. Your appointment is on {Parameter1}."
sms: "Hi {Name}, we called about your appointment on {Parameter1}."
"""


def dialer(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    """`dialer *args` as a process on PostgreSQL, what a deployment runs; in the test process
    on SQLite (tests/cli_in_process.py), where the same commands answer the same way and a
    process per command was most of the test's time. Each command family still runs as a
    process here, and what each test asserts holds on both stores."""
    if env["DIALER_DATABASE_URL"].startswith("sqlite"):
        inside = run_in_process(*args, env=env)
        done = subprocess.CompletedProcess(
            inside.args, inside.returncode, inside.stdout.decode(), inside.stderr.decode()
        )
        if check:
            done.check_returncode()
        return done
    return subprocess.run(
        [sys.executable, "-m", "dialer", *args],
        env=env,
        capture_output=True,
        text=True,
        check=check,
        timeout=120,
    )


@pytest.fixture(params=["sqlite", "postgres"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'dialer.db'}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.create_database()
    return {**os.environ, "DIALER_DATABASE_URL": url}


def test_cli_setup_then_serve_then_rest(env: dict[str, str], tmp_path: Path) -> None:
    assert json.loads(dialer("migrate", env=env).stdout) == {
        "applied": [
            "0001_initial",
            "0002_dialer_api",
            "0003_engine",
            "0004_work_notify",
            "0005_numbers_and_lines",
            "0006_destination_counts",
            "0007_queue_names",
            "0008_webhook_log",
            "0009_key_columns_not_null",
            "0010_shared_limits",
            "0011_engine_batches_counted_once",
            "0012_agent_sessions",
            "0013_agent_results",
            "0014_agent_phones",
            "0015_compliance_settings",
            "0016_abandonment",
            "0017_campaign_lifecycle",
            "0018_number_pages",
            "0019_console_sessions",
            "0021_pacing_counts",
            "0022_pacing_history",
            "0023_sms_outbox",
            "0024_sms_settings",
            "0025_engine_tables_without_rowid",
            "0026_sms_submitting",
            "0027_lighter_engine_writes",
            "0028_waiting_index_without_state",
        ]
    }
    assert json.loads(dialer("migrate", env=env).stdout) == {"applied": []}
    tenant = json.loads(dialer("tenant", "create", "Clinic", "--region", "GB", env=env).stdout)
    assert tenant["api_key"].startswith("dk_")
    flow_file = tmp_path / "flow.yaml"
    flow_file.write_text(FLOW)
    flow = json.loads(
        dialer(
            "callflow",
            "create",
            "--tenant",
            str(tenant["id"]),
            "--name",
            "Appointments",
            str(flow_file),
            env=env,
        ).stdout
    )
    cli = json.loads(
        dialer("cli", "create", "--tenant", str(tenant["id"]), "0161 496 0000", env=env).stdout
    )
    assert cli["number"] == "+441614960000"

    bad_flow = tmp_path / "bad.json"
    bad_flow.write_text('{"message": "Hi {Nmae}"}')
    failed = dialer(
        "callflow",
        "create",
        "--tenant",
        str(tenant["id"]),
        "--name",
        "x",
        str(bad_flow),
        env=env,
        check=False,
    )
    assert failed.returncode == 2
    assert "unknown placeholder {Nmae}" in failed.stderr
    assert "sms" in failed.stderr
    assert "Traceback" not in failed.stderr
    missing = dialer("cli", "create", "--tenant", "999", "01614960000", env=env, check=False)
    assert (missing.returncode, missing.stderr.strip()) == (2, "error: there is no tenant 999")

    with serving(env) as (_, base):
        headers = {"Authorization": f"Bearer {tenant['api_key']}"}
        body: dict[str, Any] = {
            "name": "Flu jabs",
            "startDate": FUTURE_DAY,
            "startTime": "09:00",
            "finishTime": "17:00",
            "callflow_Id": flow["id"],
            "cli_Id": cli["id"],
            "phoneNumbers": [
                {
                    "number": "07700 900123",
                    "name": "Ann",
                    "parameters": [{"parameter": 1, "value": "Monday"}],
                }
            ],
        }
        created = httpx.post(f"{base}/api/campaign/voice", json=body, headers=headers)
        assert created.status_code == 201, created.text
        listed = httpx.get(f"{base}/api/campaign/voice", headers=headers).json()
        assert [(c["name"], c["phoneNumberCount"]) for c in listed] == [("Flu jabs", 1)]
        flows = httpx.get(f"{base}/api/callflows", headers=headers).json()
        assert flows[0]["definition"]["sms"].startswith("Hi {Name}")
        assert httpx.get(f"{base}/docs").status_code == 200


def test_cli_for_agents_queues_dnc_and_campaigns(env: dict[str, str], tmp_path: Path) -> None:
    tenant = json.loads(
        dialer(
            "tenant",
            "create",
            "Call centre",
            "--region",
            "IL",
            "--timezone",
            "Asia/Jerusalem",
            env=env,
        ).stdout
    )
    tid = str(tenant["id"])
    agent = json.loads(
        dialer(
            "agent", "create", "SIPSIP1", "--tenant", tid, "--name", "Walter Melon", env=env
        ).stdout
    )
    assert agent["member"] == "SIPSIP1"
    duplicate = dialer(
        "agent", "create", "SIPSIP1", "--tenant", tid, "--name", "x", env=env, check=False
    )
    assert duplicate.returncode == 2
    assert "already exists" in duplicate.stderr
    queue = json.loads(dialer("queue", "create", "Sales", "--tenant", tid, env=env).stdout)
    assert isinstance(queue["id"], int)

    assert json.loads(
        dialer("dnc", "add", "--tenant", tid, "0501234567", "+972501234568", env=env).stdout
    ) == {"added": 2, "alreadyListed": 0}
    listing = tmp_path / "dnc.csv"
    listing.write_text('# exported from the CRM\n0501234567,John\n\n"0501234569",Ann\n')
    assert json.loads(dialer("dnc", "import", "--tenant", tid, str(listing), env=env).stdout) == {
        "added": 1,
        "alreadyListed": 1,
        "header": None,
        "skipped": 0,
        "skippedLines": [],
    }
    bad = tmp_path / "bad.txt"
    bad.write_text("0501234570\nnot a number\n")
    refused = dialer("dnc", "import", "--tenant", tid, str(bad), env=env, check=False)
    assert refused.returncode == 2
    assert "line 2: 'not a number' is not a possible phone number" in refused.stderr
    assert json.loads(dialer("dnc", "remove", "--tenant", tid, "0501234567", env=env).stdout) == {
        "removed": 1,
        "notListed": 0,
    }

    flow = tmp_path / "flow.yaml"
    flow.write_text(FLOW)
    flow_id = json.loads(
        dialer("callflow", "create", "--tenant", tid, "--name", "f", str(flow), env=env).stdout
    )["id"]
    cli_id = json.loads(dialer("cli", "create", "--tenant", tid, "0722776772", env=env).stdout)[
        "id"
    ]
    campaign = tmp_path / "campaign.json"
    campaign.write_text(
        json.dumps(
            {
                "name": "Agents",
                "startDate": FUTURE_DAY,
                "startTime": "09:00",
                "finishTime": "17:00",
                "callflow_Id": flow_id,
                "cli_Id": cli_id,
                "phoneNumbers": [{"number": "0501234567"}],
            }
        )
    )
    created = json.loads(
        dialer(
            "campaign", "create", "--tenant", tid, "--type", "agent", str(campaign), env=env
        ).stdout
    )
    assert len(created["code"]) >= 32
