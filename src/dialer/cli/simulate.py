"""``dialer simulate``: a whole campaign on the simulated network, or (``--agents N``) one
agent shift, with ``--pacing`` and ``--json`` printing its figures (docs/pacing.md)."""

import json
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from dialer.cli import _fail, app
from dialer.cli.engine_options import (
    ENGINE_DEFAULTS,
    MaxCallsOpt,
    MaxCpsOpt,
    ProfileOpt,
    SeedOpt,
    SpeedOpt,
    engine_settings,
    network_settings,
)
from dialer.domain.agent import Pacing, PacingMode
from dialer.domain.errors import DialerError

# Numbers a shift is given per agent-hour when --numbers is not said: more than any pacing
# places (about 120 at a 30% person rate), so the list never runs dry before the shift ends.
NUMBERS_PER_AGENT_HOUR = 200
# An agent shift's network unless --profile says otherwise: the call centre
# (docs/pacing.md, The profile), the one bench/pacing.py's simulator runs too.
CALL_CENTRE_PROFILE = "profiles/call-centre.yaml"


def call_centre_profile() -> Path:
    return Path(str(resources.files("dialer.telephony").joinpath(CALL_CENTRE_PROFILE)))


def parse_pacing(text: str) -> Pacing:
    """``progressive``, ``ratio:R`` (lines per ready agent, R >= 1) or
    ``predictive[:TARGET%]`` (the abandoned-call target, in percent, at most 3)."""
    mode, _, value = text.strip().lower().partition(":")
    if mode == PacingMode.PROGRESSIVE.value and not value:
        return Pacing(PacingMode.PROGRESSIVE)
    if mode == PacingMode.RATIO.value:
        ratio = _number(value, "ratio:R needs R, the lines per ready agent (ratio:1.5)")
        if not 1.0 <= ratio <= 10.0:
            raise ValueError("ratio:R needs R between 1 and 10")
        return Pacing(PacingMode.RATIO, ratio=ratio)
    if mode == PacingMode.PREDICTIVE.value:
        if not value:
            return Pacing(PacingMode.PREDICTIVE)
        target = _number(value.removesuffix("%"), "predictive:TARGET% needs a percent (2.5%)")
        if not 0.0 < target <= 3.0:
            raise ValueError("predictive:TARGET% needs a target above 0 and at most 3%")
        return Pacing(PacingMode.PREDICTIVE, target=target / 100)
    raise ValueError(f"--pacing {text!r}: use progressive, ratio:R or predictive[:TARGET%]")


def _number(value: str, problem: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ValueError(problem) from None
    if number != number:  # NaN
        raise ValueError(problem)
    return number


@app.command()
def simulate(
    numbers: Annotated[
        int | None,
        typer.Option(
            "--numbers",
            help="Destinations to call (default 10,000; with --agents, enough for the shift)",
        ),
    ] = None,
    profile: ProfileOpt = None,
    speed: SpeedOpt = "max",
    seed: SeedOpt = 0,
    max_calls: MaxCallsOpt = ENGINE_DEFAULTS.max_in_flight,
    max_cps: MaxCpsOpt = 1000.0,
    keep: Annotated[
        Path | None, typer.Option("--keep", help="Keep the SQLite store at this path")
    ] = None,
    agents: Annotated[
        int,
        typer.Option(
            "--agents", help="Run an agent campaign with this many simulated agents (0: IVR)"
        ),
    ] = 0,
    shift: Annotated[
        float | None,
        typer.Option("--shift", "--hours", help="With --agents: the shift's hours, from 09:00"),
    ] = None,
    pacing: Annotated[
        str | None,
        typer.Option(
            "--pacing",
            help="With --agents: progressive, ratio:R or predictive[:TARGET%] (default)",
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="With --agents: print the shift's figures as one JSON object"),
    ] = False,
) -> None:
    """Run a whole campaign on the simulated network (throwaway SQLite) and summarise it."""
    import tempfile

    from dialer import simulation
    from dialer.presentation import print_summary, progress_bar

    hours = 8.0 if shift is None else shift
    if not 0 <= agents <= 1000:
        _fail("--agents must be between 0 and 1,000")
    if not 0.25 <= hours <= 14 or round(hours * 60) != hours * 60:
        _fail("--shift (--hours) must be whole minutes between 0.25 and 14 hours")
    if numbers is None:
        numbers = 10_000 if not agents else max(100, round(agents * hours * NUMBERS_PER_AGENT_HOUR))
    if not 1 <= numbers <= 1_000_000:
        _fail("--numbers must be between 1 and 1,000,000")
    if not agents and (pacing is not None or as_json or shift is not None):
        _fail("--pacing, --json and --hours describe an agent shift: give --agents too")
    if agents and speed != "max":
        # The shift is 09:00 today on the discrete-event clock; a real clock cannot start there.
        _fail("--agents runs a shift on the simulated clock: leave --speed at max")
    try:
        chosen = parse_pacing(pacing) if pacing is not None else None
    except ValueError as exc:
        _fail(str(exc))
    if agents and profile is None:
        profile = call_centre_profile()
    net = network_settings("sim", speed, profile, seed, None)
    limits = engine_settings(max_calls, max_cps, max_calls, max_cps, 60.0)
    with tempfile.TemporaryDirectory(prefix="dialer-sim-") as scratch:
        path = keep or Path(scratch) / "simulation.db"
        if path.exists():
            _fail(f"{path} exists; give --keep a new file")
        try:
            sim = simulation.prepare(path, numbers, net, limits, agents, hours, chosen)
        except DialerError as exc:
            _fail(str(exc))
        try:
            if as_json:
                simulation.execute(sim, lambda _: None)
                typer.echo(json.dumps(simulation.figures_of(sim, pacing or "predictive")))
                return
            with progress_bar(numbers) as update:
                elapsed = simulation.execute(sim, update)
            print_summary(sim, elapsed)
        finally:
            sim.container.close()
