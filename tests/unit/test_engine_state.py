"""EngineState.rules: the Rules that conclude an attempt, as they are when it ends. Built once
for a batch's calls (issue 11, seventh round), never stale: a campaign read again or a
webhook registered while calls are on the line gives new ones."""

from dataclasses import replace
from datetime import timedelta

from dialer.domain.ids import TenantId
from dialer.engine.state import EngineState
from tests.unit.test_dialling import campaign


def test_rules_are_built_once_for_a_batch_and_follow_the_campaign_and_webhooks() -> None:
    state = EngineState("w1", timedelta(minutes=1))
    autumn = campaign()
    first = state.rules(autumn)
    assert state.rules(autumn) is first
    assert (first.campaign, first.webhook) == (autumn, False)

    state.webhook_tenants = frozenset({TenantId(3)})  # the campaign's tenant registers one
    told = state.rules(autumn)
    assert (told.campaign, told.webhook) == (autumn, True)
    assert state.rules(autumn) is told

    again = replace(autumn, code="autumn-2")  # the campaign read again, changed
    assert state.rules(again).campaign is again
    assert state.rules(again).webhook

    state.webhook_tenants = frozenset()
    assert not state.rules(again).webhook
