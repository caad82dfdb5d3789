"""``dialer simulate --agents N``: an agent campaign end to end, with the agents' figures."""

import os
import re
import subprocess
import sys

from tests.cli_in_process import run_in_process


def test_simulate_with_agents_prints_the_agent_and_team_figures() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dialer", "simulate", "--agents", "3", "--numbers", "200"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "160"},
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "200 of 200 destinations finished" in out
    assert "Agents" in out
    for header in ("calls", "talk min/h", "occupancy", "mean wait s"):
        assert header in out
    rows = {
        m.group(1): (int(m.group(2)), float(m.group(3)))
        for m in re.finditer(r"(sim-agent-\d|team)\s+│\s+(\d+)\s+│[^│]+│[^│]+│\s+([\d.]+)%", out)
    }
    assert set(rows) == {"sim-agent-1", "sim-agent-2", "sim-agent-3", "team"}
    assert all(calls > 0 and 0 < occupancy <= 100 for calls, occupancy in rows.values())
    assert rows["team"][0] == sum(calls for member, (calls, _) in rows.items() if member != "team")
    assert re.search(r"answer to agent: p50 [\d.]+ s, p95 [\d.]+ s over \d+ bridged calls", out)
    assert "abandoned (CallDropped):" in out.replace("\n", " ")


def test_simulate_refuses_a_bad_agent_count_shift_or_speed() -> None:
    for args in (
        ["--agents", "-1"],
        ["--agents", "2", "--shift", "0"],
        ["--agents", "2", "--speed", "600"],
    ):
        # In the test process (tests/cli_in_process.py): a refusal is the CLI's, and the
        # test above runs `dialer simulate --agents` as a process.
        done = run_in_process("simulate", "--numbers", "5", *args, env=dict(os.environ))
        stderr = done.stderr.decode()
        assert done.returncode != 0
        assert "Traceback" not in stderr
        assert "--agents" in stderr or "--shift" in stderr, stderr
