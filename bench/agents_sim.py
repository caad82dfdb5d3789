"""``dialer simulate --agents 50`` on the default profile for an 8-hour shift: its wall time,
CPU time, and the team's figures (docs/simulated-network.md, Agents).

The run goes through the command itself (a subprocess, as a user runs it), so the wall time
includes the start-up and the summary; the figures are parsed from its output. Agents are
shared by every call, so the run uses the discrete-event clock: the shift's 8 simulated hours
take only the machine's time.

    .venv/bin/python bench/agents_sim.py [--agents 50] [--shift 8] [--numbers 10000] [--seed 0]
"""

import argparse
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

UK_PROFILE = Path(__file__).parents[1] / "src/dialer/telephony/profiles/uk.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--shift", type=int, default=8, help="hours, from 09:00")
    # About what 50 agents dial in 8 hours with the default profile and progressive pacing,
    # so the agents are kept busy to the shift's end.
    parser.add_argument("--numbers", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    # What the README's figure was measured on (the defaults before issue 13): the UK-like
    # network and progressive pacing. `--pacing predictive` and the call-centre profile
    # (--profile src/dialer/telephony/profiles/call-centre.yaml) are what bench/pacing.py studies.
    parser.add_argument("--pacing", default="progressive")
    parser.add_argument("--profile", default=str(UK_PROFILE))
    args = parser.parse_args()
    command = [
        sys.executable,
        "-m",
        "dialer",
        "simulate",
        "--agents",
        str(args.agents),
        "--shift",
        str(args.shift),
        "--numbers",
        str(args.numbers),
        "--seed",
        str(args.seed),
        "--pacing",
        args.pacing,
        "--profile",
        args.profile,
    ]
    started = time.perf_counter()
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        stdin=subprocess.DEVNULL,
        check=False,
    )
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"dialer simulate failed ({done.returncode}):\n{done.stderr}")
    out = done.stdout
    team = re.search(
        r"team\s+│\s+(\d+)\s+│\s+([\d.]+)\s+│\s+([\d.]+)\s+│\s+([\d.]+)%\s+│\s+([\d.-]+)", out
    )
    to_agent = re.search(r"answer to agent: p50 ([\d.-]+) s, p95 ([\d.-]+) s", out)
    abandoned = re.search(r"abandoned\s+\(CallDropped\):\s+(\d+)", out)
    simulated = re.search(r"simulated (\S+) in", out)
    print(
        f"dialer simulate --agents {args.agents} --shift {args.shift} --numbers {args.numbers}"
        f" --seed {args.seed}"
    )
    print(f"wall time {wall:.1f} s, CPU {usage.ru_utime + usage.ru_stime:.1f} s", end="")
    print(f", simulated {simulated.group(1) if simulated else '?'}")
    if team:
        calls, hours, talk, occupancy, wait = team.groups()
        print(
            f"team: {calls} calls over {hours} agent-hours; {talk} talk min per agent-hour;"
            f" occupancy {occupancy}%; mean wait between calls {wait} s"
        )
    if to_agent:
        print(f"answer to agent: p50 {to_agent.group(1)} s, p95 {to_agent.group(2)} s")
    if abandoned:
        print(f"abandoned (CallDropped): {abandoned.group(1)}")


if __name__ == "__main__":
    main()
