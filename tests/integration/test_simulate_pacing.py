"""``dialer simulate --agents N --pacing ... --json`` (docs/pacing.md, shift figures): the real
engine on the simulated network and a call-centre profile, on a throwaway SQLite file, prints
one JSON object whose figures agree with each other and keep the abandoned-call target."""

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from dialer.cli.simulate import parse_pacing
from dialer.domain.agent import Pacing, PacingMode
from tests.cli_in_process import run_in_process

KEYS = {
    "agents",
    "hours",
    "pacing",
    "seed",
    "person_rate",
    "talk_minutes_per_agent_hour",
    "occupancy",
    "abandon_rate",
    "max_rolling_abandon_rate",
    "placed_per_agent_hour",
    "live_answered",
    "abandoned",
    "placed",
    "mean_agent_wait_seconds",
    "answer_to_agent_p95_seconds",
}


# The call centre (h-pacer's profile, shared with the pacing simulator): people answer
# 30% of the dials, machines 15%, busy and failures 10%, the rest ring out at 25 s; talk
# lognormal with mean 180 s (sigma 1.2), a fixed 15 s wrap-up, no breaks.
CALL_CENTRE = Path(__file__).parents[2] / "src/dialer/telephony/profiles/call-centre.yaml"


def simulate(*args: str) -> subprocess.CompletedProcess[str]:
    """`dialer simulate *args` in the test process (tests/cli_in_process.py): these tests are
    about the shift's figures, not the process; `dialer simulate` runs as a process in
    tests/acceptance (test_engine_end_to_end.py, test_simulate_agents.py)."""
    done = run_in_process("simulate", *args, env=dict(os.environ))
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode(), done.stderr.decode()
    )


def test_a_predictive_shift_prints_consistent_figures_within_the_target() -> None:
    agents, hours = 8, 1.0
    done = simulate(
        "--agents", str(agents), "--hours", "1", "--pacing", "predictive",
        "--profile", str(CALL_CENTRE), "--seed", "5", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    figures: dict[str, Any] = json.loads(done.stdout)
    assert figures.keys() >= KEYS
    assert (figures["agents"], figures["hours"], figures["pacing"]) == (agents, hours, "predictive")
    assert figures["seed"] == 5
    assert figures["person_rate"] == pytest.approx(0.30)
    live, abandoned, placed = figures["live_answered"], figures["abandoned"], figures["placed"]
    assert 0 <= abandoned <= live <= placed
    assert live >= 100  # enough for the rolling rate to be taken
    assert figures["abandon_rate"] == pytest.approx(100 * abandoned / live, abs=1e-3)
    assert figures["max_rolling_abandon_rate"] <= 3.0
    assert figures["abandon_rate"] <= 3.0
    assert figures["placed_per_agent_hour"] == pytest.approx(placed / (agents * hours), abs=0.01)
    assert 0 < figures["occupancy"] <= 1
    # Talk is part of talk and wrap-up: at most the occupancy's minutes per hour.
    assert figures["talk_minutes_per_agent_hour"] <= 60 * figures["occupancy"] + 0.01
    assert figures["answer_to_agent_p95_seconds"] <= 2.0  # UK: bridged within 2 s or dropped
    assert figures["mean_agent_wait_seconds"] >= 0


def test_bad_pacing_is_refused_with_a_message() -> None:
    done = simulate("--agents", "2", "--pacing", "ratio:x", "--json")
    assert done.returncode != 0
    assert "ratio:R" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("text", "pacing"),
    [
        ("progressive", Pacing(PacingMode.PROGRESSIVE)),
        ("ratio:1.5", Pacing(PacingMode.RATIO, ratio=1.5)),
        ("predictive", Pacing(PacingMode.PREDICTIVE)),
        ("predictive:2.5%", Pacing(PacingMode.PREDICTIVE, target=0.025)),
        ("predictive:2", Pacing(PacingMode.PREDICTIVE, target=0.02)),
    ],
)
def test_pacing_options(text: str, pacing: Pacing) -> None:
    assert parse_pacing(text) == pacing


@pytest.mark.parametrize("text", ["ratio", "ratio:0.5", "predictive:4%", "predictive:0", "fast"])
def test_pacing_options_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"ratio|predictive|progressive"):
        parse_pacing(text)


def test_an_agent_shift_runs_the_call_centre_profile_unless_told_otherwise() -> None:
    done = simulate("--agents", "2", "--hours", "0.25", "--json")
    assert done.returncode == 0, done.stderr
    figures: dict[str, Any] = json.loads(done.stdout)
    # The call centre's 30% of dials answered by a person, not the UK network's 43%.
    assert figures["person_rate"] == pytest.approx(0.30)
    assert figures["pacing"] == "predictive"
