"""Every attempt has a stable, unique id: in the results and in the webhook body alike."""

import json

from tests.integration.engine_support import Rig, drama


def test_webhook_bodies_carry_the_attempt_and_number_ids_of_the_results(rig: Rig) -> None:
    rig.container.webhooks.register(rig.account.tenant, "https://crm.example/hook")
    # The same number twice: (campaignId, number, attemptNumber) cannot tell the two apart.
    campaign = rig.campaign([drama(2), drama(2), drama(6)])
    rig.run()
    rows = [row for attempts in rig.attempts(campaign).values() for row in attempts]
    with rig.container.store.read() as session:
        payloads = [
            json.loads(body)
            for (body,) in session._conn.execute(  # type: ignore[attr-defined]
                "SELECT payload FROM webhook_outbox ORDER BY id"
            )
        ]
    assert len(payloads) == len(rows) >= 3
    assert sorted((p["attemptId"], p["phoneNumberId"]) for p in payloads) == sorted(
        (r.attempt_id, r.destination_id) for r in rows
    )
    assert len({p["attemptId"] for p in payloads}) == len(payloads)
    twins = {p["phoneNumberId"] for p in payloads if p["number"] == drama(2)}
    assert len(twins) == 2
