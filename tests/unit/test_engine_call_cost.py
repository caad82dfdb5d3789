"""What the engine spends in Python per call, where a change could add to it unseen (issue 11,
docs/engine.md "Throughput"): Python calls, not time, so the tests hold on a loaded machine."""

from typing import cast

from dialer.domain.attempt import DialJob
from dialer.engine.calls import CallRunner, CampaignPlan


def test_a_call_with_no_agent_reserved_is_the_call_coroutine_itself() -> None:
    # A coroutine wrapped around each call is passed through at every resumption of the call.
    runner = CallRunner.__new__(CallRunner)
    call = runner.run(cast(DialJob, object()), cast(CampaignPlan, object()))
    try:
        assert call.cr_code is CallRunner._run.__code__  # type: ignore[attr-defined]
    finally:
        call.close()
