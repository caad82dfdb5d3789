"""What a campaign has done, in memory (storage/sql_results.py): its attempts in the order
recorded, and its progress."""

import dataclasses

from dialer.domain.attempt import AttemptResult
from dialer.domain.codes import Outcome
from dialer.domain.destination import DestinationState
from dialer.domain.ids import CampaignId
from dialer.domain.progress import CampaignProgress
from dialer.domain.sms_outbox import SmsRecord, SmsStatus
from dialer.storage.memory.base import SessionBase
from dialer.storage.memory.tables import SmsRow, from_us, opt_from_us


def sms_record(row: SmsRow) -> SmsRecord:
    return SmsRecord(
        SmsStatus(row.status),
        row.parts,
        row.provider,
        row.reason,
        row.provider_ids,
        from_us(row.updated_at),
    )


class ResultParts(SessionBase):
    def _with_texts(self, results: list[AttemptResult]) -> list[AttemptResult]:
        if not any(r.sms_sent for r in results):
            return results
        found: dict[tuple[int, int], list[SmsRecord]] = {}
        for row in sorted(self._t.sms_outbox.values(), key=lambda r: r.id):
            key = (row.destination_id, row.attempt_number)
            found.setdefault(key, []).append(sms_record(row))
        return [
            dataclasses.replace(r, sms=tuple(found.get((r.destination_id, r.attempt_number), ())))
            if r.sms_sent
            else r
            for r in results
        ]

    def attempt_results(
        self, campaign_id: CampaignId, after: int | None, limit: int
    ) -> list[AttemptResult]:
        """Attempts in the order recorded (by id), starting after attempt id ``after``; an
        attempt whose destination is gone is left out, as the SQL join leaves it."""
        if limit <= 0:
            return []
        start = after or 0
        results = []
        for a in sorted(self._t.attempts.values(), key=lambda a: a.id):
            if a.campaign_id != campaign_id or a.id <= start:
                continue
            d = self._t.destinations.get(a.destination_id)
            if d is None:
                continue
            results.append(
                AttemptResult(
                    attempt_id=a.id,
                    campaign_id=campaign_id,
                    destination_id=a.destination_id,
                    number=d.e164 if d.e164 is not None else d.raw,
                    name=d.name,
                    attempt_number=a.attempt_number,
                    outcome=a.outcome,
                    stage=a.stage,
                    queued_at=from_us(a.queued_at),
                    originated_at=opt_from_us(a.originated_at),
                    answered_at=opt_from_us(a.answered_at),
                    ended_at=opt_from_us(a.ended_at),
                    cause=a.cause,
                    keys=a.keys,
                    sms_sent=a.sms_sent,
                    agent=a.agent,
                )
            )
            if len(results) >= limit:
                break
        return self._with_texts(results)

    def progress(self, campaign_id: CampaignId) -> CampaignProgress:
        tally = self._tallies([campaign_id])[campaign_id]
        states = dict.fromkeys(DestinationState, 0)
        outcomes: dict[Outcome, int] = {}
        for (state, outcome), count in tally.items():
            states[DestinationState(state)] += count
            if state == DestinationState.DONE.value and outcome:
                outcomes[Outcome(outcome)] = outcomes.get(Outcome(outcome), 0) + count
        return CampaignProgress(
            pending=states[DestinationState.PENDING],
            in_flight=states[DestinationState.IN_FLIGHT],
            done=states[DestinationState.DONE],
            cancelled=states[DestinationState.CANCELLED],
            outcomes=dict(sorted(outcomes.items(), key=lambda item: item[0].value)),
        )
