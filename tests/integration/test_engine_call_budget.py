"""The engine's Python calls per attempt on SQLite, held under a ceiling (issue 11: SQLite's
throughput back to e483cb8's). Calls, not time: the count is the same on a loaded machine.

The ceiling has a margin over today's count (docs/engine.md, "Throughput"); a change that
passes it adds per-attempt work to the hot path, and should either pay for itself or raise
the ceiling with its reason."""

import asyncio
import cProfile
import pstats
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dialer.bootstrap import build_engine
from dialer.settings import EngineSettings, NetworkSettings
from tests.integration.engine_support import Rig, drama

NUMBERS = 300
# This run's own count (300 attempts: a campaign's fixed costs weigh more than in the bench):
# 480 on main before issue 11's fourth round (h-speed4), 455 after it, 451.3 after the fifth
# (h-speed5: the recording's number ledger and the SMS waker without a call per attempt),
# 448.2 after the seventh (h-speed7: answers moved into their series once a pass, a batch's
# Rules built once, the log context's variable set without a function around it), 443.5
# after the eighth (h-speed8: the store's batches without a Python call per attempt for the
# lease's end, the attempt's three times, the counting of moves and the claim's sort).
CEILING = 454


async def _inline(func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    return func(*args, **kwargs)


def test_python_calls_per_attempt_stay_under_the_ceiling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = Rig(f"sqlite:///{tmp_path}/budget.db", tmp_path / "originations.log")
    try:
        campaign = rig.campaign(
            [drama(n) for n in range(100, 100 + NUMBERS)],
            attempts=[{"interval": 60, "attemptNumber": 1}],
        )
        # Zero-duration calls, as bench/engine_throughput.py dials: the engine's own work.
        profile_file = tmp_path / "zero.yaml"
        profile_file.write_text("zero_durations: true\n")
        network = NetworkSettings(speed=None, seed=7, profile=profile_file)
        runtime = build_engine(rig.container, network, EngineSettings(poll_seconds=0.01), rig.timer)
        # The store's work runs in threads; inline, one profiler counts it with the rest.
        monkeypatch.setattr(asyncio, "to_thread", _inline)
        profile = cProfile.Profile()
        profile.enable()
        try:
            asyncio.run(asyncio.wait_for(runtime.engine.run_until_done(), 120))
        finally:
            profile.disable()
        assert sum(len(rows) for rows in rig.attempts(campaign).values()) == NUMBERS
        stats: Any = pstats.Stats(profile).stats
        per_attempt = sum(entry[1] for entry in stats.values()) / NUMBERS
        assert per_attempt < CEILING, f"{per_attempt:.1f} Python calls per attempt"
    finally:
        rig.container.close()
