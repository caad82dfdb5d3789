"""The CLI's list / show / delete, webhook show and tenant rotate-key, as an operator runs them."""

import json
import os
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.acceptance.test_cli_mistakes import assert_one_error_line, run_dialer
from tests.cli_in_process import run_in_process

Run = Callable[..., subprocess.CompletedProcess[bytes]]

FLOW = "version: 1\nmessage: 'Hello {Name}'\nsms: 'Hi {Name}'\n"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "DIALER_DATABASE_URL": f"sqlite:///{tmp_path / 'dialer.db'}"}


def ok(*args: str, env: dict[str, str], stdin: bytes = b"", run: Run = run_in_process) -> Any:
    """The command's JSON answer. In the test process by default (tests/cli_in_process.py):
    these tests are about what each command answers, and a process per command was most of
    their time; the webhook and usage-error tests below stay real processes."""
    done = run(*args, env=env, stdin=stdin)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_list_show_delete_per_tenant(env: dict[str, str], tmp_path: Path) -> None:
    ok("tenant", "create", "Acme", env=env)
    ok("tenant", "create", "Globex", env=env)
    flow = ok("callflow", "create", "--tenant", "1", "--name", "Reminder", "-", env=env,
              stdin=FLOW.encode())  # fmt: skip
    cli = ok("cli", "create", "--tenant", "1", "+44 161 496 0000", env=env)
    agent = ok("agent", "create", "--tenant", "1", "SIPSIP1", "--name", "Walter", env=env)
    queue = ok("queue", "create", "--tenant", "1", "Sales", env=env)
    made = {"callflow": flow["id"], "cli": cli["id"], "agent": agent["id"], "queue": queue["id"]}
    for kind, entry_id in made.items():
        assert [e["id"] for e in ok(kind, "list", "--tenant", "1", env=env)] == [entry_id]
        assert ok(kind, "list", "--tenant", "2", env=env) == []
        assert ok(kind, "show", str(entry_id), "--tenant", "1", env=env)["id"] == entry_id
        for action in ("show", "delete"):  # another tenant's id is not there for tenant 2
            other = run_in_process(kind, action, str(entry_id), "--tenant", "2", env=env)
            assert_one_error_line(other, "there is no")
    assert ok("callflow", "show", str(flow["id"]), "--tenant", "1", env=env)["definition"] == {
        "message": "Hello {Name}",
        "sms": "Hi {Name}",
        "version": 1,
    }
    campaign = tmp_path / "campaign.json"
    body = json.loads((Path(__file__).parents[1] / "data" / "seed_create_request.json").read_text())
    # Dates ahead of today, so the campaign is still to dial whatever day the test runs.
    start = datetime.now(UTC).date() + timedelta(days=30)
    body |= {
        "callflow_Id": flow["id"],
        "cli_Id": cli["id"],
        "startDate": start.isoformat(),
        "runoverDays": [
            {"date": (start + timedelta(days=1)).isoformat(), "startTime": "09:00",
             "finishTime": "12:00"}
        ],
    }  # fmt: skip
    campaign.write_text(json.dumps(body))
    created = ok("campaign", "create", "--tenant", "1", str(campaign), env=env)
    refused = run_in_process("callflow", "delete", str(flow["id"]), "--tenant", "1", env=env)
    assert_one_error_line(refused, f"used by campaign {created['id']} (still dialling)")
    for kind in ("agent", "queue"):
        assert ok(kind, "delete", str(made[kind]), "--tenant", "1", env=env) == {
            "deleted": made[kind]
        }
        assert ok(kind, "list", "--tenant", "1", env=env) == []


def test_rotate_key_and_webhook_show(env: dict[str, str]) -> None:
    first = ok("tenant", "create", "Acme", env=env, run=run_dialer)["api_key"]
    rotated = ok("tenant", "rotate-key", "1", env=env, run=run_dialer)
    assert rotated["id"] == 1
    assert rotated["api_key"].startswith("dk_")
    assert rotated["api_key"] != first
    assert_one_error_line(run_dialer("tenant", "rotate-key", "9", env=env), "there is no tenant 9")
    assert_one_error_line(run_dialer("webhook", "show", "--tenant", "1", env=env), "webhook")
    ok("webhook", "set", "--tenant", "1", "https://example.com/hook", env=env, run=run_dialer)
    shown = ok("webhook", "show", "--tenant", "1", env=env, run=run_dialer)
    assert shown["url"] == "https://example.com/hook"
    assert "secret" not in shown


def test_a_wrong_argument_is_one_line(env: dict[str, str]) -> None:
    assert_one_error_line(
        # The wording is click's (it differs between versions); the line names what was wrong.
        run_dialer("callflow", "show", "x", "--tenant", "1", env=env),
        "callflow_id",
        "'x'",
    )
    assert_one_error_line(run_dialer("serve", "--bogus", env=env), "No such option: --bogus")


def test_agent_token_and_revoke(env: dict[str, str]) -> None:
    """An operator issues an agent's desk tokens by member name, only for the tenant's own
    agents, and revokes one or all of them."""
    ok("tenant", "create", "Acme", env=env)
    ok("tenant", "create", "Globex", env=env)
    agent = ok("agent", "create", "--tenant", "1", "SIPSIP1", "--name", "Walter", env=env)
    first = ok("agent", "token", "SIPSIP1", "--tenant", "1", env=env)
    second = ok("agent", "token", "SIPSIP1", "--tenant", "1", env=env)
    assert first["agentId"] == agent["id"]
    assert first["token"].startswith("agt_")
    assert first["token"] != second["token"]
    assert_one_error_line(run_in_process("agent", "token", "SIPSIP1", "--tenant", "2", env=env),
                          "there is no agent 'SIPSIP1'")  # fmt: skip
    assert_one_error_line(run_in_process("agent", "token", "NOBODY", "--tenant", "1", env=env),
                          "there is no agent 'NOBODY'")  # fmt: skip
    one = ok("agent", "revoke", "SIPSIP1", "--tenant", "1", "--token-id", str(first["id"]),
             env=env)  # fmt: skip
    assert one["revoked"] == 1
    again = run_in_process("agent", "revoke", "SIPSIP1", "--tenant", "1", "--token-id",
                           str(first["id"]), env=env)  # fmt: skip
    assert_one_error_line(again, "there is no token")
    assert ok("agent", "revoke", "SIPSIP1", "--tenant", "1", env=env)["revoked"] == 1
    assert ok("agent", "revoke", "SIPSIP1", "--tenant", "1", env=env)["revoked"] == 0


def test_agent_phone_is_assigned_checked_shown_and_cleared(env: dict[str, str]) -> None:
    """An operator assigns the phone an agent's log-ins call, by member name, for the tenant's
    own agents only; a bad phone is one error line and changes nothing."""
    ok("tenant", "create", "Acme", env=env)
    ok("tenant", "create", "Globex", env=env)
    agent = ok("agent", "create", "--tenant", "1", "SIPSIP1", "--name", "Walter", env=env)
    assigned = ok("agent", "phone", "SIPSIP1", "01632 960001", "--tenant", "1", env=env)
    assert assigned == {"agentId": agent["id"], "member": "SIPSIP1", "phone": "+441632960001"}
    assert ok("agent", "show", str(agent["id"]), "--tenant", "1", env=env)["phone"] == (
        "+441632960001"
    )
    assert_one_error_line(run_in_process("agent", "phone", "SIPSIP1", "nonsense", "--tenant", "1",
                                         env=env), "phone")  # fmt: skip
    assert_one_error_line(run_in_process("agent", "phone", "SIPSIP1", "sim:x", "--tenant", "2",
                                         env=env), "there is no agent 'SIPSIP1'")  # fmt: skip
    assert_one_error_line(run_in_process("agent", "phone", "SIPSIP1", "--tenant", "1", env=env),
                          "give a phone, or --clear")  # fmt: skip
    assert ok("agent", "show", str(agent["id"]), "--tenant", "1", env=env)["phone"] == (
        "+441632960001"
    )
    cleared = ok("agent", "phone", "SIPSIP1", "--clear", "--tenant", "1", env=env)
    assert cleared["phone"] is None
    assert ok("agent", "show", str(agent["id"]), "--tenant", "1", env=env)["phone"] is None
