"""The pacing benchmark of issue 13: team sizes x person rates x seeds x pacing modes, each an
8-hour shift of the call-centre profile in the pacing simulator (dialer.pacing_sim), which
decides with the engine's own ``Pacer.decide``; prints one table row per cell and whether
the issue's targets are met (docs/pacing.md, "The benchmark").

    .venv/bin/python bench/pacing.py [--seeds 10] [--hours 8] [--processes 2]
        [--agents 5,10,25,50,100] [--person 0.15,0.30] [--pacing progressive,ratio:2,...]
        [--cells 5:0.15,10:0.30,50:0.30] [--hostile] [--wrap-unknown]

To test a change to the model quickly, run only the cells and modes it is about, e.g.
``--cells 5:0.15,10:0.30,50:0.30 --pacing predictive``; the rows printed are the same as in the
full table (without progressive in the run, the "above progressive" target is not checked).

Figures are per cell: the mean over seeds of talk minutes per agent-hour and occupancy, the
mean and the worst seed's abandon rate, the worst seed's max_rolling_abandon_rate, and the
governor's breaches (moments the simulator saw more possible abandons in flight than the
budget; 0 when the guarantee holds).
"""

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing import Pool

from dialer.domain.agent import Pacing, PacingMode
from dialer.pacing_sim import Centre, ShiftFigures, run_shift

# The talk-minute targets for predictive, by (agents, person rate).
TALK_TARGETS = {(50, 0.30): 52.0, (10, 0.30): 46.5, (5, 0.15): 41.0}
ROLLING_LIMIT = 3.0  # percent: the worst seed's max rolling rate in every predictive cell
OVER_PROGRESSIVE = 0.15  # predictive above progressive by this much with 25 agents or more


def parse_mode(text: str) -> Pacing:
    """progressive | ratio:R | predictive[:TARGET%]"""
    name, _, arg = text.partition(":")
    if name == "progressive" and not arg:
        return Pacing(PacingMode.PROGRESSIVE)
    if name == "ratio" and arg:
        return Pacing(PacingMode.RATIO, ratio=float(arg))
    if name == "predictive":
        return Pacing(PacingMode.PREDICTIVE, target=float(arg.rstrip("%")) / 100 if arg else None)
    raise argparse.ArgumentTypeError(f"{text!r}: progressive, ratio:R or predictive[:T%]")


def parse_cell(text: str) -> tuple[int, float]:
    """AGENTS:PERSON, e.g. 50:0.30"""
    agents, sep, rate = text.partition(":")
    try:
        if sep:
            return int(agents), float(rate)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"{text!r}: AGENTS:PERSON, e.g. 50:0.30")


@dataclass(frozen=True, slots=True)
class Job:
    agents: int
    rate: float
    mode: str
    seed: int
    hours: float
    hostile: bool
    wrap_known: bool = True


def run(job: Job) -> tuple[Job, ShiftFigures]:
    centre = Centre.call_centre(job.rate)
    if job.hostile:
        centre = centre.hostile()
    pacing = parse_mode(job.mode)
    return job, run_shift(
        centre, job.agents, pacing, job.hours, job.seed, wrap_known=job.wrap_known
    )


@dataclass(frozen=True, slots=True)
class Cell:
    agents: int
    rate: float
    mode: str
    talk: float
    occupancy: float
    abandon_mean: float
    abandon_worst: float
    rolling_worst: float
    breaches: int


def summarise(key: tuple[int, float, str], runs: Sequence[ShiftFigures]) -> Cell:
    return Cell(
        agents=key[0],
        rate=key[1],
        mode=key[2],
        talk=statistics.fmean(f.talk_minutes_per_agent_hour for f in runs),
        occupancy=statistics.fmean(f.occupancy for f in runs),
        abandon_mean=statistics.fmean(f.abandon_rate for f in runs),
        abandon_worst=max(f.abandon_rate for f in runs),
        rolling_worst=max(f.max_rolling_abandon_rate for f in runs),
        breaches=sum(f.governor_breaches for f in runs),
    )


def verdict(cell: Cell, progressive: Cell | None) -> str:
    """The issue's targets for a predictive cell: "met", or each gap."""
    if not cell.mode.startswith("predictive"):
        return "governed" if cell.breaches == 0 else f"{cell.breaches} breaches"
    gaps = []
    if cell.rolling_worst > ROLLING_LIMIT:
        gaps.append(f"rolling {cell.rolling_worst:.2f}% > {ROLLING_LIMIT}%")
    target = TALK_TARGETS.get((cell.agents, cell.rate))
    if target is not None and cell.talk < target:
        gaps.append(f"talk {cell.talk:.1f} < {target}")
    if progressive is not None:
        need = progressive.talk * (1 + OVER_PROGRESSIVE if cell.agents >= 25 else 1.0)
        if cell.talk <= need:
            gaps.append(f"talk {cell.talk:.1f} <= {need:.1f} (progressive x)")
    if cell.breaches:
        gaps.append(f"{cell.breaches} breaches")
    return "met" if not gaps else "gap: " + "; ".join(gaps)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--hours", type=float, default=8.0)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--agents", default="5,10,25,50,100")
    parser.add_argument("--person", "--rates", dest="rates", default="0.15,0.30")
    parser.add_argument(
        "--pacing", "--modes", dest="modes", default="progressive,ratio:2,ratio:3,predictive"
    )
    parser.add_argument(
        "--cells",
        default=None,
        help="only these AGENTS:PERSON cells (e.g. 5:0.15,50:0.30), instead of every pair",
    )
    parser.add_argument(
        "--hostile", action="store_true", help="person rate 0.15 jumping to 0.40 half-way"
    )
    parser.add_argument(
        "--wrap-unknown",
        action="store_true",
        help="do not tell the pacer which agents are in wrap-up (as the engine did before)",
    )
    args = parser.parse_args(argv)
    modes = args.modes.split(",")
    for mode in modes:
        parse_mode(mode)
    teams = [int(a) for a in args.agents.split(",")]
    rates = [float(r) for r in args.rates.split(",")]
    if args.hostile:
        rates = [0.15]
    cells = [(a, r) for a in teams for r in rates]
    if args.cells is not None:
        cells = [parse_cell(text) for text in args.cells.split(",")]
    jobs = [
        Job(a, r, m, seed, args.hours, args.hostile, not args.wrap_unknown)
        for a, r in cells
        for m in modes
        for seed in range(args.seeds)
    ]
    started = time.perf_counter()
    results: dict[tuple[int, float, str], list[ShiftFigures]] = {}
    with Pool(args.processes) as pool:
        for job, figures in pool.imap_unordered(run, jobs):
            results.setdefault((job.agents, job.rate, job.mode), []).append(figures)
    elapsed = time.perf_counter() - started
    header = (
        f"{'agents':>6} {'person':>6} {'pacing':<12} {'talk min/h':>10} {'occupancy':>9} "
        f"{'aband %':>7} {'worst %':>7} {'max roll %':>10}  targets"
    )
    print(
        f"# {args.seeds} seeds x {args.hours:g} h, call-centre profile"
        f"{' (hostile: 0.15 -> 0.40 half-way)' if args.hostile else ''}, UK rules, target 3%"
        f"{', wrap-up not told to the pacer' if args.wrap_unknown else ''}"
    )
    print(header)
    for a, r in cells:
        progressive = None
        if "progressive" in modes:
            progressive = summarise((a, r, "progressive"), results[(a, r, "progressive")])
        for m in modes:
            cell = summarise((a, r, m), results[(a, r, m)])
            print(
                f"{a:>6} {r:>6.2f} {m:<12} {cell.talk:>10.1f} {cell.occupancy:>9.3f} "
                f"{cell.abandon_mean:>7.2f} {cell.abandon_worst:>7.2f} "
                f"{cell.rolling_worst:>10.2f}  {verdict(cell, progressive)}"
            )
    print(f"# {len(jobs)} shifts in {elapsed:.0f} s on {args.processes} processes", file=sys.stderr)


if __name__ == "__main__":
    main()
