"""An agent campaign end to end, over HTTP only, as a CRM integrator and two agents would run it
against `dialer serve` (docs/agents-example.md is the same story as curl commands; keep the two
in step: same endpoints, same bodies)."""

import csv
import io
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from dialer.testing.server import serving
from tests.cli_in_process import run_in_process

# Every call is answered by a person who stays on the line until the agent hangs up (talk time
# and patience far beyond the test), and the agents' phones answer at once: the test decides
# when each call ends, so nothing depends on how fast this machine is.
PROFILE = """\
version: 1
name: e2e
outcomes: {answer: 1, busy: 0, no_answer: 0, unobtainable: 0, invalid: 0,
           network_failure: 0, congestion: 0}
answered_by: {human: 1, machine: 0, fax: 0}
ring_seconds: {median: 2, sigma: 0, min: 2, max: 2}
human:
  keypress: {"1": 0, "2": 0, "3": 0, "9": 0, none: 1, hangup: 0}
  keypress_delay_seconds: {median: 1, sigma: 0, min: 1, max: 1}
  patience_seconds: {median: 3600, sigma: 0, min: 3600, max: 3600}
agents:
  answer_seconds: {median: 1, sigma: 0, min: 1, max: 1}
  ring_timeout_seconds: 30
  short_call_share: 0
  short_talk_seconds: {median: 15, sigma: 0, min: 15, max: 15}
  talk_seconds: {median: 1800, sigma: 0, min: 1800, max: 1800}
  wrap_up_seconds: {median: 12, sigma: 0, min: 12, max: 12}
  pauses_per_hour: 0
  pause_seconds: {median: 240, sigma: 0, min: 240, max: 240}
  dispositions: {CorrectCallee: 1, CallerRequestedCallBack: 0, OptOut: 0, WrongCallee: 0}
  callback_seconds: {median: 7200, sigma: 0, min: 7200, max: 7200}
"""
DIALER = "/ForwardDialer/Dialer"
AGENT_FIELDS = ("agent", "timeToAgentSeconds", "talkSeconds", "wrapUpSeconds", "disposition")
BEN, CARA, DAN = "+447700900101", "+447700900102", "+447700900103"
DEADLINE = 120.0
# A keep-alive comes every 15 s, so a read waits at most that long on a live stream.
STREAM_TIMEOUT = httpx.Timeout(30.0, read=60.0)


def dialer(*args: str, env: dict[str, str]) -> dict[str, Any]:
    """A setup command's JSON answer, run in the test process (tests/cli_in_process.py): the
    test is about the two APIs of `dialer serve`, which stays a process; the commands
    themselves are run as processes in test_cli_and_server.py."""
    done = run_in_process(*args, env=env)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def wait_for(what: str, probe: Callable[[], Any]) -> Any:
    """Poll ``probe`` until it returns something truthy; fail after a generous deadline."""
    deadline = time.monotonic() + DEADLINE
    while True:
        found = probe()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.fixture
def webhook_receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A local HTTP receiver for the tenant's webhook: its URL, and the bodies it got."""
    received: list[dict[str, Any]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook", received
    finally:
        server.shutdown()
        server.server_close()


def follow_events(base: str, token: str, events: list[dict[str, Any]]) -> threading.Thread:
    """Read one agent's event stream into ``events`` until the server ends it."""

    def read() -> None:
        headers = {"Authorization": f"Bearer {token}"}
        try:
            with httpx.stream(
                "GET", f"{base}/api/agents/me/events", headers=headers, timeout=STREAM_TIMEOUT
            ) as stream:
                for line in stream.iter_lines():
                    if line.startswith("data: "):
                        events.append(json.loads(line.removeprefix("data: ")))
        except httpx.HTTPError:
            pass  # the server stopped

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def rpc(http: httpx.Client, method: str, body: Any) -> dict[str, Any]:
    answer = http.post(f"{DIALER}/{method}", json=body)
    assert answer.status_code == 200, answer.text
    envelope: dict[str, Any] = answer.json()
    assert envelope["ErrorCode"] == 0, envelope
    return envelope


def test_an_agent_campaign_runs_end_to_end_through_both_apis(
    tmp_path: Path, webhook_receiver: tuple[str, list[dict[str, Any]]]
) -> None:
    hook_url, deliveries = webhook_receiver
    env = {**os.environ, "DIALER_DATABASE_URL": f"sqlite:///{tmp_path / 'dialer.db'}"}
    # The operator lets webhooks reach this machine (every command reads this, serve included).
    env["DIALER_WEBHOOK_ALLOW"] = "127.0.0.1"
    # The operator's part: a tenant, its caller ID, a call flow, a queue, two agents.
    # A GB tenant: its agent campaigns dial under the UK rules, with an information message.
    tenant = dialer(
        "tenant",
        "create",
        "Acme",
        "--calling-hours",
        "00:00-23:59",
        "--info-message",
        "This is Acme. Sorry we missed you; please call us back on 0800 123 4567.",
        env=env,
    )
    tid = str(tenant["id"])
    (tmp_path / "flow.yaml").write_text("message: 'Hello {Name}.'\nsms: 'Hi {Name}.'\n")
    flow = dialer(
        "callflow", "create", "--tenant", tid, "--name", "F", str(tmp_path / "flow.yaml"), env=env
    )
    cli = dialer("cli", "create", "--tenant", tid, "+441632960000", env=env)
    queue = dialer("queue", "create", "--tenant", tid, "Sales", env=env)
    alice = dialer("agent", "create", "--tenant", tid, "SIPSIP1", "--name", "Alice", env=env)
    bob = dialer("agent", "create", "--tenant", tid, "SIPSIP2", "--name", "Bob", env=env)
    (tmp_path / "e2e.yaml").write_text(PROFILE)
    # Registered before the server starts: a running engine learns of a new registration only
    # at its next housekeeping, and queues nothing for the attempts it finishes before then
    # (docs/webhooks.md), so a PUT just before the first calls could miss them.
    dialer("webhook", "set", "--tenant", tid, hook_url, env=env)
    key = tenant["api_key"]
    tenant_headers = {"Authorization": f"Bearer {key}"}
    today = datetime.now(UTC).astimezone(ZoneInfo("Europe/London")).date()
    campaign_body = {
        "name": "Renewals",
        "type": "agent",
        "status": "Disabled",
        "agentOptions": {"wrapUpSeconds": None, "maxWaitSeconds": 300, "bridgeOnAnswer": False},
        "startDate": today.isoformat(),
        "startTime": "00:00",
        "finishTime": "23:59",
        "runoverDays": [
            {
                "date": (today + timedelta(days=d)).isoformat(),
                "startTime": "00:00",
                "finishTime": "23:59",
            }
            for d in (1, 2)
        ],
        "callflow_Id": flow["id"],
        "cli_Id": cli["id"],
        "attempts": [{"attemptNumber": 1, "interval": 60}],
        "answerMachineDetected": 0,
        "smsOnBusy": 0,
        "phoneNumbers": [
            {
                "number": BEN,
                "name": "Ben",
                "parameters": [{"parameter": 1, "value": "invoice 1234"}],
            }
        ],
    }
    events: list[dict[str, Any]] = []
    with (
        serving(env, "--speed", "20", "--profile", str(tmp_path / "e2e.yaml")) as (_, base),
        httpx.Client(base_url=base, headers=tenant_headers, timeout=30) as crm,
    ):
        # The CRM integrator: the campaign (REST creates it; the Dialer API has no such method),
        # then everything else through the Dialer API with the campaign's code.
        assert crm.get("/api/webhook").json()["url"] == hook_url
        created = crm.post("/api/campaign/voice", json=campaign_body)
        assert created.status_code == 201, created.text
        campaign_id, code = created.json()["id"], created.json()["code"]
        added = rpc(crm, "AddMember", {"Campaign": code, "Member": "SIPSIP1,SIPSIP2"})
        assert added["Data"]["TotalAdded"] == 2
        rpc(
            crm,
            "UpdateCampaignStrategy",
            {
                "Campaign": code,
                "setQueueForMonitoring": queue["id"],
                "setQueueMaximumCallers": 5,
                "setCoefficient": 2,
            },
        )
        bulk = rpc(
            crm,
            "AddCallsBulk",
            [
                {
                    "Campaign": code,
                    "Target": CARA,
                    "CustomerName": "Cara",
                    "CustomData": {"var_leadID": 889},
                },
                {
                    "Campaign": code,
                    "Target": DAN,
                    "CustomerName": "Dan",
                    "CustomData": {"var_leadID": 890},
                },
            ],
        )
        assert [item["ErrorCode"] for item in bulk["AddResult"]] == [0, 0], bulk
        members = rpc(crm, "GetMembersList", {"Campaign": code})
        assert "SIPSIP1" in json.dumps(members["Data"])
        assert "SIPSIP2" in json.dumps(members["Data"])

        # Each agent gets a token for their desk, and logs in with a simulated phone.
        desks: dict[str, httpx.Client] = {}
        for agent, phone in ((alice, "sim:alice"), (bob, "sim:bob")):
            issued = crm.post(f"/api/agents/{agent['id']}/tokens")
            assert issued.status_code == 201, issued.text
            token = issued.json()["token"]
            desk = httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30
            )
            desks[agent["member"]] = desk
            if agent is alice:
                follow_events(base, token, events)
            login = desk.post("/api/agents/me/login", json={"phone": phone})
            assert login.status_code == 201, login.text
            assert (login.json()["state"], login.json()["reason"]) == (
                "paused",
                "phone-connecting",
            )

        def all_ready() -> bool:
            return all(me["state"] == "ready" for me in states())

        def states() -> list[dict[str, Any]]:
            return [desk.get("/api/agents/me").json() for desk in desks.values()]

        wait_for("both agents ready (their phones answered)", all_ready)

        rpc(crm, "StartCampaign", {"Campaign": code})

        # The agents work: each customer is talked to, given a disposition, hung up, and the
        # agent says ready again.
        callback_at = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
        dispositions: dict[str, dict[str, Any]] = {
            BEN: {"stage": "CorrectCallee"},
            CARA: {"stage": "CallerRequestedCallBack", "callbackAt": callback_at.isoformat()},
            DAN: {"stage": "OptOut"},
        }
        handled: dict[str, str] = {}
        pops: dict[str, dict[str, Any]] = {}

        def work() -> bool:
            for member, desk in desks.items():
                me = desk.get("/api/agents/me").json()
                if me["state"] == "talking" and not me["hangupRequested"]:
                    number = me["customer"]["number"]
                    pops[number] = me["customer"]
                    given = desk.post("/api/agents/me/disposition", json=dispositions[number])
                    assert given.status_code == 200, given.text
                    assert desk.post("/api/agents/me/hangup").status_code == 200
                    handled[number] = member
                elif me["state"] == "wrap-up":
                    ready = desk.post("/api/agents/me/ready")
                    assert ready.status_code == 200, ready.text
            return len(handled) == 3

        wait_for("three customers handled", work)

        def finished() -> dict[str, Any] | None:
            detail = crm.get(f"/api/campaign/voice/{campaign_id}").json()
            progress = detail["progress"]
            done = progress["done"] == 2 and progress["inFlight"] == 0
            return detail if done and all_ready() else None

        def settle() -> Any:
            for me in states():
                if me["state"] == "wrap-up":
                    desks[me["member"]].post("/api/agents/me/ready")
            return finished()

        detail = wait_for("the campaign's two final numbers", settle)

        # The screen pop: number, name, parameters, CustomData.
        assert pops[BEN]["name"] == "Ben"
        assert pops[BEN]["parameters"] == [{"parameter": 1, "value": "invoice 1234"}]
        assert pops[CARA]["name"] == "Cara"
        assert pops[CARA]["customData"] == {"var_leadID": 889}
        assert pops[DAN]["name"] == "Dan"
        assert pops[DAN]["customData"] == {"var_leadID": 890}
        assert all(pop["campaignId"] == campaign_id for pop in pops.values())

        # Alice's stream showed each of her customers reserved, then talking. A change goes out
        # with the full screen pop while her session still holds that call; one the stream reads
        # after she took a later call carries the call's ids only (agent_json.event_json), as a
        # slow stream on a loaded machine does (CI: her first call's events came as ids). So her
        # calls are found by their ids, any pop shown must be the call's own, and her last call,
        # which nothing follows, shows the pop.
        fields = ("number", "name", "parameters", "customData", "campaignId", "phoneNumberId")
        alice_numbers = [n for n, m in handled.items() if m == "SIPSIP1"]
        assert alice_numbers, handled

        def of_call(number: str) -> list[dict[str, Any]]:
            return [
                e
                for e in events
                if e["state"] in ("reserved", "talking")
                and (e.get("customer") or {}).get("phoneNumberId") == pops[number]["phoneNumberId"]
            ]

        wait_for("Alice's events", lambda: all(len(of_call(n)) >= 2 for n in alice_numbers))
        for number in alice_numbers:
            assert [e["state"] for e in of_call(number)] == ["reserved", "talking"], events
            for shown in (e["customer"] for e in of_call(number) if "number" in e["customer"]):
                for field in fields:
                    assert shown.get(field) == pops[number].get(field), (field, shown)
        talking = of_call(alice_numbers[-1])[-1]["customer"]
        for field in fields:
            assert talking.get(field) == pops[alice_numbers[-1]].get(field), (field, talking)

        # The results, as JSON and CSV, carry what the agent did.
        rows = crm.get(f"/api/campaign/voice/{campaign_id}/results").json()["results"]
        by_number = {row["number"]: row for row in rows}
        assert set(by_number) == {BEN, CARA, DAN}
        for number, row in by_number.items():
            assert row["agent"] == handled[number]
            assert row["disposition"] == dispositions[number]["stage"]
            assert row["stageName"] == dispositions[number]["stage"]
            for field in ("timeToAgentSeconds", "talkSeconds", "wrapUpSeconds"):
                assert row[field] is not None, (field, row)
                assert row[field] >= 0, (field, row)
        assert by_number[CARA]["callbackAt"].startswith(
            callback_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        )
        assert by_number[BEN]["callbackAt"] is None
        csv_text = crm.get(
            f"/api/campaign/voice/{campaign_id}/results", params={"format": "csv"}
        ).text
        csv_rows = {r["number"]: r for r in csv.DictReader(io.StringIO(csv_text))}
        for number, row in by_number.items():
            for field in (*AGENT_FIELDS, "callbackAt"):
                assert field in csv_rows[number]
            assert csv_rows[number]["agent"] == row["agent"]
            assert csv_rows[number]["disposition"] == row["disposition"]
        assert csv_rows[CARA]["callbackAt"] == by_number[CARA]["callbackAt"]
        assert csv_rows[BEN]["callbackAt"] == ""

        # The webhook got each attempt with the same agent fields.
        try:
            wait_for("three webhook deliveries", lambda: len(deliveries) >= 3)
        except AssertionError:
            print(crm.get("/api/webhook/deliveries").text, deliveries)  # the why, on failure
            raise
        hooked = {d["number"]: d for d in deliveries}
        for number, row in by_number.items():
            for field in (*AGENT_FIELDS, "callbackAt"):
                assert hooked[number][field] == row[field], (field, hooked[number], row)
            assert hooked[number]["campaignCode"] == code

        # The OptOut number is on the do-not-call list; the callback is pending at its time.
        assert crm.get("/api/dnc", params={"number": DAN}).json()["listed"] is True
        assert crm.get("/api/dnc", params={"number": BEN}).json()["listed"] is False
        numbers = {n["number"]: n for n in detail["phoneNumbers"]}
        assert detail["progress"]["pending"] == 1, detail["progress"]
        pending = rpc(crm, "GetCampaignPendingCalls", {"Campaign": code})
        calls = pending["Data"]["Calls"]
        assert [(c["Phone"], c["CustomerName"]) for c in calls] == [(CARA[1:], "Cara")], pending
        assert calls[0]["CustomData"] == {"var_leadID": 889}
        assert numbers[CARA]["lastStageName"] == "CallerRequestedCallBack"
        assert numbers[DAN]["lastStageName"] == "OptOut"

        # The supervisor sees both agents, and the day's report counts their time.
        sessions = crm.get("/api/agents/sessions", params={"campaignId": campaign_id}).json()
        assert {s["member"]: s["state"] for s in sessions} == {
            "SIPSIP1": "ready",
            "SIPSIP2": "ready",
        }
        assert all(s["campaigns"] == [campaign_id] for s in sessions)
        report = crm.get("/api/agents/report").json()
        worked = {a["member"]: a for a in report["agents"]}
        assert set(worked) == {"SIPSIP1", "SIPSIP2"}
        for agent in worked.values():
            assert agent["seconds"]["talking"] > 0, agent
            assert agent["loggedInSeconds"] > 0, agent

        # Done for the day.
        for desk in desks.values():
            out = desk.post("/api/agents/me/logout")
            assert out.status_code == 200, out.text
            assert out.json()["state"] == "offline"
            desk.close()
        sessions = crm.get("/api/agents/sessions").json()
        assert {s["state"] for s in sessions} == {"offline"}
