"""`dialer serve --network sip` against SIPp: a REST campaign with an IVR flow, run to the end.

Every number of the campaign is one of the fake carrier's scenarios; each must end with the
outcome and stage it would have on the simulated network, the answerphone policy and SMS on busy
included.
"""

import os
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from dialer.testing.server import serving
from dialer.testing.sipp import Number, SippCarrier
from tests.acceptance.test_engine_end_to_end import dialer, run_campaign_to_the_end

FLOW = """\
version: 2
sms: "Hi {Name}, we tried to call you about your appointment."
answerphone: "Hello {Name}. This is the clinic. Please call us back."
nodes:
  greet: {say: "Hello {Name}.", next: menu}
  menu:
    gather: {prompt: "Press 1 to confirm, or 9 to opt out.", timeout: 4, attempts: 1}
    branches: {"1": confirmed, "9": optout}
    default: bye
  confirmed: {stage: CorrectCallee, say: "Thank you.", next: bye}
  optout: {stage: OptOut, sms: "You will not be called again.", next: bye}
  bye: {hangup: true}
"""

# number -> (outcome, stage, keys, SMS sent)
EXPECTED: dict[str, tuple[str, str, str, str]] = {
    Number.HUMAN_PRESSES_1_RFC2833: ("Answered", "CorrectCallee", "1", "false"),
    Number.HUMAN_PRESSES_9_INFO: ("Answered", "OptOut", "9", "true"),
    Number.HUMAN: ("Answered", "Answered", "", "false"),
    # Silence after the answer is a machine to Asterisk-style detection (initial silence).
    Number.SILENT: ("AnswerphoneMessageLeft", "AnswerphoneMessageLeft", "", "false"),
    Number.VOICEMAIL: ("AnswerphoneMessageLeft", "AnswerphoneMessageLeft", "", "false"),
    Number.FAX_CED: ("Fax", "None", "", "false"),
    Number.BUSY: ("Busy", "None", "", "true"),
    Number.NOT_FOUND: ("Unobtainable", "None", "", "false"),
    Number.ADDRESS_INCOMPLETE: ("InvalidNumber", "None", "", "false"),
    Number.SERVICE_UNAVAILABLE: ("Overflow", "None", "", "false"),
    Number.TEMPORARILY_UNAVAILABLE: ("NoAnswer", "None", "", "false"),
    Number.RINGS_FOREVER: ("NoAnswer", "None", "", "false"),
    Number.NO_RESPONSE: ("NoConnection", "None", "", "false"),
    Number.BAD_GATEWAY: ("Unknown", "None", "", "false"),
}


@pytest.fixture(scope="module")
def carrier() -> Iterator[SippCarrier]:
    with SippCarrier() as sipp:
        yield sipp


def test_serve_dials_a_rest_campaign_over_sip_to_the_end(
    tmp_path: Path, carrier: SippCarrier
) -> None:
    env = {**os.environ, "DIALER_DATABASE_URL": f"sqlite:///{tmp_path / 'dialer.db'}"}
    tenant = dialer("tenant", "create", "Clinic", "--calling-hours", "00:00-23:59", env=env)
    tid = str(tenant["id"])
    (tmp_path / "flow.yaml").write_text(FLOW)
    flow = dialer(
        "callflow", "create", "--tenant", tid, "--name", "IVR", str(tmp_path / "flow.yaml"), env=env
    )
    cli = dialer("cli", "create", "--tenant", tid, "+441632960000", env=env)
    today = datetime.now(UTC).astimezone(ZoneInfo("Europe/London")).date()
    body = {
        "name": "Over SIP",
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
        "attempts": [{"attemptNumber": 1, "interval": 1}],
        "answerMachineDetected": 1,  # leave a message on the first call
        "smsOnBusy": 1,  # text on the first busy call
        "phoneNumbers": [{"number": str(n), "name": f"P{i}"} for i, n in enumerate(EXPECTED)],
    }
    headers = {"Authorization": f"Bearer {tenant['api_key']}"}
    trunk = f"{carrier.host}:{carrier.port}"
    args = ["--network", "sip", "--sip-trunk", trunk, "--sip-local-address", "127.0.0.1"]
    args += ["--ring-timeout", "3", "--min-ring-seconds", "1"]
    with serving(env, *args) as (_, base):
        results = run_campaign_to_the_end(base, body, headers, 120)
    rows = {row["number"]: row for row in results}
    got = {
        number: (row["outcomeName"], row["stageName"], row["keys"], row["smsSent"])
        for number, row in rows.items()
    }
    assert got == {str(n): want for n, want in EXPECTED.items()}
    # The raw SIP status is kept with the attempt.
    assert rows[Number.BUSY]["cause"].startswith("486")
    assert "CANCEL" in rows[Number.RINGS_FOREVER]["cause"]
    assert carrier.stats().failed == 0


def test_sigterm_while_a_call_rings_cancels_it_and_acks_the_487(
    tmp_path: Path, carrier: SippCarrier
) -> None:
    """The engine lets the ringing call ring out and CANCELs it; the process must not stop
    before it has ACKed the carrier's 487 (otherwise the carrier retransmits into the void).
    The whole path, end to end; test_sip_shutdown.py forces the race at the driver."""
    env = {**os.environ, "DIALER_DATABASE_URL": f"sqlite:///{tmp_path / 'dialer.db'}"}
    tenant = dialer("tenant", "create", "Clinic", "--calling-hours", "00:00-23:59", env=env)
    tid = str(tenant["id"])
    (tmp_path / "flow.yaml").write_text(FLOW)
    flow = dialer(
        "callflow", "create", "--tenant", tid, "--name", "IVR", str(tmp_path / "flow.yaml"), env=env
    )
    cli = dialer("cli", "create", "--tenant", tid, "+441632960000", env=env)
    today = datetime.now(UTC).astimezone(ZoneInfo("Europe/London")).date()
    body = {
        "name": "Rings at shutdown",
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
        "attempts": [{"attemptNumber": 1, "interval": 1}],
        "phoneNumbers": [{"number": str(Number.RINGS_FOREVER), "name": "P"}],
    }
    headers = {"Authorization": f"Bearer {tenant['api_key']}"}
    before = {m.call_id for m in carrier.messages()}
    trunk = f"{carrier.host}:{carrier.port}"
    args = ["--network", "sip", "--sip-trunk", trunk, "--sip-local-address", "127.0.0.1"]
    args += ["--ring-timeout", "3", "--min-ring-seconds", "1"]
    with serving(env, *args) as (process, base):
        created = httpx.post(f"{base}/api/campaign/voice", json=body, headers=headers, timeout=30)
        assert created.status_code == 201, created.text
        deadline = time.monotonic() + 30
        ringing: set[str] = set()
        while not ringing and time.monotonic() < deadline:
            time.sleep(0.1)
            ringing = {
                m.call_id
                for m in carrier.messages()
                if m.call_id not in before and m.direction == "S" and m.status == 180
            }
        assert ringing, "the call never rang"
        process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught: -15 is normal.
        assert process.wait(30) in (0, -signal.SIGTERM)
    time.sleep(1.0)  # SIPp writes its message log as it goes
    (call_id,) = ringing
    seen = [(m.direction, m.method or m.status) for m in carrier.messages() if m.call_id == call_id]
    assert ("R", "CANCEL") in seen
    assert ("S", 487) in seen
    assert ("R", "ACK") in seen[seen.index(("S", 487)) :], f"the 487 was never ACKed: {seen}"
    assert seen.count(("S", 487)) == 1, f"the carrier had to retransmit its 487: {seen}"
