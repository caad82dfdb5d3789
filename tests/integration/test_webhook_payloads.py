"""The webhook message is the results row, as shipped: each outbox row the engine writes is the
row GET .../results serves for the same attempt, with the campaign's id and code in front, for
calls, settled numbers (DNC, impossible) and retries alike."""

import json

from dialer.domain.ids import CampaignId
from dialer.services.results import result_fields
from tests.integration.engine_support import Rig, drama


def outbox_payloads(rig: Rig) -> list[dict[str, object]]:
    with rig.container.store.database.transaction(write=False) as conn:
        rows = conn.execute("SELECT payload FROM webhook_outbox ORDER BY id")
    return [json.loads(payload) for (payload,) in rows]


def test_each_outbox_message_is_its_results_row_with_the_campaign_in_front(rig: Rig) -> None:
    tenant = rig.account.tenant
    rig.container.webhooks.register(tenant, "https://crm.example/hook")
    rig.container.dnc.add(tenant, [drama(9)], label="line")
    # Answered, unobtainable, busy (retried, an SMS), a fax, on the DNC list, impossible.
    campaign = rig.campaign([drama(2), drama(6), drama(1), drama(5), drama(9), drama(11)])
    rig.run()
    with rig.container.store.read() as session:
        found = session.campaigns.get_campaign(tenant.id, CampaignId(campaign))
    assert found is not None
    results = rig.container.results.page(tenant, campaign, None, 1000).results
    expected = {
        r.attempt_id: {
            "campaignId": campaign,
            "campaignCode": found.code,
            **result_fields(r),
        }
        for r in results
    }
    messages = outbox_payloads(rig)
    assert len(results) > 6  # retries too
    assert {m["attemptId"]: m for m in messages} == expected
    assert all(list(m)[:2] == ["campaignId", "campaignCode"] for m in messages)


def test_a_texts_delivery_sends_its_attempts_row_again(rig: Rig) -> None:
    rig.container.webhooks.register(rig.account.tenant, "https://crm.example/hook")
    campaign = rig.campaign([drama(1)], smsOnBusy=1)
    rig.run()
    first = rig.attempts(campaign)[drama(1)][0]
    about = [m for m in outbox_payloads(rig) if m["attemptId"] == first.attempt_id]
    # Once as the attempt ended (its text queued), once when the text was delivered.
    assert [[t["status"] for t in m["sms"]] for m in about] == [["queued"], ["delivered"]]  # type: ignore[union-attr]
    assert all(m["smsSent"] is True for m in about)
