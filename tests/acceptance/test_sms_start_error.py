"""Issue 15: `dialer serve --network sip` with no --sms says at start which campaigns would
send texts that no provider can take, and starts all the same (docs/sms.md)."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from dialer.testing.server import free_port
from tests.acceptance.test_engine_end_to_end import dialer

FLOW = "message: 'Hello {Name}'\nsms: 'Sorry we missed you {Name}'\n"


def campaign_file(tmp_path: Path, name: str, flow: object, cli: object, sms: int) -> Path:
    day = {"startTime": "09:00", "finishTime": "12:00"}
    body = {
        "name": name,
        "startDate": "2030-01-07",  # scheduled: calls still to make, none made now
        **day,
        "runoverDays": [{"date": "2030-01-08", **day}],
        "callflow_Id": flow,
        "cli_Id": cli,
        "attempts": [{"attemptNumber": 1, "interval": 1}],
        "answerMachineDetected": 0,
        "smsOnBusy": sms,
        "phoneNumbers": [{"number": "+447700900001", "name": "Ann"}],
    }
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(body))
    return path


def serve_sip_and_stop(env: dict[str, str], log: Path) -> str:
    """Start `dialer serve --network sip`, wait until it answers, stop it; its stderr."""
    port = free_port()
    args = ["--network", "sip", "--sip-trunk", f"127.0.0.1:{free_port()}"]
    args += ["--sip-local-address", "127.0.0.1"]
    with log.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "dialer", "serve", "--port", str(port), *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2)
                    break
                except httpx.TransportError:
                    assert process.poll() is None, log.read_text()
                    assert time.monotonic() < deadline, "dialer serve did not answer"
                    time.sleep(0.2)
        finally:
            process.terminate()
            process.wait(timeout=30)
    return log.read_text()


def test_serve_on_sip_names_the_campaign_that_would_text_with_no_provider(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "DIALER_DATABASE_URL": f"sqlite:///{tmp_path / 'dialer.db'}"}
    for name in [k for k in env if k.startswith("DIALER_SMS_")]:
        del env[name]
    tenant = dialer("tenant", "create", "Clinic", env=env)
    tid = str(tenant["id"])
    (tmp_path / "flow.yaml").write_text(FLOW)
    flow = dialer(
        "callflow", "create", "--tenant", tid, "--name", "F", str(tmp_path / "flow.yaml"), env=env
    )
    cli = dialer("cli", "create", "--tenant", tid, "+441632960000", env=env)
    texts = dialer(
        "campaign",
        "create",
        "--tenant",
        tid,
        str(campaign_file(tmp_path, "Reminders", flow["id"], cli["id"], 1)),
        env=env,
    )
    silent = dialer(
        "campaign",
        "create",
        "--tenant",
        tid,
        str(campaign_file(tmp_path, "Silent", flow["id"], cli["id"], 0)),
        env=env,
    )

    stderr = serve_sip_and_stop(env, tmp_path / "serve.err")
    errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert errors == [
        f"error: campaign {texts['id']} 'Reminders' of tenant {tid} (Clinic) would send texts"
        " (smsOnBusy) but no SMS provider can take them: every one will fail. Set the"
        " tenant's provider (PUT /api/settings/sms) or start with --sms smpp|http"
    ], stderr
    assert f"campaign {silent['id']} " not in stderr
    # (test_sms_start_check.py: no error with a provider, on --network sim, or with --sms.)
