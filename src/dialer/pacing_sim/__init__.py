"""The pacing simulator (docs/pacing.md, "The simulator"): a discrete-event simulation of a team
of agents and the call-centre profile, deciding with the same ``Pacer.decide`` as the engine,
fast enough to run a benchmark of many 8-hour shifts (bench/pacing.py)."""

from dialer.pacing_sim.centre import Centre
from dialer.pacing_sim.figures import ShiftFigures
from dialer.pacing_sim.shift import run_shift

__all__ = ["Centre", "ShiftFigures", "run_shift"]
