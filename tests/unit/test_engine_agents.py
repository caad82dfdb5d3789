"""Agent campaigns on the in-memory store, with scripted agents' phones: the engine gives
answered customers to ready agents of its own (docs/agents.md). Each runs minutes of a shift
on a discrete-event clock in a fraction of a second."""

from pathlib import Path

import pytest

from dialer.domain.codes import Stage
from tests.unit.agent_floor_support import Agent, AgentRig, people


@pytest.fixture
def rig(tmp_path: Path) -> AgentRig:
    return AgentRig(tmp_path)


def test_an_answered_customer_is_bridged_to_the_ready_agent(rig: AgentRig) -> None:
    ann = Agent("1001")
    number = people(1)[0]
    rig.campaign([number], [ann])
    rig.log_in(ann)
    rig.run(rig.engine("w1"))
    record = rig.record_of(number)
    assert record.stage is Stage.CALL_TRANSFERRED_TO_CALL_CENTRE
    assert record.agent is not None
    assert (record.agent.agent_id, record.agent.member) == (ann.id, "1001")
    assert record.agent.talk_seconds == 30.0
    assert record.agent.wrap_up_seconds == 15.0
