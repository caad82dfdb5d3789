"""What the engine spends in Python per call, where a change could add to it unseen (issue 11,
docs/engine.md "Throughput"): Python calls, not time, so the tests hold on a loaded machine."""

import logging
from typing import cast

import pytest

from dialer.domain.attempt import DialJob
from dialer.engine import dispatcher
from dialer.engine.calls import CallRunner, CampaignPlan
from tests.integration.engine_support import Rig, drama


def test_a_call_with_no_agent_reserved_is_the_call_coroutine_itself() -> None:
    # A coroutine wrapped around each call is passed through at every resumption of the call.
    runner = CallRunner.__new__(CallRunner)
    call = runner.run(cast(DialJob, object()), cast(CampaignPlan, object()))
    try:
        assert call.cr_code is CallRunner._run.__code__  # type: ignore[attr-defined]
    finally:
        call.close()


def test_the_dispatcher_asks_the_log_level_once_a_batch_not_per_call(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[int] = []
    original = dispatcher.log.isEnabledFor

    def is_enabled_for(level: int) -> bool:
        asked.append(level)
        return original(level)

    monkeypatch.setattr(dispatcher.log, "isEnabledFor", is_enabled_for)
    numbers = [drama(n) for n in range(2, 32)]
    campaign = rig.campaign(numbers, attempts=[{"interval": 60, "attemptNumber": 1}])
    runtime = rig.run()
    assert sum(len(rows) for rows in rig.attempts(campaign).values()) == len(numbers)
    assert runtime.engine.stats.recorded == len(numbers)
    assert 0 < asked.count(logging.DEBUG) < len(numbers) / 3
